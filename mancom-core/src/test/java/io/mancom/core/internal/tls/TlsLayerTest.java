package io.mancom.core.internal.tls;

import com.typesafe.config.ConfigFactory;
import io.mancom.EndPoint;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.testkit.Pki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TlsLayer#serve} on an {@link EmbeddedChannel}, the way port sharing uses it: a sniffer in
 * front holds the ClientHello, the service's channel is set up behind it, and the sniffer leaves
 * and replays what it held. The handshake completes, the runtime's handlers go in after it, and
 * bytes go both ways. With {@code passthrough} nothing is added.
 */
class TlsLayerTest {
    @TempDir
    Path dir;
    private Pki ca;
    private Pki.Issued server;

    @BeforeEach
    void pki() {
        ca = Pki.create(dir, "ca");
        server = ca.issue("server", "server.test", "DNS:localhost");
    }

    private ServiceSettings service(String tls) {
        return new ServiceSettings("sec", EndPoint.tcp("127.0.0.1", 1), "echo", Duration.ofSeconds(5),
                new ServiceSettings.WriteBuffer(1, 2, 3), new ServiceSettings.Blocking(1, 1),
                new ServiceSettings.Reconnect(false, Duration.ofMillis(1), Duration.ofMillis(1)),
                ConfigFactory.parseString("tls { " + tls + " }"));
    }

    /** A sniffer's shape: keeps every byte until it is removed, then hands them on. */
    private static final class Holding extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        }
    }

    /** Moves what one side wrote to the other, until neither writes. */
    private static void pump(EmbeddedChannel a, EmbeddedChannel b) {
        boolean moved = true;
        while (moved) {
            moved = move(a, b) | move(b, a);
            a.runPendingTasks();
            b.runPendingTasks();
        }
    }

    private static boolean move(EmbeddedChannel from, EmbeddedChannel to) {
        boolean any = false;
        for (Object m; (m = from.readOutbound()) != null; ) {
            to.writeInbound(m);
            any = true;
        }
        return any;
    }

    @Test
    void aReplayedClientHelloCompletesTheHandshakeAndTheConnectionOpensAfterIt() throws Exception {
        ServiceSettings s = service("cert = \"" + server.cert() + "\", key = \"" + server.key() + "\"");
        AtomicInteger counted = new AtomicInteger();
        TlsLayer layer = new TlsLayer(Map.of("sec", s), null, Runnable::run, name -> counted.incrementAndGet());

        EmbeddedChannel srv = new EmbeddedChannel(new Holding());
        EmbeddedChannel cli = new EmbeddedChannel(SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(ca.caCert().toFile()).build().newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT,
                        "localhost", 1));
        move(cli, srv); // the ClientHello, held by the sniffer
        AtomicInteger opened = new AtomicInteger();
        StringBuilder got = new StringBuilder();
        layer.serve(s, srv, () -> {
            opened.incrementAndGet();
            srv.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf b = (ByteBuf) msg;
                    got.append(b.toString(StandardCharsets.US_ASCII));
                    ctx.writeAndFlush(b); // echo
                }
            });
        });
        assertThat(opened).as("not before the handshake").hasValue(0);
        srv.pipeline().remove(Holding.class); // the sniffer leaves and replays
        pump(cli, srv);

        assertThat(opened).hasValue(1);
        assertThat(cli.pipeline().get(SslHandler.class).handshakeFuture().isSuccess()).isTrue();
        assertThat(srv.pipeline().get(HandshakeGate.NAME)).as("the gate left").isNull();
        cli.writeOutbound(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
        pump(cli, srv);
        assertThat(got.toString()).isEqualTo("ping");
        ByteBuf back = cli.readInbound();
        assertThat(back.toString(StandardCharsets.US_ASCII)).isEqualTo("ping");
        back.release();
        assertThat(counted).hasValue(0);
        cli.finishAndReleaseAll();
        srv.finishAndReleaseAll();
    }

    @Test
    void garbageIsClosedAndCountedWithoutReachingTheTail() {
        ServiceSettings s = service("cert = \"" + server.cert() + "\", key = \"" + server.key() + "\"");
        AtomicInteger counted = new AtomicInteger();
        TlsLayer layer = new TlsLayer(Map.of("sec", s), null, Runnable::run, name -> counted.incrementAndGet());
        EmbeddedChannel srv = new EmbeddedChannel();
        layer.serve(s, srv, () -> { throw new AssertionError("opened after a failed handshake"); });
        srv.writeInbound(Unpooled.copiedBuffer("SSH-2.0-OpenSSH_9.2\r\n", StandardCharsets.US_ASCII));
        assertThat(srv.isOpen()).isFalse();
        assertThat(counted).hasValue(1);
        srv.checkException(); // nothing reached the tail
        srv.finishAndReleaseAll();
    }

    @Test
    void aClientThatNeverSpeaksIsClosedAtTheHandshakeTimeout() {
        ServiceSettings s = service("cert = \"" + server.cert() + "\", key = \"" + server.key() + "\","
                + " handshake-timeout = 200ms");
        AtomicInteger counted = new AtomicInteger();
        TlsLayer layer = new TlsLayer(Map.of("sec", s), null, Runnable::run, name -> counted.incrementAndGet());
        EmbeddedChannel srv = new EmbeddedChannel();
        srv.freezeTime();
        layer.serve(s, srv, () -> { throw new AssertionError("opened without a handshake"); });
        srv.advanceTimeBy(150, java.util.concurrent.TimeUnit.MILLISECONDS);
        srv.runScheduledPendingTasks();
        assertThat(srv.isOpen()).as("still within the timeout").isTrue();
        srv.advanceTimeBy(100, java.util.concurrent.TimeUnit.MILLISECONDS);
        srv.runScheduledPendingTasks();
        srv.runPendingTasks();
        assertThat(srv.isOpen()).as("closed at the timeout").isFalse();
        assertThat(counted).hasValue(1);
        srv.checkException();
        srv.finishAndReleaseAll();
    }

    @Test
    void passthroughAddsNothing() {
        ServiceSettings s = service("passthrough = on");
        TlsLayer layer = new TlsLayer(Map.of("sec", s), null, Runnable::run, name -> { });
        EmbeddedChannel srv = new EmbeddedChannel();
        AtomicInteger opened = new AtomicInteger();
        List<String> before = srv.pipeline().names();
        layer.serve(s, srv, opened::incrementAndGet);
        assertThat(opened).hasValue(1);
        assertThat(srv.pipeline().names()).isEqualTo(before);
        srv.finishAndReleaseAll();
    }
}
