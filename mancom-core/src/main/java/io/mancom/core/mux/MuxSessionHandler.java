package io.mancom.core.mux;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.mux.MuxSettings.Role;
import io.mancom.core.mux.MuxSettings.Routing;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * The protocol state of one mux session: the stream table, roles and ids, credit, limits,
 * keepalive and shutdown. It sits last in the link's pipeline, behind {@link MuxFrameDecoder} and
 * {@link MuxFrameEncoder}, and turns frames into {@link MuxStreamChannel}s (child channels of the
 * link) and back. It never parses a byte; the codec does.
 *
 * <pre>
 *   link channel pipeline:  [transport handlers] - MuxFrameDecoder - MuxFrameEncoder - MuxSessionHandler
 *                                                                                         |  child channels
 *                                                               MuxStreamChannel 0, 2, 4, ... (own pipelines)
 * </pre>
 *
 * <h2>Lifecycle</h2>
 * {@link #install} adds the codec and the session to a registered link channel. When the link is
 * active the session sends its Hello (always its first frame) and, once roles are settled, opens
 * and accepts streams. The session ends exactly once, and {@link #terminationFuture()} then
 * completes:
 * <ul>
 *   <li>{@link #closeGracefully} (or closing the link channel): queued stream data is sent (within
 *       the timeout), then CloseMux, then the link closes; streams close cleanly. Succeeds.</li>
 *   <li>The peer's CloseMux: every stream delivers what it has buffered, then fails with
 *       "session closed by peer"; the link closes. Succeeds.</li>
 *   <li>A protocol error or {@code idle-timeout}: CloseMux is sent, the link closes, streams
 *       deliver their buffered data then fail with the reason. Fails with a
 *       {@link ManComException} (PROTOCOL, TIMEOUT).</li>
 *   <li>The link closing or failing without CloseMux: streams deliver their buffered data, then
 *       fail. Fails with a {@link ManComException} of reason LINK_FAILED.</li>
 * </ul>
 * Running out of stream ids closes the session gracefully.
 *
 * <h2>Limits (each from {@link MuxSettings})</h2>
 * At most {@code max-streams} streams are open (both directions); at most {@code accept-backlog}
 * inbound streams wait for their service preamble. An OpenStream past either, an unknown service
 * or a bad preamble is refused at once with CloseStream: the read loop never waits for an
 * application. Receive windows start at 65536 and grow toward {@code max-window} while the sum of
 * all windows stays under {@code receive-buffer} (see {@link ReceiveWindows}), which bounds what
 * the session can be made to buffer. A peer that keeps sending while not reading our frames (over
 * 1 MiB of them still queued past the link's high water mark after a flush) ends the session.
 *
 * <h2>Writing</h2>
 * Small frames (control frames, Data up to 1 KiB) are encoded into one shared buffer; larger Data
 * frames go to {@link MuxFrameEncoder} behind them, in order. The link is flushed once per read
 * batch, once per pass resuming streams that waited for the link, and otherwise once at the end of
 * the event-loop turn in which streams wrote, so frames of many streams share a gathering write.
 * {@link #install} deepens a socket link's water marks to {@link #LINK_HIGH_WATER} so that one
 * 64 KiB frame does not stop every stream.
 *
 * <h2>Threading</h2>
 * Pipeline callbacks run on the link's event loop; so do the streams. The public methods may be
 * called from any thread: they hand their work to the loop and answer with a {@link Future}. The
 * {@link MuxStreamAcceptor} is called on the loop and must not block. The link must fire
 * {@code channelReadComplete} after its reads, as every Netty transport does: deliveries to
 * streams and the replies to the peer are batched up to it.
 *
 * <h2>Buffer ownership</h2>
 * Every frame the session receives is released by it, or its payload handed to a stream, which
 * hands it to its pipeline (whose handler then owns it) or releases it when the stream closes.
 */
public final class MuxSessionHandler extends ChannelDuplexHandler {

    private static final Logger log = LoggerFactory.getLogger(MuxSessionHandler.class);

    /** How long {@link #closeGracefully()} waits for streams' queued data. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);

    /**
     * How long a session that sent CloseMux keeps reading (and dropping) from a socket link, at
     * most, for the peer to close its side first; see {@link #closeGracefully}.
     */
    public static final Duration LINGER = Duration.ofSeconds(2);

    /** The pipeline names {@link #install} uses. */
    public static final String DECODER_NAME = "mux-frame-decoder";
    public static final String ENCODER_NAME = "mux-frame-encoder";
    public static final String SESSION_NAME = "mux-session";

    static final long MAX_STREAM_ID = 0xFFFF_FFFFL;
    // Frames may queue past the link's high water mark only this far (data frames stop at the
    // mark; only control frames pass it), so a peer that sends but never reads cannot grow memory.
    // Checked after each flush of the link, against the bytes the link still holds then.
    static final long CONTROL_BACKLOG_LIMIT = 1 << 20;
    /**
     * The least high water mark {@link #install} gives the link: four full Data frames, so that one
     * frame does not stop every stream and a flush sends several frames in one syscall. The low
     * mark becomes at least half of it.
     */
    static final int LINK_HIGH_WATER = 4 * (MuxFrame.HEADER_SIZE + MuxFrame.MAX_DATA);
    // Small frames (control, short Data) are encoded into one buffer; past this size it is written
    // to the link (not flushed) and a new one started.
    private static final int COALESCE_CHUNK = 16 * 1024;

    private enum State { NEW, OPEN, CLOSING, CLOSED }

    private final MuxSettings settings;
    private final MuxStreamAcceptor acceptor;
    private final Channel link;
    private final EventLoop loop;
    private final Promise<Void> termination;
    private final RoleNegotiation roles;
    private final ReceiveWindows windows;

    // Event loop only.
    private ChannelHandlerContext ctx;
    private Liveness liveness;
    private State state = State.NEW;
    private long nextLocalId;
    private final IntObjectHashMap<MuxStreamChannel> streams = new IntObjectHashMap<>();
    private final ArrayDeque<MuxStreamChannel> ready = new ArrayDeque<>();
    private final ArrayDeque<MuxStreamChannel> waitingForLink = new ArrayDeque<>();
    private final ArrayDeque<PendingOpen> pendingOpens = new ArrayDeque<>();
    private boolean batching;
    private boolean flushPending;
    private boolean flushScheduled;
    private final Runnable flushTask = this::scheduledFlush;
    private ByteBuf coalesced; // small frames encoded, not yet written to the link
    private boolean resuming;
    private ScheduledFuture<?> closeTimer;

    // Written on the loop, readable anywhere.
    private volatile boolean peerIsManCom;
    private volatile Throwable cause;
    private volatile int pendingStreams;
    private volatile int openStreams;
    private volatile long bufferedBytes;
    private volatile long streamsOpened;
    private volatile long streamsRefused;
    private volatile long ignoredFrames;
    private volatile long keepalives;

    private MuxSessionHandler(Channel link, MuxSettings settings, Role role, MuxStreamAcceptor acceptor,
                              IntSupplier tieBreaks) {
        this.link = link;
        this.loop = link.eventLoop();
        this.settings = settings;
        this.acceptor = acceptor;
        this.termination = loop.newPromise();
        this.roles = new RoleNegotiation(role, tieBreaks);
        this.windows = new ReceiveWindows(settings);
    }

    /**
     * Adds {@link MuxFrameDecoder}, {@link MuxFrameEncoder} and a new session at the end of the
     * link's pipeline. The link must be registered; if it is active the session starts at once,
     * otherwise when it becomes active. Call it on the link's event loop (a
     * {@code ChannelInitializer}, a {@code ChannelSink}).
     *
     * @param link     the link: a TCP socket channel, a device channel, any byte channel
     * @param settings the service's mux settings ({@code enabled} is not consulted)
     * @param role     this side's role: {@link MuxSettings#roleFor} tells which (on TCP the dialer
     *                 is the initiator; {@link Role#AUTO} needs a ManCom peer)
     * @param acceptor decides about every stream the peer opens
     * @throws IllegalStateException if the link is not registered
     */
    public static MuxSessionHandler install(Channel link, MuxSettings settings, Role role, MuxStreamAcceptor acceptor) {
        return install(link, settings, role, acceptor, RoleNegotiation::draw);
    }

    static MuxSessionHandler install(Channel link, MuxSettings settings, Role role, MuxStreamAcceptor acceptor,
                                     IntSupplier tieBreaks) {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(acceptor, "acceptor");
        if (!link.isRegistered()) {
            throw new IllegalStateException("link.isRegistered() is false: install the mux session from a "
                    + "ChannelInitializer or after registration");
        }
        MuxSessionHandler session = new MuxSessionHandler(link, settings, role, acceptor, tieBreaks);
        deepenWaterMarks(link);
        ChannelPipeline p = link.pipeline();
        p.addLast(DECODER_NAME, new MuxFrameDecoder());
        p.addLast(ENCODER_NAME, MuxFrameEncoder.INSTANCE);
        p.addLast(SESSION_NAME, session);
        return session;
    }

    /**
     * On a socket link, raises the write-buffer water marks to at least {@link #LINK_HIGH_WATER}
     * (low: at least half of the high mark). The link carries every stream; with Netty's default
     * high mark of 64 KiB, one full Data frame makes it unwritable and stops all streams until it
     * drains, and each flush sends a frame or two. Each stream keeps its own marks (its outbound
     * buffer), so an application cannot queue more than before. Other links (serial, USB) keep
     * theirs: on a slow line a deeper queue is seconds of delay for every other stream's frames.
     */
    private static void deepenWaterMarks(Channel link) {
        if (!(link instanceof DuplexChannel)) {
            return;
        }
        WriteBufferWaterMark m = link.config().getWriteBufferWaterMark();
        int high = Math.max(m.high(), LINK_HIGH_WATER);
        int low = Math.max(m.low(), high / 2);
        if (high != m.high() || low != m.low()) {
            link.config().setWriteBufferWaterMark(new WriteBufferWaterMark(low, high));
        }
    }

    // ---- public API

    /** The link channel the session runs on. */
    public Channel link() {
        return link;
    }

    /** The session's settings. */
    public MuxSettings settings() {
        return settings;
    }

    /** This side's role: {@link Role#AUTO} until the Hello exchange has settled it. */
    public Role role() {
        return roles.role();
    }

    /** Whether the peer sent a Hello, so is a ManCom side rather than a plain gomux peer. */
    public boolean isPeerManCom() {
        return peerIsManCom;
    }

    /** Whether the session has not ended (it may be closing). */
    public boolean isOpen() {
        return !termination.isDone();
    }

    /**
     * Completes when the session has ended: successfully after CloseMux (from either side),
     * with a {@link ManComException} otherwise (see the class comment).
     */
    public Future<Void> terminationFuture() {
        return termination;
    }

    /**
     * Why the session ended ({@code null} while it runs): the exception streams failed with, also
     * after a clean end ("session closed by peer", "session closed").
     */
    public Throwable terminationCause() {
        return cause;
    }

    /** The session's counters. */
    public MuxSessionStats stats() {
        return new MuxSessionStats(openStreams, pendingStreams, bufferedBytes, windows.total(), streamsOpened,
                streamsRefused, ignoredFrames, keepalives);
    }

    /** {@link #openStream(String, ChannelHandler)} without a handler. */
    public Future<MuxStreamChannel> openStream(String service) {
        return openStream(service, null);
    }

    /**
     * Opens a stream to {@code service}: sends OpenStream and, with {@code routing = service}, the
     * service preamble, then registers the stream with {@code handler} (if not null) in its
     * pipeline, so the handler sees {@code channelActive}. Waits for the link to be active and the
     * roles to be settled if they are not yet.
     *
     * <p>The peer has no way to say it accepted: a stream it refuses is closed by its CloseStream
     * right after opening (the channel sees end-of-input without data).
     *
     * @param service the service to open the stream to; required with {@code routing = service}
     *                (1..255 bytes of UTF-8), only recorded with {@code routing = none}
     * @return completes with the registered stream, or fails: {@link IllegalArgumentException} for
     *         a bad name, {@link ManComException} BUSY at {@code max-streams}, CLOSED when the
     *         session is closing or closed, or has run out of stream ids
     */
    public Future<MuxStreamChannel> openStream(String service, ChannelHandler handler) {
        Promise<MuxStreamChannel> promise = loop.newPromise();
        if (loop.inEventLoop()) {
            open(service, handler, promise);
        } else {
            try {
                loop.execute(() -> open(service, handler, promise));
            } catch (RejectedExecutionException e) {
                promise.tryFailure(new ManComException(Reason.CLOSED, "cannot open a stream to '" + service
                        + "': the event loop of " + link + " has shut down", e));
            }
        }
        return promise;
    }

    /** {@link #closeGracefully(Duration)} with {@link #DEFAULT_CLOSE_TIMEOUT}. */
    public Future<Void> closeGracefully() {
        return closeGracefully(DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * Ends the session cleanly: no new streams (inbound ones are refused), the data streams have
     * queued is sent as credit allows for up to {@code timeout}, then the queued frames, CloseMux,
     * and the link closes. Streams close cleanly; writes still queued at the timeout fail.
     *
     * <p>A socket link is closed the lingering way: after CloseMux its output is shut down and
     * its input drained until the peer closes, for at most {@link #LINGER}, so that TCP does not
     * answer the peer's last frames with a reset that could destroy the CloseMux in flight.
     *
     * @return {@link #terminationFuture()}
     */
    public Future<Void> closeGracefully(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (loop.inEventLoop()) {
            beginClose(timeout);
        } else {
            try {
                loop.execute(() -> beginClose(timeout));
            } catch (RejectedExecutionException e) {
                link.close(); // the loop is gone: nothing can be sent any more
            }
        }
        return termination;
    }

    /** Test hook: the id the next locally opened stream gets. */
    void nextLocalStreamId(long id) {
        assert loop.inEventLoop();
        nextLocalId = id;
    }

    // ---- pipeline events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.liveness = new Liveness(ctx.executor(), settings.keepaliveInterval(), settings.idleTimeout(),
                new Liveness.Actions() {
                    @Override
                    public void sendKeepalive() {
                        writeFrame(MuxFrame.keepalive());
                        flushSoon();
                    }

                    @Override
                    public void peerSilent() {
                        terminate(new ManComException(Reason.TIMEOUT, "peer silent for "
                                + format(settings.idleTimeout()) + " (mux.idle-timeout) on " + link), true, false, false);
                    }
                });
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (state != State.NEW) {
            return;
        }
        state = State.OPEN;
        liveness.start();
        writeFrame(hello(roles.start()));
        flushLink();
        if (roles.settled()) {
            roleSettled();
        }
    }

    private MuxFrame hello(int tieBreak) {
        return MuxFrame.hello(settings.routing() == Routing.SERVICE ? MuxFrame.CAP_SERVICE_ROUTING : 0, tieBreak);
    }

    private void roleSettled() {
        nextLocalId = roles.role() == Role.INITIATOR ? 0 : 1;
        PendingOpen p;
        while ((p = pendingOpens.poll()) != null) {
            open(p.service, p.handler, p.promise);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof MuxFrame frame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        batching = true;
        if (state == State.CLOSED) {
            frame.release();
            return;
        }
        liveness.read();
        try {
            onFrame(frame);
        } catch (MuxProtocolException e) {
            protocolError(e.getMessage());
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        endBatch();
        ctx.fireChannelReadComplete();
    }

    /** Delivers what the read batch queued for streams, then sends the replies in one flush. */
    private void endBatch() {
        batching = true;
        try {
            MuxStreamChannel s;
            while ((s = ready.poll()) != null) {
                s.leftReadyQueue();
                s.deliver();
            }
        } finally {
            batching = false;
        }
        if (flushPending) {
            flushPending = false;
            flushLink();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            resumeWaitingStreams();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** One pass over the streams that stopped for the link, in order; one that fills it again goes to the back. */
    private void resumeWaitingStreams() {
        if (resuming) {
            return;
        }
        resuming = true;
        boolean wasBatching = batching;
        batching = true;
        try {
            int n = waitingForLink.size();
            while (n-- > 0 && link.isWritable()) {
                MuxStreamChannel s = waitingForLink.poll();
                if (s == null) {
                    break; // the session ended during the pass (a stream's turn finished a graceful close)
                }
                s.leftLinkQueue();
                if (s.isOpen()) {
                    s.forceFlush(); // what it has queued first
                    if (!s.waitingForLink()) {
                        s.takeTurn(); // writable again: its writer may add to the link now
                    }
                }
            }
        } finally {
            batching = wasBatching;
            resuming = false;
        }
        if (!batching && flushPending) {
            flushPending = false;
            flushLink(); // once per pass: every resumed stream's frames in one write
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state != State.CLOSED) {
            terminate(new ManComException(Reason.LINK_FAILED, "mux link " + link + " closed without CloseMux"),
                    false, false, false);
        }
        ctx.fireChannelInactive();
    }

    /** A socket link whose peer shut its output down (with half-closure allowed on the link). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (state != State.CLOSED) {
                terminate(new ManComException(Reason.LINK_FAILED, "mux link " + link
                        + " was shut down by the peer without CloseMux"), false, false, false);
            } else {
                ctx.close();
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
        if (t instanceof MuxProtocolException) {
            protocolError(t.getMessage());
        } else if (state != State.CLOSED) {
            terminate(new ManComException(Reason.LINK_FAILED, "mux link " + link + " failed: " + t.getMessage(), t),
                    false, false, false);
        } else {
            log.debug("{}: exception after the session ended", link, t);
        }
    }

    /**
     * Closing the link directly still ends the session properly: streams close, CloseMux goes out
     * after the queued frames, and the link closes as {@link #closeGracefully} closes it (but
     * without waiting for streams' queued data). The promise completes when the link is closed.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state == State.CLOSED) {
            ctx.close(promise);
            return;
        }
        boolean started = state != State.NEW;
        endStreamsAndState(new ManComException(Reason.CLOSED, "session closed"), true);
        termination.trySuccess(null);
        if (started && link.isActive()) {
            sendCloseMuxAndClose(promise);
        } else {
            dropCoalesced();
            ctx.close(promise);
        }
    }

    /** A flush of the link from elsewhere sends the coalesced frames too. */
    @Override
    public void flush(ChannelHandlerContext ctx) {
        writeCoalesced();
        ctx.flush();
    }

    /** A write to the link from elsewhere goes behind the coalesced frames, in order. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        writeCoalesced();
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropCoalesced();
        if (state != State.CLOSED) {
            endStreamsAndState(new ManComException(Reason.CLOSED, "the mux session was removed from " + link), false);
            termination.tryFailure(cause);
        }
    }

    // ---- inbound frames

    private void onFrame(MuxFrame frame) {
        switch (frame.type()) {
            case DATA -> onData(frame);
            case KEEPALIVE -> {
                if (frame.isHello()) {
                    onHello(frame.helloCapabilities(), frame.helloTieBreak());
                } else {
                    keepalives++;
                }
            }
            case OPEN_STREAM -> onOpenStream(frame.streamId());
            case CLOSE_READ, CLOSE_WRITE, CLOSE_STREAM, WINDOW_UPDATE -> onStreamControl(frame);
            case CLOSE_MUX -> terminate(new ManComException(Reason.CLOSED, "session closed by peer"), false, false,
                    true);
            default -> throw new AssertionError(frame.type());
        }
    }

    private void onHello(int caps, int tie) {
        peerIsManCom = true;
        if (settings.routing() == Routing.SERVICE && (caps & MuxFrame.CAP_SERVICE_ROUTING) == 0) {
            log.warn("{}: the peer does not route by service but mux.routing = service here; "
                    + "set mux.routing = none on both sides, or service on both", link);
        }
        switch (roles.onPeerHello(tie)) {
            case SETTLED -> roleSettled();
            case DRAW_AGAIN -> {
                writeFrame(hello(roles.tieBreak()));
                flushSoon();
            }
            case UNCHANGED -> {
            }
            default -> throw new AssertionError();
        }
    }

    private void onOpenStream(int id) {
        if (state != State.OPEN) {
            refuse(id);
            return;
        }
        if (!roles.settled()) {
            throw new MuxProtocolException("OpenStream for stream " + unsigned(id) + " before the roles were settled: "
                    + "mux.role = auto needs a ManCom peer, which sends a Hello first; "
                    + "set mux.role = initiator or responder for a plain gomux peer");
        }
        boolean peerOpensEven = roles.role() == Role.RESPONDER;
        if (((id & 1) == 0) != peerOpensEven) {
            throw new MuxProtocolException("OpenStream for stream " + unsigned(id) + ", an id of the wrong parity: "
                    + "the peer is the " + (peerOpensEven ? "initiator and opens even" : "responder and opens odd")
                    + " ids");
        }
        if (streams.containsKey(id)) {
            throw new MuxProtocolException("OpenStream for stream " + unsigned(id) + ", which is already open");
        }
        if (streams.size() >= settings.maxStreams()) {
            log.debug("{}: refusing stream {}: mux.max-streams ({}) reached", link, unsigned(id), settings.maxStreams());
            refuse(id);
            return;
        }
        if (settings.routing() == Routing.SERVICE && pendingStreams >= settings.acceptBacklog()) {
            log.debug("{}: refusing stream {}: mux.accept-backlog ({}) full", link, unsigned(id),
                    settings.acceptBacklog());
            refuse(id);
            return;
        }
        boolean preamble = settings.routing() == Routing.SERVICE;
        MuxStreamChannel s = newStream(id, false, null, preamble);
        if (preamble) {
            pendingStreams++;
        } else {
            handOver(s, null);
        }
    }

    private void onData(MuxFrame frame) {
        MuxStreamChannel s = streams.get(frame.streamId());
        if (s == null) {
            ignoredFrames++;
            frame.release();
            return;
        }
        int n = frame.length();
        try {
            windows.received(s, n);
        } catch (MuxProtocolException e) {
            frame.release();
            throw e;
        }
        if (n == 0 || !s.wantsData()) {
            if (n > 0) {
                ignoredFrames++;
            }
            frame.release();
            return;
        }
        s.enqueue(frame.content());
        bufferedBytes += n;
        if (s.awaitingPreamble()) {
            route(s);
        } else {
            markReady(s);
        }
    }

    private void onStreamControl(MuxFrame frame) {
        MuxStreamChannel s = streams.get(frame.streamId());
        if (s == null) {
            ignoredFrames++;
            return;
        }
        if (s.awaitingPreamble()) {
            if (frame.type() == MuxFrame.Type.WINDOW_UPDATE) {
                s.creditGranted(frame.length());
            } else {
                // Ended before naming its service: it can never be routed.
                dropPending(s, frame.type() != MuxFrame.Type.CLOSE_STREAM);
            }
            return;
        }
        switch (frame.type()) {
            case WINDOW_UPDATE -> s.creditGranted(frame.length());
            case CLOSE_READ -> {
                s.onCloseRead();
                markReady(s);
            }
            case CLOSE_WRITE -> s.onCloseWrite();
            case CLOSE_STREAM -> {
                s.onCloseStream();
                markReady(s);
            }
            default -> throw new AssertionError(frame.type());
        }
    }

    private void markReady(MuxStreamChannel s) {
        if (s.queueReady()) {
            ready.add(s);
        }
    }

    // ---- opening, routing, refusing

    private MuxStreamChannel newStream(int id, boolean outbound, String service, boolean awaitingPreamble) {
        MuxStreamChannel s = new MuxStreamChannel(this, link, id, outbound, service, awaitingPreamble);
        streams.put(id, s);
        openStreams = streams.size();
        streamsOpened++;
        windows.opened(s);
        return s;
    }

    /** Routes a stream once its preamble is complete. */
    private void route(MuxStreamChannel s) {
        ServicePreamble.Taken taken;
        try {
            taken = s.takePreamble();
        } catch (IllegalArgumentException e) {
            log.debug("{}: refusing stream {}: {}", link, s.streamId(), e.getMessage());
            dropPending(s, true);
            return;
        }
        if (taken == null) {
            return;
        }
        pendingStreams--;
        if (handOver(s, taken.service())) {
            streamConsumed(s, taken.bytes());
            markReady(s);
        }
    }

    /** Offers an inbound stream to the acceptor; registers it if accepted. */
    private boolean handOver(MuxStreamChannel s, String service) {
        s.service(service);
        boolean accepted;
        try {
            accepted = acceptor.accept(s, service);
        } catch (RuntimeException | Error e) {
            log.warn("{}: the stream acceptor threw for stream {} (service '{}'); the stream is refused", link,
                    s.streamId(), service, e);
            accepted = false;
        }
        if (!accepted) {
            forget(s);
            refuse(s.rawId());
            return false;
        }
        register(s, null);
        return true;
    }

    private void register(MuxStreamChannel s, Promise<MuxStreamChannel> promise) {
        loop.register(s).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                if (promise != null) {
                    promise.trySuccess(s);
                }
                return;
            }
            log.warn("{}: could not register stream {}", link, s.streamId(), f.cause());
            forget(s);
            if (state != State.CLOSED) {
                sendControl(s, MuxFrame.Type.CLOSE_STREAM);
            }
            if (promise != null) {
                promise.tryFailure(f.cause());
            }
        });
    }

    /** Drops a stream that is still waiting for its preamble. */
    private void dropPending(MuxStreamChannel s, boolean sendCloseStream) {
        pendingStreams--;
        forget(s);
        if (sendCloseStream) {
            refuse(s.rawId());
        } else {
            streamsRefused++;
        }
    }

    /** Removes an unregistered stream from the table without any pipeline event. */
    private void forget(MuxStreamChannel s) {
        unlist(s);
        s.discard();
    }

    private void unlist(MuxStreamChannel s) {
        if (streams.get(s.rawId()) == s) {
            streams.remove(s.rawId());
            openStreams = streams.size();
            windows.closed(s);
        }
    }

    private void refuse(int id) {
        streamsRefused++;
        writeFrame(MuxFrame.control(MuxFrame.Type.CLOSE_STREAM, id));
        flushSoon();
    }

    private void open(String service, ChannelHandler handler, Promise<MuxStreamChannel> promise) {
        assert loop.inEventLoop();
        if (state == State.CLOSING || state == State.CLOSED) {
            promise.tryFailure(new ManComException(Reason.CLOSED, "cannot open a stream to '" + service
                    + "': the mux session on " + link + " is " + (state == State.CLOSING ? "closing" : "closed")));
            return;
        }
        if (settings.routing() == Routing.SERVICE) {
            try {
                ServicePreamble.validate(service);
            } catch (IllegalArgumentException e) {
                promise.tryFailure(e);
                return;
            }
        }
        if (state == State.NEW || !roles.settled()) {
            pendingOpens.add(new PendingOpen(service, handler, promise));
            return;
        }
        if (streams.size() >= settings.maxStreams()) {
            promise.tryFailure(new ManComException(Reason.BUSY, "cannot open a stream to '" + service
                    + "': mux.max-streams (" + settings.maxStreams() + ") streams are open on " + link));
            return;
        }
        if (nextLocalId > MAX_STREAM_ID) {
            promise.tryFailure(new ManComException(Reason.CLOSED, "cannot open a stream to '" + service
                    + "': the mux session on " + link + " has used up its stream ids and is closing"));
            log.info("{}: stream ids used up; closing the session", link);
            beginClose(DEFAULT_CLOSE_TIMEOUT);
            return;
        }
        int id = (int) nextLocalId;
        nextLocalId += 2;
        MuxStreamChannel s = newStream(id, true, service, false);
        writeFrame(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, id));
        if (settings.routing() == Routing.SERVICE) {
            ByteBuf preamble = ServicePreamble.encode(link.alloc(), service);
            s.preambleSent(preamble.readableBytes());
            writeFrame(MuxFrame.data(id, preamble));
        }
        flushSoon();
        if (handler != null) {
            s.pipeline().addLast(handler);
        }
        register(s, promise);
    }

    // ---- called by streams, on the loop

    /** A stream delivered {@code n} bytes to its reader: return the credit (growing the window). */
    void streamConsumed(MuxStreamChannel s, int n) {
        assert loop.inEventLoop();
        if (state == State.CLOSED || !s.wantsData()) {
            return;
        }
        long grant = windows.consumed(s, n);
        while (grant > 0) {
            int g = (int) Math.min(grant, MuxFrame.MAX_LENGTH);
            writeFrame(MuxFrame.windowUpdate(s.rawId(), g));
            grant -= g;
        }
        flushSoon();
    }

    /** Buffered bytes left the session (delivered, taken as preamble, or dropped). */
    void inboundReleased(int n) {
        bufferedBytes -= n;
    }

    boolean linkWritable() {
        return link.isWritable();
    }

    /** The stream found the link full (with a frame still to send, or having just filled it): it waits for a turn. */
    void awaitLink(MuxStreamChannel s) {
        if (s.queueForLink()) {
            waitingForLink.add(s);
            s.awaitTurn();
        }
    }

    void writeData(MuxStreamChannel s, ByteBuf payload) {
        writeFrame(MuxFrame.data(s.rawId(), payload));
    }

    void sendControl(MuxStreamChannel s, MuxFrame.Type type) {
        writeFrame(MuxFrame.control(type, s.rawId()));
        flushSoon();
    }

    /** A stream's flushed writes are all sent. */
    void streamDrained(MuxStreamChannel s) {
        if (state == State.CLOSING) {
            finishCloseIfDrained();
        }
    }

    /** A registered stream closed (locally, or after delivering its end). */
    void streamClosed(MuxStreamChannel s, boolean sendCloseStream) {
        assert loop.inEventLoop();
        unlist(s);
        if (sendCloseStream && state != State.CLOSED) {
            sendControl(s, MuxFrame.Type.CLOSE_STREAM);
        }
        if (state == State.CLOSING) {
            finishCloseIfDrained();
        }
    }

    /**
     * Asks for the link to be flushed: at the end of the read batch or resume pass if one is
     * running, otherwise once at the end of this event-loop turn, so the frames of every stream
     * that writes in the turn go out together (one gathering write, not one syscall per frame).
     */
    void flushSoon() {
        if (batching) {
            flushPending = true;
        } else if (ctx != null && !flushScheduled) {
            flushScheduled = true;
            if (loop instanceof SingleThreadEventLoop l) {
                l.executeAfterEventLoopIteration(flushTask);
            } else {
                loop.execute(flushTask); // EmbeddedChannel's loop, for one
            }
        }
    }

    private void scheduledFlush() {
        flushScheduled = false;
        if (batching) {
            flushPending = true; // the batch flushes
        } else {
            flushLink();
        }
    }

    /**
     * Flushes the link (the coalesced frames first), then checks the control-frame backlog: with
     * the bytes flushed, what the link still holds past its high water mark is what the peer has
     * not taken. Data frames stop at the mark; only control frames pass it, so over
     * {@link #CONTROL_BACKLOG_LIMIT} of them means the peer keeps sending (opening, writing)
     * without reading the replies.
     */
    private void flushLink() {
        if (ctx == null) {
            return;
        }
        writeCoalesced();
        ctx.flush();
        if (state == State.CLOSED || link.isWritable()) {
            return;
        }
        ChannelOutboundBuffer out = link.unsafe().outboundBuffer();
        long pastMark = out == null ? 0 : out.totalPendingWriteBytes() - link.config().getWriteBufferHighWaterMark();
        if (pastMark > CONTROL_BACKLOG_LIMIT) {
            protocolError("the peer does not read: over " + (CONTROL_BACKLOG_LIMIT >> 10)
                    + " KiB of mux frames are queued for it");
        }
    }

    private void writeFrame(MuxFrame frame) {
        if (state == State.CLOSED || ctx == null) {
            frame.release();
            return;
        }
        liveness.wrote();
        if (MuxFrameEncoder.copies(frame)) {
            try {
                if (coalesced == null) {
                    coalesced = ctx.alloc().ioBuffer(256);
                }
                MuxFrameEncoder.encodeInto(coalesced, frame);
            } finally {
                frame.release();
            }
            if (coalesced.readableBytes() >= COALESCE_CHUNK) {
                writeCoalesced();
            }
            return;
        }
        writeCoalesced(); // in order: what was written before goes first
        ctx.write(frame, ctx.voidPromise());
    }

    /** Hands the coalesced frames to the link (without flushing). */
    private void writeCoalesced() {
        ByteBuf b = coalesced;
        if (b == null) {
            return;
        }
        coalesced = null;
        if (b.isReadable() && ctx != null) {
            ctx.write(b, ctx.voidPromise());
        } else {
            b.release();
        }
    }

    private void dropCoalesced() {
        if (coalesced != null) {
            coalesced.release();
            coalesced = null;
        }
    }

    // ---- ending

    private void beginClose(Duration timeout) {
        assert loop.inEventLoop();
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (state == State.NEW) {
            terminate(new ManComException(Reason.CLOSED, "session closed"), false, true, true);
            return;
        }
        state = State.CLOSING;
        failPendingOpens(new ManComException(Reason.CLOSED, "the mux session on " + link + " is closing"));
        closeTimer = ctx.executor().schedule(this::finishClose, timeout.toNanos(), TimeUnit.NANOSECONDS);
        finishCloseIfDrained();
    }

    private void finishCloseIfDrained() {
        for (MuxStreamChannel s : streams.values()) {
            if (s.hasQueuedWrites()) {
                return;
            }
        }
        finishClose();
    }

    private void finishClose() {
        if (state == State.CLOSING) {
            terminate(new ManComException(Reason.CLOSED, "session closed"), true, true, true);
        }
    }

    private void protocolError(String message) {
        if (state == State.CLOSED) {
            return;
        }
        log.warn("{}: mux protocol error, ending the session: {}", link, message);
        terminate(new ManComException(Reason.PROTOCOL, message), true, false, false);
    }

    /**
     * Ends the session: streams end ({@code clean}: at once; otherwise after delivering what they
     * buffered, failing with {@code why}), CloseMux goes out after every queued frame if
     * {@code sendCloseMux}, and the link closes.
     */
    private void terminate(Throwable why, boolean sendCloseMux, boolean clean, boolean success) {
        if (state == State.CLOSED) {
            return;
        }
        boolean started = state != State.NEW;
        endStreamsAndState(why, clean);
        if (ctx != null) {
            if (sendCloseMux && started && link.isActive()) {
                sendCloseMuxAndClose(link.newPromise());
            } else {
                dropCoalesced();
                ctx.close();
            }
        }
        if (success) {
            termination.trySuccess(null);
        } else {
            termination.tryFailure(why);
        }
    }

    /**
     * Writes CloseMux behind every queued frame, then closes the link. A socket is closed the
     * lingering way: output shut down (FIN after the last byte), input read and dropped until
     * the peer closes too, at most {@link #LINGER}. Closing at once with unread bytes in the
     * receive buffer would make TCP send a reset, and the reset can destroy the frames still in
     * flight to the peer, the CloseMux among them.
     */
    private void sendCloseMuxAndClose(ChannelPromise promise) {
        ChannelHandlerContext c = ctx;
        link.closeFuture().addListener(f -> promise.trySuccess());
        writeCoalesced(); // the frames written before the end go first
        c.writeAndFlush(MuxFrame.control(MuxFrame.Type.CLOSE_MUX, 0)).addListener(f -> {
            if (f.isSuccess() && link instanceof DuplexChannel d && link.isActive()) {
                d.shutdownOutput();
                ScheduledFuture<?> limit = c.executor().schedule(() -> {
                    c.close();
                }, LINGER.toNanos(), TimeUnit.NANOSECONDS);
                link.closeFuture().addListener(x -> limit.cancel(false));
            } else {
                c.close();
            }
        });
        closeIfStalled(c, Long.MAX_VALUE);
    }

    /**
     * Closes the link if, in a {@link #LINGER} period, the peer has taken none of the bytes still
     * queued before the CloseMux: a slow link gets all the time it needs, a peer that reads
     * nothing cannot hold the link (and the queued frames) open.
     */
    private void closeIfStalled(ChannelHandlerContext c, long pendingBefore) {
        c.executor().schedule(() -> {
            ChannelOutboundBuffer out = link.unsafe().outboundBuffer();
            long pending = out == null ? 0 : out.totalPendingWriteBytes();
            if (!link.isOpen() || pending == 0) {
                return; // closed, or the CloseMux is out and the linger timer has taken over
            }
            if (pending >= pendingBefore) {
                log.debug("{}: the peer took nothing of the last {} bytes for {}; closing", link, pending,
                        format(LINGER));
                c.close();
                return;
            }
            closeIfStalled(c, pending);
        }, LINGER.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void endStreamsAndState(Throwable why, boolean clean) {
        state = State.CLOSED;
        cause = why;
        if (liveness != null) {
            liveness.stop();
        }
        if (closeTimer != null) {
            closeTimer.cancel(false);
        }
        failPendingOpens(why);
        waitingForLink.clear();
        List<MuxStreamChannel> all = new ArrayList<>(streams.values());
        for (MuxStreamChannel s : all) {
            s.leftLinkQueue();
            if (!s.isRegistered()) {
                if (s.awaitingPreamble()) {
                    pendingStreams--;
                }
                forget(s);
            } else {
                s.sessionEnded(why, clean);
            }
        }
        // Streams still delivering buffered data stay listed until they close.
        ready.clear();
        for (MuxStreamChannel s : all) {
            s.leftReadyQueue();
        }
    }

    private void failPendingOpens(Throwable why) {
        PendingOpen p;
        while ((p = pendingOpens.poll()) != null) {
            p.promise.tryFailure(why);
        }
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000 || ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = d.getSeconds();
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }

    private static String unsigned(int id) {
        return Integer.toUnsignedString(id);
    }

    private record PendingOpen(String service, ChannelHandler handler, Promise<MuxStreamChannel> promise) {
    }
}
