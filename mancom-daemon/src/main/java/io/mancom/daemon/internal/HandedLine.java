package io.mancom.daemon.internal;

import io.mancom.Connection;
import io.mancom.core.internal.ConnectionChannels;
import io.mancom.core.spi.device.DeviceChannel;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;

/**
 * A serial service with {@code mux = off} whose line is handed over ({@code ManCom-Carry: device},
 * docs/daemon.md): the owner's runtime opens the line (and reopens it after a loss) and never reads
 * it; while a process is attached, that process gets a copy of the line's descriptor and reads and
 * writes it itself, and no byte of the line passes through the daemon.
 *
 * <h2>The line's life</h2>
 * The daemon keeps its own descriptor (and the device's lock) all along, paused. It gives the line
 * to one attached process that has said {@code R} and has no line (round robin), and takes it back
 * <ul>
 *   <li>when that process's attach connection ends (it detached, or died, even by {@code kill -9}):
 *       the line is held, open and unread, and goes to the next process. What the kernel still holds
 *       of the line's input is that process's to read: nothing is lost but what the dead process
 *       had read already;</li>
 *   <li>when the process says {@code C} (its copy is closed: the application closed the line, or the
 *       device failed there): the daemon closes the line, its runtime reopens it, and the reopened
 *       line is handed over again, as the relay's was.</li>
 * </ul>
 * A device lost meanwhile (a hang-up, which the daemon's paused channel still sees) closes the
 * daemon's copy and the runtime reopens it; the new line goes out once the process has said
 * {@code C} for the old one (it sees the same hang-up), so a process never has two lines.
 *
 * <h2>Holding</h2>
 * The line is exempt from the hold bounds, as a relayed line is: closing it would only make the
 * runtime reopen it. Held, it is not read: its bytes wait in the tty buffer and the device's flow
 * control, and the next process reads them.
 *
 * <h2>Threading</h2>
 * All state is confined to the line's event loop (the owner's only loop, where the runtime calls
 * back); attach connections hand their events over with {@code execute}. The figures are written
 * there and read racily by {@link #status()}.
 */
final class HandedLine {
    private static final Logger log = LoggerFactory.getLogger(HandedLine.class);

    final String name;
    private final EventLoop loop;
    /** Changed on the loop; a copy-on-write list so that {@link #close()} can run on any thread. */
    private final List<LineAttach> attached = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Connection line;
    private DeviceChannel lineChannel;
    private LineAttach givenTo;
    private int next;
    private boolean closed;

    private volatile int attachedNow;
    private volatile int heldNow;
    private volatile long handedOver;

    HandedLine(String name, EventLoop loop) {
        this.name = name;
        this.loop = loop;
    }

    // ---- the runtime's side

    /** The runtime opened (or reopened) the line: called on its loop from the accept callback. */
    void opened(Connection c) {
        c.pauseReading(); // inline on the loop, before the runtime's first read: the daemon reads nothing
        c.attach(this);
        onLoop(() -> {
            Channel ch = ConnectionChannels.channel(c).orElse(null);
            if (!(ch instanceof DeviceChannel d) || d.descriptor() < 0) {
                log.error("service '{}': {} has no descriptor to hand over; closing it", name, c);
                c.close();
                return;
            }
            if (closed) {
                c.close();
                return;
            }
            line = c;
            lineChannel = d;
            dispatch();
        });
    }

    /** The line closed (lost, or closed after a process's C); the runtime reopens it. */
    void lineClosed(Connection c) {
        onLoop(() -> {
            if (line != c) {
                return;
            }
            line = null;
            lineChannel = null;
            givenTo = null; // it still has the old copy until it says C
            figures();
        });
    }

    /** Bytes the daemon read from a line it hands over: cannot happen (it pauses before any read). */
    void read(int bytes) {
        log.error("service '{}': the daemon read {} bytes of a line it hands over; they are lost", name, bytes);
    }

    // ---- the processes' side (the line's loop)

    void attach(Channel connection, Peer peer) {
        LineAttach a = new LineAttach(this, connection, peer, loop);
        connection.pipeline().addLast("line", a);
        onLoop(() -> {
            if (closed) {
                connection.close();
                return;
            }
            attached.add(a);
            figures();
        });
        connection.config().setAutoRead(true);
    }

    void ready(LineAttach a) {
        assert loop.inEventLoop();
        a.ready = true;
        dispatch();
    }

    void adopted(LineAttach a) {
        assert loop.inEventLoop();
        if (!a.has || a.adopted) {
            a.violation("an 'A' for no line");
            return;
        }
        a.adopted = true;
        handedOver++;
    }

    void closedByProcess(LineAttach a) {
        assert loop.inEventLoop();
        if (!a.has || !a.adopted) {
            a.violation("a 'C' for no line");
            return;
        }
        a.has = false;
        a.adopted = false;
        if (givenTo == a) {
            givenTo = null;
            Connection c = line;
            log.debug("service '{}': {} closed the line; closing it here too (the runtime reopens it)", name, a);
            c.close();
        } else {
            dispatch(); // its copy of a lost line is gone: a reopened one may go out now
        }
        figures();
    }

    void detached(LineAttach a) {
        assert loop.inEventLoop();
        attached.remove(a);
        a.has = false;
        if (givenTo == a) {
            givenTo = null;
            if (!closed) {
                log.info("service '{}': {} went away; the line goes to the next process (held, unread, meanwhile)",
                        name, a);
            }
        }
        dispatch();
        figures();
    }

    /** Gives the open line to the next process in turn that is ready and has none. */
    private void dispatch() {
        if (!closed && line != null && givenTo == null && lineChannel.isOpen()) {
            LineAttach to = pick();
            if (to != null) {
                int dup;
                try {
                    // On the line's loop, the channel open: its descriptor is not closed yet.
                    dup = Descriptors.dup(lineChannel.descriptor());
                } catch (IOException e) {
                    log.warn("service '{}': cannot hand the line over: {}", name, e.getMessage());
                    figures();
                    return;
                }
                givenTo = to;
                to.has = true;
                to.adopted = false;
                to.give(dup);
            }
        }
        figures();
    }

    private LineAttach pick() {
        int n = attached.size();
        for (int i = 0; i < n; i++) {
            LineAttach a = attached.get((next + i) % n);
            if (a.ready && !a.has && a.channel().isActive()) {
                next = (next + i + 1) % n;
                return a;
            }
        }
        return null;
    }

    private void figures() {
        attachedNow = attached.size();
        heldNow = line != null && givenTo == null ? 1 : 0;
    }

    Owner.OwnerStatus status() {
        return new Owner.OwnerStatus(attachedNow, heldNow, handedOver, 0);
    }

    /** Closes every attach connection (the owner closes the line with its runtime). */
    void close() {
        onLoop(() -> closed = true);
        for (LineAttach a : attached) {
            a.channel().close();
        }
    }

    private void onLoop(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            try {
                loop.execute(r);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the owner's runtime is gone: nothing left to hand over
            }
        }
    }
}
