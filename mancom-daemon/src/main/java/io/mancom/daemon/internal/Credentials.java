package io.mancom.daemon.internal;

import io.mancom.core.internal.config.ScopeSettings;
import io.netty.channel.unix.PeerCredentials;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Who a control-socket peer is, and whether a service's {@code allow} lets it in.
 *
 * <p>{@code SO_PEERCRED} (Netty's {@link PeerCredentials}) gives the pid, uid and primary gid as
 * the kernel saw them at connect; the supplementary groups come from {@code /proc/PID/status}
 * ({@code Groups:}), names from {@code /etc/passwd} and {@code /etc/group} (read at every check:
 * a user added to a group counts at its next attach, no NSS lookups). Stateless and thread-safe;
 * the reads block briefly (small local files), so callers run it once per attach.
 */
final class Credentials {
    private final Path passwd;
    private final Path group;
    private final Path proc;

    Credentials() {
        this(Path.of("/etc/passwd"), Path.of("/etc/group"), Path.of("/proc"));
    }

    Credentials(Path passwd, Path group, Path proc) {
        this.passwd = passwd;
        this.group = group;
        this.proc = proc;
    }

    /** The peer behind {@code creds}, with its supplementary groups and the names of all. */
    Peer peer(PeerCredentials creds) {
        return peer(creds.pid(), creds.uid(), creds.gids());
    }

    /** The peer with these kernel credentials ({@code gids}: SO_PEERCRED's primary group). */
    Peer peer(int pid, int uid, int... primary) {
        Set<Integer> gids = new LinkedHashSet<>();
        for (int g : primary) {
            gids.add(g);
        }
        gids.addAll(supplementaryGroups(pid));
        List<String> names = new ArrayList<>();
        for (int g : gids) {
            names.add(name(group, g));
        }
        return new Peer(pid, uid, name(passwd, uid), List.copyOf(gids), names);
    }

    /**
     * Whether {@code allow} lets {@code peer} register a service. Empty lists: only {@code daemonUid}
     * and root. Otherwise the peer's user name or uid in {@code users}, or one of its group names
     * or gids in {@code groups}; root gets no exception then.
     */
    static boolean allows(ScopeSettings allow, Peer peer, int daemonUid) {
        if (allow.allowsOwnerOnly()) {
            return peer.uid() == 0 || peer.uid() == daemonUid;
        }
        if (allow.users().contains(peer.user()) || allow.users().contains(Integer.toString(peer.uid()))) {
            return true;
        }
        for (int i = 0; i < peer.gids().size(); i++) {
            if (allow.groups().contains(peer.groups().get(i))
                    || allow.groups().contains(Integer.toString(peer.gids().get(i)))) {
                return true;
            }
        }
        return false;
    }

    /** The uid this process runs as (the owner of /proc/self). */
    static int myUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The gid of group {@code name} in the group file, or -1 when there is none. */
    int gid(String name) {
        for (String[] f : entries(group)) {
            if (f.length > 2 && f[0].equals(name)) {
                try {
                    return Integer.parseInt(f[2]);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private List<Integer> supplementaryGroups(int pid) {
        List<Integer> gids = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(proc.resolve(Integer.toString(pid)).resolve("status"))) {
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            gids.add(Integer.parseInt(g));
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process is gone already (its attach fails anyway) or /proc is odd: primary group only.
        }
        return gids;
    }

    /** The name of id {@code id} in a passwd- or group-style file (name:x:id:...), or the number. */
    private static String name(Path file, int id) {
        String text = Integer.toString(id);
        for (String[] f : entries(file)) {
            if (f.length > 2 && f[2].equals(text)) {
                return f[0];
            }
        }
        return text;
    }

    private static List<String[]> entries(Path file) {
        List<String[]> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line.split(":", -1));
                }
            }
        } catch (IOException e) {
            // no such file (a minimal container): numbers stand for names
        }
        return out;
    }
}
