/**
 * ManCom's public API ({@code io.mancom}) and the Netty-free service-provider interface
 * ({@code io.mancom.spi}) that runtimes and transports implement.
 *
 * <p>{@link io.mancom.ManCom#start()} finds the runtime with {@link java.util.ServiceLoader}
 * ({@link io.mancom.spi.RuntimeProvider}, provided by mancom-core). The jar works the same on the
 * class path, where this descriptor is ignored.
 */
module io.mancom.api {
    exports io.mancom;
    exports io.mancom.spi;

    uses io.mancom.spi.RuntimeProvider;
}
