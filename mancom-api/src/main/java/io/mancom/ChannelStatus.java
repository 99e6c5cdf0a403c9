package io.mancom;

import java.time.Instant;
import java.util.Objects;

/**
 * One channel of a runtime at one moment: a TCP connection, a serial line, a USB device, a mux
 * session (the link that carries streams) or one mux stream. Part of {@link ManComStatus}, and
 * what an {@link EventListener} is told about.
 *
 * <h2>Values</h2>
 * Counters count from the moment the channel was opened and never go down. Bytes are payload
 * bytes as this channel sees them: for a TCP connection or a device, the bytes on the wire; for a
 * mux stream, the stream's data; for a mux session, every byte of the link (frame headers
 * included). {@code bytesOut} counts bytes whose write completed (handed to the operating system
 * or to the link below); bytes still queued are in {@code writeQueueBytes}. Frames are counted for
 * mux sessions only (0 for other kinds).
 *
 * <h2>Consistency and threading</h2>
 * An immutable value, safe to share between threads. Each counter is read on its own while the
 * channel keeps working, so a snapshot is not atomic across counters; each value is one the
 * counter really had. A status handed to {@link EventListener#connectionClosed} is final.
 *
 * @param id              unique among this runtime's channels; a connection's id is its
 *                        {@link Connection#id()}
 * @param kind            what the channel is
 * @param service         the service it belongs to (for a mux session, the services sharing the
 *                        link, comma-separated)
 * @param sessionId       for a {@link Kind#MUX_STREAM}, the id of its mux session; otherwise 0
 * @param local           this side
 * @param remote          the other side
 * @param openedAt        when the channel was opened
 * @param state           open, half closed or closed
 * @param bytesIn         bytes received
 * @param bytesOut        bytes sent (write completed)
 * @param framesIn        mux frames received (mux sessions; 0 otherwise)
 * @param framesOut       mux frames sent (mux sessions; 0 otherwise)
 * @param writeQueueBytes bytes written by the application that are not sent yet
 * @param writable        whether the channel takes writes without queueing past its high-water
 *                        mark
 * @param lastRead        when bytes last arrived, or null if none have
 * @param lastWrite       when a write last completed, or null if none has
 * @param closeCause      why it closed ("closed here", "closed by the peer", or the failure); null
 *                        while open
 * @param streamsOpen     for a mux session, its open streams; otherwise 0
 * @param windowStalls    for a mux stream or session, how often a stream had to wait for the
 *                        peer's window; otherwise 0
 * @param reconnects      for a device, how often it was lost and reopened before this channel;
 *                        otherwise 0
 */
public record ChannelStatus(long id, Kind kind, String service, long sessionId, EndPoint local, EndPoint remote,
                            Instant openedAt, State state, long bytesIn, long bytesOut, long framesIn, long framesOut,
                            long writeQueueBytes, boolean writable, Instant lastRead, Instant lastWrite,
                            String closeCause, int streamsOpen, long windowStalls, long reconnects) {

    /** What a channel is. */
    public enum Kind {
        /** A TCP connection. */
        TCP,
        /** An open serial line. */
        SERIAL,
        /** An open USB device. */
        USB,
        /** A link that carries mux streams (over TCP, serial or USB). */
        MUX_SESSION,
        /** One stream of a mux session. */
        MUX_STREAM
    }

    /** Where a channel is in its life. */
    public enum State {
        /** Open both ways. */
        OPEN,
        /** One direction is shut (the peer ended its output, or this side shut its own). */
        HALF_CLOSED,
        /** Closed; {@link ChannelStatus#closeCause()} says why. */
        CLOSED
    }

    public ChannelStatus {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(openedAt, "openedAt");
        Objects.requireNonNull(state, "state");
    }
}
