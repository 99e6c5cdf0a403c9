package io.mancom.daemon.internal;

import io.mancom.Connection;
import io.mancom.ManCom;
import io.mancom.testkit.Await;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RelayOwner} on a {@code mux = off} serial line, whose line is handed over as a descriptor
 * ({@code ManCom-Carry: device}): a socat pty pair is the device (the owner's runtime opens one end,
 * a ManCom runtime of the test, scope = process, is the far end on the other), and every "process"
 * is a real Unix socket connection whose far side speaks the device carry ({@link LineProcess}):
 * it reads and writes its own copy of the line's descriptor.
 */
class RelayOwnerTest extends RelayTestBase {

    @Test
    void aWholeLineIsHandedOverByteExactBothWays() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        assertThat(owner.carry()).isEqualTo("device");
        LineProcess process = attachLine(owner, "line");
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start(line("line", pty.b(), false, ""));
        Connection c = device.connectAsync("line", far).get(S, TimeUnit.SECONDS);

        AttachedProcess.Stream stream = process.nextLine();
        byte[] in = random(256 * 1024, 1);
        FarEnd.pump(c, in, 8192).get(S, TimeUnit.SECONDS);
        Await.until("the process has every byte of the line", () -> stream.receivedCount() >= in.length);
        assertThat(stream.received()).isEqualTo(in);

        byte[] out = random(256 * 1024, 2);
        for (int off = 0; off < out.length; off += 8192) {
            stream.write(Arrays.copyOfRange(out, off, off + 8192));
        }
        Await.until("the device has every byte the process wrote", () -> far.count(c) >= out.length);
        assertThat(far.received(c)).isEqualTo(out);
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 1, 0));
    }

    @Test
    void lineInputIsHeldWhileNoProcessServesItAndDeliveredInFullAfterwardsAlsoAcrossAProcessDying() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        Await.until("the line is held", () -> owner.status("line").held() == 1);
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start(line("line", pty.b(), false, SMALL_QUEUE));
        Connection c = device.connectAsync("line", far).get(S, TimeUnit.SECONDS);
        // More than the ptys and socat hold: the rest waits in the far end's queue, which is
        // small here (SMALL_QUEUE).
        byte[] first = random(512 * 1024, 3);
        var writing = FarEnd.pump(c, first, 4096);
        Await.until("the far end cannot write on (the device is not read)", () -> !c.isWritable());
        assertThat(owner.status("line").held()).isEqualTo(1);

        LineProcess one = attachLine(owner, "line");
        AttachedProcess.Stream s1 = one.nextLine();
        writing.get(S, TimeUnit.SECONDS);
        Await.until("the first process has every byte", () -> s1.receivedCount() >= first.length);
        assertThat(s1.received()).isEqualTo(first);

        // Bytes that reach the line while its process is dead wait in the tty for the next one.
        one.close(); // killed: the line goes back to held, the device stays open
        s1.closed.get(S, TimeUnit.SECONDS);
        Await.until("the line is held again", () -> owner.status("line").held() == 1
                && owner.status("line").attached() == 0);
        assertThat(c.isOpen()).as("the device was not closed").isTrue();
        byte[] second = random(100 * 1024, 4);
        writing = FarEnd.pump(c, second, 4096);

        LineProcess two = attachLine(owner, "line");
        AttachedProcess.Stream s2 = two.nextLine();
        writing.get(S, TimeUnit.SECONDS);
        Await.until("the second process has every later byte", () -> s2.receivedCount() >= second.length);
        assertThat(s2.received()).isEqualTo(second);
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 2, 0));
    }

    @Test
    void whileOneProcessHasTheLineTheNextWaitsAndTakesItOverWhenTheFirstDies() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        LineProcess one = attachLine(owner, "line");
        AttachedProcess.Stream s1 = one.nextLine();
        LineProcess two = attachLine(owner, "line");
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start(line("line", pty.b(), false, ""));
        Connection c = device.connectAsync("line", far).get(S, TimeUnit.SECONDS);
        c.write("first".getBytes(StandardCharsets.UTF_8));
        Await.until("the first process reads the line", () -> s1.receivedCount() == 5);
        assertThat(two.lines).as("one line, one process").isEmpty();

        one.close();
        AttachedProcess.Stream s2 = two.nextLine();
        byte[] later = random(64 * 1024, 6);
        FarEnd.pump(c, later, 4096).get(S, TimeUnit.SECONDS);
        Await.until("the second process has the line's later bytes", () -> s2.receivedCount() >= later.length);
        assertThat(s2.received()).isEqualTo(later);
        assertThat(s1.received()).isEqualTo("first".getBytes(StandardCharsets.UTF_8));
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 2, 0));
    }

    @Test
    void aLostDeviceIsReopenedAndTheNewLineHandedToTheProcessAgain() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        LineProcess process = attachLine(owner, "line");
        AttachedProcess.Stream before = process.nextLine();

        pty.kill(); // the device hangs up: the process's copy sees it, and so does the daemon's
        before.closed.get(S, TimeUnit.SECONDS);
        pty.restart();
        AttachedProcess.Stream after = process.nextLine(); // the runtime reopened the line
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start(line("line", pty.b(), false, ""));
        Connection c = device.connectAsync("line", far).get(S, TimeUnit.SECONDS);
        byte[] in = random(32 * 1024, 5);
        FarEnd.pump(c, in, 4096).get(S, TimeUnit.SECONDS);
        Await.until("the process has the reopened line's bytes", () -> after.receivedCount() >= in.length);
        assertThat(after.received()).isEqualTo(in);
        assertThat(before.receivedCount()).isZero();
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 2, 0));
    }

    @Test
    void aProcessThatClosesTheLineClosesTheDeviceAndTheReopenedLineComesBack() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        LineProcess process = attachLine(owner, "line");
        AttachedProcess.Stream first = process.nextLine();
        first.channel.close(); // as closing the line's Connection in the process does: then C
        AttachedProcess.Stream second = process.nextLine(); // the runtime reopened the device
        FarEnd far = new FarEnd();
        ManCom device = runtimes.start(line("line", pty.b(), false, ""));
        Connection c = device.connectAsync("line", far).get(S, TimeUnit.SECONDS);
        second.write("reopened".getBytes(StandardCharsets.UTF_8));
        Await.until("the reopened line carries the process's bytes", () -> far.count(c) == 8);
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 2, 0));
    }

    @Test
    void aProcessThatSaysClosedForNoLineIsCutOffAndTheLineGoesOn() throws Exception {
        RelayOwner owner = owner(line("line", pty.a(), false, "scope = system"));
        LineProcess rogue = attachLine(owner, "line");
        AttachedProcess.Stream s = rogue.nextLine();
        rogue.send((byte) 'A'); // a second A: it was given one line
        rogue.channel.closeFuture().get(S, TimeUnit.SECONDS);
        s.closed.get(S, TimeUnit.SECONDS); // a process cut off closes its copy (here: the test's kill)
        Await.until("the line is held again", () -> owner.status("line").held() == 1
                && owner.status("line").attached() == 0);
        LineProcess next = attachLine(owner, "line");
        next.nextLine();
        assertStatus(owner, new Owner.OwnerStatus(1, 0, 2, 0));
    }

    /**
     * The owner's figures reach {@code expected}: a process reads its line once its A is written,
     * and the daemon counts the A when it has read it, so the count may trail the process by a hop.
     */
    private static void assertStatus(RelayOwner owner, Owner.OwnerStatus expected) {
        Await.until("the owner's status is " + expected,
                () -> owner.status("line").equals(expected));
    }
}
