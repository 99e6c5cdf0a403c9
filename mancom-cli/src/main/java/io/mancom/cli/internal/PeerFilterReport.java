package io.mancom.cli.internal;

import io.mancom.TransportType;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.TcpSettings;
import io.mancom.tcp.PeerFilters;

import java.io.PrintWriter;

/** The lines {@code mancom config check} adds for TCP services with {@code tcp.allow} / {@code tcp.deny}. */
final class PeerFilterReport {
    private PeerFilterReport() {
    }

    static void print(RuntimeSettings settings, PrintWriter out) {
        String where = null;
        for (ServiceSettings s : settings.services().values()) {
            if (s.endpoint().type() != TransportType.TCP) {
                continue;
            }
            TcpSettings tcp = TcpSettings.of(s);
            if (!tcp.filtersPeers()) {
                continue;
            }
            if (where == null) {
                where = PeerFilters.enforcement();
            }
            out.println("Service " + s.name() + ": tcp.allow " + tcp.allow() + ", tcp.deny " + tcp.deny()
                    + " enforced " + where);
        }
        if (where != null) {
            out.println();
        }
    }
}
