package io.mancom.core.internal.link;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One reliable-link session: the selective-repeat ARQ between the {@link LinkChannel} above and
 * the current link below, which may change (resumption). States:
 * <pre>
 *  OPEN ──link lost──▶ SUSPENDED ──new link, same session──▶ OPEN
 *   │                     └──resume-timeout──▶ CLOSED ("link lost")
 *   └──LinkChannel closed──▶ CLOSING (sends what is unacknowledged) ──▶ CLOSED (CLOSE frame)
 * </pre>
 * While OPEN a tick (a quarter of rto-min, 5..50 ms) retransmits what timed out, sends an ACK as
 * keepalive after {@code keepalive} without sending, and gives the link below up after
 * {@code timeout} without a valid frame.
 *
 * <p>Threading: everything runs on the session's event loop (the {@link LinkChannel}'s); a link
 * below on another loop hands its events over with {@link #run}. Memory: at most {@code window}
 * payloads sent and unacknowledged, and {@code window} received and not delivered.
 */
final class ReliableSession {
    private static final Logger log = LoggerFactory.getLogger(ReliableSession.class);

    enum State { OPEN, SUSPENDED, CLOSING, CLOSED }

    final LinkSettings settings;
    final int window;
    final int frameSize;
    final EventLoop loop;
    final LinkCounters counters;
    final long myId;
    final long peerId;
    private final String name;
    private final ArqSender sender;
    private final ArqReceiver receiver;
    private final RttEstimator rtt;
    private final Consumer<ReliableSession> onEnd;
    private final Consumer<ReliableSession> onSuspend;
    private LinkChannel channel;

    private State state = State.OPEN;
    private Channel transport;
    private long lastSent;
    private long lastReceived;
    private boolean ackPending, readPending, delivering, peerClosed;
    private int lastAckSent = -1;
    private int advertisedLimit;
    private ScheduledFuture<?> tick;
    private ScheduledFuture<?> resumeDeadline;
    private long closingDeadline;
    private String lastLoss;
    private final byte[] sackBits = new byte[LinkFrames.MAX_SACK_BYTES];
    // Pacing of new DATA frames at the line rate, a token bucket of two frames.
    private final LinePacer pacer;
    // The payload size of new frames, from the loss seen (up to the negotiated frameSize).
    private final FrameSizer sizer;
    private final List<Integer> lost = new ArrayList<>();

    /**
     * @param onEnd     told once when the session is closed (its sink forgets it)
     * @param onSuspend told each time the link below is lost and the session waits for a new one
     *                  (a dialling side dials again)
     */
    ReliableSession(String name, LinkSettings settings, int window, int frameSize, long lineRate, EventLoop loop, long myId,
                    long peerId, LinkCounters counters, Consumer<ReliableSession> onEnd, Consumer<ReliableSession> onSuspend) {
        this.pacer = new LinePacer(loop, lineRate, 2L * (frameSize + FrameSizer.OVERHEAD), () -> channel.resumeWrites());
        this.sizer = new FrameSizer(frameSize);
        paceBurst();
        this.name = name;
        this.settings = settings;
        this.window = window;
        this.frameSize = frameSize;
        this.loop = loop;
        this.myId = myId;
        this.peerId = peerId;
        this.onEnd = onEnd;
        this.onSuspend = onSuspend;
        this.counters = counters;
        this.rtt = new RttEstimator(settings.rtoMin().toNanos(), settings.rtoMax().toNanos());
        // The sizer learns a transmission's fate, not that it went out: a frame counts as clean
        // line when the peer acknowledges it, as lost when it is sent again. Counted when sent,
        // the prior's clean line grew the frames to 1 KiB while a whole window went out before
        // the first loss was known (a slow peer under load), and on a noisy line each of those
        // frames then needed many tries, kept its size in every one, and the link barely moved.
        this.sender = new ArqSender(window, rtt, counters, sizer::delivered);
        this.receiver = new ArqReceiver(window, counters);
        this.advertisedLimit = receiver.limit();
    }

    /**
     * The loop ended (the runtime closed) before the session did: its timers will never run, so
     * this releases what the session holds; the LinkChannel releases what it queued. The loop is
     * gone: nothing races it.
     */
    /** The loop is shutting down (the runtime closes): the session ends there, so the channel closes on its loop. */
    void loopShuttingDown() {
        end(null, true);
    }

    void loopEnded() {
        if (state != State.CLOSED) {
            state = State.CLOSED;
            sender.releaseAll();
            receiver.releaseAll();
        }
    }

    void channel(LinkChannel channel) {
        this.channel = channel;
    }

    LinkChannel channel() {
        return channel;
    }

    State state() {
        return state;
    }

    /** The next frame this side expects (what a resuming HELLO says). */
    int receiveNext() {
        return receiver.next();
    }

    /** Runs {@code r} on the session's loop: at once when called there, else as a task (in order). */
    void run(Runnable r) {
        if (loop.inEventLoop()) {
            r.run();
        } else {
            try {
                loop.execute(r);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                log.debug("{}: the session's loop has ended; dropping an event of its link", name);
            }
        }
    }

    /** A frame from a link on any loop: handled on the session's loop, released if that loop has ended. */
    void frameFrom(Channel link, ByteBuf body) {
        if (loop.inEventLoop()) {
            frame(link, body);
            return;
        }
        try {
            loop.execute(() -> frame(link, body));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            body.release();
        }
    }

    private long now() {
        return loop.ticker().nanoTime();
    }

    int inFlight() {
        return sender.inFlight();
    }

    /** The payload size of the next new DATA frame (the sizer's choice). */
    int nextFrameSize() {
        return sizer.size();
    }

    String describe() {
        return name + ", session " + Long.toHexString(myId) + "/" + Long.toHexString(peerId) + ", " + state
                + (transport != null ? " over " + transport : "") + ", frames " + sender.una() + ".." + sender.next()
                + " in flight, " + receiver.next() + " expected, " + receiver.held() + " held";
    }

    // ---- the link below ----

    /**
     * A link below is in place (the first, or a new one after a loss: {@code resumed}); the peer
     * has every frame before {@code peerNext}.
     */
    void attach(Channel link, int peerNext, boolean resumed) {
        assert loop.inEventLoop();
        if (state == State.CLOSED) {
            link.close();
            return;
        }
        if (transport != null && transport != link) {
            Channel old = transport;
            transport = null;
            old.close(); // the peer came back on a new link before this side saw the old one fail
        }
        transport = link;
        if (resumeDeadline != null) {
            resumeDeadline.cancel(false);
            resumeDeadline = null;
        }
        if (state == State.SUSPENDED) {
            state = State.OPEN;
        }
        long now = now();
        lastReceived = now;
        lastSent = now;
        if (resumed) {
            counters.resumes.increment();
            log.debug("{}: resumed over {} (peer has {} frames, {} to send again)", name, link, peerNext, sender.inFlight());
            sender.resume(LinkFrames.widen(peerNext, sender.una()), now, this::resend);
        }
        if (tick == null) {
            long period = Math.max(5, Math.min(50, settings.rtoMin().toMillis() / 4));
            tick = loop.scheduleAtFixedRate(this::tick, period, period, TimeUnit.MILLISECONDS);
        }
        sendAck();
        link.flush();
        channel.resumeWrites();
    }

    /** A frame from {@code link} (whose body the session now owns). */
    void frame(Channel link, ByteBuf body) {
        assert loop.inEventLoop();
        try {
            if (link != transport || state == State.CLOSED) {
                return;
            }
            lastReceived = now();
            byte type = body.readByte();
            switch (type) {
                case LinkFrames.DATA -> data(body);
                case LinkFrames.ACK -> ack(body);
                case LinkFrames.CLOSE -> closeFrame(body);
                default -> counters.badFrames.increment(); // HELLOs are the link handler's
            }
        } finally {
            body.release();
        }
    }

    private void data(ByteBuf body) {
        if (body.readableBytes() < 4) {
            counters.badFrames.increment();
            return;
        }
        int seq = LinkFrames.widen(body.readUnsignedShortLE(), receiver.next());
        int ack = LinkFrames.widen(body.readUnsignedShortLE(), sender.una());
        if (sender.cumulative(ack, now())) {
            channel.resumeWrites();
        }
        if (!body.isReadable() || body.readableBytes() > frameSize) {
            counters.badFrames.increment();
            return;
        }
        receiver.accept(seq, body.retainedSlice());
        ackPending = true;
    }

    private void ack(ByteBuf body) {
        if (body.readableBytes() < 4) {
            counters.badFrames.increment();
            return;
        }
        int ack = LinkFrames.widen(body.readUnsignedShortLE(), sender.una());
        int limit = LinkFrames.widen(body.readUnsignedShortLE(), sender.una());
        lost.clear();
        boolean moved = sender.onAck(ack, limit, body.isReadable() ? body : null, now(), lost::add);
        for (int s : lost) {
            resend(s);
        }
        if (moved) {
            channel.resumeWrites();
        }
        if (!lost.isEmpty()) {
            transport.flush();
        }
    }

    private void closeFrame(ByteBuf body) {
        int code = body.isReadable() ? body.readUnsignedByte() : LinkFrames.CLOSE_NORMAL;
        String reason = body.toString(java.nio.charset.StandardCharsets.UTF_8);
        if (code == LinkFrames.CLOSE_NORMAL) {
            log.debug("{}: the peer closed the session", name);
            peerClosed = true;
            deliver();
            closeIfPeerDone();
        } else {
            end(new ManComException(Reason.LINK_FAILED, "reliable link " + name + ": the peer ended the session: " + reason), false);
        }
    }

    /** The end of a read batch from {@code link}: deliver, and acknowledge what arrived. */
    void readComplete(Channel link) {
        if (link != transport || state == State.CLOSED) {
            return;
        }
        deliver();
        if (transport == null) {
            return; // what was delivered ended the session (the peer's CLOSE, or the reader closed the channel)
        }
        if (ackPending && (lastAckSent != receiver.next() || receiver.hasGap())) {
            sendAck();
        }
        ackPending = false;
        transport.flush();
    }

    /** The link below can take more: send what waits. */
    void transportWritable(Channel link) {
        if (link == transport && state != State.CLOSED) {
            channel.resumeWrites();
        }
    }

    /** The link below is gone (closed, failed, or given up for silence). */
    void transportLost(Channel link, String why) {
        assert loop.inEventLoop();
        if (link != transport) {
            return;
        }
        transport = null;
        lastLoss = why;
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.CLOSING) {
            end(null, false);
            return;
        }
        if (settings.resumeTimeout().isZero()) {
            end(lost(), false);
            return;
        }
        state = State.SUSPENDED;
        log.info("{}: the link below was lost ({}); waiting up to {} ms for it to come back", name, why,
                settings.resumeTimeout().toMillis());
        resumeDeadline = loop.schedule(() -> {
            if (state == State.SUSPENDED) {
                end(lost(), false);
            }
        }, settings.resumeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        onSuspend.accept(this);
    }

    private ManComException lost() {
        return new ManComException(Reason.LINK_FAILED, "reliable link " + name + " lost: " + lastLoss
                + (settings.resumeTimeout().isZero() ? "" : ", and it did not come back within link.resume-timeout = "
                + settings.resumeTimeout().toMillis() + " ms"));
    }

    /** The peer sent a HELLO of this session again (it did not get ours, or it resumes). */
    void peerHello(Channel link, LinkFrames.Hello hello, ByteBuf reply) {
        if (link != transport || state == State.CLOSED) {
            reply.release();
            return;
        }
        link.write(reply);
        if (!hello.seen()) {
            sender.resume(LinkFrames.widen(hello.next(), sender.una()), now(), this::resend);
        }
        link.flush();
    }

    // ---- sending ----

    /** The LinkChannel's writes: cut into frames while the window and the link below have room. */
    void write(ChannelOutboundBuffer in) {
        assert loop.inEventLoop();
        Channel t = transport;
        if (state == State.CLOSED) {
            channel.dropQueuedWrites(); // nothing will send them (the channel is closed with the session)
            return;
        }
        if (t == null) {
            return; // they wait for the link to come back
        }
        boolean wrote = false;
        long now = now();
        while (sender.canSend() && t.isWritable()) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            ByteBuf buf = (ByteBuf) msg;
            paceBurst(); // two frames of the sizer's current size: a burst set for smaller ones left no slack
            int n = Math.min(buf.readableBytes(), sizer.size());
            if (n == 0) {
                in.remove();
                continue;
            }
            if (!pacer.take(n + LinkFrames.DATA_HEADER + 6, now)) {
                break;
            }
            ByteBuf payload = buf.retainedSlice(buf.readerIndex(), n);
            in.removeBytes(n);
            int seq = sender.add(payload, now);
            send(LinkFrames.data(t.alloc(), seq & 0xFFFF, receiver.next() & 0xFFFF, payload));
            lastAckSent = receiver.next();
            wrote = true;
        }
        if (wrote) {
            t.flush();
        }
    }

    /** The pacer's burst in bytes (for tests). */
    long paceBurstBytes() {
        return pacer.burst();
    }

    /** Two frames of the current size, or 50 ms of line time: a late wake-up is made up from it. */
    private void paceBurst() {
        pacer.burst(Math.max(2L * (sizer.size() + FrameSizer.OVERHEAD), pacer.lineRate() / 20));
    }

    private void resend(int seq) {
        if (transport == null) {
            return;
        }
        ByteBuf payload = sender.payload(seq);
        sender.resent(seq, now());
        sizer.lost(payload.readableBytes());
        paceBurst();
        pacer.charge(payload.readableBytes() + LinkFrames.DATA_HEADER + 6); // it goes at once, new frames wait for it
        send(LinkFrames.data(transport.alloc(), seq & 0xFFFF, receiver.next() & 0xFFFF, payload));
    }

    private void send(ByteBuf frame) {
        lastSent = now();
        counters.framesOut.increment();
        transport.write(frame, transport.voidPromise());
    }

    private void sendAck() {
        if (transport == null) {
            return;
        }
        int used = receiver.sack(sackBits);
        advertisedLimit = receiver.limit();
        lastAckSent = receiver.next();
        send(LinkFrames.ack(transport.alloc(), receiver.next() & 0xFFFF, advertisedLimit & 0xFFFF, sackBits, used));
    }

    // ---- timers ----

    private void tick() {
        if (state == State.CLOSED) {
            return;
        }
        long now = now();
        if (state == State.CLOSING && (sender.inFlight() == 0 || now - closingDeadline >= 0)) {
            end(null, true);
            return;
        }
        Channel t = transport;
        if (t == null) {
            return;
        }
        if (now - lastReceived >= settings.timeout().toNanos()) {
            String why = "no frame from the peer for " + settings.timeout().toMillis() + " ms";
            transportLost(t, why);
            t.close();
            return;
        }
        lost.clear();
        sender.expired(now, lost::add);
        if (!lost.isEmpty()) {
            counters.timeouts.increment();
            rtt.backoff();
            for (int s : lost) {
                resend(s);
            }
        }
        if (now - lastSent >= settings.keepalive().toNanos()) {
            sendAck();
        }
        if (!lost.isEmpty() || now - lastSent < 1000) {
            t.flush();
        }
    }

    // ---- reading ----

    /** The LinkChannel asked for data. */
    void readRequested() {
        readPending = true;
        deliver();
    }

    private void deliver() {
        if (delivering || channel == null || !channel.isActive() || !readPending) {
            return;
        }
        delivering = true;
        try {
            ByteBuf b = receiver.poll();
            if (b == null) {
                return;
            }
            readPending = false;
            do {
                channel.pipeline().fireChannelRead(b);
            } while ((b = receiver.poll()) != null);
            if (receiver.limit() - advertisedLimit >= Math.max(1, window / 2)) {
                sendAck(); // room again after a reader that had stopped
                if (transport != null) {
                    transport.flush();
                }
            }
            channel.pipeline().fireChannelReadComplete();
        } finally {
            delivering = false;
        }
        closeIfPeerDone();
    }

    private void closeIfPeerDone() {
        if (peerClosed && receiver.held() == 0 && state != State.CLOSED) {
            end(null, false);
        }
    }

    // ---- closing ----

    /** The LinkChannel was closed: send what is unacknowledged, then say goodbye. */
    void upperClosed() {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (state == State.SUSPENDED || peerClosed || sender.inFlight() == 0) {
            end(null, state == State.OPEN && !peerClosed);
            return;
        }
        state = State.CLOSING;
        closingDeadline = now() + settings.timeout().toNanos();
    }

    /**
     * Ends the session: the LinkChannel closes (with {@code cause}, or normally when null), the
     * link below closes (after a CLOSE frame if {@code tellPeer}), every buffer is released.
     */
    void end(Throwable cause, boolean tellPeer) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (tick != null) {
            tick.cancel(false);
        }
        if (resumeDeadline != null) {
            resumeDeadline.cancel(false);
        }
        pacer.cancel();
        Channel t = transport;
        transport = null;
        if (t != null) {
            if (tellPeer || cause != null) {
                String reason = cause == null ? "closed" : cause.getMessage();
                int code = cause == null ? LinkFrames.CLOSE_NORMAL : LinkFrames.CLOSE_REJECT;
                t.write(LinkFrames.close(t.alloc(), code, reason));
                t.writeAndFlush(LinkFrames.close(t.alloc(), code, reason)).addListener(ChannelFutureListener.CLOSE);
            } else {
                t.close();
            }
        }
        sender.releaseAll();
        receiver.releaseAll();
        if (cause != null) {
            log.info("{}: {}", name, cause.getMessage());
        }
        channel.sessionEnded(cause);
        log.debug("{}: session ended ({})", name, counters);
        onEnd.accept(this);
    }
}
