package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.SerialAddress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory DeviceLink with a scripted device side: the test offers chunks (or a failure, or
 * end of stream) to read, and collects what was written.
 */
class QueueLink implements DeviceLink {
    private static final byte[] EOF = new byte[0];

    private final java.util.concurrent.LinkedBlockingDeque<Object> toRead = new java.util.concurrent.LinkedBlockingDeque<>();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final EndPoint endpoint = EndPoint.of(SerialAddress.of("/dev/queue-link"));
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    /** Calls of write, counted as they start (also those held by {@link #holdWrites()}). */
    final AtomicInteger writesStarted = new AtomicInteger();
    private volatile boolean closed;
    private volatile IOException writeFailure;
    private volatile java.util.concurrent.CountDownLatch writeGate;
    private volatile java.util.function.Consumer<? super IOException> failureListener;

    void offer(byte[] data) {
        toRead.add(data);
    }

    private void pushBack(byte[] rest) {
        toRead.addFirst(rest);
    }

    void fail(IOException e) {
        toRead.add(e);
    }

    void endOfStream() {
        toRead.add(EOF);
    }

    /** Every later write fails with {@code e}, as when a device goes away while reads still wait. */
    void failWrites(IOException e) {
        writeFailure = e;
    }

    /** Writes block until {@link #openWrites()}, as on a line whose peer holds flow control. */
    void holdWrites() {
        writeGate = new java.util.concurrent.CountDownLatch(1);
    }

    void openWrites() {
        writeGate.countDown();
    }

    /** Reports a failure the way a driver event would, outside any read or write. */
    void reportFailure(IOException e) {
        failureListener.accept(e);
    }

    synchronized byte[] written() {
        return written.toByteArray();
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public int read(byte[] dst, int off, int len) throws IOException {
        if (closed) {
            return -1;
        }
        Object next;
        try {
            next = toRead.poll(20, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        if (next == null) {
            return 0;
        }
        reads.incrementAndGet();
        if (next instanceof IOException e) {
            throw e;
        }
        byte[] b = (byte[]) next;
        if (b == EOF) {
            return -1;
        }
        if (b.length > len) {
            // What does not fit is read next, as a device would keep it for the next read.
            System.arraycopy(b, 0, dst, off, len);
            pushBack(java.util.Arrays.copyOfRange(b, len, b.length));
            return len;
        }
        System.arraycopy(b, 0, dst, off, b.length);
        return b.length;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        writesStarted.incrementAndGet();
        java.util.concurrent.CountDownLatch gate = writeGate;
        if (gate != null) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        append(src);
    }

    private synchronized void append(ByteBuffer src) throws IOException {
        if (closed) {
            throw new IOException("closed");
        }
        if (writeFailure != null) {
            throw writeFailure;
        }
        byte[] b = new byte[src.remaining()];
        src.get(b);
        written.write(b, 0, b.length);
    }

    @Override
    public void onFailure(java.util.function.Consumer<? super IOException> listener) {
        failureListener = listener;
    }

    @Override
    public void close() {
        closed = true;
        closes.incrementAndGet();
    }

    @Override
    public EndPoint local() {
        return endpoint;
    }

    @Override
    public EndPoint remote() {
        return endpoint;
    }
}
