package io.mancom.core.internal.mux;

import io.mancom.core.internal.mux.MuxSettings.Role;

import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntSupplier;

/**
 * The role half of the Hello exchange: which tie-breaker this side sends, and which role the
 * peer's Hello settles. Event loop only, except {@link #role()}.
 *
 * <p>A side with a fixed role sends {@link #TIE_FIXED_INITIATOR} or {@link #TIE_FIXED_RESPONDER};
 * an auto side draws from 1..0xFFFE, so it always yields to a fixed initiator and always wins
 * against a fixed responder, and "higher becomes the initiator" holds for every pair.
 */
final class RoleNegotiation {

    static final int TIE_FIXED_INITIATOR = 0xFFFF;
    static final int TIE_FIXED_RESPONDER = 0;

    /** What a peer's Hello changed. */
    enum Outcome {
        /** Nothing: the role was fixed, or settled before. */
        UNCHANGED,
        /** The role is now settled. */
        SETTLED,
        /** Equal draws: send a new Hello with {@link #tieBreak()} and wait for the peer's. */
        DRAW_AGAIN
    }

    private final Role configured;
    private final IntSupplier draws;
    private volatile Role role;
    private int tieBreak;

    RoleNegotiation(Role configured, IntSupplier draws) {
        this.configured = configured;
        this.draws = draws;
        this.role = configured;
        this.tieBreak = switch (configured) {
            case INITIATOR -> TIE_FIXED_INITIATOR;
            case RESPONDER -> TIE_FIXED_RESPONDER;
            case AUTO -> 0; // drawn at start()
        };
    }

    /** A fresh auto draw: 1..0xFFFE. */
    static int draw() {
        return ThreadLocalRandom.current().nextInt(1, 0xFFFF);
    }

    /** Starts the exchange; returns the tie-breaker of this side's first Hello. */
    int start() {
        if (configured == Role.AUTO) {
            tieBreak = draws.getAsInt();
        }
        return tieBreak;
    }

    /** The tie-breaker of this side's latest Hello. */
    int tieBreak() {
        return tieBreak;
    }

    /** This side's role: {@link Role#AUTO} while unsettled. Readable from any thread. */
    Role role() {
        return role;
    }

    boolean settled() {
        return role != Role.AUTO;
    }

    /**
     * Takes the peer's Hello.
     *
     * @throws MuxProtocolException if both sides are fixed to the same role
     */
    Outcome onPeerHello(int peerTie) {
        if (configured != Role.AUTO) {
            if (configured == Role.INITIATOR && peerTie == TIE_FIXED_INITIATOR
                    || configured == Role.RESPONDER && peerTie == TIE_FIXED_RESPONDER) {
                throw new MuxProtocolException("both sides of the link are mux.role = "
                        + configured.name().toLowerCase(Locale.ROOT)
                        + "; set one side to the other role, or both to auto");
            }
            return Outcome.UNCHANGED;
        }
        if (role != Role.AUTO) {
            return Outcome.UNCHANGED; // a later Hello changes nothing
        }
        if (peerTie == tieBreak) {
            tieBreak = draws.getAsInt();
            return Outcome.DRAW_AGAIN;
        }
        role = tieBreak > peerTie ? Role.INITIATOR : Role.RESPONDER;
        return Outcome.SETTLED;
    }
}
