package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.mancom.core.internal.mux.MuxLoopback.TIMEOUT_SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A ManCom session (the responder of a TCP link) against a scripted peer on a raw socket that
 * writes hand-built frames, most of them against the rules.
 */
class HostilePeerTest {

    private static EventLoopGroup group;
    private Channel server;
    private final CompletableFuture<MuxSessionHandler> session = new CompletableFuture<>();
    private final List<MuxStreamChannel> accepted = new ArrayList<>();
    private final CompletableFuture<MuxStreamChannel> firstAccepted = new CompletableFuture<>();

    @BeforeAll
    static void startGroup() {
        group = MuxLoopback.newGroup();
    }

    @AfterAll
    static void stopGroup() throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) {
            server.close().sync();
        }
        MuxSessionHandler s = session.getNow(null);
        if (s != null) {
            s.link().close().sync();
            // Release what stalled test streams still hold.
            s.link().eventLoop().submit(() -> accepted.forEach(MuxStreamChannel::close)).sync();
        }
    }

    private InetSocketAddress start(MuxSettings settings, MuxSettings.Role role, int sendBuffer) throws Exception {
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        session.complete(MuxSessionHandler.install(ch, settings, role, (stream, service) -> {
                            if (service != null && !service.equals("svc")) {
                                return false;
                            }
                            stream.config().setAutoRead(false); // a stalled reader: no credit comes back
                            stream.pipeline().addLast(new StreamHandlers.Collector());
                            accepted.add(stream);
                            stream.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                                    firstAccepted.complete(stream); // registered: usable from any thread
                                    ctx.fireChannelActive();
                                }
                            });
                            return true;
                        }));
                    }
                });
        if (sendBuffer > 0) {
            b.childOption(ChannelOption.SO_SNDBUF, sendBuffer);
        }
        server = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return (InetSocketAddress) server.localAddress();
    }

    private InetSocketAddress start(MuxSettings settings) throws Exception {
        return start(settings, MuxSettings.Role.RESPONDER, 0);
    }

    private static MuxSettings none() {
        return MuxSettings.builder().routing(MuxSettings.Routing.NONE).build();
    }

    private MuxSessionHandler session() throws Exception {
        return session.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Waits for the session to end and returns why. */
    private ManComException ended() throws Exception {
        Future<Void> t = session().terminationFuture();
        assertThat(t.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("session ended").isTrue();
        assertThat(t.cause()).isInstanceOf(ManComException.class);
        return (ManComException) t.cause();
    }

    private MuxSessionStats stats() throws Exception {
        MuxSessionHandler s = session();
        return s.link().eventLoop().submit(s::stats).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void sendsHelloFirst() throws Exception {
        try (RawPeer peer = new RawPeer(start(MuxSettings.DEFAULTS))) {
            RawPeer.Frame hello = peer.read();
            // 4d 43 4d 58 | 01 00 00 | 01: Hello, routing capability, a fixed responder's tie-breaker 0
            assertThat(hello.id()).isEqualTo(0x584D434DL);
            assertThat(hello.flags()).isEqualTo(1);
            assertThat(hello.length()).isEqualTo(MuxFrame.CAP_SERVICE_ROUTING);
        }
    }

    @Test
    void plainGomuxPeerWithoutHelloIsServed() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.open(0).data(0, "ping".getBytes(StandardCharsets.US_ASCII)).flush();
            MuxSessionHandler s = session();
            MuxStreamChannel stream = firstAccepted.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            stream.writeAndFlush(io.netty.buffer.Unpooled.copiedBuffer("pong", StandardCharsets.US_ASCII));
            RawPeer.Frame data = peer.readUntil(MuxFrame.Type.DATA);
            assertThat(data.id()).isZero();
            assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("pong");
            assertThat(s.isPeerManCom()).isFalse();
            // Closing without CloseMux is the peer's right; the session ends as a lost link.
            peer.hangUp();
            assertThat(ended().reason()).isEqualTo(ManComException.Reason.LINK_FAILED);
        }
    }

    @Test
    void dataBeyondTheWindowEndsTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.hello(0, 0xFFFF).open(0).data(0, new byte[MuxFrame.MAX_DATA]).data(0, new byte[1]).flush();
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL);
            assertThat(e).hasMessage("flow-control violation on stream 0: 1 bytes of Data with 0 bytes of credit left");
            peer.expectCloseMuxThenEof();
            // What was buffered is bounded by the one window granted.
            assertThat(stats().bufferedBytes()).isLessThanOrEqualTo(MuxFrame.MAX_DATA);
        }
    }

    @Test
    void aStreamWindowIsGrantedAtOpenAndStillBoundsTheStream() throws Exception {
        MuxSettings settings = none().toBuilder().streamWindow(256 * 1024).build();
        try (RawPeer peer = new RawPeer(start(settings))) {
            peer.hello(0, 0xFFFF).open(0).flush();
            RawPeer.Frame update = peer.readUntil(MuxFrame.Type.WINDOW_UPDATE);
            assertThat(update.id()).isZero();
            assertThat(update.length()).isEqualTo(256 * 1024 - MuxFrame.MAX_DATA);
            // The reader is stalled: only the early grant lets all of this in, and not a byte more.
            for (int i = 0; i < 4; i++) {
                peer.data(0, new byte[MuxFrame.MAX_DATA]);
            }
            peer.data(0, new byte[1]).flush();
            ManComException e = ended();
            assertThat(e).hasMessage("flow-control violation on stream 0: 1 bytes of Data with 0 bytes of credit left");
            assertThat(stats().bufferedBytes()).isEqualTo(256 * 1024);
        }
    }

    @Test
    void streamWindowsAreGrantedOnlyWithinTheReceiveBuffer() throws Exception {
        // 64 KiB per stream is the protocol's; above that the two streams share 128 KiB of budget:
        // the first takes it all, the second keeps the protocol's window.
        MuxSettings settings = none().toBuilder().streamWindow(1 << 20).receiveBuffer(192 * 1024).build();
        try (RawPeer peer = new RawPeer(start(settings))) {
            peer.hello(0, 0xFFFF).open(0).open(2).flush();
            RawPeer.Frame update = peer.readUntil(MuxFrame.Type.WINDOW_UPDATE);
            assertThat(update.id()).isZero();
            assertThat(update.length()).isEqualTo(128 * 1024);
            peer.data(2, new byte[MuxFrame.MAX_DATA]).data(2, new byte[1]).flush();
            ManComException e = ended();
            assertThat(e).hasMessage("flow-control violation on stream 2: 1 bytes of Data with 0 bytes of credit left");
        }
    }

    @Test
    void oversizeFrameEndsTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.open(0).frame(0, MuxFrame.MAX_DATA + 1, 0).flush(); // the header alone is enough
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL);
            assertThat(e).hasMessage("Data frame of 65537 bytes on stream 0: at most 65536 are allowed");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void badFlagsEndTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.frame(3, 0, 8).flush();
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL);
            assertThat(e).hasMessage("unknown frame type (flags = 8) on stream 3: flags must be 0..7");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void duplicateOpenStreamEndsTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.open(2).open(2).flush();
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL);
            assertThat(e).hasMessage("OpenStream for stream 2, which is already open");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void wrongParityEndsTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.open(1).flush();
            ManComException e = ended();
            assertThat(e).hasMessage("OpenStream for stream 1, an id of the wrong parity: "
                    + "the peer is the initiator and opens even ids");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void openStreamBeforeHelloWithRoleAutoEndsTheSession() throws Exception {
        try (RawPeer peer = new RawPeer(start(none(), MuxSettings.Role.AUTO, 0))) {
            peer.open(0).flush();
            assertThat(ended()).hasMessageContaining("mux.role = auto needs a ManCom peer");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void framesForUnknownStreamsAreIgnoredAndCounted() throws Exception {
        try (RawPeer peer = new RawPeer(start(none()))) {
            peer.data(100, new byte[10])
                    .control(100, MuxFrame.Type.WINDOW_UPDATE, 5)
                    .control(100, MuxFrame.Type.CLOSE_READ, 0)
                    .control(100, MuxFrame.Type.CLOSE_WRITE, 0)
                    .control(100, MuxFrame.Type.CLOSE_STREAM, 0)
                    .control(0, MuxFrame.Type.KEEPALIVE, 0)
                    .open(0).data(0, new byte[3]).flush();
            MuxSessionHandler s = session();
            // The stream opened after the junk still works: its 3 bytes arrive.
            MuxStreamChannel stream = firstAccepted.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            stream.config().setAutoRead(true);
            StreamHandlers.Collector col = stream.pipeline().get(StreamHandlers.Collector.class);
            peer.readUntil(MuxFrame.Type.WINDOW_UPDATE); // credit for the 3 bytes
            assertThat(col.count.get()).isEqualTo(3);
            MuxSessionStats st = stats();
            assertThat(st.ignoredFrames()).isEqualTo(5);
            assertThat(st.keepalives()).isEqualTo(1);
            assertThat(s.isOpen()).isTrue();
        }
    }

    @Test
    void streamsThatNeverNameTheirServiceAreRefusedAfterTheOpenTimeout() throws Exception {
        MuxSettings settings = MuxSettings.builder().openTimeout(java.time.Duration.ofMillis(300)).build();
        try (RawPeer peer = new RawPeer(start(settings))) {
            // Stream 0 says nothing, stream 2 half its preamble, stream 4 names its service.
            peer.hello(MuxFrame.CAP_SERVICE_ROUTING, 0xFFFF).open(0).open(2).data(2, new byte[] {3, 's'})
                    .open(4).preamble(4, "svc").flush();
            assertThat(firstAccepted.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).streamId()).isEqualTo(4);
            // The backlog empties by itself: CloseStream for both silent streams, none for 4.
            assertThat(readCloseStreams(peer, 2)).containsExactlyInAnyOrder(0L, 2L);
            MuxSessionStats st = stats();
            assertThat(st.pendingStreams()).isZero();
            assertThat(st.streamsRefused()).isEqualTo(2);
            assertThat(st.openStreams()).isEqualTo(1);
            assertThat(st.bufferedBytes()).isZero();
        }
    }

    @Test
    void openStreamFloodIsRefusedAndMemoryStaysBounded() throws Exception {
        MuxSettings limits = MuxSettings.builder().maxStreams(16).acceptBacklog(8).build();
        try (RawPeer peer = new RawPeer(start(limits))) {
            peer.hello(MuxFrame.CAP_SERVICE_ROUTING, 0xFFFF);
            // 2000 streams that never name their service: 8 wait in the backlog, the rest are refused.
            for (int i = 0; i < 2000; i++) {
                peer.open(2L * i);
            }
            peer.flush();
            Set<Long> refused = readCloseStreams(peer, 1992);
            assertThat(refused).doesNotContain(0L, 2L, 14L).contains(16L, 3998L);
            MuxSessionStats st = stats();
            assertThat(st.openStreams()).isEqualTo(8);
            assertThat(st.pendingStreams()).isEqualTo(8);
            assertThat(st.streamsRefused()).isEqualTo(1992);

            // The 8 name their service and are accepted; 2000 more: 8 fit under max-streams.
            for (int i = 0; i < 8; i++) {
                peer.preamble(2L * i, "svc");
            }
            for (int i = 2000; i < 4000; i++) {
                peer.open(2L * i);
            }
            // Data for refused streams is ignored; Data beyond a window still counts as a violation.
            peer.data(16, new byte[100]);
            peer.flush();
            refused = readCloseStreams(peer, 1992);
            assertThat(refused).doesNotContain(4000L, 4014L).contains(4016L);
            st = stats();
            assertThat(st.openStreams()).isEqualTo(16);
            assertThat(st.pendingStreams()).isEqualTo(8);
            assertThat(st.streamsRefused()).isEqualTo(2 * 1992);
            assertThat(st.ignoredFrames()).isEqualTo(1);
            assertThat(st.bufferedBytes()).isLessThanOrEqualTo(16L * MuxFrame.MAX_DATA);
            assertThat(st.receiveWindows()).isLessThanOrEqualTo(16L * MuxFrame.MAX_DATA);
            assertThat(accepted).hasSize(8);
            assertThat(session().isOpen()).isTrue();
        }
    }

    private static Set<Long> readCloseStreams(RawPeer peer, int n) throws IOException {
        Set<Long> ids = new HashSet<>();
        while (ids.size() < n) {
            RawPeer.Frame f = peer.read();
            if (f.type() == MuxFrame.Type.CLOSE_STREAM) {
                ids.add(f.id());
            }
        }
        return ids;
    }

    @Test
    void aBurstOfOpensFromAPeerThatReadsIsServed() throws Exception {
        // Each preamble is answered with a WindowUpdate; a read batch of thousands of them once
        // counted as a peer that "does not read" (Netty's per-message overhead on unflushed frames).
        int n = 30_000;
        MuxSettings limits = MuxSettings.builder().maxStreams(n + 16).build();
        try (RawPeer peer = new RawPeer(start(limits))) {
            CompletableFuture<Integer> credits = CompletableFuture.supplyAsync(() -> {
                int seen = 0;
                try {
                    while (seen < n) {
                        RawPeer.Frame f = peer.read();
                        if (f.type() == MuxFrame.Type.WINDOW_UPDATE) {
                            seen++;
                        } else if (f.type() == MuxFrame.Type.CLOSE_MUX) {
                            break;
                        }
                    }
                } catch (IOException e) {
                    // counted so far
                }
                return seen;
            });
            peer.hello(MuxFrame.CAP_SERVICE_ROUTING, 0xFFFF);
            for (int i = 0; i < n; i++) {
                peer.open(2L * i).preamble(2L * i, "svc");
            }
            peer.flush();
            assertThat(credits.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(n);
            MuxSessionStats st = stats();
            assertThat(session().terminationCause()).isNull();
            assertThat(st.streamsOpened()).isEqualTo(n);
            assertThat(st.openStreams()).isEqualTo(n);
        }
    }

    @Test
    void peerThatSendsButNeverReadsEndsTheSession() throws Exception {
        MuxSettings limits = MuxSettings.builder().routing(MuxSettings.Routing.NONE).maxStreams(1).build();
        try (RawPeer peer = new RawPeer(start(limits, MuxSettings.Role.RESPONDER, 16 * 1024), 4 * 1024)) {
            // Every OpenStream past the first is refused with an 8-byte CloseStream the peer never reads.
            MuxSessionHandler s = null;
            try {
                for (long i = 0; i < 4_000_000 && (s == null || s.isOpen()); i++) {
                    peer.open(2 * i);
                    if (i % 8192 == 0) {
                        peer.flush();
                        s = session();
                    }
                }
                peer.flush();
            } catch (IOException closedByServer) {
                // expected once the session gives up
            }
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL);
            assertThat(e).hasMessageStartingWith("the peer does not read");
            // The CloseMux cannot get through either: the link is closed anyway, not held open.
            assertThat(s.link().closeFuture().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void idleTimeoutDetectsASilentPeer() throws Exception {
        MuxSettings idle = MuxSettings.builder().idleTimeout(Duration.ofMillis(300)).build();
        try (RawPeer peer = new RawPeer(start(idle))) {
            peer.hello(MuxFrame.CAP_SERVICE_ROUTING, 0xFFFF).flush(); // then silence
            ManComException e = ended();
            assertThat(e.reason()).isEqualTo(ManComException.Reason.TIMEOUT);
            assertThat(e).hasMessageStartingWith("peer silent for 300ms (mux.idle-timeout)");
            peer.expectCloseMuxThenEof();
        }
    }

    @Test
    void keepalivesAreSentWhenNothingElseIs() throws Exception {
        MuxSettings ka = MuxSettings.builder().keepaliveInterval(Duration.ofMillis(50)).build();
        AtomicInteger seen = new AtomicInteger();
        try (RawPeer peer = new RawPeer(start(ka))) {
            assertThat(peer.read().id()).isEqualTo(0x584D434DL); // Hello
            for (int i = 0; i < 3; i++) {
                RawPeer.Frame f = peer.read();
                assertThat(f.type()).isEqualTo(MuxFrame.Type.KEEPALIVE);
                assertThat(f.id()).isZero();
                assertThat(f.length()).isZero();
                seen.incrementAndGet();
            }
            assertThat(seen.get()).isEqualTo(3);
        }
    }
}
