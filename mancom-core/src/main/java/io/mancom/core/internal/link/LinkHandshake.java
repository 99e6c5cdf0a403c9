package io.mancom.core.internal.link;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The last handler of a link below a reliable session: runs the HELLO handshake on a new link,
 * then hands every frame and event of the link to its {@link ReliableSession}.
 *
 * <h2>Handshake</h2>
 * A leader (a side that dialled, or a device) sends HELLO at once and again every 250 ms until the
 * peer's HELLO says it has seen ours; a follower (a TCP listener, which may hold many sessions)
 * answers the leader's HELLO. Both decide from the two HELLOs alone, so they decide alike
 * ({@link ReliableLinkSink#decide}): the same session again (resumption), or a new one. It fails,
 * with a {@link ManComException} whose message says what to change, when the peer's HELLO has
 * another version or frame size (the peer gets a CLOSE with the same text), when the peer echoes
 * our HELLO (an echo service), when the first bytes are a plain mux's Hello, or when no HELLO
 * came within {@code link.timeout} (a peer without {@code link = reliable}, or other line settings).
 *
 * <p>Threading: the link's event loop; the session's events go to the session's loop. Not
 * sharable. Owns the frame bodies it receives until it hands them on.
 */
final class LinkHandshake extends ChannelInboundHandlerAdapter {
    private static final long HELLO_INTERVAL_MS = 250;

    private final ReliableLinkSink sink;
    private final CobsFrameDecoder decoder;
    private final boolean follower;
    private final long freshId;
    private Channel link;
    private ReliableSession session;      // once attached
    private ReliableSession candidate;    // a leader's session to resume, fixed for this link
    private boolean peerSawUs;
    private boolean failed;
    private ScheduledFuture<?> helloTimer;
    private ScheduledFuture<?> deadline;
    private int framesBeforeHello;
    private long lastSentId;

    LinkHandshake(ReliableLinkSink sink, CobsFrameDecoder decoder, boolean follower, long freshId) {
        this.sink = sink;
        this.decoder = decoder;
        this.follower = follower;
        this.freshId = freshId;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        link = ctx.channel();
        candidate = follower ? null : sink.candidate();
        long timeout = sink.linkSettings().timeout().toMillis();
        deadline = ctx.executor().schedule(() -> fail(noHello(timeout)), timeout, TimeUnit.MILLISECONDS);
        if (!follower) {
            sendHello(false);
            helloTimer = ctx.executor().scheduleAtFixedRate(() -> {
                if (!peerSawUs && !failed) {
                    sendHello(session != null);
                }
            }, HELLO_INTERVAL_MS, HELLO_INTERVAL_MS, TimeUnit.MILLISECONDS);
        }
    }

    private ManComException noHello(long timeout) {
        long bytes = decoder.received();
        String seen = decoder.head().isEmpty() ? "it sent nothing" : "it sent " + bytes + " bytes that are not reliable-link frames (first bytes: "
                + decoder.head() + ")";
        return new ManComException(Reason.PROTOCOL, sink.describe(link) + ": no reliable-link HELLO from the peer within "
                + timeout + " ms: " + seen + ". Set link = reliable on both sides" + (sink.isSerial()
                ? ", with the same line settings (baud, data bits, parity)" : ""));
    }

    /** Our HELLO: the candidate's ids and next frame to resume it, else a fresh id. */
    private void sendHello(boolean seen) {
        LinkFrames.Hello h = ownHello(seen);
        lastSentId = h.myId();
        link.writeAndFlush(h.encode(link.alloc()), link.voidPromise());
    }

    private LinkFrames.Hello ownHello(boolean seen) {
        ReliableSession s = session != null ? session : candidate;
        int flags = (seen ? LinkFrames.FLAG_SEEN : 0) | (follower ? LinkFrames.FLAG_FOLLOWER : 0);
        return new LinkFrames.Hello(LinkFrames.VERSION, flags, sink.linkSettings().frameSize(), sink.window(),
                s != null ? s.myId : freshId, s != null ? s.peerId : 0, s != null ? s.receiveNext() & 0xFFFF : 0);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf body = (ByteBuf) msg;
        if (failed) {
            body.release();
            return;
        }
        byte type = body.getByte(body.readerIndex());
        if (type == LinkFrames.HELLO) {
            try {
                body.skipBytes(1);
                LinkFrames.Hello h = LinkFrames.Hello.decode(body);
                if (h == null) {
                    sink.counters().badFrames.increment();
                } else {
                    hello(h);
                }
            } finally {
                body.release();
            }
            return;
        }
        if (session == null) {
            if (type == LinkFrames.CLOSE && body.readableBytes() > 2) {
                String reason = body.toString(body.readerIndex() + 2, body.readableBytes() - 2, StandardCharsets.UTF_8);
                body.release();
                fail(new ManComException(Reason.PROTOCOL, sink.describe(link) + ": the peer refused the reliable link: " + reason));
                return;
            }
            framesBeforeHello++; // the peer is past its handshake, but its HELLO to us was lost: ours goes on
            body.release();
            return;
        }
        peerSawUs = true;
        session.frameFrom(link, body);
    }

    private void hello(LinkFrames.Hello h) {
        String mismatch = null;
        if (h.version() != LinkFrames.VERSION) {
            mismatch = "the peer runs reliable-link protocol version " + h.version() + ", this side version "
                    + LinkFrames.VERSION + ": use the same ManCom release on both sides";
        } else if (h.frameSize() < LinkSettings.MIN_FRAME_SIZE) {
            mismatch = "the peer's link.frame-size " + h.frameSize() + " is below " + LinkSettings.MIN_FRAME_SIZE;
        } else if (!follower && !h.follower() && h.myId() == ownHello(false).myId() && h.yourId() == ownHello(false).yourId()) {
            mismatch = "the peer sent our own HELLO back: it echoes what it receives, so it is not in reliable link mode"
                    + " (set link = reliable on both sides)";
        }
        if (mismatch != null) {
            ManComException e = new ManComException(Reason.PROTOCOL, sink.describe(link) + ": " + mismatch);
            link.writeAndFlush(LinkFrames.close(link.alloc(), LinkFrames.CLOSE_REJECT, mismatch));
            fail(e);
            return;
        }
        if (h.seen()) {
            peerSawUs = true;
        }
        if (session != null) {
            if (h.myId() == session.peerId) { // the same peer session: it lost our HELLO, or it resumes
                if (h.seen()) {
                    // It has ours: nothing to answer. Answering it too made the two sides' SEEN
                    // HELLOs go back and forth for as long as the link lived (a pair per round
                    // trip: 3-6 % of a serial line, a busy loop on loopback TCP).
                    return;
                }
                ReliableSession s = session;
                LinkFrames.Hello mine = ownHello(true);
                s.run(() -> s.peerHello(link, h, mine.encode(link.alloc())));
                return;
            }
            // The peer started over (it restarted, or gave this session up): this one is lost.
            ReliableSession old = session;
            session = null;
            candidate = null;
            old.run(() -> old.end(new ManComException(Reason.LINK_FAILED, "reliable link " + sink.describe(link)
                    + ": the peer started a new session (it restarted, or its link.resume-timeout passed);"
                    + " what was in flight on this one is lost"), false));
        }
        ReliableLinkSink.Decision d = sink.decide(h, follower ? null : candidate, follower ? 0 : lastSentId);
        if (d.failure() != null) {
            link.writeAndFlush(LinkFrames.close(link.alloc(), LinkFrames.CLOSE_REJECT, d.failure().getMessage()));
            fail(d.failure());
            return;
        }
        session = d.session() != null ? d.session()
                : sink.newSession(link, follower || lastSentId == 0 ? ReliableLinkSink.freshId() : lastSentId, h.myId(),
                        Math.min(h.frameSize(), sink.linkSettings().frameSize()));
        candidate = null;
        if (deadline != null) {
            deadline.cancel(false);
        }
        sendHello(true);
        if (follower) {
            peerSawUs = true; // a leader resends its HELLO until it sees ours; we answer each
        }
        ReliableSession s = session;
        int peerNext = h.next();
        boolean resumed = d.resumed();
        s.run(() -> sink.attach(s, link, peerNext, resumed));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ReliableSession s = session;
        if (s != null) {
            s.run(() -> s.readComplete(link));
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ReliableSession s = session;
        if (s != null && link.isWritable()) {
            s.run(() -> s.transportWritable(link));
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        lossCause = cause;
        org.slf4j.LoggerFactory.getLogger(LinkHandshake.class).debug("{}: {}", link, cause.toString(), cause);
        ctx.close();
    }

    private Throwable lossCause;

    /** What failed in the link's pipeline, if anything (it closed the link): for the log and tests. */
    Throwable lossCause() {
        return lossCause;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopTimers();
        ReliableSession s = session;
        if (s != null) {
            String why = "the link below closed" + (lossCause != null ? ": " + lossCause.getMessage() : "");
            s.run(() -> s.transportLost(link, why));
        } else if (!failed) {
            fail(new ManComException(Reason.LINK_FAILED, sink.describe(link) + ": the link closed during the reliable-link handshake"
                    + (lossCause != null ? ": " + lossCause.getMessage() : "")
                    + (decoder.headIsMuxHello() ? "" : " (a peer without link = reliable closes on frames it does not"
                    + " understand: set link = reliable on both sides)")));
        }
        ctx.fireChannelInactive();
    }

    private void fail(ManComException e) {
        if (failed || session != null) {
            return;
        }
        failed = true;
        stopTimers();
        if (decoder.headIsMuxHello() && !e.getMessage().contains("plain mux")) {
            e = new ManComException(e.reason(), e.getMessage() + " (the peer sent a plain mux Hello: it has mux on but not"
                    + " link = reliable)");
        }
        sink.handshakeFailed(link, e);
        if (link.isOpen()) {
            link.flush();
            link.close();
        }
    }

    private void stopTimers() {
        if (helloTimer != null) {
            helloTimer.cancel(false);
        }
        if (deadline != null) {
            deadline.cancel(false);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopTimers();
    }
}
