package io.mancom.core.internal.monitor;

import io.mancom.core.internal.config.ControlSettings;
import io.mancom.core.spi.NettyRuntime;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A runtime's control socket: HTTP/1.1 on the Unix socket {@code <runtime-dir>/proc/<pid>.sock},
 * served by Netty's epoll domain-socket channel on the runtime's own event loops (no thread of
 * its own). See {@link ControlHandler} for the routes.
 *
 * <h2>Files</h2>
 * The runtime directory and its {@code proc/} are created with mode 0700 when missing; an
 * existing runtime directory must belong to this user (a directory another user made in
 * {@code /tmp} is not trusted). The socket is made 0600 right after the bind; until then it is
 * unreachable for others anyway, as its directory is. A second runtime in the same process gets
 * {@code <pid>-2.sock}, and so on. Sockets of processes that no longer run (no
 * process {@code <pid>} in {@code /proc}) are removed at start; this runtime's socket is removed at {@link #close()}.
 *
 * <h2>Failures</h2>
 * Monitoring never stops a runtime: without native epoll, or when the directory or the bind
 * fails, {@link #start} logs one line and returns null.
 *
 * <p>Thread-safe: {@link #start} and {@link #close()} may run on any thread but an event loop.
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    private static final Pattern SOCKET = Pattern.compile("(\\d+)(?:-(\\d+))?\\.sock");
    /** Sockets this JVM serves: a same-pid file that is not in here is a dead process's. */
    private static final Set<Path> SERVED = ConcurrentHashMap.newKeySet();
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

    private final Path socket;
    private final Channel server;
    private final ChannelGroup clients;

    private ControlServer(Path socket, Channel server, ChannelGroup clients) {
        this.socket = socket;
        this.server = server;
        this.clients = clients;
    }

    /** Serves the control socket, or logs why not and returns null. */
    public static ControlServer start(ControlSettings settings, NettyRuntime runtime, Monitor monitor) {
        if (!settings.enabled()) {
            return null;
        }
        if (!runtime.isNative()) {
            log.info("no control socket (monitoring): it needs Linux with Netty's native epoll, which this runtime "
                    + "does not use");
            return null;
        }
        Path proc;
        try {
            proc = directories(settings.runtimeDir());
            removeStale(proc, monitor.pid());
        } catch (IOException e) {
            log.warn("no control socket (monitoring): cannot use the runtime directory {}: {}", settings.runtimeDir(),
                    e.toString());
            return null;
        }
        Path socket = claim(proc, monitor.pid());
        ChannelGroup clients = new DefaultChannelGroup("mancom-control", ImmediateEventExecutor.INSTANCE);
        Metrics metrics = new Metrics(monitor);
        try {
            Channel server = new ServerBootstrap()
                    .group(runtime.group())
                    .channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            clients.add(ch);
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 * 1024),
                                    new ControlHandler(monitor, metrics, runtime.blockingExecutor()));
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toFile()))
                    .syncUninterruptibly().channel();
            Files.setPosixFilePermissions(socket, OWNER_ONLY_FILE);
            log.debug("control socket {}", socket);
            return new ControlServer(socket, server, clients);
        } catch (Exception e) {
            SERVED.remove(socket);
            log.warn("no control socket (monitoring): cannot serve {}: {}", socket, e.toString());
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // nothing was bound there by us, or it is gone already
            }
            return null;
        }
    }

    /** The socket's path. */
    public Path socket() {
        return socket;
    }

    /** {@code <dir>/proc}, both created owner-only when missing; {@code dir} must be this user's. */
    static Path directories(Path dir) throws IOException {
        createOwnerOnly(dir);
        Object owner = Files.getAttribute(dir, "unix:uid");
        Object me = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (!owner.equals(me) && !owner.equals(0)) {
            throw new IOException(dir + " belongs to uid " + owner + ", not to this user (uid " + me + ")");
        }
        Path proc = dir.resolve("proc");
        createOwnerOnly(proc);
        return proc;
    }

    private static void createOwnerOnly(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            // The umask may have taken bits off (never added any); say exactly 0700.
            Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
        } catch (FileAlreadyExistsException raced) {
            // another runtime made it just now
        }
    }

    /** Removes the sockets of processes that are gone, and files of our pid that this JVM does not serve. */
    static void removeStale(Path proc, long pid) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(proc, "*.sock")) {
            for (Path f : files) {
                Matcher m = SOCKET.matcher(f.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long owner = Long.parseLong(m.group(1));
                boolean dead = !isProcess(owner);
                if (dead || owner == pid && !SERVED.contains(f)) {
                    if (Files.deleteIfExists(f)) {
                        log.debug("removed the stale control socket {}", f);
                    }
                }
            }
        }
    }

    /**
     * Whether a process {@code pid} runs. {@code /proc/<n>} also answers for the thread ids of
     * every process, so a dead runtime's pid that is now some thread's id would look alive: only
     * a process's own entry has {@code Tgid} equal to its number.
     */
    static boolean isProcess(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Tgid:")) {
                    return Long.parseLong(line.substring(5).trim()) == pid;
                }
            }
            return false;
        } catch (IOException | NumberFormatException e) {
            return false; // gone (or never there)
        }
    }

    /** The first free name for this process's socket: {@code <pid>.sock}, then {@code <pid>-2.sock}... */
    private static Path claim(Path proc, long pid) {
        for (int n = 1; ; n++) {
            Path p = proc.resolve(n == 1 ? pid + ".sock" : pid + "-" + n + ".sock");
            if (SERVED.add(p)) {
                return p;
            }
        }
    }

    /** Stops serving, ends every client (live {@code /events} streams too), removes the socket. */
    @Override
    public void close() {
        try {
            server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        } finally {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.debug("cannot remove the control socket {}: {}", socket, e.toString());
            } finally {
                SERVED.remove(socket);
            }
        }
    }
}
