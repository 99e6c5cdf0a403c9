package io.mancom.core.internal.sniff;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The sniffer on an EmbeddedChannel: what it hands on, when it gives up, and what it keeps. */
class SniffHandlerTest {
    /** Records the outcome; a routed connection's bytes are fired into the pipeline, as the port does. */
    static final class Recorder implements SniffHandler.Outcome {
        int rule = -1;
        SniffHandler.Refusal refusal;
        int refusedBytes;

        @Override
        public void routed(Channel ch, int rule, ByteBuf first) {
            this.rule = rule;
            ch.pipeline().fireChannelRead(first);
        }

        @Override
        public void refused(Channel ch, SniffHandler.Refusal why, int bytes) {
            refusal = why;
            refusedBytes = bytes;
        }
    }

    private final Recorder outcome = new Recorder();

    private EmbeddedChannel channel(int maxBytes, int onTimeout, String... rules) {
        return new EmbeddedChannel(new SniffHandler(RouterTest.router(rules), maxBytes, Duration.ofSeconds(5),
                onTimeout, outcome));
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static String readAll(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readInbound()) != null; ) {
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }

    @Test
    void theBytesReadOneAtATimeAreHandedOnWholeAndUnchangedAndTheSnifferLeaves() {
        EmbeddedChannel ch = channel(16384, -1, "{ prefix = \"SSH-\" }", "= http1");
        String request = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        for (int i = 0; i < 17; i++) { // up to the line's end: the rule decides there
            ch.writeInbound(ascii(request.substring(i, i + 1)));
            assertThat(outcome.rule).as("after %d bytes", i + 1).isEqualTo(i < 16 ? -1 : 1);
        }
        ch.writeInbound(ascii(request.substring(17)));

        assertThat(readAll(ch)).isEqualTo(request);
        assertThat(ch.pipeline().get(SniffHandler.class)).isNull();
        assertThat(ch.isOpen()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void bytesNoRuleTakesCloseTheConnection() {
        EmbeddedChannel ch = channel(16384, -1, "= http1", "= http2");
        ch.writeInbound(ascii("\u0001\u0002garbage"));

        assertThat(ch.isOpen()).isFalse();
        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.NO_MATCH);
        assertThat(outcome.refusedBytes).isBetween(1, 9);
        ch.finishAndReleaseAll();
    }

    @Test
    void aRuleThatWouldNeedMoreThanTheBoundClosesAtTheBound() {
        EmbeddedChannel ch = channel(1024, -1, "= http1");
        ch.writeInbound(ascii("GET /"));
        for (int i = 0; i < 9 && ch.isOpen(); i++) {
            ch.writeInbound(ascii("a".repeat(128)));
        }
        assertThat(ch.isOpen()).isFalse();
        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.TOO_MANY_BYTES);
        assertThat(outcome.refusedBytes).isBetween(1024, 1024 + 128);
        ch.finishAndReleaseAll();
    }

    @Test
    void aSilentClientGoesToOnTimeoutWithNothingToReplay() {
        EmbeddedChannel ch = channel(16384, 1, "= http1", "{ prefix = \"SSH-\" }");
        ch.advanceTimeBy(4, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertThat(outcome.rule).isEqualTo(-1);

        ch.advanceTimeBy(2, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();

        assertThat(outcome.rule).isEqualTo(1);
        assertThat(ch.isOpen()).isTrue();
        ch.writeInbound(ascii("later"));
        assertThat(readAll(ch)).isEqualTo("later");
        ch.finishAndReleaseAll();
    }

    @Test
    void aSlowPartialClientIsClosedAtTheTimeoutEvenWithOnTimeout() {
        EmbeddedChannel ch = channel(16384, 1, "= http1", "{ prefix = \"SSH-\" }");
        ch.writeInbound(ascii("GE"));
        ch.advanceTimeBy(6, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();

        assertThat(ch.isOpen()).isFalse();
        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.TIMEOUT);
        ch.finishAndReleaseAll();
    }

    @Test
    void aClientHelloDrippedSlowlyIsClosedAtTheTimeoutCountedFromTheStartNotFromItsLastByte() throws Exception {
        EmbeddedChannel ch = channel(16384, -1, "{ tls { sni = [x.example] } }");
        byte[] hello = io.mancom.testkit.ClientHellos.clientHello("x.example");
        // A byte every 600 ms of the channel's clock (which also moves with real time): never idle for
        // long, but the 5 s bound runs from the start.
        for (int i = 0; i < 9 && ch.isOpen(); i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(hello, i, 1));
            ch.advanceTimeBy(600, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
        }

        assertThat(ch.isOpen()).isFalse();
        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.TIMEOUT);
        assertThat(outcome.refusedBytes).isBetween(1, 9);
        ch.finishAndReleaseAll();
    }

    @Test
    void aSilentClientWithoutOnTimeoutIsClosed() {
        EmbeddedChannel ch = channel(16384, -1, "= http1");
        ch.advanceTimeBy(6, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();

        assertThat(ch.isOpen()).isFalse();
        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.SILENT);
        ch.finishAndReleaseAll();
    }

    @Test
    void aClientThatLeavesUndecidedReleasesWhatWasKept() {
        EmbeddedChannel ch = channel(16384, -1, "= http1");
        ch.writeInbound(ascii("GET /"));
        ch.close();

        assertThat(outcome.refusal).isEqualTo(SniffHandler.Refusal.CLOSED);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}
