package io.mancom.cli.internal;

import picocli.CommandLine.IVersionProvider;

/** {@code mancom --version}: the version in the jar's manifest, which the build writes. */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"mancom " + (v != null ? v : "(development build)"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"};
    }
}
