package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.mancom.core.internal.mux.MuxLoopback.TIMEOUT_SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/** Two real sessions over TCP loopback. */
class MuxSessionTest {

    private static EventLoopGroup group;

    @BeforeAll
    static void startGroup() {
        group = MuxLoopback.newGroup();
    }

    @AfterAll
    static void stopGroup() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    private static <T> T await(Future<T> f) throws Exception {
        assertThat(f.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("completed in time").isTrue();
        if (!f.isSuccess()) {
            throw new AssertionError("failed: " + f.cause(), f.cause());
        }
        return f.getNow();
    }

    private static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Runs {@code task} on the session's loop and waits for it. */
    private static <T> T onLoop(MuxSessionHandler s, java.util.concurrent.Callable<T> task) throws Exception {
        return s.link().eventLoop().submit(task).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void thousandConcurrentStreamsEchoEveryByte() throws Exception {
        int streams = 1000;
        MuxSettings settings = MuxSettings.builder().maxStreams(streams + 24).build();
        CountDownLatch serverClosed = new CountDownLatch(streams);
        AtomicInteger closeStreams = new AtomicInteger();
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(settings)
                .serverLink(ch -> spy(ch, MuxFrame.Type.CLOSE_STREAM, closeStreams))
                .clientLink(ch -> spy(ch, MuxFrame.Type.CLOSE_STREAM, closeStreams))
                .serverAcceptor((stream, service) -> {
                    assertThat(service).isEqualTo("echo");
                    stream.config().setAllowHalfClosure(true);
                    stream.pipeline().addLast(new StreamHandlers.Echo());
                    stream.closeFuture().addListener(f -> serverClosed.countDown());
                    return true;
                }).start()) {
            Random sizes = new Random(42);
            List<StreamHandlers.RandomEcho> echoes = new ArrayList<>();
            List<Future<MuxStreamChannel>> opened = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < streams; i++) {
                int size = sizes.nextInt(48 * 1024);
                total += size;
                StreamHandlers.RandomEcho e = new StreamHandlers.RandomEcho(i, size);
                echoes.add(e);
                opened.add(pair.client.openStream("echo", new io.netty.channel.ChannelInitializer<MuxStreamChannel>() {
                    @Override
                    protected void initChannel(MuxStreamChannel ch) {
                        ch.config().setAllowHalfClosure(true);
                        ch.pipeline().addLast(e);
                    }
                }));
            }
            for (Future<MuxStreamChannel> f : opened) {
                await(f);
            }
            long echoed = 0;
            for (StreamHandlers.RandomEcho e : echoes) {
                echoed += await(e.done);
            }
            assertThat(echoed).isEqualTo(total);
            // Both halves closed on each side: the streams close by themselves, everywhere.
            assertThat(serverClosed.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            for (Future<MuxStreamChannel> f : opened) {
                assertThat(f.getNow().closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            }
            MuxSessionStats s = onLoop(pair.server, pair.server::stats);
            MuxSessionStats c = onLoop(pair.client, pair.client::stats);
            assertThat(s.openStreams()).isZero();
            assertThat(c.openStreams()).isZero();
            assertThat(s.bufferedBytes()).isZero();
            assertThat(c.bufferedBytes()).isZero();
            assertThat(s.streamsOpened()).isEqualTo(streams);
            assertThat(s.streamsRefused()).isZero();
            // Both halves were closed with CloseRead, so neither side needed CloseStream. (Frames
            // may still be ignored: WindowUpdates the peer sent before it saw the stream end.)
            assertThat(closeStreams.get()).isZero();
        }
    }

    /** Counts the frames of one type a link receives. */
    static void spy(io.netty.channel.Channel link, MuxFrame.Type type, AtomicInteger count) {
        spy(link, type, count, new CountDownLatch(0));
    }

    /** Counts the frames of one type a link receives, also on a latch (before the session sees each). */
    static void spy(io.netty.channel.Channel link, MuxFrame.Type type, AtomicInteger count, CountDownLatch latch) {
        link.pipeline().addBefore(MuxSessionHandler.SESSION_NAME, "spy-" + type, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof MuxFrame f && f.type() == type && !f.isHello()) {
                    count.incrementAndGet();
                    latch.countDown();
                }
                ctx.fireChannelRead(msg);
            }
        });
    }

    @Test
    void stalledReaderStallsOnlyItsStream() throws Exception {
        int fastBytes = 16 << 20;
        StreamHandlers.Collector stalled = new StreamHandlers.Collector(1 << 20, false);
        StreamHandlers.Collector fast = new StreamHandlers.Collector(fastBytes, false);
        CompletableFuture<MuxStreamChannel> stalledStream = new CompletableFuture<>();
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((stream, service) -> {
                    if (service.equals("stalled")) {
                        stream.config().setAutoRead(false); // never reads until told
                        stream.pipeline().addLast(stalled);
                        stalledStream.complete(stream);
                    } else {
                        stream.pipeline().addLast(fast);
                    }
                    return true;
                }).start()) {
            MuxStreamChannel a = await(pair.client.openStream("stalled", StreamHandlers.quiet()));
            a.writeAndFlush(Unpooled.wrappedBuffer(new byte[1 << 20]));
            MuxStreamChannel b = await(pair.client.openStream("fast", StreamHandlers.quiet()));
            for (int i = 0; i < fastBytes / 65536; i++) {
                b.write(Unpooled.wrappedBuffer(new byte[65536]));
            }
            b.flush();
            assertThat(await(fast.reached)).isEqualTo(fastBytes);
            // The fast stream moved 16 MiB while the stalled one sat at its first window.
            assertThat(stalled.count.get()).isZero();
            MuxStreamChannel serverStalled = await(stalledStream);
            int queued = onLoop(pair.server, serverStalled::queuedBytes);
            assertThat(queued).isLessThanOrEqualTo(MuxFrame.MAX_DATA);
            assertThat(onLoop(pair.server, pair.server::stats).bufferedBytes()).isLessThanOrEqualTo(MuxFrame.MAX_DATA);
            assertThat(onLoop(pair.client, a::isWritable)).isFalse();
            // Once the reader reads, the rest flows.
            serverStalled.config().setAutoRead(true);
            assertThat(await(stalled.reached)).isEqualTo(1 << 20);
        }
    }

    @Test
    void halfCloseBothWays() throws Exception {
        CompletableFuture<MuxStreamChannel> serverSide = new CompletableFuture<>();
        StreamHandlers.Collector atServer = new StreamHandlers.Collector();
        AtomicInteger closeStreams = new AtomicInteger();
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverLink(ch -> spy(ch, MuxFrame.Type.CLOSE_STREAM, closeStreams))
                .clientLink(ch -> spy(ch, MuxFrame.Type.CLOSE_STREAM, closeStreams))
                .serverAcceptor((stream, service) -> {
                    stream.config().setAllowHalfClosure(true);
                    stream.pipeline().addLast(atServer);
                    serverSide.complete(stream);
                    return true;
                }).start()) {
            // Client finishes writing: the server reads everything, then end of input; it can still write.
            StreamHandlers.Collector atClient = new StreamHandlers.Collector();
            MuxStreamChannel c = await(pair.client.openStream("svc", new io.netty.channel.ChannelInitializer<MuxStreamChannel>() {
                @Override
                protected void initChannel(MuxStreamChannel ch) {
                    ch.config().setAllowHalfClosure(true);
                    ch.pipeline().addLast(atClient);
                }
            }));
            c.writeAndFlush(Unpooled.copiedBuffer("request", StandardCharsets.UTF_8));
            await(c.shutdownOutput());
            assertThat(c.isOutputShutdown()).isTrue();
            assertThat(await(atServer.eof)).isEqualTo(7);
            assertThat(new String(atServer.received(), StandardCharsets.UTF_8)).isEqualTo("request");
            MuxStreamChannel s = await(serverSide);
            assertThat(s.isInputShutdown()).isTrue();
            assertThat(s.isOpen()).isTrue();
            s.writeAndFlush(Unpooled.copiedBuffer("response", StandardCharsets.UTF_8));
            await(s.shutdownOutput());
            assertThat(await(atClient.eof)).isEqualTo(8);
            assertThat(new String(atClient.received(), StandardCharsets.UTF_8)).isEqualTo("response");
            // Both halves done on both sides: both close on their own, without CloseStream.
            assertThat(c.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(s.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(c.closeCause()).isNull();
            assertThat(closeStreams.get()).isZero();
        }
    }

    @Test
    void shutdownInputMakesThePeersWritesFail() throws Exception {
        CompletableFuture<MuxStreamChannel> serverSide = new CompletableFuture<>();
        StreamHandlers.Collector atServer = new StreamHandlers.Collector();
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(atServer);
                    serverSide.complete(stream);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream("svc", StreamHandlers.quiet()));
            await(c.shutdownInput()); // CloseWrite: "your write side is done"
            assertThat(c.isInputShutdown()).isTrue();
            await(atServer.outputShutdown);
            MuxStreamChannel s = await(serverSide);
            assertThat(s.isOutputShutdown()).isTrue();
            Future<Void> write = s.writeAndFlush(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
            assertThat(write.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(write.cause()).isInstanceOf(ManComException.class)
                    .hasMessageContaining("the peer stopped reading");
            // The other direction still works.
            c.writeAndFlush(Unpooled.copiedBuffer("still", StandardCharsets.UTF_8));
            await(c.shutdownOutput());
            // Server: both halves done (peer stopped reading, peer finished writing): it closes.
            assertThat(s.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(new String(atServer.received(), StandardCharsets.UTF_8)).isEqualTo("still");
            assertThat(c.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void withoutHalfClosureEndOfInputClosesTheStreamAndThePeerSees() throws Exception {
        StreamHandlers.Collector atServer = new StreamHandlers.Collector();
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(atServer); // half-closure off: socket default
                    return true;
                }).start()) {
            StreamHandlers.Collector atClient = new StreamHandlers.Collector();
            MuxStreamChannel c = await(pair.client.openStream("svc", atClient));
            c.writeAndFlush(Unpooled.copiedBuffer("bye", StandardCharsets.UTF_8));
            c.shutdownOutput();
            assertThat(await(atServer.eof)).isEqualTo(3);
            // The server stream closed (CloseStream), so the client's closes too.
            assertThat(c.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(c.closeCause()).isNull();
        }
    }

    @Test
    void closeMuxDeliversQueuedDataThenFailsStreams() throws Exception {
        List<MuxStreamChannel> serverStreams = new ArrayList<>();
        Map<MuxStreamChannel, StreamHandlers.Collector> collectors = new ConcurrentHashMap<>();
        int perStream = 60_000; // fits the first window, so it is all sent before CloseMux
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((stream, service) -> {
                    stream.config().setAutoRead(false); // nothing is read before CloseMux arrives
                    StreamHandlers.Collector col = new StreamHandlers.Collector();
                    stream.pipeline().addLast(col);
                    collectors.put(stream, col);
                    synchronized (serverStreams) {
                        serverStreams.add(stream);
                    }
                    return true;
                }).start()) {
            for (int i = 0; i < 3; i++) {
                MuxStreamChannel c = await(pair.client.openStream("sink", StreamHandlers.quiet()));
                c.writeAndFlush(Unpooled.wrappedBuffer(new byte[perStream]));
            }
            await(pair.client.closeGracefully());
            await(pair.server.terminationFuture()); // the peer's CloseMux is a clean end
            assertThat(pair.server.terminationCause()).hasMessage("session closed by peer");
            assertThat(serverStreams).hasSize(3);
            for (MuxStreamChannel s : serverStreams) {
                assertThat(s.isOpen()).as("still holds unread data").isTrue();
                s.config().setAutoRead(true);
            }
            for (MuxStreamChannel s : serverStreams) {
                StreamHandlers.Collector col = collectors.get(s);
                assertThat(await(col.eof)).isEqualTo(perStream);
                assertThat(await(col.failure)).isInstanceOf(ManComException.class).hasMessage("session closed by peer");
                assertThat(((ManComException) s.closeCause()).reason()).isEqualTo(ManComException.Reason.CLOSED);
            }
        }
    }

    @Test
    void gracefulCloseWaitsForDataBeyondTheWindow() throws Exception {
        StreamHandlers.Collector atServer = new StreamHandlers.Collector(Long.MAX_VALUE, false);
        int size = 4 << 20;
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(atServer);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream("sink", StreamHandlers.quiet()));
            Future<Void> write = c.writeAndFlush(Unpooled.wrappedBuffer(new byte[size]));
            Future<Void> closed = pair.client.closeGracefully(Duration.ofSeconds(TIMEOUT_SECONDS));
            Future<MuxStreamChannel> late = pair.client.openStream("late", StreamHandlers.quiet());
            assertThat(late.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(late.cause()).hasMessageContaining("closing");
            await(closed);
            assertThat(write.isSuccess()).isTrue();
            assertThat(await(atServer.eof)).isEqualTo(size);
            assertThat(await(atServer.failure)).hasMessage("session closed by peer");
        }
    }

    @Test
    void windowGrowsForABulkStreamWithinTheBudget() throws Exception {
        MuxSettings settings = MuxSettings.builder().maxWindow(1 << 20).receiveBuffer(1 << 20).build();
        CompletableFuture<MuxStreamChannel> serverSide = new CompletableFuture<>();
        int size = 16 << 20;
        StreamHandlers.Collector atServer = new StreamHandlers.Collector(size, false);
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(settings)
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(atServer);
                    serverSide.complete(stream);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream("bulk", StreamHandlers.quiet()));
            for (int i = 0; i < size / 65536; i++) {
                c.write(Unpooled.wrappedBuffer(new byte[65536]));
            }
            c.flush();
            await(atServer.reached);
            MuxStreamChannel s = await(serverSide);
            int window = onLoop(pair.server, () -> s.state().recvWindow());
            assertThat(window).isGreaterThan(MuxFrame.MAX_DATA).isLessThanOrEqualTo(1 << 20);
            assertThat(onLoop(pair.server, pair.server::stats).receiveWindows()).isLessThanOrEqualTo(1 << 20);
        }
    }

    @Test
    void bothEndsOfANewStreamGrantTheStreamWindowAtOnce() throws Exception {
        MuxSettings settings = MuxSettings.builder().streamWindow(512 * 1024).build();
        CompletableFuture<MuxStreamChannel> serverSide = new CompletableFuture<>();
        StreamHandlers.Collector back = new StreamHandlers.Collector(3, false);
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(settings)
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(new StreamHandlers.Echo());
                    serverSide.complete(stream);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream("bulk", back));
            assertThat(onLoop(pair.client, () -> c.state().recvWindow())).isEqualTo(512 * 1024);
            c.writeAndFlush(Unpooled.wrappedBuffer(new byte[3]));
            // The echo comes after the server's WindowUpdate on the link, so the client has that too.
            await(back.reached);
            MuxStreamChannel s = await(serverSide);
            assertThat(onLoop(pair.server, () -> s.state().recvWindow())).isEqualTo(512 * 1024);
            // The preamble and 3 bytes were spent from the protocol's 64 KiB, then the grant came.
            assertThat(onLoop(pair.client, () -> c.state().sendCredit())).isGreaterThan(MuxFrame.MAX_DATA);
        }
    }

    @Test
    void keepalivesKeepAnIdleSessionAlive() throws Exception {
        // 50 x 40 ms is well past the idle timeout; the timeout itself is wide enough that a loaded
        // machine's pause of a few hundred milliseconds does not end the session.
        MuxSettings settings = MuxSettings.builder().keepaliveInterval(Duration.ofMillis(40))
                .idleTimeout(Duration.ofMillis(1500)).build();
        CountDownLatch keepalives = new CountDownLatch(50);
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(settings)
                .serverLink(ch -> ch.pipeline().addBefore(MuxSessionHandler.SESSION_NAME, "spy", new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof MuxFrame f && f.type() == MuxFrame.Type.KEEPALIVE && !f.isHello()) {
                            keepalives.countDown();
                        }
                        ctx.fireChannelRead(msg);
                    }
                }))
                .serverAcceptor((stream, service) -> {
                    stream.pipeline().addLast(new StreamHandlers.Echo());
                    return true;
                }).start()) {
            assertThat(keepalives.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(pair.server.isOpen()).isTrue();
            assertThat(pair.client.isOpen()).isTrue();
            assertThat(onLoop(pair.server, pair.server::stats).keepalives()).isGreaterThanOrEqualTo(50);
            StreamHandlers.Collector back = new StreamHandlers.Collector(2, true);
            MuxStreamChannel c = await(pair.client.openStream("echo", back));
            c.writeAndFlush(Unpooled.copiedBuffer("hi", StandardCharsets.UTF_8));
            await(back.reached);
        }
    }

    @Test
    void autoRolesSettleOppositeEvenAfterEqualDraws() throws Exception {
        AtomicInteger serverDraws = new AtomicInteger();
        AtomicInteger clientDraws = new AtomicInteger();
        CompletableFuture<MuxStreamChannel> atServer = new CompletableFuture<>();
        CompletableFuture<MuxStreamChannel> atClient = new CompletableFuture<>();
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .roles(MuxSettings.Role.AUTO, MuxSettings.Role.AUTO)
                // Two equal draws, then the server draws higher.
                .tieBreaks(() -> serverDraws.getAndIncrement() < 2 ? 7 : 900,
                        () -> clientDraws.getAndIncrement() < 2 ? 7 : 300)
                .serverAcceptor((s, svc) -> atServer.complete(s))
                .clientAcceptor((s, svc) -> atClient.complete(s))
                .start()) {
            // Opened before the roles are settled: waits for them.
            MuxStreamChannel fromClient = await(pair.client.openStream("a", StreamHandlers.quiet()));
            MuxStreamChannel fromServer = await(pair.server.openStream("b", StreamHandlers.quiet()));
            assertThat(pair.server.role()).isEqualTo(MuxSettings.Role.INITIATOR);
            assertThat(pair.client.role()).isEqualTo(MuxSettings.Role.RESPONDER);
            assertThat(serverDraws.get()).isEqualTo(3);
            assertThat(clientDraws.get()).isEqualTo(3);
            assertThat(fromServer.streamId()).isZero();
            assertThat(fromClient.streamId()).isEqualTo(1);
            assertThat(await(atServer).streamId()).isEqualTo(1);
            assertThat(await(atServer).service()).isEqualTo("a");
            assertThat(await(atClient).streamId()).isZero();
            assertThat(pair.server.isPeerManCom()).isTrue();
        }
    }

    @Test
    void streamsOpenedBeforeTheLinkIsActiveWaitForIt() throws Exception {
        CompletableFuture<Future<MuxStreamChannel>> early = new CompletableFuture<>();
        StreamHandlers.Collector atServer = new StreamHandlers.Collector(5, true);
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((s, svc) -> {
                    s.pipeline().addLast(atServer);
                    return true;
                })
                .clientLink(ch -> {
                    assertThat(ch.isActive()).as("still connecting").isFalse();
                    early.complete(ch.pipeline().get(MuxSessionHandler.class).openStream("early", StreamHandlers.quiet()));
                }).start()) {
            MuxStreamChannel c = await(await(early));
            assertThat(c.session()).isSameAs(pair.client);
            assertThat(c.streamId()).isZero();
            c.writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8));
            assertThat(await(atServer.reached)).isEqualTo(5);
        }
    }

    @Test
    void twoFixedInitiatorsIsAnError() throws Exception {
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .roles(MuxSettings.Role.INITIATOR, MuxSettings.Role.INITIATOR).start()) {
            assertThat(pair.server.terminationFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(pair.server.terminationFuture().cause()).isInstanceOf(ManComException.class)
                    .hasMessageContaining("both sides of the link are mux.role = initiator");
        }
    }

    @Test
    void routingNoneSendsNoPreamble() throws Exception {
        MuxSettings none = MuxSettings.builder().routing(MuxSettings.Routing.NONE).build();
        CompletableFuture<String> service = new CompletableFuture<>();
        StreamHandlers.Collector atServer = new StreamHandlers.Collector(3, true);
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(none)
                .serverAcceptor((s, svc) -> {
                    service.complete(String.valueOf(svc));
                    s.pipeline().addLast(atServer);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream(null, StreamHandlers.quiet()));
            c.writeAndFlush(Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8));
            await(atServer.reached);
            assertThat(new String(atServer.received(), StandardCharsets.UTF_8)).isEqualTo("abc");
            assertThat(await(service)).isEqualTo("null");
        }
    }

    @Test
    void refusedStreamClosesRightAfterOpening() throws Exception {
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverAcceptor((s, svc) -> svc.equals("known")).start()) {
            StreamHandlers.Collector col = new StreamHandlers.Collector();
            MuxStreamChannel c = await(pair.client.openStream("unknown", col));
            assertThat(c.closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(await(col.eof)).isZero();
            assertThat(onLoop(pair.server, pair.server::stats).streamsRefused()).isEqualTo(1);
            assertThat(onLoop(pair.server, pair.server::stats).openStreams()).isZero();
        }
    }

    @Test
    void maxStreamsLimitsOpening() throws Exception {
        MuxSettings two = MuxSettings.builder().maxStreams(2).build();
        try (MuxLoopback pair = MuxLoopback.builder(group).settings(two)
                .serverAcceptor((s, svc) -> true).start()) {
            await(pair.client.openStream("a", StreamHandlers.quiet()));
            await(pair.client.openStream("b", StreamHandlers.quiet()));
            Future<MuxStreamChannel> third = pair.client.openStream("c", StreamHandlers.quiet());
            assertThat(third.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(third.cause()).isInstanceOf(ManComException.class)
                    .hasMessageContaining("mux.max-streams (2)");
            assertThat(((ManComException) third.cause()).reason()).isEqualTo(ManComException.Reason.BUSY);
        }
    }

    @Test
    void runningOutOfStreamIdsEndsTheSessionWithCloseMux() throws Exception {
        try (MuxLoopback pair = MuxLoopback.builder(group).serverAcceptor((s, svc) -> true).start()) {
            await(pair.client.openStream("first", StreamHandlers.quiet())); // roles settled, ids from 0
            onLoop(pair.client, () -> {
                pair.client.nextLocalStreamId(MuxSessionHandler.MAX_STREAM_ID - 1);
                return null;
            });
            MuxStreamChannel last = await(pair.client.openStream("last", StreamHandlers.quiet()));
            assertThat(last.streamId()).isEqualTo(0xFFFF_FFFEL);
            Future<MuxStreamChannel> none = pair.client.openStream("none", StreamHandlers.quiet());
            assertThat(none.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            assertThat(none.cause()).hasMessageContaining("used up its stream ids");
            await(pair.client.terminationFuture());
            await(pair.server.terminationFuture());
            assertThat(pair.server.terminationCause()).hasMessage("session closed by peer");
        }
    }

    @Test
    void closingTheLinkSendsCloseMux() throws Exception {
        try (MuxLoopback pair = MuxLoopback.builder(group).clientAcceptor((s, svc) -> true).start()) {
            StreamHandlers.Collector col = new StreamHandlers.Collector();
            await(pair.server.openStream("x", col));
            pair.client.link().close();
            await(pair.server.terminationFuture());
            assertThat(pair.server.terminationCause()).hasMessage("session closed by peer");
            assertThat(await(col.failure)).hasMessage("session closed by peer");
        }
    }

    @Test
    void lostLinkFailsStreamsWithLinkFailed() throws Exception {
        StreamHandlers.Collector col = new StreamHandlers.Collector();
        CompletableFuture<MuxStreamChannel> serverSide = new CompletableFuture<>();
        AtomicInteger dataFrames = new AtomicInteger();
        CountDownLatch arrived = new CountDownLatch(2); // the preamble, then "data"
        try (MuxLoopback pair = MuxLoopback.builder(group)
                .serverLink(ch -> spy(ch, MuxFrame.Type.DATA, dataFrames, arrived))
                .serverAcceptor((s, svc) -> {
                    s.config().setAutoRead(false); // "data" stays buffered in the stream
                    s.pipeline().addLast(col);
                    serverSide.complete(s);
                    return true;
                }).start()) {
            MuxStreamChannel c = await(pair.client.openStream("x", StreamHandlers.quiet()));
            c.writeAndFlush(Unpooled.copiedBuffer("data", StandardCharsets.UTF_8));
            assertThat(arrived.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            // Cut the link under the session: no CloseMux.
            pair.client.link().pipeline().remove(MuxSessionHandler.SESSION_NAME);
            pair.client.link().close();
            Future<Void> t = pair.server.terminationFuture();
            assertThat(t.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
            // Closed, or reset while the server was writing: either way the link failed.
            assertThat(((ManComException) t.cause()).reason()).isEqualTo(ManComException.Reason.LINK_FAILED);
            // The stream still holds what arrived; its reader gets it, then the failure.
            MuxStreamChannel s = await(serverSide);
            assertThat(s.isOpen()).isTrue();
            s.config().setAutoRead(true);
            assertThat(await(col.failure)).isSameAs(t.cause());
            assertThat(new String(col.received(), StandardCharsets.UTF_8)).isEqualTo("data");
            assertThat(s.closeCause()).isSameAs(t.cause());
        }
    }

    @Test
    void streamOptionsWorkLikeASocket() throws Exception {
        try (MuxLoopback pair = MuxLoopback.builder(group).serverAcceptor((s, svc) -> true).start()) {
            MuxStreamChannel c = await(pair.client.openStream("x", StreamHandlers.quiet()));
            assertThat(c.config().getOption(ChannelOption.ALLOW_HALF_CLOSURE)).isFalse();
            assertThat(c.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true)).isTrue();
            assertThat(c.config().isAllowHalfClosure()).isTrue();
            assertThat(c.config().getOptions()).containsKey(ChannelOption.ALLOW_HALF_CLOSURE);
            assertThat(c.parent()).isSameAs(pair.client.link());
            assertThat(c.remoteAddress()).isEqualTo(pair.client.link().remoteAddress());
            assertThat(c.isOutbound()).isTrue();
            assertThat(c.session()).isSameAs(pair.client);
            assertThat(c.toString()).contains("MuxStream(0 'x'");
        }
    }
}
