package io.mancom.core.spi.device;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The {@link DeviceIo} for links that offer a non-blocking {@linkplain DeviceLink#descriptor()
 * descriptor} (a serial port on Linux): the epoll event loop the channel is registered on serves
 * it the way Netty serves a socket, with no other thread and no copy between threads.
 *
 * <ul>
 *   <li><b>Reading</b>: level-triggered {@code EPOLLIN} while the pipeline wants to read; each
 *       event fills direct buffers from the channel's allocator (sized by its receive-buffer
 *       guess) with as many {@code read(2)}s as there are bytes waiting. When the pipeline holds
 *       back, {@code EPOLLIN} is dropped: nothing is read ahead, the device's buffers fill and
 *       the peer is held back.</li>
 *   <li><b>Writing</b>: on flush, straight from the outbound buffer's (direct) messages until the
 *       device has no room, then {@code EPOLLOUT}; at most {@value #WRITE_SPIN} writes per flush
 *       before other channels get the loop. Heap buffers are copied to direct ones when queued.</li>
 *   <li><b>Errors</b>: {@code EPOLLHUP} and {@code EPOLLERR} come whatever is asked for, so a
 *       device lost while reading is paused still closes the channel at once, with
 *       {@link DeviceLink#descriptorFailure}'s cause; so does a failed read or write.</li>
 * </ul>
 *
 * <h2>Lifecycle and threading</h2>
 * All on the channel's event loop, which must be an epoll loop (registration fails otherwise).
 * The descriptor belongs to the link: this engine stops watching it in {@link #stop()}, before
 * the channel closes the link, and never closes it.
 */
final class EpollDeviceIo implements DeviceIo, EpollIoHandle {
    private static final Logger log = LoggerFactory.getLogger(EpollDeviceIo.class);
    /** Write calls per flush before the loop gets to other channels (Netty's write spin count). */
    static final int WRITE_SPIN = 16;
    private static final int EPOLLHUP = 0x10;

    private final DeviceChannel channel;
    private final DeviceLink link;
    private final FileDescriptor fd;
    private IoRegistration registration;
    /**
     * What epoll is asked for. Never NONE: Netty (4.2.18) removes the descriptor from epoll on
     * {@code submit(NONE)} and then fails the next {@code submit} with ENOENT. EPOLLERR, which
     * epoll reports anyway, stands for "nothing".
     */
    private EpollIoOps interest = EpollIoOps.EPOLLERR;
    private RecvByteBufAllocator.Handle recvHandle;
    private boolean readRequested;
    private boolean flushScheduled;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        channelFlushMore();
    };

    EpollDeviceIo(DeviceChannel channel, DeviceLink link) {
        this.channel = channel;
        this.link = link;
        this.fd = new FileDescriptor(link.descriptor());
    }

    @Override
    public void register(ChannelPromise promise) {
        if (registration != null) {
            promise.setSuccess();
            return;
        }
        if (!(channel.eventLoop() instanceof IoEventLoop loop) || !loop.isCompatible(EpollIoHandle.class)) {
            promise.setFailure(new IllegalStateException(link + " offers a file descriptor, which needs an epoll event "
                    + "loop, but the channel is registered on " + channel.eventLoop()));
            return;
        }
        Future<IoRegistration> f = loop.register(this);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                promise.setFailure(done.cause());
                return;
            }
            registration = f.getNow();
            start();
            link.onFailure(channel::linkFailed);
            promise.setSuccess();
        });
    }

    /** Puts the descriptor in epoll (Netty adds it on the first submit), for hang-ups at least. */
    private void start() {
        try {
            registration.submit(interest);
        } catch (Exception e) {
            channel.failed(e);
        }
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        int ready = ((EpollIoEvent) event).ops().value();
        if ((ready & EpollIoOps.EPOLLOUT.value()) != 0 && channel.isOpen()) {
            watch(EpollIoOps.EPOLLOUT, false);
            channelFlushMore();
        }
        boolean hungUp = (ready & (EPOLLHUP | EpollIoOps.EPOLLERR.value())) != 0;
        if (channel.isOpen() && ((ready & EpollIoOps.EPOLLIN.value()) != 0 || hungUp)) {
            read(hungUp);
        }
    }

    @Override
    public void beginRead() {
        readRequested = true;
        watch(EpollIoOps.EPOLLIN, true); // epoll calls back when there is something to read
    }

    @Override
    public void clearReadRequest() {
        readRequested = false; // EPOLLIN goes at the next event, which finds no read asked for
    }

    /** Reads while the pipeline wants it and the device has bytes, then reports a hang-up. */
    private void read(boolean hungUp) {
        if (!readRequested && !hungUp) {
            watch(EpollIoOps.EPOLLIN, false); // auto-read went off since the last read(): stop being told
            return;
        }
        ChannelConfig cfg = channel.config();
        ByteBufAllocator alloc = cfg.getAllocator();
        RecvByteBufAllocator.Handle h = recvHandle;
        if (h == null) {
            recvHandle = h = cfg.getRecvByteBufAllocator().newHandle();
        }
        h.reset(cfg);
        boolean delivered = false;
        try {
            while (channel.isOpen() && readRequested) {
                readRequested = false; // this read() is answered by the buffers below
                ByteBuf buf = alloc.directBuffer(h.guess());
                int n;
                try {
                    h.attemptedBytesRead(buf.writableBytes());
                    n = fill(buf);
                } catch (Throwable t) {
                    buf.release();
                    throw t;
                }
                h.lastBytesRead(n);
                if (n == 0) {
                    buf.release();
                    readRequested = true; // nothing there: the read() is still pending
                    break;
                }
                h.incMessagesRead(1);
                delivered = true;
                channel.pipeline().fireChannelRead(buf);
                if (!h.continueReading()) {
                    // Auto-read asks again from channelReadComplete; without it the
                    // application asks when it wants more.
                    break;
                }
                readRequested = true;
            }
        } catch (IOException e) {
            if (delivered) {
                channel.pipeline().fireChannelReadComplete();
            }
            channel.failed(link.descriptorFailure(e));
            return;
        }
        h.readComplete();
        if (delivered) {
            channel.pipeline().fireChannelReadComplete();
        }
        if (hungUp && channel.isOpen()) {
            channel.failed(link.descriptorFailure(null)); // what was there has been delivered
            return;
        }
        if (channel.isOpen() && !readRequested && !cfg.isAutoRead()) {
            watch(EpollIoOps.EPOLLIN, false); // the pipeline holds back: the device's buffers fill, the peer waits
        }
    }

    /**
     * Reads what the device has into {@code buf} until it is full or the device has no more: a
     * tty hands out at most its 4 KiB line buffer per read(2).
     *
     * @return the bytes read, 0 if none were waiting
     */
    private int fill(ByteBuf buf) throws IOException {
        int total = 0;
        while (buf.isWritable()) {
            int wi = buf.writerIndex();
            int n;
            if (buf.hasMemoryAddress()) {
                n = fd.readAddress(buf.memoryAddress(), wi, buf.capacity());
            } else {
                ByteBuffer nio = buf.internalNioBuffer(wi, buf.writableBytes());
                n = fd.read(nio, nio.position(), nio.limit());
            }
            if (n <= 0) {
                break; // 0: EAGAIN; -1: read(2) gave 0 bytes, which a VMIN=0 tty does when empty
            }
            buf.writerIndex(wi + n);
            total += n;
        }
        return total;
    }

    @Override
    public ByteBuf filterOutbound(ByteBuf msg) {
        if (msg.isDirect()) {
            return msg;
        }
        // write(2) reads from native memory (as Netty's epoll channels, which copy too).
        ByteBuf direct = channel.config().getAllocator().directBuffer(msg.readableBytes());
        direct.writeBytes(msg, msg.readerIndex(), msg.readableBytes());
        msg.release();
        return direct;
    }

    /** Writes flushed messages until done or the device has no room; then waits for EPOLLOUT. */
    @Override
    public void write(ChannelOutboundBuffer in) throws IOException {
        for (int spin = 0; spin < WRITE_SPIN; spin++) {
            Object msg = in.current();
            if (msg == null) {
                return; // all written
            }
            ByteBuf b = (ByteBuf) msg;
            int readable = b.readableBytes();
            if (readable == 0) {
                in.remove();
                continue;
            }
            long written = writeOnce(b);
            if (written > 0) {
                in.removeBytes(written);
            }
            if (written < readable) {
                watch(EpollIoOps.EPOLLOUT, true); // the device's buffer is full: flush on room
                return;
            }
        }
        // Written for long enough: other channels get the loop, this flush goes on after them.
        if (!flushScheduled) {
            flushScheduled = true;
            channel.eventLoop().execute(flushTask);
        }
    }

    private long writeOnce(ByteBuf b) throws IOException {
        if (b.hasMemoryAddress()) {
            int n = fd.writeAddress(b.memoryAddress(), b.readerIndex(), b.writerIndex());
            return Math.max(n, 0);
        }
        long written = 0;
        for (ByteBuffer nio : b.nioBuffers()) {
            int want = nio.remaining();
            int n = fd.write(nio, nio.position(), nio.limit());
            if (n <= 0) {
                break;
            }
            written += n;
            if (n < want) {
                break;
            }
        }
        return written;
    }

    private void channelFlushMore() {
        channel.flushMore();
    }

    /** Whether epoll is asked for {@code op} now; for tests. */
    boolean watching(EpollIoOps op) {
        return interest.contains(op);
    }

    private void watch(EpollIoOps op, boolean on) {
        EpollIoOps next = on ? interest.with(op) : interest.without(op);
        if (next.equals(interest) || registration == null || !registration.isValid()) {
            return;
        }
        try {
            registration.submit(next);
            interest = next;
        } catch (Exception e) {
            channel.failed(e);
        }
    }

    @Override
    public void stop() {
        // Before the link closes the descriptor: its number may be reused by then.
        if (registration != null) {
            try {
                registration.cancel();
            } catch (Exception e) {
                log.debug("{}: could not stop watching the device", channel.remoteAddress(), e);
            }
        }
    }

    @Override
    public void close() {
        // The event loop is shutting down with the channel still on it.
        channel.closeIfOpen();
    }
}
