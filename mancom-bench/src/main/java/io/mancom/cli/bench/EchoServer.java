package io.mancom.cli.bench;

import java.net.InetSocketAddress;

/**
 * One of the echo servers the benchmark compares. Started once, measured several times, closed
 * once; {@link #close()} stops every thread the server started.
 */
interface EchoServer extends AutoCloseable {

    /** The short name in the report: {@code netty}, {@code callback}, {@code blocking}. */
    String name();

    /** Where the server listens (a loopback address). */
    InetSocketAddress address();

    @Override
    void close();
}
