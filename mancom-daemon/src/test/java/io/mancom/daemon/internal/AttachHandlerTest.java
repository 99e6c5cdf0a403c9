package io.mancom.daemon.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attach bytes of docs/daemon.md as {@link AttachHandler} reads them, on an EmbeddedChannel:
 * which bytes become which callback, in order and on the owner's loop (a queue run by the test),
 * which close the connection, and that what it reads is released. Bytes are fed whole and one at a
 * time; a connection that closed is not fed further (a closed socket reads nothing more).
 */
class AttachHandlerTest {
    private final Queue<Runnable> ownerLoop = new ArrayDeque<>();
    private final List<String> events = new ArrayList<>();
    private final List<String> after = new ArrayList<>();
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    /** A carry that records its callbacks; a handler after it records what is passed on. */
    private AttachHandler attach(boolean carriesClose) {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        ch = new EmbeddedChannel();
        Peer peer = new Peer(4242, 1000, "alice", List.of(1000), List.of("alice"));
        AttachHandler h = new AttachHandler(ch, peer, ownerLoop::add, carriesClose, "the test's bytes") {
            @Override
            void onReady() {
                events.add("ready");
            }

            @Override
            void onAdopted() {
                events.add("adopted");
            }

            @Override
            void onClosed() {
                events.add("closed");
            }

            @Override
            void onDetached() {
                events.add("detached");
            }
        };
        ch.pipeline().addLast(h, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                after.add("read");
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                after.add("inactive");
            }
        });
        return h;
    }

    /** Writes {@code bytes} inbound, whole or one per read, while the connection is open. */
    private void feed(String bytes, boolean oneAtATime) {
        List<ByteBuf> written = new ArrayList<>();
        if (oneAtATime) {
            for (int i = 0; i < bytes.length() && ch.isOpen(); i++) {
                ByteBuf b = Unpooled.buffer(1).writeByte(bytes.charAt(i));
                written.add(b);
                ch.writeInbound(b);
            }
        } else {
            ByteBuf b = Unpooled.buffer(bytes.length());
            for (int i = 0; i < bytes.length(); i++) {
                b.writeByte(bytes.charAt(i));
            }
            written.add(b);
            ch.writeInbound(b);
        }
        assertThat(written).as("every buffer read is released").allMatch(b -> b.refCnt() == 0);
    }

    /** Runs what the connection's loop and then the owner's loop have queued. */
    private List<String> run() {
        ch.runPendingTasks();
        while (!ownerLoop.isEmpty()) {
            ownerLoop.poll().run();
        }
        return events;
    }

    @ParameterizedTest(name = "one byte at a time: {0}")
    @ValueSource(booleans = {false, true})
    void eachByteIsACallbackOnTheOwnerLoopInTheOrderRead(boolean oneAtATime) {
        attach(true);
        feed("RAACA", oneAtATime);
        assertThat(events).as("nothing runs on the connection's loop").isEmpty();
        assertThat(run()).containsExactly("ready", "adopted", "adopted", "closed", "adopted");
        assertThat(ch.isOpen()).isTrue();
        assertThat(after).as("the bytes are the handler's, not passed on").isEmpty();

        ch.close();
        assertThat(run()).containsExactly("ready", "adopted", "adopted", "closed", "adopted", "detached");
        assertThat(after).containsExactly("inactive");
    }

    /** A C where the carry has none, a second R, an A or C before the R: nothing after it is read. */
    @ParameterizedTest(name = "{1} (C carried: {0}, one byte at a time: {2})")
    @CsvSource({
            "false, RACA, false, ready adopted detached",
            "false, RACA, true,  ready adopted detached",
            "true,  RAR,  false, ready adopted detached",
            "true,  RAR,  true,  ready adopted detached",
            "true,  AR,   false, detached",
            "true,  CR,   false, detached",
    })
    void outOfOrderBytesAreAViolation(boolean carriesClose, String bytes, boolean oneAtATime, String expected) {
        attach(carriesClose);
        feed(bytes, oneAtATime);
        assertThat(ch.isOpen()).isFalse();
        assertThat(run()).containsExactly(expected.split(" "));
    }

    @Test
    void anyOtherByteIsAViolation() {
        for (String bad : List.of("\0", "r", "a", "c", "X", "\u00ff")) {
            events.clear();
            attach(true);
            feed("R" + bad + "A", false);
            assertThat(ch.isOpen()).as("0x%02x", (int) bad.charAt(0)).isFalse();
            assertThat(run()).containsExactly("ready", "detached");
        }
    }

    @Test
    void aMessageThatIsNotBytesIsReleasedAndAViolation() {
        attach(true);
        DefaultByteBufHolder notBytes = new DefaultByteBufHolder(Unpooled.buffer(1).writeByte('R'));
        ch.writeInbound(notBytes);
        assertThat(notBytes.refCnt()).isZero();
        assertThat(ch.isOpen()).isFalse();
        assertThat(run()).containsExactly("detached");
        assertThat(after).containsExactly("inactive");
    }

    @Test
    void anExceptionClosesTheConnectionAndDoesNotReachTheTail() {
        attach(true);
        feed("R", false);
        ch.pipeline().fireExceptionCaught(new IOException("connection reset"));
        ch.checkException(); // throws what reached the tail
        assertThat(run()).containsExactly("ready", "detached");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void theCarryCutsOffAProcessThroughViolation() {
        AttachHandler h = attach(true);
        feed("RA", false);
        run();
        h.violation("an 'A' for no line");
        assertThat(ch.isOpen()).isFalse();
        assertThat(run()).containsExactly("ready", "adopted", "detached");
    }
}
