package io.mancom.usb.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The {@link UsbBackendFactory}s on the class path, by name. A factory that fails to load is logged and skipped. */
public final class UsbBackends {
    private static final Logger log = LoggerFactory.getLogger(UsbBackends.class);

    private UsbBackends() {
    }

    /** The installed factories by name; the first of two with one name wins (and is logged). */
    public static Map<String, UsbBackendFactory> installed() {
        Map<String, UsbBackendFactory> out = new TreeMap<>();
        var it = ServiceLoader.load(UsbBackendFactory.class, UsbBackends.class.getClassLoader()).iterator();
        while (true) {
            UsbBackendFactory f;
            try {
                if (!it.hasNext()) {
                    break;
                }
                f = it.next();
            } catch (ServiceConfigurationError e) {
                log.warn("a USB backend failed to load: {}", e.getMessage());
                continue;
            }
            UsbBackendFactory before = out.putIfAbsent(f.name(), f);
            if (before != null) {
                log.warn("two USB backends are named {}: {} and {}; using the first", f.name(), before.getClass().getName(),
                        f.getClass().getName());
            }
        }
        return out;
    }
}
