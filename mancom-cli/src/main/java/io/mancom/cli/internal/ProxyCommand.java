package io.mancom.cli.internal;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.TcpAddress;
import io.mancom.core.internal.Signals;
import io.mancom.proxy.ProxyConfig;
import io.mancom.proxy.ProxyServer;
import io.mancom.proxy.ProxyStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom proxy}: the HTTP proxy of mancom-proxy (docs/proxy.md) without a config file:
 * listens on {@code --listen} and sends its clients' requests to {@code --upstream} until SIGTERM
 * or SIGINT, printing the proxy's counters every {@code --stats-interval} and when it stops.
 * Bad values exit 2 with a message naming the option.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = {"Proxy HTTP/1.1 clients to one upstream until interrupted (docs/proxy.md).",
                "",
                "--upstream h2c://HOST:PORT or h2://HOST:PORT sends every request as a stream of one HTTP/2 connection;"
                        + " http://HOST:PORT uses a pool of --upstream-connections keep-alive HTTP/1.1 connections."
                        + " Requests beyond the upstream's streams wait in a queue (full: 503); no response within"
                        + " --upstream-timeout: 504; upstream lost or unreachable: 502. The counters are printed every"
                        + " --stats-interval seconds (0: only at the end)."})
public final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, paramLabel = "tcp://HOST:PORT", description = "Where clients connect.")
    private String listen;

    @Option(names = "--upstream", required = true, paramLabel = "URI", description = "h2c://HOST:PORT, h2://HOST:PORT or http://HOST:PORT.")
    private String upstream;

    @Option(names = "--upstream-connections", paramLabel = "N", description = "Most upstream connections (default 1).")
    private String connections;

    @Option(names = "--upstream-timeout", paramLabel = "DURATION", description = "Whole-response timeout, such as 30s (default).")
    private String timeout;

    @Option(names = "--upstream-queue", paramLabel = "N", description = "Requests that may wait (default 4096).")
    private String queue;

    @Option(names = "--upstream-ca", paramLabel = "FILE", description = "h2: trusted CA certificates (PEM).")
    private String ca;

    @Option(names = "--http-max-body", paramLabel = "SIZE", description = "Largest body held, such as 8MiB (default).")
    private String maxBody;

    @Option(names = "--io-threads", defaultValue = "1", paramLabel = "N",
            description = "Event-loop threads (default 1: clients and upstream on one loop, no hand-offs; docs/proxy.md).")
    private int ioThreads;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", description = "Print the counters this often (default 0: at the end).")
    private int statsInterval;

    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> values = new LinkedHashMap<>();
        values.put("upstream", upstream);
        put(values, "upstream-connections", connections);
        put(values, "upstream-timeout", timeout);
        put(values, "upstream-queue", queue);
        put(values, "upstream-ca", ca);
        put(values, "http-max-body", maxBody);
        ProxyConfig config = ProxyConfig.of(values, "command line");
        TcpAddress at;
        try {
            at = (TcpAddress) EndPoint.parse(listen).address();
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new ConfigException(null, -1, "--listen", "found \"" + listen + "\" but expected tcp://HOST:PORT");
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (ProxyServer server = ProxyServer.start(new java.net.InetSocketAddress(at.host(), at.port()), config, ioThreads);
             Signals signals = Signals.install(stop::countDown, "TERM", "INT")) {
            out.println("Proxying http://" + server.address().getHostString() + ":" + server.address().getPort()
                    + " -> " + config.upstream() + " until interrupted (Ctrl-C or SIGTERM).");
            out.flush();
            while (!stop.await(statsInterval > 0 ? statsInterval : Long.MAX_VALUE / 2, TimeUnit.SECONDS)) {
                print(out, server.handler().stats());
            }
            print(out, server.handler().stats());
        }
        return ExitCode.OK.code();
    }

    private static void put(Map<String, String> values, String key, String value) {
        if (value != null) {
            values.put(key, value);
        }
    }

    private static void print(PrintWriter out, ProxyStats s) {
        out.println("proxy: " + s);
        out.flush();
    }
}
