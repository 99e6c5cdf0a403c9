/**
 * The service-provider interface for transports and for the runtime itself.
 *
 * <p>A transport is found by the scheme of an endpoint URI ({@code tcp}, {@code serial},
 * {@code usb}) through {@link java.util.ServiceLoader}: a jar lists its
 * {@link io.mancom.spi.TransportProvider} in
 * {@code META-INF/services/io.mancom.spi.TransportProvider}. Providers have a cheap no-argument
 * constructor and do no I/O until {@link io.mancom.spi.TransportProvider#create} is called.
 * Nothing here names a Netty type; transports that run on Netty reach the runtime's event loops
 * through {@link io.mancom.spi.TransportContext#unwrap(Class)}.
 */
package io.mancom.spi;
