package io.mancom.core.internal.link;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.TransportType;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Puts the reliable link under a {@link ChannelSink}: each link a transport hands over gets the
 * frame codec and a {@link LinkHandshake}; once the handshake has decided, the sink hands the
 * session's {@link LinkChannel} (new session) to the wrapped sink, or attaches the link to the
 * session it resumes. So the wrapped sink, the mux and the connections above see one channel per
 * session, whatever happens to the links below it.
 *
 * <p>A listening sink keeps every session of its listener (a TCP listener follows its clients'
 * HELLOs, looking sessions up by id; a device has one at a time). A dialling sink has one session
 * and, when its link is lost, dials again ({@code dial}) until the session resumes or
 * {@code link.resume-timeout} passes.
 *
 * <p>Thread-safe: links arrive on any loop; the session table is guarded by {@code this}.
 */
public final class ReliableLinkSink implements ChannelSink {
    private static final Logger log = LoggerFactory.getLogger(ReliableLinkSink.class);
    private static final SecureRandom IDS = new SecureRandom();

    private final ChannelSink inner;
    private final LinkSettings settings;
    private final boolean dialed;
    private final Consumer<ManComException> onFailure;
    private final Function<ChannelSink, CompletionStage<?>> dial;
    private final LinkCounters counters = new LinkCounters();
    private final Map<Long, ReliableSession> sessions = new HashMap<>();
    private boolean hadSession;
    /** Where a new session runs: the loop of its first link (tests give loops that outlive their links). */
    java.util.function.Function<Channel, EventLoop> loopFor = Channel::eventLoop;
    private String lastFailure;

    /**
     * @param dialed    whether the links are dialled by this side (then at most one session, and
     *                  {@code dial} brings a lost link back)
     * @param onFailure told when a handshake fails (a dial's caller learns why); null to log only
     * @param dial      dials a new link into the given sink (dialling side), or null
     */
    public ReliableLinkSink(ChannelSink inner, LinkSettings settings, boolean dialed, Consumer<ManComException> onFailure,
                            Function<ChannelSink, CompletionStage<?>> dial) {
        this.inner = inner;
        this.settings = settings;
        this.dialed = dialed;
        this.onFailure = onFailure;
        this.dial = dial;
    }

    /**
     * {@code sink} itself when the service's link is plain, else a reliable sink around it.
     *
     * @see #ReliableLinkSink
     */
    public static ChannelSink wrap(ChannelSink sink, boolean dialed, Consumer<ManComException> onFailure,
                                   Function<ChannelSink, CompletionStage<?>> dial) {
        if (sink == null || sink.settings() == null) {
            return sink;
        }
        LinkSettings link = LinkSettings.of(sink.settings());
        return link.reliable() ? new ReliableLinkSink(sink, link, dialed, onFailure, dial) : sink;
    }

    @Override
    public String service() {
        return inner.service();
    }

    @Override
    public ServiceSettings settings() {
        return inner.settings();
    }

    LinkSettings linkSettings() {
        return settings;
    }

    /** What every link and session of this sink counted. */
    public LinkCounters counters() {
        return counters;
    }

    int window() {
        return settings.windowFor(inner.settings().endpoint());
    }

    boolean isSerial() {
        return inner.settings().endpoint().type() == TransportType.SERIAL;
    }

    String describe(Channel link) {
        return "service '" + inner.service() + "' (" + inner.settings().endpoint() + ")";
    }

    @Override
    public void channelOpened(Channel link) {
        assert link.eventLoop().inEventLoop();
        boolean follower = !dialed && inner.settings().endpoint().type() == TransportType.TCP;
        int maxBody = Math.max(LinkFrames.HELLO_LENGTH, LinkFrames.DATA_HEADER + settings.frameSize());
        CobsFrameDecoder decoder = new CobsFrameDecoder(maxBody, counters);
        link.pipeline().addLast("link-decoder", decoder);
        link.pipeline().addLast("link-encoder", new CobsFrameEncoder());
        link.pipeline().addLast("link-handshake", new LinkHandshake(this, decoder, follower, newId()));
        link.config().setAutoRead(true);
        link.read();
    }

    private static long newId() {
        long id;
        do {
            id = IDS.nextLong();
        } while (id == 0);
        return id;
    }

    /** A leader's session to resume: the live one, if there is one. */
    synchronized ReliableSession candidate() {
        ReliableSession best = null;
        for (ReliableSession s : sessions.values()) {
            if (s.state() == ReliableSession.State.OPEN || s.state() == ReliableSession.State.SUSPENDED) {
                best = s;
            }
        }
        return best;
    }

