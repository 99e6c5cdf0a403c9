package io.mancom.tcp;

import io.mancom.ConfigException;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The errors a user can cause, each with a message that says what to do. */
class ErrorsTest {
    private static final Duration T = Duration.ofSeconds(10);
    private ManCom mancom;

    @AfterEach
    void close() {
        if (mancom != null) {
            mancom.close();
        }
    }

    @Test
    void unknownServiceNamesTheKnownOnes() {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        assertThatThrownBy(() -> mancom.registerDataReceiver("ecko", (c, d) -> { }))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown service 'ecko'")
                .hasMessageContaining("known services: demo, echo")
                .hasMessageContaining("mancom.services.ecko { endpoint = ");
        assertThatThrownBy(() -> mancom.connect("ecko")).isInstanceOf(ConfigException.class);
    }

    @Test
    void portInUseIsReportedByAwaitReady() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:" + port + "\"");
            mancom.registerDataReceiver("echo", (c, d) -> { });
            assertThatThrownBy(() -> mancom.awaitReady(T))
                    .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.ADDRESS_IN_USE))
                    .hasMessageContaining("echo (tcp://127.0.0.1:" + port + ")")
                    .hasMessageContaining("address already in use")
                    .hasMessageContaining("change mancom.services.echo.endpoint");
        }
    }

    @Test
    void nothingListeningIsUnreachable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        mancom = TestManCom.start("mancom.services.far.endpoint = \"tcp://127.0.0.1:" + port + "\"");
        assertThatThrownBy(() -> mancom.connect("far"))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.UNREACHABLE))
                .hasMessageContaining("cannot connect to service 'far' at tcp://127.0.0.1:" + port)
                .hasMessageContaining("connection refused: nothing is listening on port " + port);
        assertThatThrownBy(() -> mancom.connectAsync("far", (c, d) -> { }).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().hasMessageContaining("connection refused");
    }

    @Test
    void aServerThatNeverAnswersIsAConnectTimeout() throws Exception {
        // A listener with a full accept queue drops new SYNs, so connecting hangs: a local way
        // to make a peer that never answers.
        try (ServerSocket silent = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = silent.getLocalPort();
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                        fillers.add(s);
                    } catch (java.io.IOException full) {
                        s.close();
                        break;
                    }
                }
                mancom = TestManCom.start("mancom.services.slow { endpoint = \"tcp://127.0.0.1:" + port + "\", connect-timeout = 300ms }");
                assertThatThrownBy(() -> mancom.connect("slow"))
                        .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.TIMEOUT))
                        .hasMessageContaining("cannot connect to service 'slow'")
                        .hasMessageContaining("no answer within PT0.3S (connect-timeout)");
            } finally {
                for (Socket s : fillers) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aBadTcpOptionNamesItsKey() {
        mancom = TestManCom.start("mancom.services.echo { endpoint = \"tcp://127.0.0.1:0\", tcp.backlog = 0 }");
        assertThatThrownBy(() -> mancom.registerDataReceiver("echo", (c, d) -> { }))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("mancom.services.echo.tcp.backlog")
                .hasMessageContaining("found 0 but expected an integer from 1 to 65535");
    }

    @Test
    void aServiceIsServedInOneStyle() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        mancom.registerDataReceiver("echo", (c, d) -> { });
        assertThatThrownBy(() -> mancom.accept("echo", Duration.ofMillis(10)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("service 'echo' is served with callbacks");
    }

    @Test
    void blockingAcceptTimesOut() {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        assertThatThrownBy(() -> mancom.accept("echo", Duration.ofMillis(50)))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.TIMEOUT))
                .hasMessage("no connection to service 'echo' within PT0.05S");
    }

    @Test
    void aReadTimeoutLosesNoData() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        mancom.registerDataReceiver("echo", (c, d) -> c.write(d));
        mancom.awaitReady(T);
        try (var c = mancom.connect("echo")) {
            assertThatThrownBy(() -> c.read(new byte[4], Duration.ofMillis(50)))
                    .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.TIMEOUT));
            c.write(new byte[]{1, 2, 3, 4});
            assertThat(EchoTest.readExactly(c, 4)).containsExactly(1, 2, 3, 4);
        }
    }

    @Test
    void anEphemeralServiceOfAnotherRuntimeCannotBeDialled() {
        mancom = TestManCom.start("");
        assertThatThrownBy(() -> mancom.connect("demo"))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.UNREACHABLE))
                .hasMessageContaining("has port 0 (any free port)");
    }

    @Test
    void writesAfterCloseFailWithClosed() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        mancom.registerDataReceiver("echo", (c, d) -> c.write(d));
        mancom.awaitReady(T);
        var c = mancom.connect("echo");
        c.close();
        assertThatThrownBy(() -> c.write(new byte[]{1}))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.CLOSED));
    }
}
