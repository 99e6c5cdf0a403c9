package io.mancom.daemon.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.Socket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The daemon's listening Unix socket: bound at {@code mancom.daemon.socket}, or taken from systemd
 * (socket activation: {@code LISTEN_PID} is our pid and {@code LISTEN_FDS >= 1}, so descriptor 3
 * is a listening socket already).
 *
 * <h2>Files and modes</h2>
 * When the daemon binds, the socket's directory is created if missing. Run as root on a system
 * with a {@code mancom} group, the directory is made 0770 and the socket 0660, both of group
 * {@code mancom} (its members may attach; the allow lists decide the rest). Otherwise, as a
 * runtime's own control socket is, 0700 and 0600. A socket file already there is probed with a
 * connect: a live one means another daemon runs there ({@link AlreadyRunning}); a dead one
 * (refused) is stale and replaced. A socket systemd passed is left as systemd made it.
 *
 * <p>Not thread-safe: made once at start, closed once at stop.
 */
final class ControlSocket implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlSocket.class);
    /** systemd passes the first socket as this descriptor. */
    static final int SD_LISTEN_FDS_START = 3;

    private final Path path;
    private final Channel server;
    private final boolean activated;

    /** Another daemon answers at the socket. */
    static final class AlreadyRunning extends IOException {
        AlreadyRunning(Path socket) {
            super("a daemon already runs at " + socket + " (stop it first, or set mancom.daemon.socket to another path)");
        }
    }

    private ControlSocket(Path path, Channel server, boolean activated) {
        this.path = path;
        this.server = server;
        this.activated = activated;
    }

    /**
     * Serves {@code initializer}'s pipeline on each accepted connection.
     *
     * @param env the environment (LISTEN_PID, LISTEN_FDS)
     * @throws AlreadyRunning when a live daemon holds the socket
     * @throws IOException    when the directory or the bind fails
     */
    static ControlSocket open(Path path, Map<String, String> env, EventLoopGroup group,
                              ChannelInitializer<Channel> initializer) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).childHandler(initializer);
        if (activated(env)) {
            // systemd passes a blocking socket (NonBlocking=no is its default); an event loop
            // must never block in accept().
            Descriptors.setNonBlocking(SD_LISTEN_FDS_START);
            Path passed = path;
            try {
                DomainSocketAddress a = new Socket(SD_LISTEN_FDS_START).localDomainSocketAddress();
                if (a != null && !a.path().isEmpty() && a.path().charAt(0) != 0) {
                    passed = Path.of(a.path());
                }
            } catch (RuntimeException unnamed) {
                // an abstract or unnamed socket: keep the configured path for the status
            }
            Channel ch = b.channelFactory(() -> new EpollServerDomainSocketChannel(SD_LISTEN_FDS_START, true))
                    .register().syncUninterruptibly().channel();
            log.info("serving on the socket systemd passed (fd {}, {})", SD_LISTEN_FDS_START, passed);
            return new ControlSocket(passed, ch, true);
        }
        boolean shared = isRoot() && new Credentials().gid("mancom") >= 0;
        directory(path.getParent(), shared);
        if (Files.exists(path)) {
            if (answers(path)) {
                throw new AlreadyRunning(path);
            }
            Files.delete(path);
            log.info("replaced the stale socket {} (no daemon behind it)", path);
        }
        Channel ch;
        try {
            ch = b.channel(EpollServerDomainSocketChannel.class)
                    .bind(new DomainSocketAddress(path.toFile())).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            throw new IOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        permissions(path, shared ? "rw-rw----" : "rw-------", shared);
        return new ControlSocket(path, ch, false);
    }

    static boolean activated(Map<String, String> env) {
        String pid = env.get("LISTEN_PID");
        String fds = env.get("LISTEN_FDS");
        try {
            return pid != null && fds != null && Long.parseLong(pid.trim()) == ProcessHandle.current().pid()
                    && Integer.parseInt(fds.trim()) >= 1;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Whether something accepts connections at {@code socket}. */
    static boolean answers(Path socket) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isRoot() {
        return Credentials.myUid() == 0;
    }

    private static void directory(Path dir, boolean shared) throws IOException {
        if (dir == null || Files.isDirectory(dir)) {
            return;
        }
        Files.createDirectories(dir.getParent());
        try {
            Files.createDirectory(dir);
        } catch (FileAlreadyExistsException raced) {
            return;
        }
        permissions(dir, shared ? "rwxrwx---" : "rwx------", shared);
    }

    private static void permissions(Path p, String mode, boolean groupMancom) throws IOException {
        if (groupMancom) {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
            GroupPrincipal g = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("mancom");
            view.setGroup(g);
        }
        // After the group: an umask may have taken bits off; say exactly these.
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    }

    /** Where it listens (the configured path; for an activated socket, what systemd bound). */
    Path path() {
        return path;
    }

    boolean activated() {
        return activated;
    }

    /** Stops listening; removes the socket file the daemon bound (not one systemd owns). */
    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        if (!activated) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                log.debug("cannot remove {}: {}", path, e.toString());
            }
        }
    }
}
