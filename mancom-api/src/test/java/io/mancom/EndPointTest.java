package io.mancom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EndPointTest {

    @Test
    void parsesTcp() {
        EndPoint e = EndPoint.parse("tcp://127.0.0.1:7000");
        assertThat(e.type()).isEqualTo(TransportType.TCP);
        assertThat(e.address()).isEqualTo(new TcpAddress("127.0.0.1", 7000));
        assertThat(e).hasToString("tcp://127.0.0.1:7000");
    }

    @Test
    void parsesIpv6Tcp() {
        EndPoint e = EndPoint.parse("tcp://[::1]:80");
        assertThat(((TcpAddress) e.address()).host()).isEqualTo("::1");
        assertThat(e).hasToString("tcp://[::1]:80");
    }

    @Test
    void parsesSerialWithEveryOption() {
        EndPoint e = EndPoint.parse("serial:///dev/ttyUSB0?baud=9600&databits=7&parity=even&stopbits=1.5&flow=rtscts&timeout=250ms");
        SerialAddress a = (SerialAddress) e.address();
        assertThat(a.device()).isEqualTo("/dev/ttyUSB0");
        assertThat(a.baud()).isEqualTo(9600);
        assertThat(a.dataBits()).isEqualTo(7);
        assertThat(a.parity()).isEqualTo(SerialAddress.Parity.EVEN);
        assertThat(a.stopBits()).isEqualTo(SerialAddress.StopBits.ONE_POINT_FIVE);
        assertThat(a.flow()).isEqualTo(SerialAddress.FlowControl.RTSCTS);
        assertThat(a.readTimeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void serialDefaults() {
        assertThat(EndPoint.parse("serial:///dev/ttyS0").address()).isEqualTo(SerialAddress.of("/dev/ttyS0"));
    }

    @Test
    void parsesUsb() {
        UsbAddress a = (UsbAddress) EndPoint.parse("usb://16c0:05DC?serial=AB%20C&interface=1&in=0x82&out=0x03&bus=2&address=7").address();
        assertThat(a.vendorId()).isEqualTo(0x16c0);
        assertThat(a.productId()).isEqualTo(0x05dc);
        assertThat(a.serial()).contains("AB C");
        assertThat(a.interfaceNumber()).isEqualTo(1);
        assertThat(a.inEndpoint()).hasValue(0x82);
        assertThat(a.outEndpoint()).hasValue(0x03);
        assertThat(a.bus()).hasValue(2);
        assertThat(a.deviceAddress()).hasValue(7);
    }

    @Test
    void usbProfileKeepsItsOptions() {
        UsbAddress a = (UsbAddress) EndPoint.parse("usb://0403:6001?profile=ftdi&baud=9600").address();
        assertThat(a.profile()).contains("ftdi");
        assertThat(a.options()).isEqualTo(Map.of("baud", "9600"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "tcp://127.0.0.1:7000",
            "tcp://[::1]:7000",
            "serial:///dev/ttyUSB0?baud=9600&databits=7&parity=odd&stopbits=2&flow=xonxoff&timeout=2s",
            "usb://16c0:05dc?interface=0&serial=X1&in=0x81&out=0x02&timeout=1s",
            "usb://0403:6001?interface=0&profile=ftdi&baud=115200",
    })
    void printedFormParsesBackToTheSameValue(String uri) {
        EndPoint e = EndPoint.parse(uri);
        assertThat(EndPoint.parse(e.toString())).isEqualTo(e);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "foo://x|unknown endpoint scheme 'foo': expected one of tcp, serial, usb",
            "localhost:80|not an endpoint URI: 'localhost:80'",
            "tcp://localhost|needs a host and a port: tcp://HOST:PORT",
            "tcp://localhost:http|tcp port 'http' in 'tcp://localhost:http' is not a number 0..65535",
            "tcp://localhost:70000|tcp port out of range 0..65535: 70000",
            "tcp://h:1?x=1|unknown option 'x' in tcp://h:1?x=1",
            "serial://|needs a device path",
            "serial:///dev/x?baud=fast|baud=fast is not a number",
            "serial:///dev/x?databits=9|databits=9 is out of range 5..8",
            "serial:///dev/x?parity=maybe|parity=maybe is not allowed in serial:///dev/x?parity=maybe; allowed: none, even, odd, mark, space",
            "serial:///dev/x?stopbits=3|allowed: 1, 1.5, 2",
            "serial:///dev/x?flow=yes|allowed: none, rtscts, xonxoff",
            "serial:///dev/x?speed=9600|unknown option 'speed' in serial:///dev/x?speed=9600; known options: baud, databits, flow, parity, stopbits, timeout",
            "serial:///dev/x?timeout=soon|timeout=soon is not a duration",
            "usb://16c0|needs vendor and product ids as four hex digits each",
            "usb://16c0:zz|needs vendor and product ids",
            "usb://16c0:05dc?in=0x02|in=0x02 is out of range 129..143",
            "usb://16c0:05dc?colour=red|unknown option 'colour'",
    })
    void badUrisSayWhatIsWrong(String uri, String message) {
        assertThatThrownBy(() -> EndPoint.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
