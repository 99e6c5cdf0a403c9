package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.core.internal.config.PortPlan;
import io.mancom.core.internal.sniff.Router;
import io.mancom.spi.Listener;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The services that share one TCP port by their first bytes ({@code match}): one listener for all
 * of them, whose connections a sniffer hands to the member whose rule matches ({@link PortSink}).
 * The listener serves while any member is served; the port runs on the first member's {@code tcp}
 * settings.
 *
 * <p>Mutable fields are guarded by the runtime's lock (the {@link DeMuxer}'s).
 */
final class PortGroup {
    final PortPlan.SharedPort plan;
    /** The members in the order their rules are tried. */
    final List<Service> members;
    final Router router;
    /** The rule a silent client goes to, or -1. */
    final int onTimeout;

    // Guarded by the runtime's lock.
    Listener listener;
    CompletableFuture<EndPoint> ready;

    PortGroup(PortPlan.SharedPort plan, List<Service> members) {
        this.plan = plan;
        this.members = List.copyOf(members);
        this.router = new Router(plan.rules());
        this.onTimeout = plan.sniff().onTimeout() == null ? -1 : plan.members().indexOf(plan.sniff().onTimeout());
    }

    EndPoint endpoint() {
        return plan.endpoint();
    }

    /** Whether any member is served here. */
    boolean inUse() {
        return members.stream().anyMatch(s -> s.mode != Service.Mode.NONE);
    }

    String names() {
        return String.join(", ", plan.members());
    }
}
