package io.mancom.core.internal.mux;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A scripted peer on a plain {@link Socket}: writes hand-built frames and reads frames back, so
 * tests can play a peer that breaks the rules.
 */
final class RawPeer implements AutoCloseable {

    /** A frame as read off the wire. */
    record Frame(long id, int length, int flags, byte[] payload) {
        MuxFrame.Type type() {
            return MuxFrame.Type.ofFlags(flags);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    RawPeer(SocketAddress server) throws IOException {
        this(server, 0);
    }

    /** @param receiveBuffer the socket's receive buffer, or 0 for the default */
    RawPeer(SocketAddress server, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.setSoTimeout((int) (MuxLoopback.TIMEOUT_SECONDS * 1000));
        socket.setTcpNoDelay(true);
        socket.connect(server instanceof InetSocketAddress a ? a : server, 10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    RawPeer frame(long id, int length, int flags) throws IOException {
        byte[] h = {(byte) id, (byte) (id >>> 8), (byte) (id >>> 16), (byte) (id >>> 24),
                (byte) length, (byte) (length >>> 8), (byte) (length >>> 16), (byte) flags};
        out.write(h);
        return this;
    }

    RawPeer hello(int caps, int tie) throws IOException {
        return frame(MuxFrame.HELLO_ID, caps | tie << 8, MuxFrame.Type.KEEPALIVE.flags());
    }

    RawPeer open(long id) throws IOException {
        return frame(id, 0, MuxFrame.Type.OPEN_STREAM.flags());
    }

    RawPeer data(long id, byte[] payload) throws IOException {
        frame(id, payload.length, MuxFrame.Type.DATA.flags());
        out.write(payload);
        return this;
    }

    RawPeer preamble(long id, String service) throws IOException {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        byte[] p = new byte[1 + name.length];
        p[0] = (byte) name.length;
        System.arraycopy(name, 0, p, 1, name.length);
        return data(id, p);
    }

    RawPeer control(long id, MuxFrame.Type type, int length) throws IOException {
        return frame(id, length, type.flags());
    }

    RawPeer flush() throws IOException {
        out.flush();
        return this;
    }

    /** The next frame; {@link EOFException} at end of stream. */
    Frame read() throws IOException {
        byte[] h = new byte[8];
        in.readFully(h);
        long id = (h[0] & 0xFFL) | (h[1] & 0xFFL) << 8 | (h[2] & 0xFFL) << 16 | (h[3] & 0xFFL) << 24;
        int length = (h[4] & 0xFF) | (h[5] & 0xFF) << 8 | (h[6] & 0xFF) << 16;
        int flags = h[7] & 0xFF;
        byte[] payload = new byte[flags == 0 ? length : 0];
        in.readFully(payload);
        return new Frame(id, length, flags, payload);
    }

    /** Reads frames until one of {@code type}, which it returns. */
    Frame readUntil(MuxFrame.Type type) throws IOException {
        for (;;) {
            Frame f = read();
            if (f.flags() == type.flags()) {
                return f;
            }
        }
    }

    /** Whether the server ended the link: reads until CloseMux, then expects end of stream. */
    void expectCloseMuxThenEof() throws IOException {
        readUntil(MuxFrame.Type.CLOSE_MUX);
        try {
            Frame f = read();
            throw new AssertionError("a frame after CloseMux: " + f);
        } catch (EOFException expected) {
            // the server closed the link after CloseMux
        }
    }

    /** Drops the connection without a word (no CloseMux). */
    void hangUp() throws IOException {
        socket.close();
    }

    void shutdownOutput() throws IOException {
        out.flush();
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
