package io.mancom.core.internal.daemon;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.Settings;
import io.mancom.core.spi.StatusReporting;
import io.mancom.spi.Listener;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * One {@code scope = system} service attached to the daemon: the Listener the runtime gets
 * instead of a bound socket or an open device. It holds one Unix connection to the daemon
 * (docs/daemon.md, "Attach") and hands every connection the daemon gives it to the service's
 * sink, as an adopted TCP socket ({@code fds}), a serial line's descriptor ({@code device}) or a mux
 * stream ({@code mux}).
 *
 * <h2>Lifecycle</h2>
 * {@link #ready()} completes with the endpoint the daemon serves once the first attach succeeds,
 * or fails at once with what went wrong: no daemon at the socket (UNREACHABLE, with how to start
 * one), a refusal (the daemon's reason: PERMISSION_DENIED, UNKNOWN_SERVICE, NOT_READY) or an
 * answer that breaks the protocol. After it has been attached once it keeps re-attaching, 100 ms
 * doubling to 2 s apart, whenever the connection ends without {@link #close()} (the daemon
 * restarted, or moved the service on a reload); {@link #status()} says so meanwhile.
 *
 * <p>Thread-safe: state is changed on the attach connection's event loop or under this object's lock.
 */
final class Attachment implements Listener, StatusReporting {
    private static final Logger log = LoggerFactory.getLogger(Attachment.class);
    static final Duration FIRST_RETRY = Duration.ofMillis(100);
    static final Duration LAST_RETRY = Duration.ofSeconds(2);

    private final NettyRuntime runtime;
    private final Path socket;
    private final ChannelSink sink;
    private final String style;
    private final CompletableFuture<EndPoint> ready = new CompletableFuture<>();
    private final java.util.function.Consumer<Attachment> onClose;

    // Guarded by this.
    private Channel connection;
    private boolean closed;
    private long retryMillis = FIRST_RETRY.toMillis();
    private volatile String status;

    /** @param onClose told when this attachment is closed (its transport forgets it) */
    Attachment(NettyRuntime runtime, Path socket, ChannelSink sink, String style,
               java.util.function.Consumer<Attachment> onClose) {
        this.onClose = onClose;
        this.runtime = runtime;
        this.socket = socket;
        this.sink = sink;
        this.style = style;
    }

    /** Starts the first attach. */
    Attachment start() {
        attach();
        return this;
    }

    private void attach() {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        Bootstrap b = new Bootstrap()
                .group(runtime.group())
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.ALLOCATOR, runtime.alloc())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new AttachHandshake(sink.service(), style, new Outcome(ch)));
                    }
                });
        b.connect(new DomainSocketAddress(socket.toFile())).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                failed(unreachable(f.cause()));
                return;
            }
            Channel ch = f.channel();
            boolean keep;
            synchronized (this) {
                keep = !closed;
                if (keep) {
                    connection = ch;
                }
            }
            if (!keep) {
                ch.close();
                return;
            }
            ch.closeFuture().addListener(c -> lost(ch));
        });
    }

    private ManComException unreachable(Throwable cause) {
        return new ManComException(ManComException.Reason.UNREACHABLE, "service '" + sink.service()
                + "' has scope = system, but no ManCom daemon answers at " + socket + " (" + why(cause)
                + "). Start one with `mancom daemon` (or `systemctl start mancomd`), point mancom.daemon.socket"
                + " at the one that runs, or set scope = process for the service", cause);
    }

    private static String why(Throwable cause) {
        if (cause instanceof java.io.FileNotFoundException) {
            return "no such socket";
        }
        String m = cause.getMessage();
        return m != null ? m : cause.getClass().getSimpleName();
    }

    /** How the handshake ended, for the connection {@code ch}. */
    private final class Outcome implements AttachHandshake.Outcome {
        private final Channel ch;

        Outcome(Channel ch) {
            this.ch = ch;
        }

        @Override
        public void attached(ChannelHandlerContext ctx, AttachResponse response, ByteBuf rest) {
            String carry = response.header("mancom-carry");
            EndPoint served;
            try {
                String e = response.header("mancom-endpoint");
                served = e == null ? sink.settings().endpoint() : EndPoint.parse(e);
            } catch (IllegalArgumentException e) {
                rest.release();
                failed(AttachResponse.protocol("ManCom-EndPoint: " + response.header("mancom-endpoint")));
                ch.close();
                return;
            }
            if ("fds".equals(carry)) {
                int extra = rest.readableBytes();
                rest.release();
                if (extra > 0) {
                    failed(AttachResponse.protocol(extra + " bytes after the 101 of a descriptor attach"));
                    ch.close();
                    return;
                }
                Settings tcp = Settings.of(sink.settings()).block("tcp");
                ch.config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS);
                ch.pipeline().addLast(new DescriptorReceiver(runtime, sink, tcp.getBoolean("no-delay"),
                        tcp.getBoolean("keep-alive")));
                // Only now may the daemon send descriptors: this end reads them, not bytes.
                ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'R'}));
            } else if ("device".equals(carry)) {
                int extra = rest.readableBytes();
                rest.release();
                if (extra > 0) {
                    failed(AttachResponse.protocol(extra + " bytes after the 101 of a device attach"));
                    ch.close();
                    return;
                }
                ch.config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS);
                ch.pipeline().addLast(new LineReceiver(runtime, sink, served));
                ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'R'}));
            } else if ("mux".equals(carry)) {
                MuxSettings mux = MuxSettings.of(sink.settings()).toBuilder()
                        .enabled(true)
                        .routing(MuxSettings.Routing.NONE)
                        .role(MuxSettings.Role.RESPONDER)
                        .keepaliveInterval(Duration.ZERO)
                        .idleTimeout(Duration.ZERO)
                        .build();
                MuxSessionHandler.install(ch, mux, MuxSettings.Role.RESPONDER, (stream, name) -> {
                    stream.pipeline().addLast(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel s) {
                            sink.channelOpened(s);
                        }
                    });
                    return true;
                });
                // What followed the head is the daemon's first frames. From the head of the
                // pipeline: the handshake's own context was removed before the mux was added.
                if (rest.isReadable()) {
                    ch.pipeline().fireChannelRead(rest);
                } else {
                    rest.release();
                }
            } else {
                rest.release();
                failed(AttachResponse.protocol("ManCom-Carry: " + carry + " (expected fds, device or mux)"));
                ch.close();
                return;
            }
            synchronized (Attachment.this) {
                retryMillis = FIRST_RETRY.toMillis();
            }
            status = null;
            if (ready.complete(served)) {
                log.debug("service '{}' attached to the daemon at {} ({}), served at {}", sink.service(), socket, carry, served);
            } else {
                log.info("service '{}' attached to the daemon at {} again ({})", sink.service(), socket, carry);
            }
        }

        @Override
        public void failed(ManComException cause) {
            Attachment.this.failed(cause);
        }
    }

    /** A failed attach: fails {@code ready} the first time; later ones are retried by {@link #lost}. */
    private void failed(ManComException cause) {
        if (ready.completeExceptionally(cause)) {
            log.debug("service '{}' cannot attach: {}", sink.service(), cause.getMessage());
            return;
        }
        status = cause.getMessage();
        if (cause.reason() == ManComException.Reason.UNREACHABLE) {
            scheduleRetry(); // no connection, so no close to trigger it
        }
    }

    /** The connection {@code ch} ended: after a successful attach, try again unless closed. */
    private void lost(Channel ch) {
        synchronized (this) {
            if (connection == ch) {
                connection = null;
            }
            if (closed || !ready.isDone() || ready.isCompletedExceptionally()) {
                return;
            }
        }
        if (status == null) {
            status = "lost the ManCom daemon at " + socket + "; attaching again";
            log.info("service '{}': the daemon at {} closed its attach; attaching again", sink.service(), socket);
        }
        scheduleRetry();
    }

    private void scheduleRetry() {
        long delay;
        synchronized (this) {
            if (closed) {
                return;
            }
            delay = retryMillis;
            retryMillis = Math.min(LAST_RETRY.toMillis(), retryMillis * 2);
        }
        try {
            runtime.group().schedule(this::attach, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the runtime is closing
        }
    }

    @Override
    public CompletionStage<EndPoint> ready() {
        return ready;
    }

    @Override
    public String status() {
        return status;
    }

    /** Detaches: the daemon gives what it has not handed over yet to other processes, or holds it. */
    @Override
    public void close() {
        Channel ch;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            ch = connection;
            connection = null;
        }
        onClose.accept(this);
        ready.completeExceptionally(new ManComException(ManComException.Reason.CLOSED,
                "service '" + sink.service() + "' stopped before the daemon attached it"));
        if (ch != null) {
            // A line handed over is closed here before the daemon hears of the detach: it gives
            // the line to the next process then, and two processes must not read one line.
            LineReceiver line = ch.pipeline().get(LineReceiver.class);
            io.netty.channel.ChannelFuture closing = line != null ? line.detach() : null;
            if (closing != null) {
                closing.awaitUninterruptibly(2, TimeUnit.SECONDS);
            }
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }
}
