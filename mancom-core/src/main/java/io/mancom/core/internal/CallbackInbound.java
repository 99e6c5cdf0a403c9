package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers a connection's events to callbacks ({@link io.mancom.AcceptCallback},
 * {@link io.mancom.DataReceiver}) through the connection's {@link Lane}.
 *
 * <p>Buffers: on the event loop a receiver gets a view of the pooled buffer, released after the
 * call. For a receiver on an executor the buffer is kept until its call has run; the bytes so
 * kept are bounded by {@code maxBacklog}, beyond which reading pauses. While a service has no
 * receiver, data is held (at most what was in flight when reading paused) and replayed when one
 * registers.
 */
final class CallbackInbound implements Inbound {
    private static final Logger log = LoggerFactory.getLogger(CallbackInbound.class);

    private final Callbacks callbacks;
    private final long maxBacklog;
    private final AtomicLong backlog = new AtomicLong();
    private ArrayDeque<ByteBuf> held; // made when data first waits for a receiver: an idle connection keeps none

    CallbackInbound(Callbacks callbacks, long maxBacklog) {
        this.callbacks = callbacks;
        this.maxBacklog = maxBacklog;
    }

    @Override
    public void opened(ChannelConnection c) {
        if (callbacks.receiver() == null) {
            c.gate.close(ReadGate.NO_RECEIVER);
        }
        for (Callbacks.Acceptor a : callbacks.acceptors()) {
            c.lane.submit(a.executor(), () -> guard(c, () -> a.callback().onAccept(c)));
        }
    }

    @Override
    public void data(ChannelConnection c, ByteBuf buf) {
        Callbacks.Receiver r = callbacks.receiver();
        if (r == null || held != null && !held.isEmpty()) {
            if (held == null) {
                held = new ArrayDeque<>();
            }
            held.add(buf);
            c.gate.close(ReadGate.NO_RECEIVER);
            return;
        }
        deliver(c, r, buf);
    }

    private void deliver(ChannelConnection c, Callbacks.Receiver r, ByteBuf buf) {
        if (r.executor() == null && !c.lane.isBusy()) {
            // The hot path: inline on the loop, the receiver borrows the pooled buffer.
            try {
                ByteBuffer view = c.handler.lend(buf);
                guard(c, () -> r.receiver().onData(c, view));
            } finally {
                c.handler.endLoan();
                buf.release();
            }
            return;
        }
        int n = buf.readableBytes();
        if (backlog.addAndGet(n) > maxBacklog) {
            c.gate.close(ReadGate.BACKLOG);
        }
        c.lane.submit(r.executor(), () -> {
            try {
                // Off the loop the buffer cannot be recognised by write(), so the receiver gets a
                // private view; write() copies from it.
                ByteBuffer view = buf.nioBufferCount() == 1 ? buf.nioBuffer() : ByteBuffer.wrap(io.netty.buffer.ByteBufUtil.getBytes(buf));
                guard(c, () -> r.receiver().onData(c, view));
            } finally {
                buf.release();
                if (backlog.addAndGet(-n) <= maxBacklog / 2) {
                    c.onLoop(() -> c.gate.open(ReadGate.BACKLOG));
                }
            }
        });
    }

    /** A receiver was registered: deliver what was held and read again. Event loop only. */
    void receiverArrived(ChannelConnection c) {
        Callbacks.Receiver r = callbacks.receiver();
        if (r == null) {
            return;
        }
        ByteBuf buf;
        while (held != null && (buf = held.poll()) != null) {
            deliver(c, r, buf);
        }
        c.gate.open(ReadGate.NO_RECEIVER);
    }

    @Override
    public void inputShutdown(ChannelConnection c) {
        Callbacks.Receiver r = callbacks.receiver();
        if (r == null) {
            c.close(); // nobody to tell: the default a receiver would have had
            return;
        }
        receiverArrived(c);
        c.lane.submit(r.executor(), () -> guard(c, () -> r.receiver().onInputShutdown(c)));
    }

    @Override
    public void closed(ChannelConnection c, Throwable cause) {
        Callbacks.Receiver r = callbacks.receiver();
        if (r == null) {
            // Nobody to deliver to: the held bytes go with the connection, and we say so.
            if (held != null && !held.isEmpty()) {
                log.warn("{} closed with {} unread chunk(s) and no data receiver registered", c, held.size());
                held.forEach(ByteBuf::release);
                held.clear();
            }
            complete(c, cause);
            return;
        }
        receiverArrived(c);
        c.lane.submit(r.executor(), () -> {
            try {
                r.receiver().onClose(c, cause);
            } catch (RuntimeException e) {
                log.warn("onClose of {} threw", c, e);
            } finally {
                complete(c, cause);
            }
        });
    }

    private static void complete(ChannelConnection c, Throwable cause) {
        if (cause == null) {
            c.closeFutureInternal().complete(null);
        } else {
            c.closeFutureInternal().completeExceptionally(cause);
        }
    }

    private static void guard(ChannelConnection c, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.debug("callback of {} threw; closing it", c, e);
            c.abort(e);
        }
    }
}
