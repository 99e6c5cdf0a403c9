package io.mancom.proxy.internal;

/**
 * One upstream connection as the {@link UpstreamPool} sees it: an HTTP/2 connection carrying up
 * to the peer's stream limit ({@link H2Link}) or an HTTP/1.1 connection carrying one request at a
 * time ({@link H1Link}). Every method runs on the pool's loop, which is the link's channel's loop.
 *
 * <p>A link reports to its pool: {@code linkReady} once it can carry requests, {@code linkFreed}
 * when it can take more, {@code linkDraining} when it takes no new ones (HTTP/2 GOAWAY), and
 * {@code linkLost} once when it is gone (having failed or re-queued what it carried).
 */
interface UpstreamLink {

    /** How many more requests it takes now (0 while connecting, draining or closed). */
    int freeSlots();

    /** Sends {@code x}; called only when {@link #freeSlots()} is positive. */
    void send(Exchange x);

    /** Closes the connection; what it carries ends as a loss does. */
    void close();

    /** The connection is gone or its dial failed: reports to the pool, once. */
    void lost(String why);
}
