package io.mancom.proxy;

/**
 * A snapshot of one proxy's counters, from {@link HttpProxyHandler#stats()}. Totals count since
 * the proxy was made; the last three fields are the state at the moment of the snapshot.
 *
 * @param requests          requests read from clients (each one gets exactly one response,
 *                          unless its client leaves first)
 * @param responses         responses the upstream gave (any status), passed on to clients
 * @param badGateway        502s the proxy made: the upstream could not be reached, dropped the
 *                          connection or stream, or sent a response too large or malformed
 * @param unavailable       503s: the request queue was full
 * @param timeouts          504s: no whole response within {@code upstream-timeout}
 * @param rejected          400s and 413s: requests the proxy could not read or hold
 * @param retries           requests sent again on another stream or connection because the
 *                          upstream had provably not processed them (GOAWAY, REFUSED_STREAM,
 *                          an idle keep-alive connection closed under an idempotent request)
 * @param abandoned         requests whose client closed before the response was written
 * @param upstreamConnects  upstream connections established (HTTP/2: the SETTINGS arrived)
 * @param upstreamLosses    established upstream connections that closed or failed
 * @param dialFailures      upstream connection attempts that failed
 * @param queued            requests waiting now
 * @param inFlight          requests on the upstream now
 * @param upstreamOpen      upstream connections open now
 */
public record ProxyStats(long requests, long responses, long badGateway, long unavailable, long timeouts,
                         long rejected, long retries, long abandoned, long upstreamConnects, long upstreamLosses,
                         long dialFailures, int queued, int inFlight, int upstreamOpen) {

    /** Errors of every kind: the 502s, 503s, 504s, 400/413s and failed dials. */
    public long errors() {
        return badGateway + unavailable + timeouts + rejected + dialFailures;
    }

    /** One line of {@code name=value} pairs, for logs and {@code mancom proxy}'s output. */
    @Override
    public String toString() {
        return "requests=" + requests + " responses=" + responses + " 502=" + badGateway + " 503=" + unavailable
                + " 504=" + timeouts + " rejected=" + rejected + " retries=" + retries + " abandoned=" + abandoned
                + " upstream-connects=" + upstreamConnects + " upstream-losses=" + upstreamLosses
                + " dial-failures=" + dialFailures + " queued=" + queued + " in-flight=" + inFlight
                + " upstream-open=" + upstreamOpen;
    }
}
