package io.mancom.serial;

import io.mancom.testkit.EchoPeer;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.StreamEchoPeer;
import io.mancom.testkit.TransportContractTest;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The transport contract on a socat pty pair: the service opens one end, the peer echoes on the
 * other. A serial line has no half-close.
 */
class SerialContractTest extends TransportContractTest {
    @TempDir
    Path dir;
    private PtyPair pty;

    @Override
    protected EchoPeer startPeer() throws IOException {
        boolean ci = "true".equals(System.getenv("CI"));
        if (!PtyPair.available() && !ci) {
            assumeTrue(false, "socat is not installed (apt-get install socat)");
        }
        pty = PtyPair.start(dir);
        return new PtyEcho(pty);
    }

    @Override
    protected String config() {
        return "mancom.services." + SERVICE + ".endpoint = \"serial://" + pty.a() + "\"";
    }

    @Override
    protected boolean halfClose() {
        return false;
    }

    /** Echoes on the pair's other end; cutting kills socat, as pulling the cable would. */
    private static final class PtyEcho extends StreamEchoPeer {
        private final PtyPair pty;
        private final FileChannel in;
        private final FileChannel out;

        PtyEcho(PtyPair pty) throws IOException {
            this(pty, FileChannel.open(pty.b(), StandardOpenOption.READ), FileChannel.open(pty.b(), StandardOpenOption.WRITE));
        }

        private PtyEcho(PtyPair pty, FileChannel in, FileChannel out) {
            // Separate channels for each direction: one FileChannel would serialise them.
            super("pty-echo-peer", Channels.newInputStream(in), Channels.newOutputStream(out));
            this.pty = pty;
            this.in = in;
            this.out = out;
            start();
        }

        @Override
        protected void endOutput() {
            // a line has no end of output
        }

        @Override
        public void cut() throws Exception {
            pty.kill();
        }

        @Override
        public void close() throws Exception {
            super.close();
            in.close();
            out.close();
            pty.close();
        }
    }
}
