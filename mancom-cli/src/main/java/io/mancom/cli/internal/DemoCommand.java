package io.mancom.cli.internal;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom demo}: serves the {@code demo} service with an echo callback, talks to it with the
 * blocking API and with {@code connectAsync}, checks every echo byte for byte and reports the rates.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Echo round trips through both APIs on the built-in 'demo' service, with a short report.",
                "",
                "Serves the 'demo' service (an echo on a loopback port, defined by the built-in defaults) with the"
                        + " callback API, talks to it with the blocking API (connect) and with connectAsync, checks every"
                        + " echo byte for byte, and prints round trips, bytes, MB/s (10^6 bytes per second, each way)"
                        + " and the median latency per message size."})
final class DemoCommand implements Callable<Integer> {
    private static final int[] SIZES = {16, 1024, 64 * 1024};
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Spec
    private CommandSpec spec;

    @Mixin
    private ConfigOption config;

    @Option(names = {"-n", "--round-trips"}, defaultValue = "1000", paramLabel = "N",
            description = "Round trips per message size and client (default ${DEFAULT-VALUE}).")
    private int roundTrips;

    @Option(names = "--service", defaultValue = "demo", paramLabel = "NAME",
            description = "The service to serve and call (default ${DEFAULT-VALUE}, defined by the built-in defaults).")
    private String service;

    /** What one client did with one message size. */
    private record Result(String client, int size, int roundTrips, long nanos, long medianLatencyNanos) {
        long bytes() {
            return (long) size * roundTrips;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (roundTrips < 1) {
            throw new ParameterException(spec.commandLine(), "--round-trips must be at least 1: " + roundTrips);
        }
        // The demo's own table says what happened; one INFO line per connection (what `serve`
        // logs) would only interleave with it. Set before the runtime makes its events logger;
        // --verbose (or an explicit setting) still wins.
        Logging.quietConnectionEvents();
        PrintWriter out = spec.commandLine().getOut();
        long started = System.nanoTime();
        List<Result> results = new ArrayList<>();
        try (ManCom mancom = config.builder().start()) {
            // The server side: every byte that arrives goes straight back, on the event loop.
            mancom.registerDataReceiver(service, (conn, data) -> conn.write(data));
            mancom.awaitReady(TIMEOUT);
            EndPoint bound = mancom.boundEndPoint(service).orElseThrow();
            out.printf("ManCom demo: service '%s' (endpoint %s) listening on %s, echoing with the callback API%n",
                    service, mancom.endpoint(service), bound);
            out.flush();

            try (BlockingConnection c = mancom.connect(service)) {
                for (int size : SIZES) {
                    results.add(blockingRoundTrips(c, payload(size), roundTrips));
                }
            }

            Pinger pinger = new Pinger();
            Connection c = mancom.connectAsync(service, pinger).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            try {
                for (int size : SIZES) {
                    results.add(pinger.run(c, payload(size), roundTrips).get(60, TimeUnit.SECONDS));
                }
            } finally {
                c.close();
            }
        }
        report(out, results, System.nanoTime() - started);
        return 0;
    }

    private static Result blockingRoundTrips(BlockingConnection c, byte[] payload, int n) throws IOException {
        byte[] got = new byte[payload.length];
        long[] latency = new long[n];
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long sent = System.nanoTime();
            c.write(payload);
            readFully(c, got);
            latency[i] = System.nanoTime() - sent;
            check(payload, got);
        }
        return new Result("blocking (connect)", payload.length, n, System.nanoTime() - start, Stats.median(latency));
    }

    private static void readFully(BlockingConnection c, byte[] into) throws IOException {
        int off = 0;
        while (off < into.length) {
            int r = c.read(into, off, into.length - off, TIMEOUT);
            if (r < 0) {
                throw new ManComException(ManComException.Reason.CLOSED,
                        "the demo service closed the connection after " + off + " of " + into.length + " echoed bytes");
            }
            off += r;
        }
    }

