package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** mancom.runtime-dir and mancom.control: defaults, the switch shorthand, and the errors. */
class ControlSettingsTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void onByDefaultInTheDefaultDirectory() throws Exception {
        ControlSettings c = ControlSettings.of(f.load());
        assertThat(c.enabled()).isTrue();
        assertThat(c.runtimeDir()).isEqualTo(ControlSettings.defaultRuntimeDir(System.getenv()));
    }

    @Test
    void defaultDirectoryFollowsXdgElseTmpAndUid() throws Exception {
        assertThat(ControlSettings.defaultRuntimeDir(Map.of("XDG_RUNTIME_DIR", "/run/user/1000")))
                .isEqualTo(Path.of("/run/user/1000/mancom"));
        Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assertThat(ControlSettings.defaultRuntimeDir(Map.of("XDG_RUNTIME_DIR", "relative")))
                .isEqualTo(Path.of("/tmp/mancom-" + uid));
        assertThat(ControlSettings.defaultRuntimeDir(Map.of())).isEqualTo(Path.of("/tmp/mancom-" + uid));
    }

    @Test
    void switchAndBlockBothTurnItOff() {
        f.etcFile("mancom.control = off", "mancom.runtime-dir = \"/srv/mancom\"");
        ControlSettings c = ControlSettings.of(f.load());
        assertThat(c.enabled()).isFalse();
        assertThat(c.runtimeDir()).isEqualTo(Path.of("/srv/mancom"));
    }

    @Test
    void aRelativeDirectoryIsAnError() {
        Path etc = f.etcFile("mancom.runtime-dir = \"run/mancom\"");
        ConfigException e = f.fails();
        assertThat(e.key()).hasValue("mancom.runtime-dir");
        assertThat(e.getMessage()).startsWith(etc + ":1: mancom.runtime-dir: found \"run/mancom\" but expected an absolute");
    }

    @Test
    void unknownKeysAndBadSwitchesAreErrors() {
        Path etc = f.etcFile("mancom.control { enabled = on, enable = off }");
        assertThat(f.fails().getMessage()).startsWith(etc + ":1: mancom.control.enable: found unknown key \"enable\"");
        f.etcFile("mancom.control = maybe");
        assertThat(f.fails().getMessage()).contains("mancom.control").contains("maybe");
    }
}
