package io.mancom.core.internal.tls;

import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** One line per service per interval, the failures in between summed into the next line; one phrase, no trace. */
class FailureLogTest {
    @Test
    void oneLinePerIntervalWithTheCountOfTheOthers() {
        AtomicLong now = new AtomicLong();
        FailureLog log = new FailureLog(10, TimeUnit.SECONDS, now::get);
        Exception cause = new io.netty.handler.codec.DecoderException(
                new SSLHandshakeException("(certificate_required) Empty client certificate chain"));

        assertThat(log.failed("a", "/10.0.0.7:5000", cause)).isEqualTo("service 'a': TLS handshake from /10.0.0.7:5000"
                + " failed: SSLHandshakeException: (certificate_required) Empty client certificate chain");
        now.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertThat(log.failed("a", "/10.0.0.7:5001", cause)).isNull();
        assertThat(log.failed("a", "/10.0.0.7:5002", cause)).isNull();
        assertThat(log.failed("b", "/10.0.0.8:5000", cause)).as("another service has its own interval").isNotNull();

        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        assertThat(log.failed("a", "/10.0.0.7:5003", cause)).endsWith("(and 2 more since the last line; counted as"
                + " PROTOCOL errors)").doesNotContain("\n");
        assertThat(log.failed("a", "/10.0.0.7:5004", cause)).isNull();
    }
}
