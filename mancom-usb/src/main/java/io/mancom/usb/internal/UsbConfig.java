package io.mancom.usb.internal;

import com.typesafe.config.Config;
import io.mancom.core.spi.Settings;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The transport-wide USB settings, the {@code mancom.usb} block. Immutable.
 *
 * @param backend      {@code NAME} or {@code NAME:ARGUMENT} of a {@link UsbBackendFactory}
 * @param hotplug      how arrivals and departures are noticed
 * @param pollInterval how often the device list is read when polling
 */
public record UsbConfig(String backend, Hotplug hotplug, Duration pollInterval) {

    /** {@code mancom.usb.hotplug}. */
    public enum Hotplug {
        /** The backend's hotplug events where it has them, else polling. */
        AUTO,
        /** Always poll the device list. */
        POLL
    }

    /** The defaults of reference.conf. */
    public static final UsbConfig DEFAULT = new UsbConfig("libusb", Hotplug.AUTO, Duration.ofSeconds(1));

    public UsbConfig {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(hotplug, "hotplug");
        Objects.requireNonNull(pollInterval, "pollInterval");
    }

    /**
     * Reads {@code mancom.usb} from the runtime's merged configuration.
     *
     * @throws io.mancom.ConfigException naming the file, line and key of a bad value
     */
    public static UsbConfig from(Config root, Collection<String> installedBackends) {
        if (!root.hasPath("mancom.usb")) {
            return DEFAULT;
        }
        Settings usb = Settings.of(root.getConfig("mancom.usb"), "mancom.usb");
        usb.requireKnownKeys(List.of("backend", "hotplug", "poll-interval"));
        String backend = usb.getString("backend");
        if (backend.isBlank()) {
            throw usb.error("backend", "found an empty string but expected a USB backend name such as libusb");
        }
        UsbConfig c = new UsbConfig(backend.strip(), Hotplug.AUTO, Duration.ZERO);
        if (!installedBackends.contains(c.backendName())) {
            throw usb.error("backend", "found \"" + backend + "\" but expected one of the installed USB backends: "
                    + String.join(", ", new TreeSet<>(installedBackends)));
        }
        return new UsbConfig(backend.strip(), usb.getEnum("hotplug", Hotplug.class),
                usb.getDuration("poll-interval", Duration.ofMillis(1), Duration.ofMinutes(10)));
    }

    /** The factory name of {@link #backend()}. */
    public String backendName() {
        int colon = backend.indexOf(':');
        return colon < 0 ? backend : backend.substring(0, colon);
    }

    /** What follows {@code name:} in {@link #backend()}, or the empty string. */
    public String backendArgument() {
        int colon = backend.indexOf(':');
        return colon < 0 ? "" : backend.substring(colon + 1);
    }
}
