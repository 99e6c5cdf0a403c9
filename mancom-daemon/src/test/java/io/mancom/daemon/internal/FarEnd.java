package io.mancom.daemon.internal;

import io.mancom.Connection;
import io.mancom.DataReceiver;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The far end of a device, for tests: a receiver that keeps what each connection of a ManCom
 * runtime (scope = process, on the other end of the pty) receives, and a writer that writes a
 * large payload as the connection's writability allows.
 */
final class FarEnd implements DataReceiver {
    private final Map<Connection, ByteArrayOutputStream> received = new ConcurrentHashMap<>();
    final Map<Connection, CompletableFuture<Void>> inputShutdown = new ConcurrentHashMap<>();

    @Override
    public void onData(Connection connection, ByteBuffer data) {
        ByteArrayOutputStream out = received.computeIfAbsent(connection, c -> new ByteArrayOutputStream());
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        synchronized (out) {
            out.writeBytes(bytes);
        }
    }

    @Override
    public void onInputShutdown(Connection connection) {
        inputShutdown.computeIfAbsent(connection, c -> new CompletableFuture<>()).complete(null);
    }

    CompletableFuture<Void> inputShutdown(Connection c) {
        return inputShutdown.computeIfAbsent(c, x -> new CompletableFuture<>());
    }

    int count(Connection c) {
        ByteArrayOutputStream out = received.get(c);
        if (out == null) {
            return 0;
        }
        synchronized (out) {
            return out.size();
        }
    }

    byte[] received(Connection c) {
        ByteArrayOutputStream out = received.get(c);
        if (out == null) {
            return new byte[0];
        }
        synchronized (out) {
            return out.toByteArray();
        }
    }

    /**
     * Writes {@code data} to {@code c} in chunks, each only while the connection is writable, from
     * a thread of its own (one writer thread: the writes stay in order).
     *
     * @return completes when the last chunk is queued
     */
    static CompletableFuture<Void> pump(Connection c, byte[] data, int chunk) {
        Semaphore writable = new Semaphore(0);
        c.setWritabilityListener((conn, w) -> {
            if (w) {
                writable.release();
            }
        });
        return CompletableFuture.runAsync(() -> {
            int off = 0;
            try {
                while (off < data.length) {
                    if (!c.isOpen()) {
                        throw new IllegalStateException(c + " closed after " + off + " bytes");
                    }
                    if (c.isWritable()) {
                        int n = Math.min(chunk, data.length - off);
                        c.write(data, off, n);
                        off += n;
                    } else {
                        writable.tryAcquire(100, TimeUnit.MILLISECONDS); // re-checks isWritable either way
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }
}
