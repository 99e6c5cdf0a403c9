package io.mancom.core.internal.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads PEM certificates and unencrypted PKCS#8 private keys, and checks that a key fits a
 * certificate. Stateless; every failure is a {@link PemException} whose message says what is
 * wrong and how to fix it (without the source, which the caller names).
 */
final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

    private Pem() {
    }

    /** A PEM problem; the message is meant for the user. */
    static final class PemException extends Exception {
        PemException(String message) {
            super(message);
        }

        PemException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static String read(Path file) throws PemException {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new PemException("no such file");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new PemException("permission denied (the runtime's user must be able to read it)");
        } catch (IOException e) {
            throw new PemException("cannot read it: " + e);
        }
    }

    /** The certificates of the text, in order (the server's own first). */
    static List<X509Certificate> certificates(String text) throws PemException {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            for (byte[] der : blocks(text, "CERTIFICATE")) {
                out.add((X509Certificate) f.generateCertificate(new ByteArrayInputStream(der)));
            }
        } catch (CertificateException e) {
            throw new PemException("not a valid X.509 certificate in PEM (" + e.getMessage() + ")", e);
        }
        if (out.isEmpty()) {
            throw new PemException("no -----BEGIN CERTIFICATE----- block: expected the certificate chain in PEM");
        }
        return out;
    }

    /** The one private key of the text: PKCS#8 ({@code BEGIN PRIVATE KEY}), RSA, EC or Ed25519/448. */
    static PrivateKey privateKey(String text) throws PemException {
        if (text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new PemException("the key is encrypted; give an unencrypted key (openssl pkey -in KEY -out PLAIN)"
                    + " and protect the file by its permissions");
        }
        Matcher legacy = Pattern.compile("-----BEGIN (RSA|EC|DSA) PRIVATE KEY-----").matcher(text);
        if (legacy.find()) {
            throw new PemException("the key is in the old " + legacy.group(1) + " format; convert it to PKCS#8 with"
                    + " openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        List<byte[]> keys = blocks(text, "PRIVATE KEY");
        if (keys.size() != 1) {
            throw new PemException(keys.isEmpty() ? "no -----BEGIN PRIVATE KEY----- block: expected an unencrypted"
                    + " PKCS#8 private key in PEM" : "holds " + keys.size() + " private keys; expected one");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(keys.get(0));
        GeneralSecurityException last = null;
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new PemException("not a private key this JDK can read (RSA, EC, Ed25519, Ed448): " + last.getMessage(), last);
    }

    /**
     * Checks that {@code key} belongs to {@code cert}: signs a random challenge with the key and
     * verifies it with the certificate's public key, which works the same for every algorithm.
     */
    static void checkPair(PrivateKey key, X509Certificate cert) throws PemException {
        PublicKey pub = cert.getPublicKey();
        if (!pub.getAlgorithm().equals(key.getAlgorithm()) && !(isEdDsa(pub) && isEdDsa(key))) {
            throw new PemException("the key is " + key.getAlgorithm() + " but the certificate's key is "
                    + pub.getAlgorithm() + ": they are not a pair");
        }
        try {
            String alg = switch (key.getAlgorithm()) {
                case "RSA" -> "SHA256withRSA";
                case "EC" -> "SHA256withECDSA";
                case "DSA" -> "SHA256withDSA";
                case "RSASSA-PSS" -> null;
                default -> key.getAlgorithm(); // Ed25519, Ed448, EdDSA
            };
            if (alg == null) {
                return; // PSS needs parameters; the handshake itself will tell
            }
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(challenge);
            byte[] signature = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            if (!v.verify(signature)) {
                throw new PemException("the key does not match the certificate (" + subject(cert) + "): they are not a pair");
            }
        } catch (GeneralSecurityException e) {
            throw new PemException("the key does not match the certificate (" + subject(cert) + "): " + e.getMessage(), e);
        }
    }

    private static boolean isEdDsa(java.security.Key k) {
        return k.getAlgorithm().startsWith("Ed");
    }

    static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName();
    }

    private static List<byte[]> blocks(String text, String type) throws PemException {
        List<byte[]> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (!m.group(1).equals(type)) {
                continue;
            }
            try {
                out.add(Base64.getMimeDecoder().decode(m.group(2)));
            } catch (IllegalArgumentException e) {
                throw new PemException("a " + type + " block is not valid base64", e);
            }
        }
        return out;
    }
}
