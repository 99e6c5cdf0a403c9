package io.mancom.core.internal.mux;

/**
 * A snapshot of a {@link MuxSessionHandler}'s counters, for metrics, logs and tests. Each value is
 * read on its own, so the snapshot is not atomic across values when taken off the event loop.
 *
 * @param openStreams     streams in the session's table (both directions, preamble-pending included)
 * @param pendingStreams  inbound streams waiting for their service preamble (the accept backlog)
 * @param bufferedBytes   received bytes not yet delivered to any stream's pipeline
 * @param receiveWindows  the sum of the receive windows granted to the peer over all open streams
 * @param streamsOpened   streams opened over the session's life, both directions
 * @param streamsRefused  inbound streams refused with CloseStream (limits, unknown service, bad preamble)
 * @param ignoredFrames   frames received for unknown or closed streams, which the protocol ignores
 * @param keepalives      Keepalive frames received (Hellos excluded)
 */
public record MuxSessionStats(int openStreams, int pendingStreams, long bufferedBytes, long receiveWindows,
                              long streamsOpened, long streamsRefused, long ignoredFrames, long keepalives) {
}
