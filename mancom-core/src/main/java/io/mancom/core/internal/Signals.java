package io.mancom.core.internal;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * Signals as requests to the program: while installed, each named signal runs the given action
 * instead of its default. {@code mancom serve} and {@code mancom daemon} take SIGTERM and SIGINT
 * to stop with their own exit code (0 for a clean stop, as service managers and container
 * runtimes expect, not the 143 or 130 of a JVM killed by the signal); the daemon takes SIGHUP to
 * reload.
 *
 * <p>Uses {@code sun.misc.Signal} (module jdk.unsupported, exported for exactly this use) through
 * reflection, so the build has no warning about internal API and a JVM without it, or one run with
 * {@code -Xrs}, simply keeps its default handling: {@link #install} then installs nothing (a
 * signal the JVM keeps, or one the process ignores, is skipped the same way). {@link #close()}
 * puts the previous handlers back. The action runs on the JVM's signal-dispatch thread: it must
 * be quick and must not block.
 */
public final class Signals implements AutoCloseable {
    private final List<Object[]> previous; // {Signal, previous SignalHandler}

    private Signals(List<Object[]> previous) {
        this.previous = previous;
    }

    /**
     * Installs {@code onSignal} for each of {@code names} ("TERM", "INT", "HUP"...), where this
     * JVM allows it.
     */
    public static Signals install(Runnable onSignal, String... names) {
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
                            default -> "ManCom handler of " + String.join(", ", names);
                        };
                    });
            for (String name : names) {
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
        return new Signals(installed);
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
