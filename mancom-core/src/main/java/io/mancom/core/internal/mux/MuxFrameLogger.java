package io.mancom.core.internal.mux;

import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every mux frame a session receives and sends, at TRACE, on the logger named
 * {@value #NAME} (like Netty's {@code Http2FrameLogger}): direction, link, stream id, type,
 * the header's flags byte and length. One line per frame, for example
 * <pre>
 *   [id: 0x1f2e3d4c, L:/127.0.0.1:5000 - R:/127.0.0.1:40312] OUT stream=4 type=DATA flags=0 length=1024
 * </pre>
 * Off by default. Turn it on by setting that logger to TRACE; with the CLI's slf4j-simple:
 * {@code -Dorg.slf4j.simpleLogger.log.io.mancom.core.internal.mux.MuxFrameLogger=trace}.
 *
 * <h2>Cost</h2>
 * When off, one {@code isTraceEnabled()} check per frame and nothing else: no allocation, no
 * formatting. Payloads are never logged.
 *
 * <h2>Threading</h2>
 * Stateless; called on the link's event loop.
 */
final class MuxFrameLogger {

    /** The logger's name. */
    static final String NAME = "io.mancom.core.internal.mux.MuxFrameLogger";

    private static final MuxFrameLogger INSTANCE = new MuxFrameLogger(LoggerFactory.getLogger(NAME));

    private final Logger log;

    MuxFrameLogger(Logger log) {
        this.log = log;
    }

    /** The logger every session uses. */
    static MuxFrameLogger instance() {
        return INSTANCE;
    }

    /** A frame the session received (before it is handled). */
    void inbound(Channel link, MuxFrame frame) {
        if (log.isTraceEnabled()) {
            log(" IN ", link, frame);
        }
    }

    /** A frame the session sends (as it is handed to the writer). */
    void outbound(Channel link, MuxFrame frame) {
        if (log.isTraceEnabled()) {
            log(" OUT ", link, frame);
        }
    }

    private void log(String direction, Channel link, MuxFrame frame) {
        log.trace(link + direction + "stream=" + frame.unsignedStreamId() + " type="
                + (frame.isHello() ? "HELLO" : frame.type().name()) + " flags=" + frame.type().flags()
                + " length=" + frame.length());
    }
}
