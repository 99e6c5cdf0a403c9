package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control sockets of one runtime directory ({@code <dir>/proc/<pid>.sock}, and
 * {@code <pid>-<n>.sock} for a process's further runtimes) and what they say.
 *
 * <h2>Stale sockets</h2>
 * A socket whose process is gone (no process {@code <pid>} in {@code /proc}: a thread id does not
 * count) is removed, as a starting runtime does; a socket whose process runs but refuses the
 * connection, or vanishes between the listing and the query, is skipped, not reported as an error.
 *
 * <p>Stateless and thread-safe: each call reads the directory again.
 */
public final class ControlSockets {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SOCKET = Pattern.compile("(\\d+)(?:-(\\d+))?\\.sock");
    /**
     * How long one process may take to answer before it is left out: generous, as a runtime's
     * first answer loads its JSON classes, on a busy machine in seconds.
     */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** Queries block on sockets: they get threads of their own, not the common pool's. */
    private static final ExecutorService QUERIES = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "mancom-status-query");
        t.setDaemon(true);
        return t;
    });

    private final Path runtimeDir;

    public ControlSockets(Path runtimeDir) {
        this.runtimeDir = runtimeDir;
    }

    /** The runtime directory. */
    public Path runtimeDir() {
        return runtimeDir;
    }

    /** One control socket: its file and the pid in its name. */
    public record Socket(Path path, long pid) {
    }

    /** The live sockets, by pid and name; stale ones are removed on the way. */
    public List<Socket> list() throws IOException {
        Path proc = runtimeDir.resolve("proc");
        List<Socket> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(proc, "*.sock")) {
            for (Path f : files) {
                Matcher m = SOCKET.matcher(f.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid = Long.parseLong(m.group(1));
                if (!isProcess(pid)) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException notOurs) {
                        // another user's directory, or removed meanwhile: just leave it out
                    }
                    continue;
                }
                found.add(new Socket(f, pid));
            }
        } catch (NoSuchFileException none) {
            return List.of(); // no runtime ever ran here
        }
        found.sort(Comparator.comparingLong(Socket::pid).thenComparing(s -> s.path().getFileName().toString()));
        return found;
    }

    /**
     * Every live runtime's {@code /status}, queried in parallel, in the order of {@link #list()};
     * runtimes that vanished are left out.
     */
    public List<ObjectNode> statuses() throws IOException {
        return statuses(problem -> { });
    }

    /**
     * As {@link #statuses()}; {@code problems} hears of each runtime that is there but gave no
     * status (no answer within the timeout, an error), which is left out too.
     */
    public List<ObjectNode> statuses(Consumer<String> problems) throws IOException {
        List<CompletableFuture<ObjectNode>> queries = new ArrayList<>();
        for (Socket s : list()) {
            queries.add(CompletableFuture.supplyAsync(() -> query(s, problems), QUERIES));
        }
        List<ObjectNode> out = new ArrayList<>();
        for (CompletableFuture<ObjectNode> q : queries) {
            ObjectNode n = q.join();
            if (n != null) {
                out.add(n);
            }
        }
        return out;
    }

    /** One runtime's status with its socket's path added ({@code "socket"}), or null if it gave none. */
    static ObjectNode query(Socket s, Consumer<String> problems) {
        try {
            JsonNode n = JSON.readTree(ControlClient.get(s.path(), "/status", TIMEOUT));
            if (!(n instanceof ObjectNode o)) {
                problems.accept("process " + s.pid() + " answered something other than a status");
                return null;
            }
            o.put("socket", s.path().toString());
            return o;
        } catch (IOException e) {
            if (Files.exists(s.path()) && isProcess(s.pid())) {
                problems.accept("process " + s.pid() + " gave no status: " + e.getMessage());
            }
            return null; // gone between the listing and the query: not an error
        }
    }

    /** The aggregate document: {@code {"runtimeDir":..., "takenAt":..., "processes":[status...]}}. */
    public static ObjectNode document(Path runtimeDir, List<ObjectNode> statuses) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("runtimeDir", runtimeDir.toString());
        doc.put("takenAt", Instant.now().toString());
        ArrayNode procs = doc.putArray("processes");
        statuses.forEach(procs::add);
        return doc;
    }

    /**
     * Whether process {@code pid} runs: {@code /proc/<n>} also answers for every thread id, so only
     * an entry whose {@code Tgid} is its own number is a process.
     */
    static boolean isProcess(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Tgid:")) {
                    return Long.parseLong(line.substring(5).trim()) == pid;
                }
            }
            return false;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }
}
