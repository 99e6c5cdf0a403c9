package io.mancom.spi;

import io.mancom.ManCom;

/**
 * The ManCom runtime implementation, found with {@link java.util.ServiceLoader} by
 * {@link ManCom#start()}. mancom-core provides the one implementation; tests may provide their own.
 *
 * <p>Implementations have a cheap no-argument constructor; {@link #start} may be called from any
 * thread, any number of times.
 */
public interface RuntimeProvider {

    /**
     * Loads the configuration {@code options} describe and starts a runtime.
     *
     * @param options what the {@link ManCom.Builder} was told, immutable
     * @throws io.mancom.ConfigException if the configuration is invalid
     */
    ManCom start(RuntimeOptions options);
}
