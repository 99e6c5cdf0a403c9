package io.mancom.core.internal;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Wraps Netty's epoll {@link IoHandlerFactory} so that a channel whose interest set becomes empty
 * stays in the epoll set, with {@code EPOLLET} alone as its interest.
 *
 * <p>Why: in Netty 4.2.18 an empty interest set ({@link EpollIoOps#NONE}) takes the descriptor out
 * of the epoll set ({@code EPOLL_CTL_DEL}) while the registration still counts it as added, so the
 * next non-empty set is sent as {@code EPOLL_CTL_MOD}, which fails with {@code ENOENT}. A
 * half-closed socket reaches the empty set as a matter of course: its input is done (no
 * {@code EPOLLIN}, no {@code EPOLLRDHUP}) and its queue drained (no {@code EPOLLOUT}); the next
 * write that does not fit the socket buffer asks for {@code EPOLLOUT}, the flush fails and Netty
 * closes the channel. A forwarded connection whose client had half-closed lost the rest of the
 * backend's answer that way (ForwardTest). Netty 4.2.19+ cannot be used here (no native epoll
 * library of it is served), hence this wrapper; it can go when Netty is upgraded.
 *
 * <p>{@code EPOLLET} with no event bit is as good as an empty set: epoll reports only
 * {@code EPOLLERR}/{@code EPOLLHUP} for it, edge-triggered (once, not on every wait while a
 * finished socket stays open). Every other call goes to Netty's handler unchanged.
 *
 * <p>Every epoll event loop group of ManCom (the runtime's, the daemon's, the HTTP proxy's) is
 * made with {@link #newFactory()} (other modules: {@code NettyRuntime.epollIoHandlerFactory()}); the benchmarks' plain-Netty baselines are not, on purpose.
 *
 * <p>Thread-safe as Netty's handler is: each handler and its registrations live on one event loop.
 */
public final class EpollKeepRegistered implements IoHandlerFactory {
    private final IoHandlerFactory epoll;

    /** Netty's epoll handler factory, wrapped; only where {@code Epoll.isAvailable()}. */
    public static IoHandlerFactory newFactory() {
        return new EpollKeepRegistered(io.netty.channel.epoll.EpollIoHandler.newFactory());
    }

    EpollKeepRegistered(IoHandlerFactory epoll) {
        this.epoll = epoll;
    }

    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new Handler(epoll.newHandler(executor));
    }

    @Override
    public boolean isChangingThreadSupported() {
        return epoll.isChangingThreadSupported();
    }

    private record Handler(IoHandler epoll) implements IoHandler {
        @Override
        public void initialize() {
            epoll.initialize();
        }

        @Override
        public int run(IoHandlerContext context) {
            return epoll.run(context);
        }

        @Override
        public void prepareToDestroy() {
            epoll.prepareToDestroy();
        }

        @Override
        public void destroy() {
            epoll.destroy();
        }

        @Override
        public IoRegistration register(IoHandle handle) throws Exception {
            return new Registration(epoll.register(handle));
        }

        @Override
        public void wakeup() {
            epoll.wakeup();
        }

        @Override
        public boolean isCompatible(Class<? extends IoHandle> handleType) {
            return epoll.isCompatible(handleType);
        }
    }

    private static final class Registration implements IoRegistration {
        private final IoRegistration epoll;
        /** Whether a non-empty set was submitted, that is, the descriptor is in the epoll set. */
        private boolean added;

        Registration(IoRegistration epoll) {
            this.epoll = epoll;
        }

        @Override
        public <T> T attachment() {
            return epoll.attachment();
        }

        @Override
        public long submit(IoOps ops) {
            if (ops instanceof EpollIoOps e && e.value() == 0) {
                return added ? epoll.submit(EpollIoOps.EPOLLET) : epoll.submit(ops);
            }
            added = true;
            return epoll.submit(ops);
        }

        @Override
        public boolean isValid() {
            return epoll.isValid();
        }

        @Override
        public boolean cancel() {
            return epoll.cancel();
        }
    }
}
