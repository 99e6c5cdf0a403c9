package io.mancom.core.internal.mux;

import io.mancom.core.internal.mux.MuxStreamState.End;
import io.mancom.core.internal.mux.MuxStreamState.InputEnd;
import io.mancom.core.internal.mux.MuxStreamState.State;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The stream state machine and its credit arithmetic, without a channel. */
class MuxStreamStateTest {

    private static final Exception WHY = new Exception("why");

    private static MuxStreamState open() {
        return new MuxStreamState(false);
    }

    @Test
    void aStreamStartsOpenOrIdleWithTheProtocolsWindow() {
        MuxStreamState s = open();
        assertThat(s.state()).isEqualTo(State.OPEN);
        assertThat(s.awaitingPreamble()).isFalse();
        assertThat(s.sendCredit()).isEqualTo(MuxFrame.MAX_DATA);
        assertThat(s.recvCredit()).isEqualTo(MuxFrame.MAX_DATA);
        assertThat(s.recvWindow()).isEqualTo(MuxFrame.MAX_DATA);
        assertThat(s.wantsData(false)).isTrue();
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.NONE);

        MuxStreamState idle = new MuxStreamState(true);
        assertThat(idle.state()).isEqualTo(State.IDLE);
        assertThat(idle.awaitingPreamble()).isTrue();
        assertThat(idle.wantsData(false)).as("the preamble is data").isTrue();
        idle.preambleTaken();
        assertThat(idle.state()).isEqualTo(State.OPEN);
    }

    @Test
    void idleTakesNoHalfCloseAndNoSecondPreamble() {
        MuxStreamState idle = new MuxStreamState(true);
        assertThatThrownBy(idle::peerWriteDone).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(idle::localWriteDone).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> idle.peerStoppedReading(WHY)).isInstanceOf(IllegalStateException.class);
        assertThat(idle.localReadDone()).isFalse();
        assertThat(idle.state()).isEqualTo(State.IDLE);

        MuxStreamState s = open();
        assertThatThrownBy(s::preambleTaken).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void sendingThenReceivingHalfClosed() {
        MuxStreamState s = open();
        s.localWriteDone();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_LOCAL);
        assertThat(s.sendHalfClosed()).isTrue();
        assertThat(s.receiveHalfClosed()).isFalse();
        assertThat(s.wantsData(false)).isTrue();
        assertThat(s.writeFailure()).as("this side's own CloseRead fails nothing").isNull();
        s.localWriteDone();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_LOCAL);
        s.peerWriteDone();
        assertThat(s.state()).isEqualTo(State.CLOSED);
        assertThat(s.end()).isEqualTo(End.NONE);
        assertThat(s.wantsData(false)).isFalse();
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.EOF);
        assertThat(s.takeInputEnd(false)).as("once").isEqualTo(InputEnd.NONE);
        assertThat(s.closeLocally(true)).as("a ManCom peer closes it by itself").isFalse();
    }

    @Test
    void receivingThenSendingHalfClosed() {
        MuxStreamState s = open();
        s.peerWriteDone();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_REMOTE);
        assertThat(s.wantsData(false)).isFalse();
        assertThat(s.localReadDone()).as("no CloseWrite after the peer's CloseRead").isFalse();
        s.peerWriteDone();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_REMOTE);
        assertThat(s.peerStoppedReading(WHY)).isTrue();
        assertThat(s.state()).isEqualTo(State.CLOSED);
        assertThat(s.writeFailure()).isSameAs(WHY);
        assertThat(s.closeLocally(false)).as("a plain gomux peer gets CloseStream").isTrue();
        assertThat(s.end()).isEqualTo(End.LOCAL);
    }

    @Test
    void thisSideShutsItsInputThenItsOutput() {
        MuxStreamState s = open();
        assertThat(s.localReadDone()).as("CloseWrite goes out").isTrue();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_REMOTE);
        assertThat(s.localReadDone()).isFalse();
        // Its own CloseWrite is no end of input to deliver (the input is shut already).
        assertThat(s.takeInputEnd(true)).isEqualTo(InputEnd.NONE);
        s.localWriteDone();
        assertThat(s.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void peerStopsReadingThenThisSideShutsInput() {
        MuxStreamState s = open();
        assertThat(s.peerStoppedReading(WHY)).isTrue();
        assertThat(s.state()).isEqualTo(State.HALF_CLOSED_LOCAL);
        assertThat(s.peerStoppedReading(new Exception("again"))).isFalse();
        assertThat(s.writeFailure()).isSameAs(WHY);
        assertThat(s.localReadDone()).isTrue();
        assertThat(s.state()).isEqualTo(State.CLOSED);
    }

    @Test
    void peerCloseEndsEveryStateAndKeepsTheHalves() {
        for (int halves = 0; halves < 3; halves++) {
            MuxStreamState s = open();
            if (halves == 1) {
                s.localWriteDone();
            } else if (halves == 2) {
                s.peerWriteDone();
            }
            s.peerClosed(WHY);
            assertThat(s.state()).isEqualTo(State.CLOSED);
            assertThat(s.end()).isEqualTo(End.PEER);
            assertThat(s.writeFailure()).isSameAs(WHY);
            assertThat(s.wantsData(false)).isFalse();
            assertThat(s.sendHalfClosed()).isEqualTo(halves == 1);
            assertThat(s.localReadDone()).isFalse();
            assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.CLOSE);
            assertThat(s.closeLocally(false)).as("no CloseStream back").isFalse();
        }
    }

    @Test
    void aSessionFailureWinsOverThePeersClose() {
        MuxStreamState s = open();
        s.peerClosed(WHY);
        Exception failed = new Exception("link failed");
        s.sessionEnded(failed, false, false);
        assertThat(s.end()).isEqualTo(End.SESSION);
        assertThat(s.failure()).isSameAs(failed);
        assertThat(s.writeFailure()).as("the first reason stays").isSameAs(WHY);
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.FAIL);
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.NONE);
    }

    @Test
    void thePeersCloseMuxAfterItsHalfCloseEndsTheStreamCleanly() {
        // A C server answered, half-closed and exited: its CloseMux came before the client had
        // read the answer, which then surfaced as "session closed by peer" (CInteropTest).
        MuxStreamState s = open();
        s.peerWriteDone();
        Exception closed = new Exception("session closed by peer");
        s.sessionEnded(closed, false, true);
        assertThat(s.end()).isEqualTo(End.PEER);
        assertThat(s.failure()).isNull();
        assertThat(s.writeFailure()).isSameAs(closed);
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.CLOSE);
    }

    @Test
    void thePeersCloseMuxWhileItStillSendsFailsTheReader() {
        MuxStreamState s = open();
        Exception closed = new Exception("session closed by peer");
        s.sessionEnded(closed, false, true);
        assertThat(s.end()).isEqualTo(End.SESSION);
        assertThat(s.takeInputEnd(false)).isEqualTo(InputEnd.FAIL);
    }

    @Test
    void aCleanSessionEndStopsWritesOnly() {
        MuxStreamState s = open();
        s.sessionEnded(WHY, true, false);
        assertThat(s.end()).isEqualTo(End.NONE);
        assertThat(s.failure()).isNull();
        assertThat(s.writeFailure()).isSameAs(WHY);
        assertThat(s.closeLocally(true)).isTrue();
        assertThat(s.state()).isEqualTo(State.CLOSED);
        s.sessionEnded(new Exception("late"), false, false);
        assertThat(s.end()).as("closed locally stays so").isEqualTo(End.LOCAL);
    }

    @Test
    void closingLocallyWhileOpenSendsCloseStream() {
        assertThat(open().closeLocally(true)).isTrue();
        MuxStreamState half = open();
        half.localWriteDone();
        assertThat(half.closeLocally(true)).isTrue();
    }

    @Test
    void sendCreditIsSpentAndGranted() {
        MuxStreamState s = open();
        assertThat(s.sendable(100_000)).isEqualTo(MuxFrame.MAX_DATA);
        assertThat(s.sendable(10)).isEqualTo(10);
        assertThat(s.spend(65_000)).isFalse();
        assertThat(s.sendable(100_000)).isEqualTo(536);
        assertThat(s.spend(536)).as("used up").isTrue();
        assertThat(s.canSend()).isFalse();
        assertThat(s.sendable(10)).isZero();
        assertThatThrownBy(() -> s.spend(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.spend(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.grant(0)).as("nothing to resume").isFalse();
        assertThat(s.grant(1000)).as("resumes").isTrue();
        assertThat(s.grant(1000)).as("was not blocked").isFalse();
        assertThat(s.sendCredit()).isEqualTo(2000);
        assertThatThrownBy(() -> s.grant(-1)).isInstanceOf(IllegalArgumentException.class);
        // Credit beyond the frame size adds up; a frame still carries at most 64 KiB.
        s.grant(MuxFrame.MAX_LENGTH);
        assertThat(s.sendCredit()).isEqualTo(2000L + MuxFrame.MAX_LENGTH);
        assertThat(s.sendable(Integer.MAX_VALUE)).isEqualTo(MuxFrame.MAX_DATA);
    }

    @Test
    void receiveCreditRefusesOverrunsAndComesBackAsConsumed() {
        MuxStreamState s = open();
        assertThat(s.receive(60_000)).isTrue();
        assertThat(s.recvCredit()).isEqualTo(5536);
        assertThat(s.receive(5537)).as("over the credit").isFalse();
        assertThat(s.recvCredit()).as("unchanged").isEqualTo(5536);
        assertThat(s.receive(5536)).isTrue();
        // Consumed while data is still queued: the credit comes back, the window stays.
        assertThat(s.consumed(60_000, false, 1 << 20, Long.MAX_VALUE)).isEqualTo(60_000);
        assertThat(s.recvWindow()).isEqualTo(MuxFrame.MAX_DATA);
        assertThat(s.recvCredit()).isEqualTo(60_000);
    }

    @Test
    void theWindowDoublesForAReaderThatKeepsUpWithinMaxAndBudget() {
        MuxStreamState s = open();
        s.receive(MuxFrame.MAX_DATA);
        // A whole window went through, nothing queued: it doubles.
        assertThat(s.consumed(MuxFrame.MAX_DATA, true, 1 << 20, Long.MAX_VALUE)).isEqualTo(2L * MuxFrame.MAX_DATA);
        assertThat(s.recvWindow()).isEqualTo(2 * MuxFrame.MAX_DATA);
        assertThat(s.recvCredit()).isEqualTo(2L * MuxFrame.MAX_DATA);
        // Half a window: no growth yet.
        s.receive(MuxFrame.MAX_DATA);
        assertThat(s.consumed(MuxFrame.MAX_DATA, true, 1 << 20, Long.MAX_VALUE)).isEqualTo(MuxFrame.MAX_DATA);
        // The rest of the window: grows, but only as far as the budget allows.
        s.receive(MuxFrame.MAX_DATA);
        assertThat(s.consumed(MuxFrame.MAX_DATA, true, 1 << 20, 1000)).isEqualTo(MuxFrame.MAX_DATA + 1000);
        assertThat(s.recvWindow()).isEqualTo(2 * MuxFrame.MAX_DATA + 1000);
        // No budget: no growth, and the count starts again.
        s.receive(2 * MuxFrame.MAX_DATA + 1000);
        assertThat(s.consumed(2 * MuxFrame.MAX_DATA + 1000, true, 1 << 20, 0)).isEqualTo(2L * MuxFrame.MAX_DATA + 1000);
        assertThat(s.recvWindow()).isEqualTo(2 * MuxFrame.MAX_DATA + 1000);
    }

    @Test
    void theWindowStopsAtMaxWindow() {
        MuxStreamState s = open();
        int max = MuxFrame.MAX_DATA + 100;
        s.receive(MuxFrame.MAX_DATA);
        assertThat(s.consumed(MuxFrame.MAX_DATA, true, max, Long.MAX_VALUE)).isEqualTo(MuxFrame.MAX_DATA + 100);
        assertThat(s.recvWindow()).isEqualTo(max);
        s.receive(max);
        assertThat(s.consumed(max, true, max, Long.MAX_VALUE)).isEqualTo(max);
        assertThat(s.recvWindow()).isEqualTo(max);
    }
}
