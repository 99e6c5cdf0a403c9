package io.mancom.cli.internal;

import io.mancom.EndPoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The short endpoint text of serve's listing: options at their defaults left out, nothing else. */
class EndpointTextTest {

    @Test
    void aSerialLineAtItsDefaultsIsJustItsDevice() {
        EndPoint e = EndPoint.parse("serial:///dev/ttyUSB0");
        assertThat(e.toString()).contains("databits=8"); // the canonical form spells out every option

        assertThat(EndpointText.brief(e)).isEqualTo("serial:///dev/ttyUSB0");
    }

    @Test
    void optionsThatDifferFromTheDefaultsStayInTheirCanonicalOrder() {
        EndPoint e = EndPoint.parse("serial:///dev/ttyS1?flow=rtscts&baud=9600&parity=even&databits=8");

        assertThat(EndpointText.brief(e)).isEqualTo("serial:///dev/ttyS1?baud=9600&parity=even&flow=rtscts");
    }

    @Test
    void aUsbDeviceKeepsOnlyWhatSelectsOrConfiguresIt() {
        assertThat(EndpointText.brief(EndPoint.parse("usb://16c0:05dc"))).isEqualTo("usb://16c0:05dc");
        assertThat(EndpointText.brief(EndPoint.parse("usb://16c0:05dc?interface=1&serial=A1")))
                .isEqualTo("usb://16c0:05dc?interface=1&serial=A1");
    }

    @Test
    void tcpIsUnchanged() {
        assertThat(EndpointText.brief(EndPoint.parse("tcp://127.0.0.1:7000"))).isEqualTo("tcp://127.0.0.1:7000");
    }
}
