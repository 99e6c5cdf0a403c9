package io.mancom.tcp;

import io.mancom.testkit.Tools;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real clients and servers behind one ManCom port: openssl s_client routed by SNI and by ALPN to
 * one of two openssl s_server backends (TLS passes through, ManCom only reads the ClientHello), and
 * an ssh client reaching a real sshd through a {@code prefix = "SSH-"} forward on a port it shares
 * with an HTTP service.
 */
class SharedPortTlsSshTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();
    private final ExternalTools tools = new ExternalTools();

    @TempDir
    Path tmp;

    @AfterEach
    void close() {
        runtimes.close();
        tools.close();
    }

    /** A self-signed certificate and key for CN={@code cn}. */
    private Path[] certificate(String openssl, String cn) throws Exception {
        Path cert = tmp.resolve(cn + ".crt");
        Path key = tmp.resolve(cn + ".key");
        ExternalTools.Result r = ExternalTools.run("", openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-days", "1", "-subj", "/CN=" + cn, "-keyout", key.toString(), "-out", cert.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        return new Path[] {cert, key};
    }

    /** An openssl s_server for CN={@code cn} on a free port; returns the port. */
    private int sServer(String openssl, String cn) throws Exception {
        Path[] ck = certificate(openssl, cn);
        int port = ExternalTools.freePort();
        Path log = tmp.resolve(cn + ".log");
        Process p = tools.start(log, openssl, "s_server", "-accept", "127.0.0.1:" + port, "-cert", ck[0].toString(),
                "-key", ck[1].toString(), "-alpn", "h2,x-beta,http/1.1", "-naccept", "10");
        ExternalTools.awaitListening(port, p, log);
        return port;
    }

    private static int port(ManComRuntime m, String service) {
        return ((TcpAddress) m.boundEndPoint(service).orElseThrow().address()).port();
    }

    @Test
    void openSslClientsAreRoutedBySniAndAlpnToTwoBackends() throws Exception {
        String openssl = Tools.require("openssl", "openssl");
        int alpha = sServer(openssl, "alpha");
        int beta = sServer(openssl, "beta");
        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  a { endpoint = \"tcp://127.0.0.1:0\", match { tls { sni = [a.example] } }, handler = forward,"
                + " forward = \"tcp://127.0.0.1:" + alpha + "\" }\n"
                + "  b { endpoint = \"tcp://127.0.0.1:0\", match { tls { alpn = [x-beta] } }, handler = forward,"
                + " forward = \"tcp://127.0.0.1:" + beta + "\" }\n"
                + "}");
        m.handleLinks("a", m.forwarder("a"));
        m.handleLinks("b", m.forwarder("b"));
        m.awaitReady(T);
        String connect = "127.0.0.1:" + port(m, "a");

        ExternalTools.Result bySni = ExternalTools.run("", openssl, "s_client", "-connect", connect,
                "-servername", "a.example", "-alpn", "x-beta");
        ExternalTools.Result byAlpn = ExternalTools.run("", openssl, "s_client", "-connect", connect,
                "-servername", "other.example", "-alpn", "x-beta");
        ExternalTools.Result neither = ExternalTools.run("", openssl, "s_client", "-connect", connect,
                "-servername", "other.example", "-alpn", "h2");

        // The first rule in config order wins: a.example goes to alpha even though it offers x-beta.
        assertThat(bySni.output()).containsPattern("subject=\\s*CN\\s*=\\s*alpha").contains("ALPN protocol: x-beta");
        assertThat(byAlpn.output()).containsPattern("subject=\\s*CN\\s*=\\s*beta");
        assertThat(neither.output()).doesNotContainPattern("subject=\\s*CN").doesNotContain("BEGIN CERTIFICATE");
        assertThat(neither.exit()).isNotZero();
    }

    @Test
    void sshReachesARealSshdThroughAPrefixForwardOnThePortOfAnHttpService() throws Exception {
        String sshd = Tools.require("/usr/sbin/sshd", "openssh-server");
        String ssh = Tools.require("ssh", "openssh-client");
        String keygen = Tools.require("ssh-keygen", "openssh-client");
        String curl = Tools.require("curl", "curl");
        Path hostKey = tmp.resolve("host_ed25519");
        Path userKey = tmp.resolve("user_ed25519");
        assertThat(ExternalTools.run("", keygen, "-q", "-t", "ed25519", "-N", "", "-f", hostKey.toString()).exit()).isZero();
        assertThat(ExternalTools.run("", keygen, "-q", "-t", "ed25519", "-N", "", "-f", userKey.toString()).exit()).isZero();
        Path authorized = tmp.resolve("authorized_keys");
        Files.copy(tmp.resolve("user_ed25519.pub"), authorized);
        int sshPort = ExternalTools.freePort();
        Path config = tmp.resolve("sshd_config");
        Files.writeString(config, String.join("\n",
                "Port " + sshPort, "ListenAddress 127.0.0.1", "HostKey " + hostKey, "AuthorizedKeysFile " + authorized,
                "PidFile " + tmp.resolve("sshd.pid"), "StrictModes no", "UsePAM no", "PasswordAuthentication no",
                "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "") + "\n");
        // sshd wants its privilege-separation directory; as root the test may make it.
        Path privsep = Path.of("/run/sshd");
        if (!Files.isDirectory(privsep)) {
            try {
                Files.createDirectories(privsep);
            } catch (Exception e) {
                org.junit.jupiter.api.Assumptions.abort("sshd needs " + privsep + " and the test user cannot create it: "
                        + e);
            }
        }
        Path log = tmp.resolve("sshd.log");
        Process server = tools.start(log, sshd, "-D", "-e", "-f", config.toString());
        ExternalTools.awaitListening(sshPort, server, log);

        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  web { endpoint = \"tcp://127.0.0.1:0\", match = http1 }\n"
                + "  ssh { endpoint = \"tcp://127.0.0.1:0\", match { prefix = \"SSH-\" }, handler = forward,"
                + " forward = \"tcp://127.0.0.1:" + sshPort + "\", sniff.on-timeout = ssh }\n"
                + "}");
        m.registerDataReceiver("web", TinyHttp.http1("web"));
        m.handleLinks("ssh", m.forwarder("ssh"));
        m.awaitReady(T);
        int port = port(m, "web");

        ExternalTools.Result r = ExternalTools.run("", ssh, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-i", userKey.toString(),
                "-p", Integer.toString(port), System.getProperty("user.name") + "@127.0.0.1", "echo", "through-mancom");
        ExternalTools.Result web = ExternalTools.run("", curl, "-sS", "--max-time", "10", "http://127.0.0.1:" + port + "/");

        assertThat(r.output()).as("ssh's output; sshd's log:\n%s", Files.readString(log)).contains("through-mancom");
        assertThat(r.exit()).isZero();
        assertThat(web.output()).isEqualTo("web");
    }
}
