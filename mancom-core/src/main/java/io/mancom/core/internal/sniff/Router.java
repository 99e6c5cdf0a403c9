package io.mancom.core.internal.sniff;

import io.mancom.core.internal.config.MatchRule;
import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * Tries a port's rules in order on a connection's first bytes: the first rule that matches wins,
 * but only once every rule before it has said no (sslh's order). Immutable; thread-safe.
 */
public final class Router {
    /** {@link #decide}: more bytes are needed. */
    public static final int AGAIN = -1;
    /** {@link #decide}: no rule matches. */
    public static final int NONE = -2;

    private final Matcher[] matchers;

    /** @param rules the port's rules, in the order they are tried */
    public Router(List<MatchRule> rules) {
        this.matchers = rules.stream().map(Matcher::of).toArray(Matcher[]::new);
    }

    /**
     * The index of the rule that takes {@code bytes}, {@link #AGAIN} or {@link #NONE}.
     *
     * @param bytes the first bytes (at least one; not consumed), at most {@code limit}
     * @param last  whether no more bytes will come (the bound is reached, or the client finished):
     *              a rule that would need more says no
     */
    public int decide(ByteBuf bytes, int limit, boolean last) {
        FirstBytes first = new FirstBytes(bytes, limit);
        for (int i = 0; i < matchers.length; i++) {
            Matcher.Verdict v = matchers[i].test(first);
            if (v == Matcher.Verdict.MATCH) {
                return i;
            }
            if (v == Matcher.Verdict.AGAIN && !last) {
                return AGAIN;
            }
        }
        return NONE;
    }
}
