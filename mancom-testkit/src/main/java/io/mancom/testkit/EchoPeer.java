package io.mancom.testkit;

/**
 * The far end of a link under test in a {@link TransportContractTest}: it sends back every byte it
 * receives, in order, and can stop taking bytes from the link or break it.
 *
 * <p>A TCP peer is a plain socket, a serial peer the other pty of a socat pair, a USB peer an
 * in-memory echo device. Methods are called from the test thread; the peer echoes on threads of
 * its own.
 */
public interface EchoPeer extends AutoCloseable {

    /**
     * Stops taking bytes from the link (at most one read already in progress still completes):
     * what the endpoint writes piles up in the link's buffers, and then in the endpoint.
     */
    void pause();

    /** Takes and echoes bytes again after {@link #pause()}. */
    void resume();

    /**
     * Breaks the link as a failure would (a TCP reset, socat killed, the device unplugged), so the
     * endpoint's connection closes with a cause.
     */
    void cut() throws Exception;

    /** Releases what the peer holds; idempotent. */
    @Override
    void close() throws Exception;
}
