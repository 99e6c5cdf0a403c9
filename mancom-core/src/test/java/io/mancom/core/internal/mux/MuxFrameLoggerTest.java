package io.mancom.core.internal.mux;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The frame logger: one TRACE line per frame when on, one level check and nothing else when off. */
class MuxFrameLoggerTest {

    private final EmbeddedChannel link = new EmbeddedChannel();

    @AfterEach
    void tearDown() {
        link.finishAndReleaseAll();
    }

    /** A logger that records what it is asked and logged. */
    private static final class Recorder extends LegacyAbstractLogger {
        final boolean trace;
        final List<String> lines = new ArrayList<>();
        int checks;

        Recorder(boolean trace) {
            this.trace = trace;
            this.name = "recorder";
        }

        @Override
        public boolean isTraceEnabled() {
            checks++;
            return trace;
        }

        @Override
        public boolean isDebugEnabled() {
            return false;
        }

        @Override
        public boolean isInfoEnabled() {
            return false;
        }

        @Override
        public boolean isWarnEnabled() {
            return false;
        }

        @Override
        public boolean isErrorEnabled() {
            return false;
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String msg, Object[] args,
                                                   Throwable t) {
            assertThat(level).isEqualTo(Level.TRACE);
            lines.add(msg);
        }
    }

    @Test
    void logsEachFrameWithDirectionStreamTypeFlagsAndLength() {
        Recorder r = new Recorder(true);
        MuxFrameLogger frames = new MuxFrameLogger(r);
        MuxFrame data = MuxFrame.data(5, Unpooled.wrappedBuffer(new byte[3]));
        frames.inbound(link, data);
        frames.outbound(link, MuxFrame.windowUpdate(0xFFFF_FFFE, 65536));
        frames.outbound(link, MuxFrame.hello(1, 7));
        data.release();
        assertThat(r.lines).containsExactly(
                link + " IN stream=5 type=DATA flags=0 length=3",
                link + " OUT stream=4294967294 type=WINDOW_UPDATE flags=6 length=65536",
                link + " OUT stream=" + Integer.toUnsignedString(MuxFrame.HELLO_ID) + " type=HELLO flags=1 length="
                        + (1 | 7 << 8));
    }

    @Test
    void offItChecksTheLevelOncePerFrameAndLogsNothing() {
        Recorder r = new Recorder(false);
        MuxFrameLogger frames = new MuxFrameLogger(r);
        MuxFrame f = MuxFrame.keepalive();
        frames.inbound(link, f);
        frames.outbound(link, f);
        assertThat(r.checks).isEqualTo(2);
        assertThat(r.lines).isEmpty();
    }

    @Test
    void theSharedLoggerIsNamedForConfiguration() {
        assertThat(MuxFrameLogger.NAME).isEqualTo(MuxFrameLogger.class.getName());
        assertThat(MuxFrameLogger.instance()).isSameAs(MuxFrameLogger.instance());
    }
}
