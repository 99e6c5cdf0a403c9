package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.internal.mux.MuxSettings.Role;
import io.mancom.core.internal.mux.MuxSettings.Routing;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A session's streams: the table by id, the ids this side opens, the inbound streams waiting for
 * their service preamble, routing them to the {@link MuxStreamAcceptor}, refusing what the limits
 * or the acceptor turn down, and the queue of streams with something to deliver at the end of the
 * read batch. Part of {@link MuxSessionHandler}, which decides when; this class knows how.
 *
 * <h2>Limits</h2>
 * At most {@code max-streams} streams are listed (both directions, preamble-pending included); at
 * most {@code accept-backlog} wait for their preamble. A stream is listed from its OpenStream
 * until it closes (or is refused); its receive window counts in {@link ReceiveWindows} as long.
 *
 * <h2>Threading</h2>
 * Event loop only; the counters are volatile, for {@link MuxSessionHandler#stats()} from anywhere.
 */
final class MuxStreamTable {

    private static final Logger log = LoggerFactory.getLogger(MuxSessionHandler.class);

    private final MuxSessionHandler session;
    private final Channel link;
    private final MuxSettings settings;
    private final MuxStreamAcceptor acceptor;
    private final ReceiveWindows windows;
    private final IntObjectHashMap<MuxStreamChannel> streams = new IntObjectHashMap<>();
    private final ArrayDeque<MuxStreamChannel> ready = new ArrayDeque<>();
    /** mux.open-timeout of each stream waiting for its preamble, cancelled once it is routed or gone. */
    private final IntObjectHashMap<ScheduledFuture<?>> openTimers = new IntObjectHashMap<>();
    private long nextLocalId;

    // Written on the loop, readable anywhere.
    private volatile int pendingStreams;
    private volatile int openStreams;
    private volatile long streamsOpened;
    private volatile long streamsRefused;
    private volatile long bufferedBytes;
    private volatile long ignoredFrames;

    MuxStreamTable(MuxSessionHandler session, MuxStreamAcceptor acceptor, ReceiveWindows windows) {
        this.session = session;
        this.link = session.link();
        this.settings = session.settings();
        this.acceptor = acceptor;
        this.windows = windows;
    }

    int openStreams() {
        return openStreams;
    }

    int pendingStreams() {
        return pendingStreams;
    }

    long streamsOpened() {
        return streamsOpened;
    }

    long streamsRefused() {
        return streamsRefused;
    }

    long bufferedBytes() {
        return bufferedBytes;
    }

    long ignoredFrames() {
        return ignoredFrames;
    }

    MuxStreamChannel get(int id) {
        return streams.get(id);
    }

    /** The roles are settled: this side opens even ids as the initiator, odd ones as the responder. */
    void roleSettled(Role role) {
        nextLocalId = role == Role.INITIATOR ? 0 : 1;
    }

    /** Test hook: the id the next locally opened stream gets. */
    void nextLocalId(long id) {
        nextLocalId = id;
    }

    /** Whether any stream still has flushed writes waiting to become frames. */
    boolean anyQueuedWrites() {
        for (MuxStreamChannel s : streams.values()) {
            if (s.hasQueuedWrites()) {
                return true;
            }
        }
        return false;
    }

    // ---- opening

    /**
     * Opens a stream to {@code service} (the session is open and the roles settled): OpenStream,
     * the preamble with {@code routing = service}, then registration.
     *
     * @return false if this side has used up its stream ids (the promise has failed; the session
     *         should close)
     */
    boolean open(String service, ChannelHandler handler, Promise<MuxStreamChannel> promise) {
        if (streams.size() >= settings.maxStreams()) {
            promise.tryFailure(new ManComException(Reason.BUSY, "cannot open a stream to '" + service
                    + "': mux.max-streams (" + settings.maxStreams() + ") streams are open on " + link));
            return true;
        }
        if (nextLocalId > MuxSessionHandler.MAX_STREAM_ID) {
            promise.tryFailure(new ManComException(Reason.CLOSED, "cannot open a stream to '" + service
                    + "': the mux session on " + link + " has used up its stream ids and is closing"));
            return false;
        }
        int id = (int) nextLocalId;
        nextLocalId += 2;
        MuxStreamChannel s = newStream(id, true, service, false);
        session.writeFrame(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, id));
        if (settings.routing() == Routing.SERVICE) {
            ByteBuf preamble = ServicePreamble.encode(link.alloc(), service);
            s.state().spend(preamble.readableBytes()); // the preamble counts as data
            session.writeFrame(MuxFrame.data(id, preamble));
        }
        grantStreamWindow(s); // after the OpenStream: a gomux peer ignores updates for unknown ids
        session.flushSoon();
        if (handler != null) {
            s.pipeline().addLast(handler);
        }
        register(s, promise);
        return true;
    }

    /** The peer's OpenStream, with the session open. */
    void onOpenStream(int id, RoleNegotiation roles) {
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
            openTimers.put(id, link.eventLoop().schedule(() -> openTimedOut(s), settings.openTimeout().toNanos(),
                    TimeUnit.NANOSECONDS));
        } else {
            handOver(s, null);
        }
    }

    /** The peer opened {@code s} and has not named its service within mux.open-timeout: refuse it. */
    private void openTimedOut(MuxStreamChannel s) {
        openTimers.remove(s.rawId());
        if (streams.get(s.rawId()) != s || s.isRegistered() || !s.state().awaitingPreamble() || session.isClosed()) {
            return;
        }
        log.debug("{}: refusing stream {}: no service named within mux.open-timeout ({})", link, s.streamId(),
                settings.openTimeout());
        acceptor.refused(io.mancom.core.spi.Refusal.OPEN_TIMEOUT);
        dropPending(s, true);
    }

    private void cancelOpenTimer(MuxStreamChannel s) {
        ScheduledFuture<?> t = openTimers.remove(s.rawId());
        if (t != null) {
            t.cancel(false);
        }
    }

    private MuxStreamChannel newStream(int id, boolean outbound, String service, boolean awaitingPreamble) {
        MuxStreamChannel s = new MuxStreamChannel(session, link, id, outbound, service, awaitingPreamble);
        streams.put(id, s);
        openStreams = streams.size();
        streamsOpened++;
        windows.opened(s);
        return s;
    }

    // ---- routing, refusing

    /** Routes a stream once its preamble is complete (Data arrived for a stream awaiting it). */
    void route(MuxStreamChannel s) {
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
        cancelOpenTimer(s);
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
        grantStreamWindow(s);
        session.flushSoon();
        register(s, null);
        return true;
    }

    /** Grants a new stream its {@code stream-window} above the protocol's 65536 at once, within the budget. */
    private void grantStreamWindow(MuxStreamChannel s) {
        int grant = windows.grow(s, settings.streamWindow());
        while (grant > 0) {
            int g = Math.min(grant, MuxFrame.MAX_LENGTH);
            session.writeFrame(MuxFrame.windowUpdate(s.rawId(), g));
            grant -= g;
        }
    }

    private void register(MuxStreamChannel s, Promise<MuxStreamChannel> promise) {
        link.eventLoop().register(s).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                if (promise != null) {
                    promise.trySuccess(s);
                }
                return;
            }
            log.warn("{}: could not register stream {}", link, s.streamId(), f.cause());
            forget(s);
            if (!session.isClosed()) {
                session.sendControl(s, MuxFrame.Type.CLOSE_STREAM);
            }
            if (promise != null) {
                promise.tryFailure(f.cause());
            }
        });
    }

    /** Drops a stream that is still waiting for its preamble (with CloseStream, or counting the peer's). */
    void dropPending(MuxStreamChannel s, boolean sendCloseStream) {
        pendingStreams--;
        cancelOpenTimer(s);
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

    /** Removes a stream from the table (it closed). */
    void unlist(MuxStreamChannel s) {
        if (streams.get(s.rawId()) == s) {
            streams.remove(s.rawId());
            openStreams = streams.size();
            windows.closed(s);
        }
    }

    /** A registered stream closed (locally, or after delivering its end). */
    void streamClosed(MuxStreamChannel s, boolean sendCloseStream) {
        unlist(s);
        if (sendCloseStream && !session.isClosed()) {
            session.sendControl(s, MuxFrame.Type.CLOSE_STREAM);
        }
        session.streamDone();
    }

    /** Refuses stream {@code id} with CloseStream. */
    void refuse(int id) {
        streamsRefused++;
        session.writeFrame(MuxFrame.control(MuxFrame.Type.CLOSE_STREAM, id));
        session.flushSoon();
    }

    // ---- inbound frames for streams

    /** The peer's Data: checked against the credit, queued for the stream (or its preamble). */
    void onData(MuxFrame frame) {
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
        s.inbound().add(frame.content());
        bufferedBytes += n;
        if (s.state().awaitingPreamble()) {
            route(s);
        } else {
            markReady(s);
        }
    }

    /** The peer's CloseRead, CloseWrite, CloseStream or WindowUpdate. */
    void onStreamControl(MuxFrame frame) {
        MuxStreamChannel s = streams.get(frame.streamId());
        if (s == null) {
            ignoredFrames++;
            return;
        }
        if (s.state().awaitingPreamble()) {
            if (frame.type() == MuxFrame.Type.WINDOW_UPDATE) {
                s.sendSide().creditGranted(frame.length());
            } else {
                // Ended before naming its service: it can never be routed.
                dropPending(s, frame.type() != MuxFrame.Type.CLOSE_STREAM);
            }
            return;
        }
        switch (frame.type()) {
            case WINDOW_UPDATE -> s.sendSide().creditGranted(frame.length());
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

    /** A stream delivered {@code n} bytes to its reader: return the credit (growing the window). */
    void streamConsumed(MuxStreamChannel s, int n) {
        if (session.isClosed() || !s.wantsData()) {
            return;
        }
        long grant = windows.consumed(s, n);
        while (grant > 0) {
            int g = (int) Math.min(grant, MuxFrame.MAX_LENGTH);
            session.writeFrame(MuxFrame.windowUpdate(s.rawId(), g));
            grant -= g;
        }
        session.flushSoon();
    }

    /** Buffered bytes left the session (delivered, taken as preamble, or dropped). */
    void inboundReleased(int n) {
        bufferedBytes -= n;
    }

    // ---- delivery

    /** The stream has data or an end to deliver at the end of the read batch. */
    void markReady(MuxStreamChannel s) {
        if (s.inbound().queueReady()) {
            ready.add(s);
        }
    }

    /** Delivers what the read batch queued for streams. */
    void deliverReady() {
        MuxStreamChannel s;
        while ((s = ready.poll()) != null) {
            s.inbound().leftReadyQueue();
            s.deliver();
        }
    }

    /**
     * The session ended: registered streams end ({@code clean}: at once; otherwise after delivering
     * what they buffered, failing with {@code why}; {@code byPeer}, the peer's CloseMux: a stream
     * the peer had finished sending on ends cleanly instead); unregistered ones are dropped.
     * Streams still delivering buffered data stay listed until they close.
     */
    void endAll(Throwable why, boolean clean, boolean byPeer) {
        List<MuxStreamChannel> all = new ArrayList<>(streams.values());
        for (MuxStreamChannel s : all) {
            s.sendSide().leftLinkQueue();
            if (!s.isRegistered()) {
                if (s.state().awaitingPreamble()) {
                    pendingStreams--;
                    cancelOpenTimer(s);
                }
                forget(s);
            } else {
                s.sessionEnded(why, clean, byPeer);
            }
        }
        ready.clear();
        for (MuxStreamChannel s : all) {
            s.inbound().leftReadyQueue();
        }
    }

    static String unsigned(int id) {
        return Integer.toUnsignedString(id);
    }
}
