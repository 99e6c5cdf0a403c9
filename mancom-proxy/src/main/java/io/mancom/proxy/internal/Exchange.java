package io.mancom.proxy.internal;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;

/**
 * One request on its way to the upstream and its response on the way back.
 *
 * <h2>Threading and ownership</h2>
 * Made on the client's loop, then confined to the pool's loop ({@link UpstreamPool}), except
 * {@link #abandoned}, which the client's loop sets. The exchange owns {@link #request} until it is
 * finished (each attempt sends a retained duplicate); the response it finishes with is handed to
 * the client session, which writes or releases it.
 */
final class Exchange {
    final FullHttpRequest request;
    final ClientSession session;
    final ClientSession.Slot slot;
    /** Set by the client's loop when the client is gone: the response is not wanted any more. */
    volatile boolean abandoned;

    // Pool loop only.
    boolean done;
    int attempts;
    /** When it gets 504 (System.nanoTime); the pool keeps live exchanges in this order. */
    long deadline;
    Exchange older;
    Exchange newer;
    /** Stops the attempt in flight (an HTTP/2 stream is reset); null while queued. */
    Runnable cancel;

    Exchange(FullHttpRequest request, ClientSession session, ClientSession.Slot slot) {
        this.request = request;
        this.session = session;
        this.slot = slot;
    }

    /** Whether sending it twice does no harm (RFC 9110 9.2.2), so a retry after a lost connection is safe. */
    boolean idempotent() {
        HttpMethod m = request.method();
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }

    /**
     * Ends the exchange with {@code response} (ownership passes on): once; later calls release
     * theirs. The pool has taken it off its deadline list first.
     */
    void finish(FullHttpResponse response) {
        if (done) {
            response.release();
            return;
        }
        done = true;
        cancel = null;
        request.release();
        session.deliver(slot, response);
    }
}
