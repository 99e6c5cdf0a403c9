package io.mancom.cli.internal.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code mancom status --web}: the live page for the whole system, on the JDK's own HTTP server
 * ({@code com.sun.net.httpserver}: small, no Netty pipeline to keep for a page polled once a
 * second).
 *
 * <pre>
 * GET /             the page (from the jar; plain JavaScript and a canvas, no CDN, works offline)
 * GET /api/status   every runtime's /status in one document, queried when asked
 * </pre>
 *
 * Read-only: any other method is 405. Bound where {@code --listen} says, 127.0.0.1 unless told
 * otherwise. Requests run on a small pool of daemon threads; each {@code /api/status} reads the
 * runtime directory and queries the sockets again, so the page shows processes that come and go.
 * Lifecycle: {@link #start}, then {@link #close()}.
 */
final class StatusWeb implements AutoCloseable {
    static final String PAGE = "/io/mancom/cli/internal/status/status.html";
    /**
     * The live pages' shared script (formatting, rates, plots): mancom-core's, which a runtime's own
     * page inlines too. Read from the class path, where the CLI runs; inlined where the page has
     * {@link #SCRIPT_MARK}, so the page stays one document.
     */
    static final String SCRIPT = "/io/mancom/core/internal/monitor/live.js";
    static final String SCRIPT_MARK = "/*LIVE_JS*/";

    private final HttpServer server;
    private final ExecutorService pool;

    private StatusWeb(HttpServer server, ExecutorService pool) {
        this.server = server;
        this.pool = pool;
    }

    static StatusWeb start(InetSocketAddress listen, ControlSockets sockets) throws IOException {
        byte[] page = resource(PAGE).replace(SCRIPT_MARK, resource(SCRIPT)).getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(listen, 16);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "mancom-web-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/", ex -> {
            try (ex) {
                if (!readOnly(ex)) {
                    return;
                }
                switch (ex.getRequestURI().getPath()) {
                    case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8", page);
                    case "/api/status" -> send(ex, 200, "application/json",
                            ControlSockets.document(sockets.runtimeDir(), sockets.statuses()).toString()
                                    .getBytes(StandardCharsets.UTF_8));
                    default -> send(ex, 404, "text/plain; charset=utf-8",
                            "no such page (try / or /api/status)\n".getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException | RuntimeException e) {
                // The browser went away, or the directory cannot be read: the next poll tries again.
            }
        });
        server.start();
        return new StatusWeb(server, pool);
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = StatusWeb.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException(path + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Where it listens (the port resolved). */
    InetSocketAddress address() {
        return server.getAddress();
    }

    private static boolean readOnly(HttpExchange ex) throws IOException {
        String m = ex.getRequestMethod();
        if (m.equals("GET") || m.equals("HEAD")) {
            return true;
        }
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        send(ex, 405, "text/plain; charset=utf-8", "read-only: GET / or /api/status\n".getBytes(StandardCharsets.UTF_8));
        return false;
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
