package io.mancom.testkit;

import io.mancom.ManCom;

import java.util.ArrayList;
import java.util.List;

/**
 * The isolated runtimes one test starts ({@link TestManCom}), closed together: keep one in a field
 * and call {@link #close()} from {@code @AfterEach}, in the order the test needs among its other
 * resources (runtimes before the pty or bus they use, so they do not see their link vanish first).
 * Not thread-safe: start runtimes from the test's thread.
 */
public final class TestRuntimes implements AutoCloseable {
    private final List<ManCom> started = new ArrayList<>();

    /** Starts an isolated runtime with {@code hocon} on top of the defaults; closed by {@link #close()}. */
    public ManCom start(String hocon) {
        ManCom m = TestManCom.start(hocon);
        started.add(m);
        return m;
    }

    /** Closes every runtime started so far (each close is idempotent), then forgets them. */
    @Override
    public void close() {
        try {
            started.forEach(ManCom::close);
        } finally {
            started.clear();
        }
    }
}
