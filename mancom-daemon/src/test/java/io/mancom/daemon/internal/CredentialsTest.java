package io.mancom.daemon.internal;

import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who a peer is (names from passwd and group files, supplementary groups from /proc/PID/status,
 * all given here as files of a temporary tree) and the allow rule: by name or number, users or
 * groups; both lists empty means root and the daemon's own user only.
 */
class CredentialsTest {
    @TempDir
    Path dir;

    private Credentials credentials() throws Exception {
        Files.writeString(dir.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        Files.writeString(dir.resolve("group"), "root:x:0:\nalice:x:1000:\nmancom:x:998:alice\ndialout:x:20:alice\n");
        Path proc = Files.createDirectories(dir.resolve("proc/4242"));
        Files.writeString(proc.resolve("status"), "Name:\tjava\nTgid:\t4242\nGroups:\t20 998 \n");
        return new Credentials(dir.resolve("passwd"), dir.resolve("group"), dir.resolve("proc"));
    }

    private static ScopeSettings allow(List<String> users, List<String> groups) {
        return new ScopeSettings(ServiceStatus.Scope.SYSTEM, users, groups, 256, Duration.ofSeconds(30));
    }

    private static Peer alice() {
        return new Peer(4242, 1000, "alice", List.of(1000, 20, 998), List.of("alice", "dialout", "mancom"));
    }

    @Test
    void namesAndSupplementaryGroupsComeFromTheFilesAndProc() throws Exception {
        Credentials c = credentials();
        assertThat(c.gid("mancom")).isEqualTo(998);
        assertThat(c.gid("nosuch")).isEqualTo(-1);
        Peer p = c.peer(4242, 1000, 1000);
        assertThat(p).isEqualTo(alice());
        assertThat(p.toString()).isEqualTo("user alice (uid 1000, pid 4242)");
        // A process that is gone already: its primary group only; an id without a name: the number.
        assertThat(c.peer(77, 1234, 5)).isEqualTo(new Peer(77, 1234, "1234", List.of(5), List.of("5")));
    }

    @Test
    void allowListsMatchByNameOrNumber() {
        assertThat(Credentials.allows(allow(List.of("alice"), List.of()), alice(), 0)).isTrue();
        assertThat(Credentials.allows(allow(List.of("1000"), List.of()), alice(), 0)).isTrue();
        assertThat(Credentials.allows(allow(List.of(), List.of("mancom")), alice(), 0)).isTrue();
        assertThat(Credentials.allows(allow(List.of(), List.of("20")), alice(), 0)).isTrue();
        assertThat(Credentials.allows(allow(List.of("bob"), List.of("wheel")), alice(), 0)).isFalse();
    }

    @Test
    void rootGetsNoExceptionOnceAListNamesSomeone() {
        Peer root = new Peer(1, 0, "root", List.of(0), List.of("root"));
        assertThat(Credentials.allows(allow(List.of("nobody"), List.of()), root, 0)).isFalse();
        assertThat(Credentials.allows(allow(List.of(), List.of()), root, 1000)).isTrue();
    }

    @Test
    void emptyListsMeanRootAndTheDaemonsUserOnly() {
        assertThat(Credentials.allows(allow(List.of(), List.of()), alice(), 1000)).isTrue();
        assertThat(Credentials.allows(allow(List.of(), List.of()), alice(), 0)).isFalse();
    }
}
