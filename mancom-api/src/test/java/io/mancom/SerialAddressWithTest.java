package io.mancom;

import io.mancom.SerialAddress.FlowControl;
import io.mancom.SerialAddress.Parity;
import io.mancom.SerialAddress.StopBits;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The copies SerialLine.reconfigure is given: one setting changed, the rest (and the device) kept. */
class SerialAddressWithTest {
    private final SerialAddress base = new SerialAddress("/dev/ttyUSB0", 115200, 8, Parity.NONE, StopBits.ONE,
            FlowControl.NONE, Duration.ofMillis(500));

    @Test
    void eachCopyChangesOnlyWhatItNames() {
        assertThat(base.withBaud(9600)).isEqualTo(new SerialAddress("/dev/ttyUSB0", 9600, 8, Parity.NONE, StopBits.ONE,
                FlowControl.NONE, Duration.ofMillis(500)));
        assertThat(base.withFraming(7, Parity.EVEN, StopBits.TWO)).isEqualTo(new SerialAddress("/dev/ttyUSB0", 115200, 7,
                Parity.EVEN, StopBits.TWO, FlowControl.NONE, Duration.ofMillis(500)));
        assertThat(base.withFlow(FlowControl.RTSCTS).toUri())
                .isEqualTo("serial:///dev/ttyUSB0?baud=115200&databits=8&parity=none&stopbits=1&flow=rtscts&timeout=500ms");
    }

    @Test
    void copiesAreValidatedLikeAnyAddress() {
        assertThatThrownBy(() -> base.withBaud(0)).isInstanceOf(IllegalArgumentException.class).hasMessage("baud must be greater than 0: 0");
        assertThatThrownBy(() -> base.withFraming(9, Parity.NONE, StopBits.ONE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("databits must be 5, 6, 7 or 8: 9");
        assertThatThrownBy(() -> base.withFlow(null)).isInstanceOf(NullPointerException.class).hasMessage("flow");
    }
}
