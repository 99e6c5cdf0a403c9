package io.mancom.testkit;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Outside programs the tests and benchmarks run (nginx, wrk): whether they are here. Stateless. */
public final class Tools {
    private Tools() {
    }

    /**
     * Whether {@code command} (for example {@code nginx -v}) starts here; it is run to its end (up
     * to 10 s) with its output dropped, and its exit code does not matter.
     */
    public static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
