package io.mancom.tcp;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Tiny HTTP responders for the port-sharing tests: each answers every request with its own name. */
final class TinyHttp {
    private TinyHttp() {
    }

    /** HTTP/1.1 with the ManCom callback API: reads to the end of the request head, answers, closes. */
    static DataReceiver http1(String body) {
        return new DataReceiver() {
            final StringBuilder head = new StringBuilder();

            @Override
            public void onData(Connection c, ByteBuffer data) {
                head.append(StandardCharsets.ISO_8859_1.decode(data));
                if (head.indexOf("\r\n\r\n") >= 0) {
                    c.write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                            + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
                    c.close();
                }
            }
        };
    }

    /** HTTP/2 (h2c, prior knowledge) on Netty's codec, installed on a channel a LinkHandler was given. */
    static void http2(Channel ch, String body) {
        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                                .set("content-type", "text/plain")).stream(h.stream()));
                        ByteBuf b = Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII);
                        ctx.writeAndFlush(new DefaultHttp2DataFrame(b, true).stream(h.stream()));
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }
        });
        ch.config().setAutoRead(true);
    }
}
