package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ManCom#close()} with connections still open: every connection gets its close event while
 * its receiver is still registered, before close() returns (the C API's mancom_shutdown relies on
 * the same order).
 */
@Timeout(60)
class RuntimeCloseTest {
    private static final Duration T = Duration.ofSeconds(20);

    @Test
    void closeDeliversEveryOpenConnectionsCloseEventBeforeItReturns() throws Exception {
        List<Long> closed = new CopyOnWriteArrayList<>();
        List<Long> served = new CopyOnWriteArrayList<>();
        ManCom server = TestManCom.start("mancom.services { open { endpoint = \"tcp://127.0.0.1:0\" } }");
        try {
            server.registerDataReceiver("open", new DataReceiver() {
                @Override
                public void onData(Connection c, ByteBuffer data) {
                    served.add(c.id());
                    c.write(data);
                }

                @Override
                public void onClose(Connection c, Throwable cause) {
                    closed.add(c.id());
                }
            });
            server.awaitReady(T);
            int port = ((TcpAddress) server.boundEndPoint("open").orElseThrow().address()).port();
            try (ManCom client = TestManCom.start("mancom.services { open { endpoint = \"tcp://127.0.0.1:" + port + "\" } }")) {
                List<BlockingConnection> open = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    BlockingConnection c = client.connect("open", T);
                    open.add(c);
                    c.write(new byte[]{1});
                    assertThat(c.read(new byte[1], T)).isEqualTo(1);
                }
                assertThat(closed).isEmpty();
                server.close();
                assertThat(closed).as("close events delivered by the time close() returned").hasSize(3)
                        .containsExactlyInAnyOrderElementsOf(served);
                for (BlockingConnection c : open) {
                    assertThat(c.read(new byte[1], T)).isEqualTo(-1);
                    c.close();
                }
            }
        } finally {
            server.close();
        }
    }
}
