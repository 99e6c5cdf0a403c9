package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EventListener;
import io.mancom.ManComException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every event in one line, on the logger {@code io.mancom.events}: mux streams at DEBUG (a
 * busy mux opens thousands, and a failing session ends them all with its own cause, which its own
 * close line gives), every other open, close and reconnect at INFO, errors at WARN but
 * WRITE_QUEUE_FULL (backpressure the writer is told of) at DEBUG. Turn it down by setting that
 * logger's level.
 */
final class LogEvents extends EventListener {
    private static final Logger log = LoggerFactory.getLogger("io.mancom.events");

    @Override
    public void connectionOpened(ChannelStatus c) {
        if (quiet(c)) {
            log.debug("opened {}", describe(c));
        } else if (log.isInfoEnabled()) {
            log.info("opened {}", describe(c));
        }
    }

    @Override
    public void connectionClosed(ChannelStatus c, Throwable cause) {
        if (quiet(c)) {
            // Also with a failure: a session that fails ends every stream with it, and says so itself.
            log.debug("closed {} after {} bytes in, {} out: {}", describe(c), c.bytesIn(), c.bytesOut(), c.closeCause());
        } else if (log.isInfoEnabled()) {
            log.info("closed {} after {} bytes in, {} out: {}", describe(c), c.bytesIn(), c.bytesOut(), c.closeCause());
        }
    }

    @Override
    public void error(String service, ChannelStatus channel, ManComException error) {
        if (error.reason() == ManComException.Reason.WRITE_QUEUE_FULL) {
            // Backpressure the writer is told of (its write fails); a busy writer meets it often.
            log.debug("service '{}'{}: {} {}", service, channel != null ? " " + describe(channel) : "", error.reason(),
                    error.getMessage());
            return;
        }
        log.warn("service '{}'{}: {} {}", service, channel != null ? " " + describe(channel) : "", error.reason(),
                error.getMessage());
    }

    @Override
    public void reconnect(ChannelStatus c, int attempts) {
        log.info("reopened {} after {} attempt(s)", describe(c), attempts);
    }

    private static boolean quiet(ChannelStatus c) {
        return c.kind() == ChannelStatus.Kind.MUX_STREAM;
    }

    private static String describe(ChannelStatus c) {
        return c.kind().name().toLowerCase(java.util.Locale.ROOT) + " #" + c.id() + " of '" + c.service() + "' "
                + c.local() + " <-> " + c.remote();
    }
}
