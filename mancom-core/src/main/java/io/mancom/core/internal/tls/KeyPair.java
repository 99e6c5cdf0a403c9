package io.mancom.core.internal.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A private key and its certificate chain, checked to be a pair, and where they were read from.
 * An immutable value.
 */
record KeyPair(PrivateKey key, List<X509Certificate> chain) {

    /** Reads and checks PEM files; the message of the failure names the file at fault. */
    static KeyPair read(Path certFile, Path keyFile) throws Pem.PemException {
        List<X509Certificate> chain;
        try {
            chain = Pem.certificates(Pem.read(certFile));
        } catch (Pem.PemException e) {
            throw new Pem.PemException(certFile + ": " + e.getMessage(), e);
        }
        PrivateKey key;
        try {
            key = Pem.privateKey(Pem.read(keyFile));
        } catch (Pem.PemException e) {
            throw new Pem.PemException(keyFile + ": " + e.getMessage(), e);
        }
        return checked(key, chain, keyFile + " for " + certFile);
    }

    /** Parses and checks PEM text. */
    static KeyPair parse(String certPem, String keyPem) throws Pem.PemException {
        return checked(Pem.privateKey(keyPem), Pem.certificates(certPem), "the key");
    }

    static KeyPair checked(PrivateKey key, List<X509Certificate> chain, String what) throws Pem.PemException {
        try {
            Pem.checkPair(key, chain.get(0));
        } catch (Pem.PemException e) {
            throw new Pem.PemException(what + ": " + e.getMessage(), e);
        }
        return new KeyPair(key, chain);
    }

    String subject() {
        return Pem.subject(chain.get(0));
    }

    String serial() {
        return chain.get(0).getSerialNumber().toString(16);
    }

    /**
     * What a file looks like on disk, to tell that it changed: modification time, size and
     * identity (a new file renamed over the old one has a new inode even within one clock tick).
     */
    record Stamp(Object cert, Object key) {
        static Stamp of(Path certFile, Path keyFile) {
            return new Stamp(one(certFile), one(keyFile));
        }

        private static Object one(Path f) {
            try {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                return List.of(a.lastModifiedTime(), a.size(), Objects.toString(a.fileKey()));
            } catch (IOException e) {
                return e.getClass().getSimpleName(); // missing now: a change too, and loading will say why
            }
        }
    }
}
