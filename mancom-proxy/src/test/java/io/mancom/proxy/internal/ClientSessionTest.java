package io.mancom.proxy.internal;

import io.mancom.proxy.ProxyConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client's pipelined requests on an {@link EmbeddedChannel} with a scripted upstream link: the
 * responses go out in the order of the requests whatever order the upstream answers in, a request
 * past the queue gets 503 in its place, and the link's stream limit is kept.
 */
class ClientSessionTest {

    /** An upstream link with two slots that records what it is sent; the test answers. */
    static final class ScriptedLink implements UpstreamLink {
        final List<Exchange> sent = new ArrayList<>();
        int inFlight;

        @Override
        public int freeSlots() {
            return 2 - inFlight;
        }

        @Override
        public void send(Exchange x) {
            inFlight++;
            sent.add(x);
        }

        @Override
        public void close() {
        }

        @Override
        public void lost(String why) {
        }
    }

    @Test
    void responsesLeaveInRequestOrderAndAFullQueueAnswers503InPlace() {
        EmbeddedChannel client = new EmbeddedChannel();
        ProxyConfig config = ProxyConfig.of(Map.of("upstream", "h2c://127.0.0.1:1", "upstream-queue", "1"), "test");
        ScriptedLink link = new ScriptedLink();
        UpstreamPool pool = new UpstreamPool(client.eventLoop(), config, new Counters(), ByteBufAllocator.DEFAULT, p -> {
            p.linkReady(link);
            return link;
        });
        pool.start();
        client.runPendingTasks();
        ClientSession.install(client, pool);

        client.writeInbound(Unpooled.copiedBuffer("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n"
                + "GET /3 HTTP/1.1\r\nHost: t\r\n\r\nGET /4 HTTP/1.1\r\nHost: t\r\n\r\n", StandardCharsets.US_ASCII));
        client.runPendingTasks();
        // Two on the link (its limit), one queued, the fourth over the queue: already answered 503.
        assertThat(link.sent).extracting(x -> x.request.uri()).containsExactly("/1", "/2");
        assertThat(outbound(client)).isEmpty();

        answer(pool, link, 1, "two");
        assertThat(outbound(client)).as("/2 waits for /1").isEmpty();
        answer(pool, link, 0, "one");
        assertThat(link.sent).extracting(x -> x.request.uri()).containsExactly("/1", "/2", "/3");
        String out = outbound(client);
        assertThat(out).contains("one").contains("two").doesNotContain("three");
        assertThat(out.indexOf("one")).isLessThan(out.indexOf("two"));

        answer(pool, link, 2, "three");
        String rest = outbound(client);
        assertThat(rest).startsWith("HTTP/1.1 200 OK").contains("three");
        assertThat(rest.indexOf("three")).isLessThan(rest.indexOf("HTTP/1.1 503"));
        assertThat(pool.counters().snapshot(0, 0, 0).unavailable()).isEqualTo(1);

        pool.close();
        client.runPendingTasks();
        client.finishAndReleaseAll();
    }

    private static void answer(UpstreamPool pool, ScriptedLink link, int i, String body) {
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length());
        link.inFlight--;
        pool.attemptEnded();
        pool.respond(link.sent.get(i), r);
        pool.linkFreed(link);
    }

    private static String outbound(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder b = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf buf = (ByteBuf) o;
            b.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        return b.toString();
    }
}
