package io.mancom.cli.internal;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * SIGTERM and SIGINT as a request to stop, for {@code mancom serve}: while installed, either signal
 * runs the given action (which asks the command to close everything and return) instead of
 * starting the JVM's shutdown, so the process ends with the command's own exit code, 0 for a clean
 * stop, as service managers and container runtimes expect, not the 143 or 130 of a JVM killed
 * by the signal.
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported, exported for exactly this use) through
 * reflection, so the build has no warning about internal API and a JVM without it, or one run with
 * {@code -Xrs}, simply keeps its default handling: {@link #install} then installs nothing and the
 * caller's shutdown hook does the stop (exit code 143). {@link #close()} puts the previous
 * handlers back. The action runs on the JVM's signal-dispatch thread: it must be quick and must
 * not block.
 */
final class StopSignals implements AutoCloseable {
    private static final String[] SIGNALS = {"TERM", "INT"};

    private final List<Object[]> previous; // {Signal, previous SignalHandler}

    private StopSignals(List<Object[]> previous) {
        this.previous = previous;
    }

    /** Installs {@code onSignal} for SIGTERM and SIGINT, where this JVM allows it. */
    static StopSignals install(Runnable onSignal) {
        List<Object[]> installed = new ArrayList<>();
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Constructor<?> newSignal = signalClass.getConstructor(String.class);
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> {
                        if (method.getName().equals("handle")) {
                            onSignal.run();
                            return null;
                        }
                        return switch (method.getName()) {
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            default -> "StopSignals handler";
                        };
                    });
            for (String name : SIGNALS) {
                Object signal = newSignal.newInstance(name);
                try {
                    installed.add(new Object[] {signal, handle.invoke(null, signal, handler)});
                } catch (InvocationTargetException refused) {
                    // The JVM keeps this signal (-Xrs, or it is ignored, as SIGINT is for a
                    // background job): its default handling stays, and the shutdown hook stops us.
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError unavailable) {
            // No sun.misc.Signal on this JVM: the shutdown hook alone stops the command.
        }
        return new StopSignals(installed);
    }

    /** Puts back the handlers that were there before {@link #install}. */
    @Override
    public void close() {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            for (Object[] p : previous) {
                handle.invoke(null, p[0], p[1]);
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // Restoring failed: the process is about to end anyway, or the caller is a test whose
            // JVM keeps our handler, which only counts down a latch nobody waits for any more.
        }
    }
}
