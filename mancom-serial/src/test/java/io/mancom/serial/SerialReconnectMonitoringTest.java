package io.mancom.serial;

import io.mancom.ChannelStatus;
import io.mancom.Connection;
import io.mancom.EventListener;
import io.mancom.ManCom;
import io.mancom.ServiceStatus;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A serial line lost and reopened (socat killed and restarted) is a reconnect: the listener hears
 * of it once, with the new channel, and the service counts it; the first open is none.
 */
class SerialReconnectMonitoringTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private PtyPair pty;
    private ManCom mancom;

    @BeforeEach
    void start() throws IOException {
        boolean ci = "true".equals(System.getenv("CI"));
        assumeTrue(ci || PtyPair.available(), "socat is not installed (apt-get install socat)");
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        if (mancom != null) {
            mancom.close();
        }
        if (pty != null) {
            pty.close();
        }
    }

    private record Reconnect(ChannelStatus channel, int attempts) {
    }

    @Test
    void aLineLostAndReopenedCountsOneReconnect() throws Exception {
        BlockingQueue<Reconnect> reconnects = new LinkedBlockingQueue<>();
        BlockingQueue<ChannelStatus> closed = new LinkedBlockingQueue<>();
        mancom = TestManCom.builder("mancom.services.line { endpoint = \"serial://" + pty.a() + "\"\n"
                        + " reconnect { initial-delay = 20ms, max-delay = 200ms } }\n"
                        + "mancom.runtime-dir = \"" + dir.resolve("run") + "\"")
                .eventListener(new EventListener() {
                    @Override
                    public void connectionClosed(ChannelStatus channel, Throwable cause) {
                        closed.add(channel);
                    }

                    @Override
                    public void reconnect(ChannelStatus channel, int attempts) {
                        reconnects.add(new Reconnect(channel, attempts));
                    }
                }).start();
        BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        mancom.registerAcceptor("line", accepted::add);
        mancom.registerDataReceiver("line", (c, data) -> { });
        mancom.awaitReady(T);
        Connection first = accepted.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(mancom.status().service("line").orElseThrow().reconnects()).isZero();

        pty.kill();
        ChannelStatus lost = closed.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(lost).isNotNull();
        assertThat(lost.id()).isEqualTo(first.id());
        assertThat(reconnects).as("no reconnect before the line is back").isEmpty();

        pty.restart();
        Connection second = accepted.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(second).isNotNull();
        Reconnect r = reconnects.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(r).as("a reconnect event").isNotNull();
        assertThat(r.channel().id()).isEqualTo(second.id());
        assertThat(r.channel().kind()).isEqualTo(ChannelStatus.Kind.SERIAL);
        assertThat(r.channel().reconnects()).isEqualTo(1);
        assertThat(r.attempts()).isPositive();
        ServiceStatus line = mancom.status().service("line").orElseThrow();
        assertThat(line.reconnects()).isEqualTo(1);
        assertThat(mancom.status().channel(second.id()).orElseThrow().reconnects()).isEqualTo(1);
        assertThat(reconnects).as("one event per reopen").isEmpty();
    }
}
