package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.DuplexChannelConfig;
import io.netty.util.concurrent.PromiseNotifier;

import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * One stream of a mux session, as a Netty {@link Channel}: a child of the link's channel
 * ({@link #parent()}), living on the link's event loop. Handlers written for a TCP socket work on
 * it unchanged: it is a {@link DuplexChannel} with auto-read, water marks and half-closure.
 *
 * <h2>Lifecycle</h2>
 * A stream is created by its {@link MuxSessionHandler}: by {@link MuxSessionHandler#openStream}
 * for streams this side opens, or on the peer's OpenStream, in which case the session's
 * {@link MuxStreamAcceptor} sees it before it is registered. It is active from registration until
 * it closes. It closes when:
 * <ul>
 *   <li>this side calls {@link #close()} (CloseStream is sent; queued writes fail);</li>
 *   <li>the peer sends CloseStream (the data that arrived first is delivered, then the channel
 *       closes);</li>
 *   <li>the peer finished writing (CloseRead) and {@link ChannelOption#ALLOW_HALF_CLOSURE} is off
 *       (the default, as for sockets): buffered data, then close;</li>
 *   <li>both directions are finished (half-closed on each side);</li>
 *   <li>the session ends: on the peer's CloseMux, a protocol error or a lost link the stream
 *       delivers what it has buffered, then fires {@code exceptionCaught} with the reason (a
 *       {@link ManComException}, for example "session closed by peer") and closes; when this side
 *       closes the session, the stream closes at once.</li>
 * </ul>
 * {@link #closeCause()} tells why a stream closed, if not cleanly.
 *
 * <h2>Reading</h2>
 * Each Data frame's payload is delivered as one {@link ByteBuf}, which the receiving handler owns
 * and must release. Delivery follows Netty's read model: with auto-read on, data is delivered as
 * it arrives; with auto-read off, each {@link #read()} delivers one batch (up to
 * {@code maxMessagesPerRead} buffers). A {@code read()}, or auto-read turned back on, from inside a
 * delivery (a reader that pauses while its own writes are queued and resumes when the flush at
 * {@code channelReadComplete} drains them) continues that delivery. Credit goes back to the peer as data is delivered, so a
 * stream whose reader stops (auto-read off, no {@code read()}) stops its sender after one receive
 * window, and only that stream: the session keeps reading the link for the others. End of input
 * arrives as for a socket: {@link ChannelInputShutdownEvent} with half-closure allowed, otherwise
 * the channel closes.
 *
 * <h2>Writing</h2>
 * Write {@link ByteBuf}s; each is sent as Data frames of up to 65536 bytes as the peer's credit
 * allows, and a write's promise completes when its last byte has been handed to the link. Bytes
 * waiting for credit, or for the link to become writable, stay in this channel's outbound buffer.
 * {@link #isWritable()} is false past the high water mark, as a socket's is when the peer is slow,
 * and also, with nothing queued, while the stream has no credit left or waits for its turn on a
 * full link: a write then could only wait, holding its buffer. The writability event comes when it
 * can go on; an event may also come while {@code isWritable()} is still false (the queue drained,
 * the credit has not come back), so handlers read {@code isWritable()} as usual. Writes made while
 * unwritable are still accepted and queued. {@link #shutdownOutput()} sends the queued bytes, then
 * CloseRead ("the peer's read side is done"); {@link #shutdownInput()} sends CloseWrite ("the
 * peer's write side is done") and drops what is buffered. After the peer's CloseWrite, writes fail with a
 * {@link ManComException} saying the peer stopped reading.
 *
 * <h2>Threading</h2>
 * Like any Netty channel: operations may be called from any thread and run on the link's event
 * loop; handlers run on that loop.
 *
 * <h2>Addresses</h2>
 * {@link #localAddress()} and {@link #remoteAddress()} are the link's, so code that logs or
 * inspects a socket's addresses works unchanged; {@link #streamId()} tells streams apart.
 */
public final class MuxStreamChannel extends AbstractChannel implements DuplexChannel {

    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final MuxSessionHandler session;
    private final int id;
    private final boolean outbound;
    private final MuxStreamChannelConfig config;
    private volatile String service;

    private final MuxStreamState state; // the half-closes, how the stream ended, its credit; loop only

    // Receive side; event loop only.
    private final MuxStreamInbound inbound = new MuxStreamInbound();
    private volatile boolean inputShut; // Netty's view (isInputShutdown), readable anywhere

    // Send side; event loop only.
    private final MuxStreamOutbound sendSide = new MuxStreamOutbound(this);
    private ChannelPromise shutdownOutputPromise;
    private volatile boolean outputShut; // Netty's view (isOutputShutdown), readable anywhere

    private volatile boolean open = true;
    private volatile Throwable closeCause;

    MuxStreamChannel(MuxSessionHandler session, Channel link, int id, boolean outbound, String service,
                     boolean awaitingPreamble) {
        super(link);
        this.session = session;
        this.state = new MuxStreamState(awaitingPreamble);
        this.id = id;
        this.outbound = outbound;
        this.service = service;
        this.config = new MuxStreamChannelConfig(this);
        config.setAllocator(link.config().getAllocator());
    }

    /** The stream id (an unsigned 32-bit value). */
    public long streamId() {
        return Integer.toUnsignedLong(id);
    }

    int rawId() {
        return id;
    }

    /** The stream's protocol state and credit (event loop only; read it, the stream changes it). */
    MuxStreamState state() {
        return state;
    }

    /** Received bytes buffered for the reader (event loop only). */
    int queuedBytes() {
        return inbound.bytes();
    }

    /** Whether this side opened the stream. */
    public boolean isOutbound() {
        return outbound;
    }

    /**
     * The service the stream belongs to: the name this side opened it for, or the name in the
     * peer's preamble; {@code null} with {@code routing = none} for streams the peer opened.
     */
    public String service() {
        return service;
    }

    void service(String service) {
        this.service = service;
    }

    /** The session this stream belongs to. */
    public MuxSessionHandler session() {
        return session;
    }

    /**
     * Why the stream closed if it did not close cleanly (the session ended under it), else
     * {@code null}. The same exception was fired through the pipeline before the close.
     */
    public Throwable closeCause() {
        return closeCause;
    }

    /** How often the stream had data to send and no window left (monitoring). Any thread. */
    public long windowStalls() {
        return sendSide.stalls();
    }

    @Override
    public DuplexChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() { // no connect phase: active from creation until closed
        return open;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public boolean isInputShutdown() {
        return inputShut;
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShut;
    }

    @Override
    public boolean isShutdown() {
        return inputShut && outputShut || !open;
    }

    @Override
    public ChannelFuture shutdownInput() {
        return shutdownInput(newPromise());
    }

    /** Sends CloseWrite (the peer's write side is done) and drops buffered data. */
    @Override
    public ChannelFuture shutdownInput(ChannelPromise promise) {
        if (!onLoop(() -> shutdownInput(promise))) {
            return promise;
        }
        if (!inputShut) {
            inputShut = true;
            releaseInbound();
            if (open && state.localReadDone()) {
                session.sendControl(this, MuxFrame.Type.CLOSE_WRITE);
            }
        }
        promise.trySuccess();
        maybeComplete();
        return promise;
    }

    @Override
    public ChannelFuture shutdownOutput() {
        return shutdownOutput(newPromise());
    }

    /**
     * Sends every flushed byte (as credit allows), then CloseRead (the peer's read side is done).
     * The promise completes when CloseRead has been queued on the link; later writes fail.
     */
    @Override
    public ChannelFuture shutdownOutput(ChannelPromise promise) {
        if (!onLoop(() -> shutdownOutput(promise))) {
            return promise;
        }
        if (!open) {
            promise.tryFailure(new ClosedChannelException());
            return promise;
        }
        if (state.sendHalfClosed()) {
            promise.trySuccess();
            return promise;
        }
        if (shutdownOutputPromise != null) {
            shutdownOutputPromise.addListener(new PromiseNotifier<Void, ChannelFuture>(false, promise));
            return promise;
        }
        outputShut = true;
        shutdownOutputPromise = promise;
        unsafe().flush();
        ChannelOutboundBuffer out = unsafe().outboundBuffer();
        if (out == null || out.isEmpty()) {
            finishShutdownOutput();
        }
        return promise;
    }

    @Override
    public ChannelFuture shutdown() {
        return shutdown(newPromise());
    }

    /** {@link #shutdownInput()} and {@link #shutdownOutput()}; completes when both have. */
    @Override
    public ChannelFuture shutdown(ChannelPromise promise) {
        if (!onLoop(() -> shutdown(promise))) {
            return promise;
        }
        ChannelFuture output = shutdownOutput();
        shutdownInput();
        output.addListener(new PromiseNotifier<Void, ChannelFuture>(false, promise));
        return promise;
    }

    /** Runs {@code task} now if on the loop (returns true), otherwise hands it to the loop. */
    private boolean onLoop(Runnable task) {
        EventLoop loop = eventLoop();
        if (loop.inEventLoop()) {
            return true;
        }
        loop.execute(task);
        return false;
    }

    // ---- AbstractChannel

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new StreamUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return parent().localAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return parent().remoteAddress();
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a mux stream cannot be bound");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        inputShut = true;
        outputShut = true;
        releaseInbound();
        // A ManCom peer closes a stream by itself once both halves are closed; a plain gomux peer
        // might wait for CloseStream, so it always gets one.
        boolean sendCloseStream = state.closeLocally(session.isPeerManCom());
        session.table().streamClosed(this, sendCloseStream);
        if (shutdownOutputPromise != null) {
            shutdownOutputPromise.tryFailure(new ClosedChannelException());
        }
    }

    @Override
    protected void doBeginRead() {
        if (!open) {
            return;
        }
        inbound.readRequested();
        deliver();
    }

    @Override
    protected Object filterOutboundMessage(Object msg) throws Exception {
        if (!(msg instanceof ByteBuf)) {
            throw new UnsupportedOperationException("a mux stream writes ByteBufs, not " + msg.getClass().getName());
        }
        Throwable failure = state.writeFailure();
        if (failure != null) {
            throw MuxStreamOutbound.copyOf(failure);
        }
        if (outputShut) {
            throw new ChannelOutputShutdownException("stream " + streamId() + ": output is shut down");
        }
        return msg;
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        assert eventLoop().inEventLoop();
        if (sendSide.write(in)) {
            if (shutdownOutputPromise != null) {
                finishShutdownOutput();
            }
            session.streamDone();
        }
    }

    /** Whether flushed writes are still waiting to become frames. */
    boolean hasQueuedWrites() {
        ChannelOutboundBuffer out = unsafe().outboundBuffer();
        return out != null && !out.isEmpty();
    }

    private void finishShutdownOutput() {
        state.localWriteDone();
        if (state.writeFailure() == null && open) {
            session.sendControl(this, MuxFrame.Type.CLOSE_READ);
        }
        ChannelPromise p = shutdownOutputPromise;
        shutdownOutputPromise = null;
        p.trySuccess();
        if (isRegistered() && open) {
            pipeline().fireUserEventTriggered(ChannelOutputShutdownEvent.INSTANCE);
        }
        maybeComplete();
    }

    // ---- called by the session, on the loop

    /** Whether Data for this stream is still wanted. */
    boolean wantsData() {
        return open && state.wantsData(inputShut);
    }

    /**
     * Takes the service preamble from the buffered data ({@link ServicePreamble#take}); when it is
     * complete the stream is {@code OPEN} and can be offered. The bytes taken (or dropped with a bad
     * preamble) leave the session's buffered count.
     *
     * @return the service and the bytes taken, or {@code null} while the preamble is incomplete
     * @throws IllegalArgumentException for a bad preamble
     */
    ServicePreamble.Taken takePreamble() {
        ServicePreamble.Taken taken = inbound.takePreamble(session.table());
        if (taken != null) {
            state.preambleTaken();
        }
        return taken;
    }

    /** The stream's receive queue ({@link MuxStreamInbound}). */
    MuxStreamInbound inbound() {
        return inbound;
    }

    /** The peer finished writing (CloseRead): EOF after the buffered data. */
    void onCloseRead() {
        state.peerWriteDone();
    }

    /** The peer closed the stream (CloseStream): close after the buffered data. */
    void onCloseStream() {
        state.peerClosed(new ManComException(ManComException.Reason.CLOSED,
                "stream " + streamId() + " was closed by the peer"));
        stopWriting(state.writeFailure());
    }

    /** The peer stopped reading (CloseWrite): writes fail from now on. */
    void onCloseWrite() {
        if (!state.peerStoppedReading(new ManComException(ManComException.Reason.CLOSED,
                "stream " + streamId() + ": the peer stopped reading (it sent CloseWrite)"))) {
            return;
        }
        stopWriting(state.writeFailure());
        if (shutdownOutputPromise != null) {
            ChannelPromise p = shutdownOutputPromise;
            shutdownOutputPromise = null;
            p.trySuccess();
        }
        if (isRegistered() && open) {
            pipeline().fireUserEventTriggered(ChannelOutputShutdownEvent.INSTANCE);
        }
        maybeComplete();
    }

    /**
     * The session ended. With {@code clean} (this side closed it) the stream closes at once;
     * otherwise it delivers what it has buffered, then fails with {@code cause}.
     */
    void sessionEnded(Throwable cause, boolean clean, boolean byPeer) {
        if (!open) {
            return;
        }
        stopWriting(cause);
        state.sessionEnded(cause, clean, byPeer);
        if (clean) {
            close();
            return;
        }
        deliver();
    }

    private void stopWriting(Throwable cause) {
        state.stopWrites(cause);
        outputShut = true;
        if (isRegistered()) {
            forceFlush(); // fails what is queued, with the reason
        }
        sendSide.releaseHolds(); // no credit or turn will come, and writes now fail at once
    }

    /** The stream's send side: turns on the link, held writability ({@link MuxStreamOutbound}). */
    MuxStreamOutbound sendSide() {
        return sendSide;
    }

    /**
     * Writable when the outbound buffer is below its high water mark (as for any channel), the
     * stream has credit, and it is not waiting for a turn on a full link.
     */
    @Override
    public boolean isWritable() {
        return sendSide.held() == 0 && super.isWritable();
    }

    @Override
    public long bytesBeforeUnwritable() {
        return sendSide.held() == 0 ? super.bytesBeforeUnwritable() : 0;
    }

    /** While writes are held back, at least 1: no amount drained makes the stream writable by itself. */
    @Override
    public long bytesBeforeWritable() {
        long queued = super.bytesBeforeWritable();
        return sendSide.held() == 0 ? queued : Math.max(queued, 1);
    }

    /** Auto-read was turned off: no further batch unless {@code read()} asks (as with a socket). */
    void autoReadCleared() {
        inbound.autoReadCleared(config.isAutoRead());
    }

    /** Resumes writing once the link is writable again. */
    void forceFlush() {
        ((StreamUnsafe) unsafe()).forceFlush();
    }

    /**
     * Delivers queued data to the pipeline as far as the reader asks for it, returns the credit
     * for it, and ends the input once everything is delivered and the peer is done.
     */
    void deliver() {
        assert eventLoop().inEventLoop();
        if (!isRegistered() || state.awaitingPreamble()) {
            return;
        }
        int consumed = inbound.deliver(this);
        if (consumed < 0) {
            return; // a delivery is running: it goes on
        }
        if (consumed > 0) {
            session.table().inboundReleased(consumed);
            session.table().streamConsumed(this, consumed);
        }
        if (inbound.isEmpty()) {
            endInputIfDone();
        }
    }

    private void endInputIfDone() {
        if (!open || !isRegistered()) {
            return;
        }
        MuxStreamState.InputEnd end = state.takeInputEnd(inputShut);
        if (end == MuxStreamState.InputEnd.FAIL) {
            closeCause = state.failure();
            pipeline().fireExceptionCaught(closeCause);
            close();
        } else if (end == MuxStreamState.InputEnd.CLOSE) {
            close();
        } else if (end == MuxStreamState.InputEnd.EOF) {
            inputShut = true;
            if (config.isAllowHalfClosure()) {
                pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
                pipeline().fireUserEventTriggered(ChannelInputShutdownReadComplete.INSTANCE);
                maybeComplete();
            } else {
                close();
            }
        }
    }

    /** Closes the stream once both directions are finished. */
    private void maybeComplete() {
        if (open && inputShut && state.sendHalfClosed() && isRegistered()) {
            close();
        }
    }

    /** Drops an unregistered stream the session refuses (or a session that ends before acceptance). */
    void discard() {
        open = false;
        state.closeLocally(false);
        releaseInbound();
    }

    private void releaseInbound() {
        int n = inbound.releaseAll();
        if (n > 0) {
            session.table().inboundReleased(n);
        }
    }

    @Override
    public String toString() {
        return "MuxStream(" + streamId() + (service != null ? " '" + service + "'" : "")
                + (outbound ? ", opened here" : ", opened by peer") + ", link " + parent() + ")";
    }

    private final class StreamUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
            promise.setFailure(new UnsupportedOperationException("a mux stream is opened by its session, not connected"));
        }

        void forceFlush() {
            flush0();
        }
    }
}
