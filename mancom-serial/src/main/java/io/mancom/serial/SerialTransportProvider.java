package io.mancom.serial;

import io.mancom.TransportType;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.device.DeviceChannel;
import io.mancom.core.spi.device.DeviceTransport;
import io.mancom.serial.internal.SerialOpener;
import io.mancom.spi.Transport;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;

/**
 * The {@code serial:///dev/ttyUSB0?baud=115200&databits=8&parity=none&stopbits=1&flow=none&timeout=0}
 * transport, on jSerialComm.
 *
 * <p>A serial line has no "accept": a service on a serial endpoint opens the port when the runtime
 * starts, and the open line is its one connection; when the port is lost it is reopened with
 * backoff ({@code reconnect}) and the service gets a new connection. A client {@code connect}
 * opens the port once. The line is a {@link DeviceChannel} on the runtime's event loops, so
 * everything built on connections works on it unchanged. See {@code docs/serial.md}.
 *
 * <p>The constructor does nothing (jSerialComm's native library is loaded on the first open).
 */
public final class SerialTransportProvider implements TransportProvider {

    /**
     * Reads of up to 64 KiB (a read takes what the tty has waiting, beyond its 4 KiB line buffer),
     * 256 KiB read ahead at most (the one array a line's reader fills, so also what a stalled line
     * holds), and 64 KiB write batches. At 80 MB/s (a pty) 256 KiB is 3 ms, about a scheduler time
     * slice: the reader keeps the peer going while a busy event loop is late.
     */
    static final DeviceChannel.Options OPTIONS = new DeviceChannel.Options(64 * 1024, 4, 64 * 1024);

    /** For {@link java.util.ServiceLoader}; cheap, does no I/O. */
    public SerialTransportProvider() {
    }

    @Override
    public String scheme() {
        return "serial";
    }

    @Override
    public TransportType type() {
        return TransportType.SERIAL;
    }

    @Override
    public Transport create(TransportContext context) {
        NettyRuntime runtime = context.unwrap(NettyRuntime.class);
        return new DeviceTransport(TransportType.SERIAL, runtime, new SerialOpener(runtime.isNative()), OPTIONS);
    }
}
