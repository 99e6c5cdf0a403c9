package io.mancom;

import io.mancom.spi.RuntimeProvider;

import java.util.Iterator;
import java.util.ServiceLoader;

/** Finds the runtime implementation (mancom-core) once, the way SLF4J finds its provider. */
final class Runtimes {
    private static volatile RuntimeProvider provider;

    private Runtimes() {
    }

    static RuntimeProvider provider() {
        RuntimeProvider p = provider;
        if (p == null) {
            Iterator<RuntimeProvider> it = ServiceLoader.load(RuntimeProvider.class, ManCom.class.getClassLoader()).iterator();
            if (!it.hasNext()) {
                throw new IllegalStateException("no ManCom runtime on the class path: add the io.mancom:mancom-core jar");
            }
            p = it.next();
            provider = p;
        }
        return p;
    }
}
