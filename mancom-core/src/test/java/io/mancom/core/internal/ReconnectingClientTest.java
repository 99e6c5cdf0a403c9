package io.mancom.core.internal;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which closes of a client's link are losses (redial) and which are the application's own close. */
class ReconnectingClientTest {
    @Test
    void aCloseWithACauseIsALoss() {
        assertThat(ReconnectingClient.lost(new IOException("Connection reset by peer"), false)).isTrue();
    }

    @Test
    void aCloseAfterThePeerEndedIsALoss() {
        // The default onInputShutdown closes the connection: the server went away, not the client.
        assertThat(ReconnectingClient.lost(null, true)).isTrue();
    }

    @Test
    void theApplicationsCloseWhileThePeerStillSendsIsNot() {
        assertThat(ReconnectingClient.lost(null, false)).isFalse();
    }
}
