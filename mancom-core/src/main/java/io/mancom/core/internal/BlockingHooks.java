package io.mancom.core.internal;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;

/**
 * What the C API (mancom-native) needs of the blocking API beyond its public surface, so that C's
 * blocking calls run on the same {@link BlockingAdapter} as Java's instead of a copy of it:
 * {@code mancom_poll} reports {@code MANCOM_POLLERR} for a link that failed and keeps
 * {@code MANCOM_POLLOUT} after {@code mancom_shutdown_output}, and {@code mancom_close} on a
 * listener stops listening. Not for applications: like everything under {@code .internal}, it
 * may change in any release.
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class BlockingHooks {
    private BlockingHooks() {
    }

    /**
     * The cause {@code c}'s link closed with; null while it is open or after a clean close.
     *
     * @throws IllegalArgumentException {@code c} is not a blocking connection of a ManCom runtime
     */
    public static Throwable failure(BlockingConnection c) {
        return adapter(c).failure();
    }

    /** Whether {@code c}'s output was shut down (its writes fail at once, they never wait). */
    public static boolean isOutputShut(BlockingConnection c) {
        ChannelConnection connection = adapter(c).connection();
        return connection != null && connection.isOutputShut();
    }

    /**
     * Stops serving {@code service} with the blocking API: its listener closes, its connections
     * close (accepted or not), accepts waiting on it end with {@code CLOSED}, and the service may
     * be served again in either style. Nothing happens if the service is not served blocking.
     *
     * @throws IllegalArgumentException {@code mancom} is not a ManCom runtime of mancom-core
     * @throws io.mancom.ConfigException {@code service} is not configured
     */
    public static void stopListening(ManCom mancom, String service) {
        if (!(mancom instanceof ManComRuntime runtime)) {
            throw new IllegalArgumentException(mancom + " is not a runtime of mancom-core");
        }
        runtime.demuxer().stopListening(service);
    }

    private static BlockingAdapter adapter(BlockingConnection c) {
        if (!(c instanceof BlockingAdapter a)) {
            throw new IllegalArgumentException(c + " is not a blocking connection of a ManCom runtime");
        }
        return a;
    }
}
