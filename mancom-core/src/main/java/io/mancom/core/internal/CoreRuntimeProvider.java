package io.mancom.core.internal;

import io.mancom.ManCom;
import io.mancom.core.internal.config.ConfigLoader;
import io.mancom.spi.RuntimeOptions;
import io.mancom.spi.RuntimeProvider;

/** mancom-core's {@link RuntimeProvider}: loads the layered config and starts a {@link ManComRuntime}. */
public final class CoreRuntimeProvider implements RuntimeProvider {

    @Override
    public ManCom start(RuntimeOptions options) {
        return new ManComRuntime(ConfigLoader.load(options), options.ioThreads(), null, options.eventListener(),
                options.certificates().orElse(null));
    }
}
