package io.mancom.spi;

/**
 * What the runtime offers a transport.
 *
 * <p>The public part is deliberately small. A transport built on the runtime's own machinery (its
 * Netty event loops, for instance) asks for it with {@link #unwrap(Class)}, the way JDBC's
 * {@code Wrapper.unwrap} reaches vendor extensions; mancom-core documents what it offers there.
 */
public interface TransportContext {

    /**
     * The runtime's implementation object of the given type.
     *
     * @throws IllegalArgumentException if the runtime offers nothing of that type
     */
    <T> T unwrap(Class<T> type);
}
