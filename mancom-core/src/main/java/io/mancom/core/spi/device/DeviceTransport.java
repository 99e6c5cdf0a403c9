package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.TransportType;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.spi.LinkSink;
import io.mancom.spi.Listener;
import io.mancom.spi.Transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * A complete {@link Transport} for one kind of byte-pipe device, given only how to open it
 * ({@link DeviceOpeners}): {@link #listen} is a {@link DeviceListener} (open, and reopen after a
 * loss) with an opener of its own, {@link #connect} is a {@link DeviceConnector} (open once). The
 * serial transport is this class with a jSerialComm opener; the USB transport is this class with
 * usb4java openers that wait for a device to be plugged in (hotplug) and share one libusb context.
 *
 * <h2>Lifecycle and threading</h2>
 * Thread-safe. Needs the runtime's {@link ChannelSink}s (mancom-core); any other
 * {@link LinkSink} is an {@link IllegalArgumentException}. {@link #close()} stops every listener
 * (which closes its opener, ending a wait for the device), then closes the {@link DeviceOpeners}
 * (which releases what they share); channels already handed out belong to the runtime, which
 * closes them. Idempotent; {@link #listen} after it is an {@link IllegalStateException}.
 */
public final class DeviceTransport implements Transport {
    private final TransportType type;
    private final NettyRuntime runtime;
    private final DeviceOpeners openers;
    private final DeviceChannel.Options options;
    private final List<DeviceListener> listeners = new ArrayList<>();
    private boolean closed;

    /**
     * A transport whose devices are opened by path with one opener that never waits (serial).
     *
     * @param type    the endpoints this transport accepts (checked, for a clear error)
     * @param runtime the runtime's Netty machinery ({@code context.unwrap(NettyRuntime.class)})
     */
    public DeviceTransport(TransportType type, NettyRuntime runtime, DeviceOpener opener, DeviceChannel.Options options) {
        this(type, runtime, DeviceOpeners.of(opener), options);
    }

    /**
     * A transport with an opener per listening service and per connect (USB: openers that wait for
     * the device to be plugged in, over a shared backend that {@link #close()} stops).
     */
    public DeviceTransport(TransportType type, NettyRuntime runtime, DeviceOpeners openers, DeviceChannel.Options options) {
        this.type = Objects.requireNonNull(type, "type");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.openers = Objects.requireNonNull(openers, "openers");
        this.options = Objects.requireNonNull(options, "options");
    }

    @Override
    public Listener listen(EndPoint endpoint, LinkSink sink) {
        check(endpoint);
        ChannelSink channels = channelSink(sink);
        synchronized (listeners) {
            if (closed) {
                throw new IllegalStateException("the " + type.scheme() + " transport is closed");
            }
            DeviceListener l = DeviceListener.start(endpoint, openers.forListener(endpoint), channels, runtime, options);
            listeners.add(l);
            return l;
        }
    }

    @Override
    public CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout) {
        check(endpoint);
        return DeviceConnector.connect(endpoint, openers.forClient(endpoint), channelSink(sink), runtime, options, timeout);
    }

    @Override
    public void close() {
        List<DeviceListener> copy;
        synchronized (listeners) {
            if (closed) {
                return;
            }
            closed = true;
            copy = new ArrayList<>(listeners);
            listeners.clear();
        }
        copy.forEach(DeviceListener::close);
        // After the listeners: a USB backend must outlive the waits and links it serves.
        openers.close();
    }

    private void check(EndPoint endpoint) {
        if (endpoint.type() != type) {
            throw new IllegalArgumentException("not a " + type.scheme() + " endpoint: " + endpoint);
        }
    }

    private ChannelSink channelSink(LinkSink sink) {
        if (sink instanceof ChannelSink c) {
            return c;
        }
        throw new IllegalArgumentException("the " + type.scheme() + " transport needs the ManCom core runtime's ChannelSink, got "
                + sink.getClass().getName());
    }
}
