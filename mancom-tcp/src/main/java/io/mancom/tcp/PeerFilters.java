package io.mancom.tcp;

import io.mancom.tcp.internal.SocketFilter;
import io.netty.channel.epoll.Epoll;

/**
 * Where {@code tcp.allow} / {@code tcp.deny} are enforced in this process, for
 * {@code mancom config check}: in the kernel (a classic BPF program on the listening socket, which
 * drops a refused peer's SYN), or right after accept (NIO, other systems, no JNA). The runtime
 * decides the same way when it binds; docs/security.md explains both.
 *
 * <p>Stateless; thread-safe. The first call loads libc through JNA (Linux) and Netty's native
 * epoll library, as a runtime's start would.
 */
public final class PeerFilters {
    private PeerFilters() {
    }

    /**
     * One line: {@code "in the kernel: ..."} or {@code "after accept: <why not in the kernel>"}.
     * A runtime started with {@code -Dmancom.native=false} runs on NIO and checks after accept.
     */
    public static String enforcement() {
        String why = SocketFilter.unavailable();
        if (why == null && !(Boolean.parseBoolean(System.getProperty("mancom.native", "true")) && Epoll.isAvailable())) {
            why = "Netty's native epoll transport is not available (NIO listeners have no descriptor to filter)";
        }
        if (why == null) {
            return "in the kernel: a classic BPF filter on the listening socket (SO_ATTACH_FILTER) drops a refused "
                    + "peer's SYN, and the same rule runs again after accept";
        }
        return "after accept (the connection is accepted, then reset): " + why;
    }
}
