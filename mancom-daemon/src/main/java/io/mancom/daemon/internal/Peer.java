package io.mancom.daemon.internal;

import java.util.List;

/**
 * Who is on the other end of a control connection, from {@code SO_PEERCRED} (pid, uid, gid) and
 * {@code /proc/PID/status} (supplementary groups); names from the system's user and group files.
 *
 * <p>An immutable value; thread-safe.
 *
 * @param pid    the process id
 * @param uid    the user id
 * @param user   the user's name, or the uid as text when it has none
 * @param gids   the primary group first, then the supplementary groups
 * @param groups the names of {@code gids} (a number as text where a group has no name)
 */
record Peer(long pid, int uid, String user, List<Integer> gids, List<String> groups) {
    public Peer {
        gids = List.copyOf(gids);
        groups = List.copyOf(groups);
    }

    /** "user alice (uid 1000, pid 4242)": how messages and logs name the peer. */
    @Override
    public String toString() {
        return "user " + user + " (uid " + uid + ", pid " + pid + ")";
    }
}
