package io.mancom.cli.internal;

import io.mancom.EndPoint;
import io.mancom.SerialAddress;
import io.mancom.UsbAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Endpoints as people read them in a table: the canonical URI without the options that have their
 * default values. A serial endpoint's canonical URI spells out all six line options (about 90
 * characters); {@code serial:///dev/ttyUSB0?baud=9600} says the same. Stateless.
 */
public final class EndpointText {
    private EndpointText() {
    }

    /** The endpoint's URI with every option that equals its default left out. */
    public static String brief(EndPoint e) {
        String uri = e.toString();
        String defaults;
        if (e.address() instanceof SerialAddress s) {
            defaults = SerialAddress.of(s.device()).toUri();
        } else if (e.address() instanceof UsbAddress u) {
            defaults = UsbAddress.of(u.vendorId(), u.productId()).toUri();
        } else {
            return uri;
        }
        int q = uri.indexOf('?');
        if (q < 0) {
            return uri;
        }
        Set<String> dflt = Set.of(query(defaults));
        List<String> kept = new ArrayList<>();
        for (String option : query(uri)) {
            if (!dflt.contains(option)) {
                kept.add(option);
            }
        }
        return uri.substring(0, q) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
    }

    private static String[] query(String uri) {
        int q = uri.indexOf('?');
        return q < 0 || q == uri.length() - 1 ? new String[0] : uri.substring(q + 1).split("&");
    }
}
