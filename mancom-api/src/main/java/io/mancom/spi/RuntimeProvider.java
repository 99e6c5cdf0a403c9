package io.mancom.spi;

import io.mancom.ManCom;

/**
 * The ManCom runtime implementation, found with {@link java.util.ServiceLoader} by
 * {@link ManCom#start()}. mancom-core provides the one implementation; tests may provide their own.
 */
public interface RuntimeProvider {

    /**
     * Loads the configuration the builder describes and starts a runtime.
     *
     * @throws io.mancom.ConfigException if the configuration is invalid
     */
    ManCom start(ManCom.Builder settings);
}