    private static void check(byte[] sent, byte[] echoed) throws ManComException {
        if (!Arrays.equals(sent, echoed)) {
            throw new ManComException(ManComException.Reason.PROTOCOL, "an echo of " + sent.length
                    + " bytes came back different from what was sent");
        }
    }

    /** Random bytes, so an echo that mixes up or drops data cannot pass the check by accident. */
    private static byte[] payload(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    private static void report(PrintWriter out, List<Result> results, long totalNanos) {
        Table t = new Table("  ", "client", "size>", "round trips>", "bytes each way>", "round trips/s>", "MB/s>",
                "median latency>");
        long trips = 0;
        long bytes = 0;
        for (Result r : results) {
            t.row(r.client(), Stats.bytes(r.size()), r.roundTrips(), Stats.bytes(r.bytes()),
                    Math.round(r.roundTrips() * 1e9 / r.nanos()),
                    String.format(Locale.ROOT, "%.2f", Stats.mbPerSecond(r.bytes(), r.nanos())),
                    Stats.nanos(r.medianLatencyNanos()));
            trips += r.roundTrips();
            bytes += r.bytes();
        }
        out.println();
        t.print(out);
        out.println();
        out.printf(Locale.ROOT, "%d round trips, %s each way, every echo byte-exact, in %s.%n",
                trips, Stats.bytes(bytes), Stats.nanos(totalNanos));
        out.flush();
    }

    /**
     * The asynchronous client: sends a message, and when its echo is complete, sends the next,
     * all from the connection's callbacks. One round at a time.
     */
    private static final class Pinger implements DataReceiver {
        private volatile Round round;

        CompletableFuture<Result> run(Connection c, byte[] payload, int n) {
            Round r = new Round(c, payload, n);
            round = r;
            r.sendNext();
            return r.done;
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            Round r = round;
            if (r == null) {
                throw new IllegalStateException("data before anything was sent");
            }
            r.onData(data);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            Round r = round;
            if (r != null) {
                r.done.completeExceptionally(cause != null ? cause
                        : new ManComException(ManComException.Reason.CLOSED, "the demo service closed the connection"));
            }
        }
    }

    /**
     * One size's round trips. After {@link #sendNext()} from the caller, every field is used only on
     * the connection's event loop, where the echo arrives.
     */
    private static final class Round {
        final CompletableFuture<Result> done = new CompletableFuture<>();
        private final Connection conn;
        private final byte[] payload;
        private final byte[] got;
        private final long[] latency;
        private final long start = System.nanoTime();
        private int filled;
        private int completed;
        private long sentAt;

        Round(Connection conn, byte[] payload, int n) {
            this.conn = conn;
            this.payload = payload;
            this.got = new byte[payload.length];
            this.latency = new long[n];
        }

        void sendNext() {
            sentAt = System.nanoTime();
            conn.write(payload).whenComplete((v, err) -> {
                if (err != null) {
                    done.completeExceptionally(err);
                }
            });
        }

        void onData(ByteBuffer data) {
            int n = data.remaining();
            if (filled + n > got.length) {
                done.completeExceptionally(new ManComException(ManComException.Reason.PROTOCOL,
                        "the demo service sent back more bytes than were sent"));
                return;
            }
            data.get(got, filled, n);
            filled += n;
            if (filled < got.length) {
                return;
            }
            latency[completed++] = System.nanoTime() - sentAt;
            filled = 0;
            if (!Arrays.equals(payload, got)) {
                done.completeExceptionally(new ManComException(ManComException.Reason.PROTOCOL,
                        "an echo of " + payload.length + " bytes came back different from what was sent"));
            } else if (completed == latency.length) {
                done.complete(new Result("callback (connectAsync)", payload.length, completed,
                        System.nanoTime() - start, Stats.median(latency)));
            } else {
                sendNext();
            }
        }
    }
}
