package io.mancom;

import java.nio.ByteBuffer;

/**
 * Receives the data of a service's connections, chunk by chunk, and one close event per
 * connection.
 *
 * <h2>Buffer ownership</h2>
 * The {@code data} buffer is lent for the duration of the call: read it, or pass it to
 * {@link Connection#write(ByteBuffer)} (which copies), but do not keep it. Copy what you need
 * later. Chunk boundaries are whatever the transport delivered; they carry no meaning, unless the
 * service sets {@code framing} ({@code lines}, or a length field): then each call receives one
 * whole message.
 *
 * <h2>Threading</h2>
 * Calls for one connection are made one at a time and in order, on the connection's event loop
 * (or on the executor named at registration). On the event loop they must not block.
 *
 * <h2>Errors</h2>
 * A {@link RuntimeException} thrown by {@link #onData} closes the connection with that exception
 * as the cause; {@link #onClose} still runs once.
 */
public interface DataReceiver {

    /**
     * A client connection this receiver was given with {@code connectAsync} is open; called once,
     * before its first {@link #onData}. A client with {@code reconnect} on gets a new connection
     * for each link it dials again, each announced here, so this is where to keep the connection
     * to write to. Connections a service accepts are announced to its
     * {@link AcceptCallback} instead. The default does nothing.
     */
    default void onOpen(Connection connection) {
    }

    /** A chunk of data arrived on {@code connection}. */
    void onData(Connection connection, ByteBuffer data);

    /**
     * The peer finished writing (it half-closed: {@link Connection#shutdownOutput()}, a TCP FIN, a
     * mux CloseRead) while this side may still write. Called at most once, after the last
     * {@link #onData}. The default closes the connection once what is queued is sent; override it
     * to answer first, then close.
     */
    default void onInputShutdown(Connection connection) {
        connection.close();
    }

    /**
     * The connection closed; called exactly once per connection, after its last {@link #onData}.
     *
     * @param cause null for a clean close (either side closed it), otherwise why it failed
     */
    default void onClose(Connection connection, Throwable cause) {
    }
}