    /** What the handshake decided: a session, whether it is resumed, or why the link is refused. */
    record Decision(ReliableSession session, boolean resumed, ManComException failure) {
    }

    /**
     * Decides from the peer's HELLO {@code h}. A leader resumes {@code candidate} when the ids of
     * both HELLOs match it, which both sides then see alike; a follower looks the session up by the
     * id the leader asks for. Otherwise a new session (a dialling sink's only one: after that, a
     * peer that no longer knows the session is an error).
     *
     * @param ownId the id this side sent (leader), or 0 for a follower (which draws one)
     */
    synchronized Decision decide(LinkFrames.Hello h, ReliableSession candidate, long ownId) {
        ReliableSession s = candidate;
        if (ownId == 0) {
            s = sessions.get(h.yourId());
        }
        if (s != null && s.peerId == h.myId() && (ownId == 0 || h.yourId() == s.myId)) {
            return new Decision(s, true, null);
        }
        if (s != null && ownId != 0) {
            ReliableSession old = s;
            old.run(() -> old.end(new ManComException(Reason.LINK_FAILED, "reliable link " + describe(null)
                    + ": the peer no longer knows this session (it restarted, or its link.resume-timeout passed);"
                    + " what was in flight is lost"), false));
        }
        if (dialed && hadSession) {
            return new Decision(null, false, new ManComException(Reason.LINK_FAILED, describe(null)
                    + ": the peer no longer knows the session this side resumes"));
        }
        return new Decision(null, false, null);
    }

    /**
     * A new session, decided by the handshake on {@code link}, whose frames carry at most
     * {@code frameSize} payload bytes (the smaller of the two sides' {@code link.frame-size}).
     */
    synchronized ReliableSession newSession(Channel link, long myId, long peerId, int frameSize) {
        hadSession = true;
        int window = window();
        ReliableSession s = new ReliableSession(describe(link), settings, window, frameSize,
                settings.lineRateFor(inner.settings().endpoint()), loopFor.apply(link),
                myId, peerId, counters, this::ended, this::suspended);
        LinkChannel ch = new LinkChannel(s, link.localAddress(), link.remoteAddress());
        ch.config().setAllocator(link.config().getAllocator());
        ch.config().setAutoRead(false);
        ch.attr(LOCAL_ENDPOINT).set(link.attr(LOCAL_ENDPOINT).get());
        ch.attr(REMOTE_ENDPOINT).set(link.attr(REMOTE_ENDPOINT).get());
        s.channel(ch);
        sessions.put(myId, s);
        return s;
    }

    /** On the session's loop: a new session's channel goes to the wrapped sink; a resumed one takes the link. */
    void attach(ReliableSession s, Channel link, int peerNext, boolean resumed) {
        assert s.loop.inEventLoop();
        LinkChannel ch = s.channel();
        if (!resumed && !ch.isRegistered()) {
            s.loop.register(ch).addListener(f -> {
                if (!f.isSuccess()) {
                    s.end(new ManComException(Reason.IO, "cannot register the reliable link's channel: " + f.cause(), f.cause()), false);
                    return;
                }
                try {
                    inner.channelOpened(ch);
                } catch (RuntimeException e) {
                    s.end(new ManComException(Reason.IO, describe(link) + ": could not take over the reliable link: " + e, e), false);
                    return;
                }
                s.attach(link, peerNext, false);
            });
            return;
        }
        s.attach(link, peerNext, resumed);
    }

    void handshakeFailed(Channel link, ManComException e) {
        if (onFailure != null) {
            onFailure.accept(e);
        }
        synchronized (this) {
            if (e.getMessage().equals(lastFailure)) {
                log.debug("{}", e.getMessage());
                return;
            }
            lastFailure = e.getMessage();
        }
        log.warn("{}", e.getMessage());
    }

    private synchronized void ended(ReliableSession s) {
        sessions.remove(s.myId, s);
    }

    /** The session lost its link: a dialling side dials again until it is back or the session ends. */
    private void suspended(ReliableSession s) {
        if (dial != null) {
            redial(s, 100);
        }
    }

    private void redial(ReliableSession s, long backoffMillis) {
        if (s.state() != ReliableSession.State.SUSPENDED) {
            return;
        }
        EventLoop loop = s.loop;
        dial.apply(this).whenComplete((v, err) -> {
            if (err != null) {
                log.debug("{}: redial failed: {}", describe(null), err.toString());
                loop.schedule(() -> redial(s, Math.min(1000, backoffMillis * 2)), backoffMillis, TimeUnit.MILLISECONDS);
            }
        });
    }

    /** Ids for new sessions of a follower. */
    static long freshId() {
        return newId();
    }
}
