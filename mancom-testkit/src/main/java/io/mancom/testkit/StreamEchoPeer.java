package io.mancom.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An {@link EchoPeer} over a byte stream (a socket, a pty): one thread reads, another writes back
 * what was read. Two threads, so that reading never waits for writing: over a socat pty pair,
 * whose one relay thread serves both directions, a peer that stopped reading while its write
 * waits would stop the relay, and with it its own write. At the end of the input it ends its own
 * output ({@link #endOutput()}) after the last echo, so a transport with half-close sees the echo
 * followed by the end of the stream.
 *
 * <p>What was read and not yet written back is held in memory; tests bound it by what they send.
 * Subclasses give the streams and say how to end output and break the link.
 */
public abstract class StreamEchoPeer implements EchoPeer {
    private static final byte[] END = new byte[0];
    private final Object gate = new Object();
    private boolean paused; // guarded by gate
    private final BlockingQueue<byte[]> toWrite = new LinkedBlockingQueue<>();
    private final Thread reader;
    private final Thread writer;

    /** Echoes from {@code in} to {@code out} on daemon threads named after {@code name}, once {@link #start()}ed. */
    protected StreamEchoPeer(String name, InputStream in, OutputStream out) {
        reader = new Thread(() -> read(in), name + "-reader");
        reader.setDaemon(true);
        writer = new Thread(() -> write(out), name + "-writer");
        writer.setDaemon(true);
    }

    /** Starts the echo threads; call once, at the end of the subclass's constructor. */
    protected final void start() {
        reader.start();
        writer.start();
    }

    private void read(InputStream in) {
        byte[] buf = new byte[16 * 1024];
        try {
            while (true) {
                awaitOpen();
                int n = in.read(buf);
                if (n < 0) {
                    toWrite.add(END);
                    return;
                }
                toWrite.add(java.util.Arrays.copyOf(buf, n));
            }
        } catch (IOException | InterruptedException e) {
            // the link was cut or closed: the echo ends with it
        }
    }

    private void write(OutputStream out) {
        try {
            while (true) {
                byte[] b = toWrite.take();
                if (b == END) {
                    endOutput();
                    return;
                }
                out.write(b);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the link was cut or closed: the echo ends with it
        }
    }

    private void awaitOpen() throws InterruptedException {
        synchronized (gate) {
            while (paused) {
                gate.wait();
            }
        }
    }

    @Override
    public void pause() {
        synchronized (gate) {
            paused = true;
        }
    }

    @Override
    public void resume() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    /** Ends this side's output after the input ended (a TCP FIN); nothing where there is no half-close. */
    protected abstract void endOutput() throws IOException;

    @Override
    public void close() throws Exception {
        resume();
        reader.interrupt();
        writer.interrupt();
    }
}
