/**
 * The HTTP proxy ({@code handler = http-proxy}, {@code mancom proxy}): HTTP/1.1 clients onto one
 * HTTP/2 upstream connection, or onto a pool of HTTP/1.1 connections (docs/proxy.md).
 */
module io.mancom.proxy {
    requires transitive io.mancom.core; // Settings and Netty's Channel in the signatures
    requires io.netty.codec;
    requires io.netty.codec.http;
    requires io.netty.codec.http2;
    requires io.netty.handler;
    requires io.netty.transport.classes.epoll;
    requires org.slf4j;

    exports io.mancom.proxy;
}
