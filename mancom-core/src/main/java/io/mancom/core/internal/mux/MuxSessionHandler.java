package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.internal.mux.MuxSettings.Role;
import io.mancom.core.internal.mux.MuxSettings.Routing;
import io.mancom.core.internal.monitor.LinkStats;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
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
 * Small frames are coalesced and the link flushed once per read batch or event-loop turn (see
 * {@link MuxFrameWriter}). {@link #install} deepens a socket link's water marks to
 * {@link #LINK_HIGH_WATER} so that one 64 KiB frame does not stop every stream.
 *
 * <h2>Parts</h2>
 * {@code MuxStreamTable} keeps the streams, {@code MuxFrameWriter} writes the frames,
 * {@code MuxShutdown} ends the session; this class handles the pipeline's events and dispatches.
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
    /**
     * The least high water mark {@link #install} gives the link: four full Data frames, so that one
     * frame does not stop every stream and a flush sends several frames in one syscall. The low
     * mark becomes at least half of it.
     */
    static final int LINK_HIGH_WATER = 4 * (MuxFrame.HEADER_SIZE + MuxFrame.MAX_DATA);
    private final MuxSettings settings;
    private final Channel link;
    private final EventLoop loop;
    private final RoleNegotiation roles;
    private final ReceiveWindows windows;
    private final MuxStreamTable table;
    private final MuxShutdown shutdown;
    private final MuxFrameLogger frames = MuxFrameLogger.instance();

    // Event loop only; set when the handler is added. stats: the link's counters (monitoring), or null.
    private ChannelHandlerContext ctx;
    private MuxFrameWriter writer;
    private Liveness liveness;
    private final ArrayDeque<PendingOpen> pendingOpens = new ArrayDeque<>();
    private LinkStats stats;

    // Written on the loop, readable anywhere.
    private volatile boolean peerIsManCom;
    private volatile long keepalives;

    private MuxSessionHandler(Channel link, MuxSettings settings, Role role, MuxStreamAcceptor acceptor,
                              IntSupplier tieBreaks) {
        this.link = link;
        this.loop = link.eventLoop();
        this.settings = settings;
        this.roles = new RoleNegotiation(role, tieBreaks);
        this.windows = new ReceiveWindows(settings);
        this.table = new MuxStreamTable(this, acceptor, windows);
        this.shutdown = new MuxShutdown(this);
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
        MuxFrameWriter.deepenWaterMarks(link, LINK_HIGH_WATER);
        ChannelPipeline p = link.pipeline();
        p.addLast(DECODER_NAME, new MuxFrameDecoder());
        p.addLast(ENCODER_NAME, MuxFrameEncoder.INSTANCE);
        p.addLast(SESSION_NAME, session);
        return session;
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
        return !shutdown.isDone();
    }

    /**
     * Completes when the session has ended: successfully after CloseMux (from either side),
     * with a {@link ManComException} otherwise (see the class comment).
     */
    public Future<Void> terminationFuture() {
        return shutdown.termination();
    }

    /**
     * Why the session ended ({@code null} while it runs): the exception streams failed with, also
     * after a clean end ("session closed by peer", "session closed").
     */
    public Throwable terminationCause() {
        return shutdown.cause();
    }

    /** The session's counters. */
    public MuxSessionStats stats() {
        return new MuxSessionStats(table.openStreams(), table.pendingStreams(), table.bufferedBytes(),
                windows.total(), table.streamsOpened(), table.streamsRefused(), table.ignoredFrames(), keepalives);
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
            shutdown.beginClose(timeout);
        } else {
            try {
                loop.execute(() -> shutdown.beginClose(timeout));
            } catch (RejectedExecutionException e) {
                link.close(); // the loop is gone: nothing can be sent any more
            }
        }
        return shutdown.termination();
    }

    /** Test hook: the id the next locally opened stream gets. */
    void nextLocalStreamId(long id) {
        assert loop.inEventLoop();
        table.nextLocalId(id);
    }

    // ---- pipeline events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.stats = LinkStats.ofLink(link);
        this.writer = new MuxFrameWriter(ctx, () -> liveness.wrote(), shutdown::protocolError, frames);
        this.liveness = new Liveness(ctx.executor(), settings.keepaliveInterval(), settings.idleTimeout(),
                new Liveness.Actions() {
                    @Override
                    public void sendKeepalive() {
                        writeFrame(MuxFrame.keepalive());
                        flushSoon();
                    }

                    @Override
                    public void peerSilent() {
                        shutdown.terminate(new ManComException(Reason.TIMEOUT, "peer silent for "
                                + MuxShutdown.format(settings.idleTimeout()) + " (mux.idle-timeout) on " + link),
                                true, false, false);
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
        if (!shutdown.start()) {
            return;
        }
        liveness.start();
        writeFrame(hello(roles.start()));
        writer.flush();
        if (roles.settled()) {
            roleSettled();
        }
    }

    private MuxFrame hello(int tieBreak) {
        return MuxFrame.hello(settings.routing() == Routing.SERVICE ? MuxFrame.CAP_SERVICE_ROUTING : 0, tieBreak);
    }

    private void roleSettled() {
        table.roleSettled(roles.role());
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
        writer.startBatch();
        if (stats != null) { // every frame, also those dropped after the end: the peer counted them sent
            stats.frameReceived();
        }
        if (shutdown.isClosed()) {
            frame.release();
            return;
        }
        frames.inbound(link, frame);
        liveness.read();
        try {
            onFrame(frame);
        } catch (MuxProtocolException e) {
            shutdown.protocolError(e.getMessage());
        }
    }

    /** Delivers what the read batch queued for streams, then sends the replies in one flush. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        writer.startBatch();
        try {
            table.deliverReady();
        } finally {
            writer.endBatch();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            writer.resumeWaitingStreams();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!shutdown.isClosed()) {
            shutdown.terminate(new ManComException(Reason.LINK_FAILED, "mux link " + link + " closed without CloseMux"),
                    false, false, false);
        }
        ctx.fireChannelInactive();
    }

    /** A socket link whose peer shut its output down (with half-closure allowed on the link). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (!shutdown.isClosed()) {
                shutdown.terminate(new ManComException(Reason.LINK_FAILED, "mux link " + link
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
            shutdown.protocolError(t.getMessage());
        } else if (!shutdown.isClosed()) {
            shutdown.terminate(MuxShutdown.linkFailure(link, t), false, false, false);
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
        shutdown.linkClosing(ctx, promise);
    }

    /** A flush of the link from elsewhere sends the coalesced frames too. */
    @Override
    public void flush(ChannelHandlerContext ctx) {
        writer.flushLink();
    }

    /** A write to the link from elsewhere goes behind the coalesced frames, in order. */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        writer.writeCoalesced();
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        writer.dropCoalesced();
        shutdown.removed();
    }

    // ---- inbound frames

    private void onFrame(MuxFrame frame) {
        switch (frame.type()) {
            case DATA -> table.onData(frame);
            case KEEPALIVE -> {
                if (frame.isHello()) {
                    onHello(frame.helloCapabilities(), frame.helloTieBreak());
                } else {
                    keepalives++;
                }
            }
            case OPEN_STREAM -> onOpenStream(frame.streamId());
            case CLOSE_READ, CLOSE_WRITE, CLOSE_STREAM, WINDOW_UPDATE -> table.onStreamControl(frame);
            case CLOSE_MUX -> shutdown.terminate(new ManComException(Reason.CLOSED, "session closed by peer"),
                    false, false, true);
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
            case UNCHANGED -> { } // the peer's Hello changed nothing
            default -> throw new AssertionError();
        }
    }

    private void onOpenStream(int id) {
        if (shutdown.state() != MuxShutdown.State.OPEN) {
            table.refuse(id);
        } else {
            table.onOpenStream(id, roles);
        }
    }

    // ---- opening

    private void open(String service, ChannelHandler handler, Promise<MuxStreamChannel> promise) {
        assert loop.inEventLoop();
        MuxShutdown.State state = shutdown.state();
        if (state == MuxShutdown.State.CLOSING || state == MuxShutdown.State.CLOSED) {
            promise.tryFailure(new ManComException(Reason.CLOSED, "cannot open a stream to '" + service
                    + "': the mux session on " + link + " is "
                    + (state == MuxShutdown.State.CLOSING ? "closing" : "closed")));
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
        if (state == MuxShutdown.State.NEW || !roles.settled()) {
            pendingOpens.add(new PendingOpen(service, handler, promise));
            return;
        }
        if (!table.open(service, handler, promise)) {
            log.info("{}: stream ids used up; closing the session", link);
            shutdown.beginClose(DEFAULT_CLOSE_TIMEOUT);
        }
    }

    // ---- for the session's parts (MuxStreamTable, MuxShutdown), on the loop

    ChannelHandlerContext ctx() {
        return ctx;
    }

    MuxFrameWriter writer() {
        return writer;
    }

    MuxStreamTable table() {
        return table;
    }

    boolean isClosed() {
        return shutdown.isClosed();
    }

    void writeFrame(MuxFrame frame) {
        if (writer == null) {
            frame.release();
            return;
        }
        writer.write(frame);
    }

    /** The session ended (it is CLOSED): no more frames, keepalives or turns on the link. */
    void ended() {
        if (liveness != null) {
            liveness.stop();
        }
        if (writer != null) {
            writer.stop();
        }
    }

    void failPendingOpens(Throwable why) {
        PendingOpen p;
        while ((p = pendingOpens.poll()) != null) {
            p.promise.tryFailure(why);
        }
    }

    // ---- called by streams, on the loop

    void sendControl(MuxStreamChannel s, MuxFrame.Type type) {
        writeFrame(MuxFrame.control(type, s.rawId()));
        flushSoon();
    }

    /** A stream's flushed writes are all sent, or it closed: a graceful close may finish. */
    void streamDone() {
        shutdown.streamDone();
    }

    /** Asks for the link to be flushed soon ({@link MuxFrameWriter#flushSoon}). */
    void flushSoon() {
        if (writer != null) {
            writer.flushSoon();
        }
    }

    private record PendingOpen(String service, ChannelHandler handler, Promise<MuxStreamChannel> promise) {
    }
}
