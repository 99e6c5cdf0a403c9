package io.mancom.tcp.internal;

import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.Refusal;
import io.mancom.core.spi.TcpSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.UnixChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The handler of a TCP listener's own pipeline, in front of Netty's acceptor: it sees each
 * accepted socket before the runtime does, and every failure of accepting.
 *
 * <ul>
 *   <li><b>Peers.</b> With {@code tcp.allow}/{@code tcp.deny} it attaches their classic BPF
 *       program ({@link PeerFilterProgram}) to the listening socket when it is registered, before
 *       it is bound, so the kernel drops a refused peer's SYN and the process never sees the
 *       connection. Where that cannot be done (NIO, not Linux, no JNA) it logs why once, and the
 *       same rule ({@link TcpSettings#admits}) runs here on every accepted socket; it runs here
 *       behind the kernel filter too, which costs a few comparisons per accepted connection.</li>
 *   <li><b>Limits.</b> A socket past {@code tcp.max-connections} or
 *       {@code tcp.max-connections-per-peer} is closed at once, with a reset (SO_LINGER 0: no
 *       TIME_WAIT left behind on this side), before any handler or buffer exists for it.</li>
 *   <li><b>Descriptors.</b> When accept fails with EMFILE/ENFILE, accepting pauses
 *       ({@link #PAUSE}: auto-read off on the listener, then on again) and one line says what to
 *       raise. Netty would log every failed accept at the pipeline's tail instead.</li>
 * </ul>
 *
 * Each refusal is counted for the service ({@link ChannelSink#refused}) and logged at most once
 * per {@link #LOG_INTERVAL_SECONDS} per cause, with the number since the last line.
 *
 * <p>One per listener. {@link #channelRead} and {@link #exceptionCaught} run on the listener's
 * loop; the counts go down on the closing connections' loops, hence atomics.
 */
final class AcceptGuard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AcceptGuard.class);
    static final long PAUSE_MILLIS = Long.getLong("io.mancom.tcp.acceptPauseMillis", 1000);
    static final long LOG_INTERVAL_SECONDS = 10;
    /** How long accepting pauses after a descriptor shortage. */
    static final String PAUSE = PAUSE_MILLIS + " ms";

    /**
     * {@code -Dio.mancom.tcp.kernelFilter=false} keeps the peer rule in user space even where the
     * kernel could run it: for the benchmark that compares the two in one process (read when a
     * listener is created); not under {@code mancom.}, which is configuration.
     */
    static final String KERNEL_FILTER_PROPERTY = "io.mancom.tcp.kernelFilter";

    private final ChannelSink sink;
    private final TcpSettings tcp;
    private final boolean kernelFilterWanted = Boolean.parseBoolean(System.getProperty(KERNEL_FILTER_PROPERTY, "true"));
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perPeer = new ConcurrentHashMap<>();
    private final OncePerInterval[] logs = new OncePerInterval[Refusal.values().length];
    private final OncePerInterval otherFailures = new OncePerInterval(TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS));
    private volatile boolean kernelFiltered;

    AcceptGuard(ChannelSink sink, TcpSettings tcp) {
        this.sink = sink;
        this.tcp = tcp;
        for (int i = 0; i < logs.length; i++) {
            logs[i] = new OncePerInterval(TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS));
        }
    }

    /** Whether the peer rule runs in the kernel on this listener. */
    boolean kernelFiltered() {
        return kernelFiltered;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (tcp.filtersPeers()) {
            String why = attachFilter(ctx.channel());
            if (why == null) {
                kernelFiltered = true;
                log.debug("service '{}': tcp.allow/deny attached to the listening socket as a classic BPF filter",
                        sink.service());
            } else {
                log.info("service '{}': tcp.allow/deny checked after accept, not in the kernel: {}", sink.service(), why);
            }
        }
    }

    /** Attaches the peer filter to the listener's socket; null on success, else why not. */
    private String attachFilter(Channel server) {
        if (!kernelFilterWanted) {
            return "-D" + KERNEL_FILTER_PROPERTY + "=false";
        }
        if (!(server instanceof UnixChannel unix)) {
            return "the listener is not a native socket (NIO: Netty's epoll transport is not in use)";
        }
        String why = SocketFilter.unavailable();
        if (why != null) {
            return why;
        }
        PeerFilterProgram program = PeerFilterProgram.of(tcp);
        if (!program.fitsKernel()) {
            return "the rules compile to " + program.length() + " instructions, more than the kernel's "
                    + PeerFilterProgram.MAX_INSTRUCTIONS;
        }
        try {
            SocketFilter.attach(unix.fd().intValue(), program);
            return null;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        InetAddress peer = child.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        if (peer != null && tcp.filtersPeers() && !tcp.admits(peer)) {
            refuse(child, peer, Refusal.DENIED, "not let in by tcp.allow / tcp.deny");
            return;
        }
        int max = tcp.maxConnections();
        if (max > 0 && open.get() >= max) {
            refuse(child, peer, Refusal.MAX_CONNECTIONS, "tcp.max-connections = " + max + " reached");
            return;
        }
        boolean perPeerCounted = false;
        int maxPerPeer = tcp.maxConnectionsPerPeer();
        if (maxPerPeer > 0 && peer != null) {
            // merge/computeIfPresent are atomic per key: a count never goes astray between the
            // listener's loop (up) and the closing connections' loops (down).
            if (perPeer.merge(peer, 1, Integer::sum) > maxPerPeer) {
                release(peer);
                refuse(child, peer, Refusal.MAX_CONNECTIONS_PER_PEER, "tcp.max-connections-per-peer = " + maxPerPeer
                        + " reached for " + peer.getHostAddress());
                return;
            }
            perPeerCounted = true;
        }
        if (max > 0 || perPeerCounted) {
            open.incrementAndGet();
            boolean countedForPeer = perPeerCounted;
            child.closeFuture().addListener(f -> {
                open.decrementAndGet();
                if (countedForPeer) {
                    release(peer);
                }
            });
        }
        ctx.fireChannelRead(child);
    }

    private void release(InetAddress peer) {
        perPeer.computeIfPresent(peer, (p, n) -> n == 1 ? null : n - 1); // gone at zero: the map holds live peers only
    }

    /** Closes a socket that never reached the runtime, with a reset, and counts it. */
    private void refuse(Channel child, InetAddress peer, Refusal why, String what) {
        try {
            child.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException e) {
            // Only the reset is lost: the socket still closes.
        }
        sink.refused(why); // first: once the peer sees the reset, the count includes it
        child.unsafe().closeForcibly();
        long n = logs[why.ordinal()].event();
        if (n > 0) {
            log.warn("service '{}': refused {} connection{} since the last such line ({}; the last from {}); at most one "
                    + "line per {} s, every refusal is counted (mancom_refused_total); see docs/security.md",
                    sink.service(), n, n == 1 ? "" : "s", what, peer == null ? "?" : peer.getHostAddress(),
                    LOG_INTERVAL_SECONDS);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Ends here: an accept failure has no connection to close, and Netty's tail would log it
        // with a stack trace per failed accept.
        if (isDescriptorShortage(cause)) {
            Channel server = ctx.channel();
            if (server.config().isAutoRead()) {
                server.config().setAutoRead(false);
                ctx.executor().schedule(() -> server.config().setAutoRead(true), PAUSE_MILLIS, TimeUnit.MILLISECONDS);
            }
            sink.refused(Refusal.NO_DESCRIPTORS);
            long n = logs[Refusal.NO_DESCRIPTORS.ordinal()].event();
            if (n > 0) {
                log.warn("service '{}': cannot accept connections: out of file descriptors ({}{}); accepting pauses for "
                                + "{} and resumes ({} pause{} since the last such line, at most one per {} s). Raise the limit: `ulimit -n` in the shell that "
                                + "starts the process, LimitNOFILE= in its systemd unit",
                        sink.service(), cause.getMessage(), descriptorUse(), PAUSE, n, n == 1 ? "" : "s",
                        LOG_INTERVAL_SECONDS);
            }
            return;
        }
        long n = otherFailures.event();
        if (n > 0) {
            log.warn("service '{}': accepting a connection failed ({} in the last {} s): {}", sink.service(), n,
                    LOG_INTERVAL_SECONDS, cause.toString());
        }
    }

    static boolean isDescriptorShortage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (c instanceof IOException && m != null && m.contains("Too many open files")) {
                return true; // EMFILE ("Too many open files"), ENFILE ("... in system")
            }
        }
        return false;
    }

    /** "; 250 in use, limit 256" from /proc (Linux), or nothing. */
    private static String descriptorUse() {
        try (java.util.stream.Stream<java.nio.file.Path> fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            long inUse = fds.count();
            String limit = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits")).stream()
                    .filter(l -> l.startsWith("Max open files")).map(l -> l.trim().split("\\s+")[3]).findFirst()
                    .orElse("?");
            return "; " + inUse + " in use, limit " + limit;
        } catch (IOException | RuntimeException e) {
            return ""; // not Linux, or /proc out of descriptors too
        }
    }
}
