package io.mancom.core.internal;

import io.mancom.ConfigException;
import io.mancom.ManComException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** How the runtime turns the failures of futures into the exceptions its API throws. Stateless. */
final class Futures {
    private Futures() {
    }

    /** The cause a {@link CompletionException} or {@link ExecutionException} wraps. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** What {@code failed}, which must have failed, failed with. */
    static ManComException asManCom(CompletableFuture<?> failed) {
        try {
            failed.join();
            throw new IllegalStateException("not failed");
        } catch (CompletionException e) {
            return asManCom(e.getCause());
        }
    }

    /** {@code t} as a {@link ManComException}: itself, CONFIG for a config error, IO otherwise. */
    static ManComException asManCom(Throwable t) {
        t = unwrap(t);
        if (t instanceof ManComException m) {
            return m;
        }
        if (t instanceof ConfigException c) {
            return new ManComException(ManComException.Reason.CONFIG, c.getMessage(), c);
        }
        return new ManComException(ManComException.Reason.IO, String.valueOf(t.getMessage()), t);
    }
}
