package io.mancom.cli.bench;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code mancom bench reliable-link}: goodput of {@code link = reliable} as a fraction of the line
 * rate, through a relay that paces each direction at {@code --baud} (8N1: baud / 10 bytes per
 * second) and flips bits at {@code --ber} and drops bytes at {@code --drop}, from a seed
 * ({@link PacedLossyRelay}). Two runtimes in this process, a ManCom client writing {@code --size}
 * bytes to a ManCom service that counts them, over loopback TCP through the relay: the link below
 * is a socket, so this measures the link layer's framing, acknowledgement and retransmission
 * against the line's rate, not a UART or a pty. On a clean line the plain link (no reliable
 * layer) runs too, for the ratio. A benchmark, not a test: nothing asserts the figures.
 */
@Command(name = "reliable-link", mixinStandardHelpOptions = true,
        description = {"Goodput of link = reliable as a fraction of the line rate, through a relay paced at --baud"
                + " with bit errors (--ber) and dropped bytes (--drop).",
                "",
                "Two runtimes over loopback TCP through the relay; one direction; median of --runs transfers."})
public final class ReliableLinkBenchCommand implements Callable<Integer> {
    private static final Duration READY = Duration.ofSeconds(10);

    @Spec
    private CommandSpec spec;

    @Option(names = "--baud", defaultValue = "115200", description = "Line rate in baud, 8N1 (default ${DEFAULT-VALUE}).")
    private int baud;

    @Option(names = "--ber", defaultValue = "0", description = "Bit error rate per direction (default ${DEFAULT-VALUE}).")
    private double ber;

    @Option(names = "--drop", defaultValue = "0", description = "Fraction of bytes dropped (default ${DEFAULT-VALUE}).")
    private double drop;

    @Option(names = "--size", defaultValue = "262144", paramLabel = "BYTES",
            description = "Bytes per transfer (default ${DEFAULT-VALUE}).")
    private int size;

    @Option(names = "--frame-size", defaultValue = "128", description = "link.frame-size (default ${DEFAULT-VALUE}).")
    private int frameSize;

    @Option(names = "--window", defaultValue = "0",
            description = "link.window in frames; 0 = what auto gives a serial line at --baud (default ${DEFAULT-VALUE}).")
    private int window;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the relay's noise (default ${DEFAULT-VALUE}).")
    private long seed;

    @Mixin
    private BenchOptions.Runs runs = new BenchOptions.Runs(3);

    @Override
    public Integer call() throws Exception {
        if (baud < 300 || size < 1 || ber < 0 || ber >= 0.01 || drop < 0 || drop >= 0.1) {
            throw new ParameterException(spec.commandLine(), "--baud >= 300, --size >= 1, 0 <= --ber < 0.01, 0 <= --drop < 0.1");
        }
        PrintWriter out = spec.commandLine().getOut();
        double lineRate = baud / 10.0;
        boolean clean = ber == 0 && drop == 0;
        out.printf(Locale.ROOT, "ManCom reliable link: %s per transfer, %d baud (%.0f B/s), BER %s, drops %s, frame-size %d%n",
                Stats.bytes(size), baud, lineRate, ber, drop, frameSize);
        out.flush();
        Table table = new Table("  ", "run", "reliable B/s>", "of line>", "plain B/s>", "of line>").minWidth(0, "median".length());
        List<String> printed = new ArrayList<>();
        List<Double> reliable = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        byte[] data = new byte[size];
        new Random(42).nextBytes(data);
        for (int r = 1; r <= runs.runs(); r++) {
            double rel = transfer(data, true, seed + r);
            reliable.add(rel);
            double pl = clean ? transfer(data, false, seed + r) : Double.NaN;
            plain.add(pl);
            table.row(Integer.toString(r), String.format(Locale.ROOT, "%.0f", rel), BenchKit.ratio(rel / lineRate),
                    clean ? String.format(Locale.ROOT, "%.0f", pl) : "-", clean ? BenchKit.ratio(pl / lineRate) : "-");
            BenchKit.printNewLines(out, table, printed);
        }
        double med = Stats.median(reliable.stream().mapToDouble(Double::doubleValue).toArray());
        double medPlain = clean ? Stats.median(plain.stream().mapToDouble(Double::doubleValue).toArray()) : Double.NaN;
        table.row("median", String.format(Locale.ROOT, "%.0f", med), BenchKit.ratio(med / lineRate),
                clean ? String.format(Locale.ROOT, "%.0f", medPlain) : "-", clean ? BenchKit.ratio(medPlain / lineRate) : "-");
        BenchKit.printNewLines(out, table, printed);
        out.printf(Locale.ROOT, "summary: reliable link goodput %s of the line rate at BER %s, drops %s (median of %d)%n",
                BenchKit.ratio(med / lineRate), ber, drop, runs.runs());
        out.flush();
        return 0;
    }

    /** One transfer of {@code data}; bytes per second from the first write to the last byte received. */
    private double transfer(byte[] data, boolean reliable, long runSeed) throws Exception {
        int window = this.window > 0 ? this.window : Math.max(8, baud / 10 / 2 / frameSize + 1);
        String link = reliable ? "link { mode = reliable, frame-size = " + frameSize + ", window = " + window
                + ", line-rate = " + baud / 10 + " }" : "link = plain";
        ManCom server = BenchKit.runtime("mancom.services.line { endpoint = \"tcp://127.0.0.1:0\", " + link + " }\n", 1);
        try {
            AtomicLong got = new AtomicLong();
            CompletableFuture<Long> done = new CompletableFuture<>();
            server.registerDataReceiver("line", (c, d) -> {
                if (got.addAndGet(d.remaining()) >= data.length) {
                    done.complete(System.nanoTime());
                }
            });
            server.awaitReady(READY);
            int port = ((TcpAddress) BenchKit.bound(server, "line").address()).port();
            try (PacedLossyRelay relay = new PacedLossyRelay(port, baud, reliable ? ber : 0, reliable ? drop : 0, runSeed)) {
                ManCom client = BenchKit.runtime("mancom.services.line { endpoint = \"tcp://127.0.0.1:" + relay.port() + "\", "
                        + link + " }\n", 1);
                try (BlockingConnection c = client.connect("line", READY)) {
                    long t0 = System.nanoTime();
                    c.write(data);
                    long t1 = done.get(Math.max(60, 20L * data.length / (baud / 10)), TimeUnit.SECONDS);
                    return data.length / ((t1 - t0) / 1e9);
                } finally {
                    client.close();
                }
            }
        } finally {
            server.close();
        }
    }
}
