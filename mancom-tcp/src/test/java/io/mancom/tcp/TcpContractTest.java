package io.mancom.tcp;

import io.mancom.testkit.EchoPeer;
import io.mancom.testkit.StreamEchoPeer;
import io.mancom.testkit.TransportContractTest;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** The transport contract on real loopback sockets; the peer is a plain socket that echoes. */
class TcpContractTest extends TransportContractTest {
    private ServerSocket listener;

    @Override
    protected EchoPeer startPeer() throws IOException {
        listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        return new SocketPeer(listener);
    }

    @Override
    protected String config() {
        return "mancom.services." + SERVICE + ".endpoint = \"tcp://127.0.0.1:" + listener.getLocalPort() + "\"";
    }

    @Override
    protected boolean halfClose() {
        return true;
    }

    @Override
    protected long backpressureBytes() {
        // Loopback socket buffers grow to several MiB on each side for a peer that does not read.
        return 64L << 20;
    }

    /** Accepts the one connection of a test in the background and echoes on it. */
    private static final class SocketPeer implements EchoPeer {
        private final ServerSocket listener;
        private final java.util.concurrent.CompletableFuture<Echo> echo = new java.util.concurrent.CompletableFuture<>();
        private volatile boolean paused;

        SocketPeer(ServerSocket listener) {
            this.listener = listener;
            Thread t = new Thread(() -> {
                try {
                    Echo e = new Echo(listener.accept());
                    if (paused) {
                        e.pause();
                    }
                    echo.complete(e);
                } catch (IOException e) {
                    echo.completeExceptionally(e);
                }
            }, "tcp-echo-peer-accept");
            t.setDaemon(true);
            t.start();
        }

        private Echo echo() throws Exception {
            return echo.get(T.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        }

        @Override
        public void pause() {
            paused = true;
            echo.thenAccept(Echo::pause);
        }

        @Override
        public void resume() {
            paused = false;
            echo.thenAccept(Echo::resume);
        }

        @Override
        public void cut() throws Exception {
            echo().cut();
        }

        @Override
        public void close() throws Exception {
            listener.close();
            if (echo.isDone() && !echo.isCompletedExceptionally()) {
                Echo e = echo.join();
                e.close();
                e.socket.close();
            }
        }
    }

    private static final class Echo extends StreamEchoPeer {
        final Socket socket;

        Echo(Socket socket) throws IOException {
            super("tcp-echo-peer", socket.getInputStream(), socket.getOutputStream());
            this.socket = socket;
            start();
        }

        @Override
        protected void endOutput() throws IOException {
            socket.shutdownOutput();
        }

        @Override
        public void cut() throws IOException {
            // SO_LINGER 0: close sends a reset instead of a FIN, as a crashed peer's host does.
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }
}
