package io.mancom.daemon.internal;

import io.mancom.Connection;
import io.mancom.ManCom;
import io.mancom.testkit.Await;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RelayOwner} on a {@code mux = on} line: the far end (a ManCom runtime of the test, scope =
 * process, on the other end of the pty) dials the services over the line, and each stream it opens
 * is relayed to a process attached to that service.
 */
class RelayOwnerMuxTest extends RelayTestBase {

    private static String services(String end, String... nameAndExtra) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < nameAndExtra.length; i += 2) {
            sb.append(line(nameAndExtra[i], Path.of(end), true, nameAndExtra[i + 1]));
        }
        return sb.toString();
    }

    private RelayOwner owner(String... nameAndExtra) throws Exception {
        String[] system = nameAndExtra.clone();
        for (int i = 1; i < system.length; i += 2) {
            system[i] = system[i].isEmpty() ? "scope = system" : "scope = system, " + system[i];
        }
        return owner(services(pty.a().toString(), system));
    }

    private ManCom farEnd(String extra, String... names) {
        String[] nameAndExtra = new String[names.length * 2];
        for (int i = 0; i < names.length; i++) {
            nameAndExtra[2 * i] = names[i];
            nameAndExtra[2 * i + 1] = extra;
        }
        return runtimes.start(services(pty.b().toString(), nameAndExtra));
    }

    private static void writeAll(AttachedProcess.Stream s, byte[] data) {
        for (int off = 0; off < data.length; off += 8192) {
            s.write(Arrays.copyOfRange(data, off, Math.min(data.length, off + 8192)));
        }
    }

    @Test
    void twoServicesOnOneLineAreEachRelayedToTheirOwnProcessAndHalfClosesTravelBothWays() throws Exception {
        RelayOwner owner = owner("alpha", "", "beta", "");
        AttachedProcess pa = attach(owner, "alpha");
        AttachedProcess pb = attach(owner, "beta");
        FarEnd far = new FarEnd();
        ManCom device = farEnd("", "alpha", "beta");
        Connection ca = device.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
        Connection cb = device.connectAsync("beta", far).get(S, TimeUnit.SECONDS);

        byte[] toA = random(96 * 1024, 10);
        byte[] toB = random(80 * 1024, 11);
        CompletableFuture.allOf(FarEnd.pump(ca, toA, 4096), FarEnd.pump(cb, toB, 4096)).get(S, TimeUnit.SECONDS);
        AttachedProcess.Stream sa = pa.nextStream();
        AttachedProcess.Stream sb = pb.nextStream();
        Await.until("alpha's process has alpha's bytes", () -> sa.receivedCount() >= toA.length);
        Await.until("beta's process has beta's bytes", () -> sb.receivedCount() >= toB.length);
        assertThat(sa.received()).isEqualTo(toA);
        assertThat(sb.received()).isEqualTo(toB);

        byte[] fromA = random(70 * 1024, 12);
        byte[] fromB = random(90 * 1024, 13);
        writeAll(sa, fromA);
        writeAll(sb, fromB);
        Await.until("the far end has both processes' bytes", () -> far.count(ca) >= fromA.length
                && far.count(cb) >= fromB.length);
        assertThat(far.received(ca)).isEqualTo(fromA);
        assertThat(far.received(cb)).isEqualTo(fromB);

        // The far end finishes writing: the process sees end of input and may still answer.
        ca.shutdownOutput().toCompletableFuture().get(S, TimeUnit.SECONDS);
        sa.inputShutdown.get(S, TimeUnit.SECONDS);
        assertThat(sa.channel.isOpen()).isTrue();
        sa.write("last words".getBytes(StandardCharsets.UTF_8));
        ((io.netty.channel.socket.DuplexChannel) sa.channel).shutdownOutput();
        far.inputShutdown(ca).get(S, TimeUnit.SECONDS);
        assertThat(new String(far.received(ca), fromA.length, 10, StandardCharsets.UTF_8)).isEqualTo("last words");
        // Both directions done: both ends close; beta's connection is untouched.
        ca.closeFuture().toCompletableFuture().get(S, TimeUnit.SECONDS);
        sa.closed.get(S, TimeUnit.SECONDS);
        assertThat(cb.isOpen()).isTrue();
        assertThat(sb.channel.isOpen()).isTrue();
        assertThat(owner.status("alpha")).isEqualTo(new Owner.OwnerStatus(1, 0, 1, 0));
        assertThat(owner.status("beta")).isEqualTo(new Owner.OwnerStatus(1, 0, 1, 0));
    }

    @Test
    void connectionsGoRoundRobinAndAKilledProcessTakesOnlyItsOwnStreamsDown() throws Exception {
        RelayOwner owner = owner("alpha", "");
        AttachedProcess p1 = attach(owner, "alpha");
        AttachedProcess p2 = attach(owner, "alpha");
        FarEnd far = new FarEnd();
        ManCom device = farEnd("", "alpha");
        List<Connection> cs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Connection c = device.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
            c.write(("conn-" + i).getBytes(StandardCharsets.UTF_8));
            cs.add(c);
        }
        List<AttachedProcess.Stream> of1 = List.of(p1.nextStream(), p1.nextStream());
        List<AttachedProcess.Stream> of2 = List.of(p2.nextStream(), p2.nextStream());
        assertThat(owner.status("alpha").handedOver()).isEqualTo(4);

        List<Connection> ofP1 = new ArrayList<>();
        for (AttachedProcess.Stream s : of1) {
            Await.until("p1's stream got its tag", () -> s.receivedCount() == 6);
            ofP1.add(cs.get(Integer.parseInt(new String(s.received(), StandardCharsets.UTF_8).substring(5))));
        }
        p1.close(); // killed
        for (Connection c : ofP1) {
            c.closeFuture().toCompletableFuture().get(S, TimeUnit.SECONDS);
        }
        for (AttachedProcess.Stream s : of2) {
            Await.until("p2's stream got its tag", () -> s.receivedCount() == 6);
            Connection c = cs.get(Integer.parseInt(new String(s.received(), StandardCharsets.UTF_8).substring(5)));
            s.write("still here".getBytes(StandardCharsets.UTF_8));
            Await.until("p2's answer arrived", () -> far.count(c) == 10);
            assertThat(c.isOpen()).isTrue();
        }
        Await.until("p1 is gone", () -> owner.status("alpha").attached() == 1);
    }

    @Test
    void aProcessThatStopsReadingStallsItsOwnStreamButNotTheOtherService() throws Exception {
        RelayOwner owner = owner("alpha", "", "beta", "");
        AttachedProcess pa = attach(owner, "alpha");
        pa.startPaused(true);
        AttachedProcess pb = attach(owner, "beta");
        FarEnd far = new FarEnd();
        ManCom device = farEnd(SMALL_QUEUE, "alpha", "beta");
        Connection ca = device.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
        byte[] toA = random(3 << 20, 20);
        CompletableFuture<Void> writing = FarEnd.pump(ca, toA, 16 * 1024);
        AttachedProcess.Stream sa = pa.nextStream();
        Await.until("alpha's writer is stopped", () -> !ca.isWritable());

        // Beta runs both ways, byte-exact, while alpha is stalled.
        Connection cb = device.connectAsync("beta", far).get(S, TimeUnit.SECONDS);
        byte[] toB = random(3 << 20, 21);
        FarEnd.pump(cb, toB, 4096).get(S, TimeUnit.SECONDS);
        AttachedProcess.Stream sb = pb.nextStream();
        Await.until("beta's process has beta's bytes", () -> sb.receivedCount() >= toB.length);
        assertThat(sb.received()).isEqualTo(toB);
        writeAll(sb, toB);
        Await.until("beta's answer came back", () -> far.count(cb) >= toB.length);
        assertThat(far.received(cb)).isEqualTo(toB);
        assertThat(writing).as("alpha's 3 MiB cannot all be on its way while beta moved 6 MiB").isNotDone();
        assertThat(sa.receivedCount()).isZero();

        sa.resumeReading();
        writing.get(S, TimeUnit.SECONDS);
        Await.until("alpha's process has every byte", () -> sa.receivedCount() >= toA.length);
        assertThat(sa.received()).isEqualTo(toA);
    }

    @Test
    void aDeviceSideThatStopsReadingStallsItsProcessButNotTheOtherService() throws Exception {
        RelayOwner owner = owner("alpha", "", "beta", "");
        AttachedProcess pa = attach(owner, "alpha");
        AttachedProcess pb = attach(owner, "beta");
        FarEnd far = new FarEnd();
        ManCom device = farEnd(SMALL_QUEUE, "alpha", "beta");
        Connection ca = device.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
        ca.pauseReading();
        ca.write(new byte[] {1});
        AttachedProcess.Stream sa = pa.nextStream();
        byte[] fromA = random(3 << 20, 30);
        CompletableFuture<Void> writing = sa.pump(fromA);
        Await.until("alpha's process cannot write on", () -> !sa.channel.isWritable());

        Connection cb = device.connectAsync("beta", far).get(S, TimeUnit.SECONDS);
        cb.write(new byte[] {2});
        AttachedProcess.Stream sb = pb.nextStream();
        byte[] fromB = random(3 << 20, 31);
        sb.pump(fromB).get(S, TimeUnit.SECONDS);
        Await.until("beta's bytes reached the far end", () -> far.count(cb) >= fromB.length);
        assertThat(far.received(cb)).isEqualTo(fromB);
        assertThat(writing).as("alpha's 3 MiB cannot all be on its way while beta moved 3 MiB").isNotDone();
        assertThat(far.count(ca)).isZero();

        ca.resumeReading();
        writing.get(S, TimeUnit.SECONDS);
        Await.until("the far end has every byte of alpha's process", () -> far.count(ca) >= fromA.length);
        assertThat(far.received(ca)).isEqualTo(fromA);
    }

    @Test
    void connectionsPastHoldConnectionsOrHoldTimeoutAreClosedAndTheHeldOnesGoToTheFirstProcess() throws Exception {
        RelayOwner owner = owner("alpha", "hold { connections = 2 }", "beta", "hold { timeout = 300ms }");
        FarEnd far = new FarEnd();
        ManCom device = farEnd("", "alpha", "beta");
        List<Connection> cs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Connection c = device.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
            c.write(("conn-" + i).getBytes(StandardCharsets.UTF_8));
            cs.add(c);
        }
        Await.until("one connection past hold.connections is closed",
                () -> cs.stream().filter(c -> !c.isOpen()).count() == 1);
        Await.until("two are held", () -> owner.status("alpha").held() == 2);
        assertThat(owner.status("alpha")).isEqualTo(new Owner.OwnerStatus(0, 2, 0, 1));

        Connection late = device.connectAsync("beta", far).get(S, TimeUnit.SECONDS);
        late.closeFuture().toCompletableFuture().get(S, TimeUnit.SECONDS); // past hold.timeout
        assertThat(owner.status("beta")).isEqualTo(new Owner.OwnerStatus(0, 0, 0, 1));

        AttachedProcess p = attach(owner, "alpha");
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            AttachedProcess.Stream s = p.nextStream();
            Await.until("a held connection's bytes arrived", () -> s.receivedCount() == 6);
            tags.add(new String(s.received(), StandardCharsets.UTF_8));
        }
        List<String> open = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            if (cs.get(i).isOpen()) {
                open.add("conn-" + i);
            }
        }
        assertThat(tags).containsExactlyInAnyOrderElementsOf(open);
        assertThat(owner.status("alpha")).isEqualTo(new Owner.OwnerStatus(1, 0, 2, 1));
    }

    @Test
    void aTcpEndpointWithMuxOnIsRelayedTheSameWay() throws Exception {
        RelayOwner owner = owner("mancom.services.alpha { endpoint = \"tcp://127.0.0.1:0\", mux = on, scope = system }\n"
                + "mancom.services.beta { endpoint = \"tcp://127.0.0.1:0\", mux = on, scope = system }\n");
        assertThat(owner.endpoint("alpha")).as("one link, bound").isEqualTo(owner.endpoint("beta"));
        AttachedProcess pa = attach(owner, "alpha");
        AttachedProcess pb = attach(owner, "beta");
        String at = owner.endpoint("alpha").toString();
        FarEnd far = new FarEnd();
        ManCom client = runtimes.start("mancom.services.alpha { endpoint = \"" + at + "\", mux = on }\n"
                + "mancom.services.beta { endpoint = \"" + at + "\", mux = on }\n");
        Connection ca = client.connectAsync("alpha", far).get(S, TimeUnit.SECONDS);
        Connection cb = client.connectAsync("beta", far).get(S, TimeUnit.SECONDS);
        byte[] toA = random(200 * 1024, 40);
        byte[] toB = random(100 * 1024, 41);
        CompletableFuture.allOf(FarEnd.pump(ca, toA, 8192), FarEnd.pump(cb, toB, 8192)).get(S, TimeUnit.SECONDS);
        AttachedProcess.Stream sa = pa.nextStream();
        AttachedProcess.Stream sb = pb.nextStream();
        Await.until("both processes have their bytes", () -> sa.receivedCount() >= toA.length
                && sb.receivedCount() >= toB.length);
        assertThat(sa.received()).isEqualTo(toA);
        assertThat(sb.received()).isEqualTo(toB);
        writeAll(sa, toB);
        Await.until("alpha's answer came back", () -> far.count(ca) >= toB.length);
        assertThat(far.received(ca)).isEqualTo(toB);
    }

    @Test
    void anOwnerOnTheEmbeddedDefaultsBindsItsEndpoint() throws Exception {
        var loaded = io.mancom.core.spi.ConfigTools.load(io.mancom.testkit.TestManCom.options(
                "mancom.services.alpha { endpoint = \"tcp://127.0.0.1:0\", mux = on, scope = system }\n"));
        try (RelayOwner owner = new RelayOwner(new ArrayList<>(loaded.services().values()), 1)) {
            owner.start();
            owner.awaitReady(T);
            assertThat(owner.carry()).isEqualTo("mux");
            assertThat(owner.serves("alpha")).isTrue();
            assertThat(owner.serves("beta")).isFalse();
            assertThat(owner.endpoint("alpha").toString()).startsWith("tcp://127.0.0.1:").doesNotEndWith(":0");
            assertThat(owner.status("alpha")).isEqualTo(new Owner.OwnerStatus(0, 0, 0, 0));
        }
    }

    @Test
    void aConnectionPastTheProcessesStreamLimitWaitsUntilOneOfItsStreamsEnds() throws Exception {
        // The line takes more streams than an attach connection does.
        String wide = "\", mux { enabled = on, max-streams = 300 }";
        RelayOwner owner = owner("mancom.services.alpha { endpoint = \"serial://" + pty.a() + wide
                + ", scope = system }\n");
        AttachedProcess p = attach(owner, "alpha");
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start("mancom.services.alpha { endpoint = \"serial://" + pty.b() + wide + " }\n");
        int limit = Attachment.SESSION.maxStreams();
        List<CompletableFuture<Connection>> opening = new ArrayList<>();
        for (int i = 0; i <= limit; i++) {
            opening.add(device.connectAsync("alpha", far));
        }
        List<AttachedProcess.Stream> streams = new ArrayList<>();
        for (int i = 0; i < limit; i++) {
            streams.add(p.nextStream());
        }
        Await.until("one connection waits", () -> owner.status("alpha").held() == 1);
        assertThat(p.streams).isEmpty();

        streams.get(0).channel.close();
        AttachedProcess.Stream last = p.nextStream();
        assertThat(owner.status("alpha")).isEqualTo(new Owner.OwnerStatus(1, 0, limit + 1, 0));
        assertThat(last.channel.isOpen()).isTrue();
    }
}
