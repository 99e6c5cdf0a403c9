/* echo_client.c -- blocking style: sends a message to a service and prints what comes back.
 *
 *   cc echo_client.c $(pkg-config --cflags --libs mancom) -o echo_client
 *   MANCOM_CONFIG=app.conf ./echo_client [service] [message]
 */
#include <mancom.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *service = argc > 1 ? argv[1] : "echo";
    const char *message = argc > 2 ? argv[2] : "hello from C";
    size_t len = strlen(message);
    char reply[4096];
    int rc = 1;

    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "echo_client: %s\n", mancom_last_error());
        return 1;
    }
    mancom_conn conn = mancom_connect(service, 5000);
    if (conn < 0) {
        fprintf(stderr, "echo_client: %s\n", mancom_last_error());
        goto out;
    }
    if (mancom_write(conn, message, len) < 0) {
        fprintf(stderr, "echo_client: %s\n", mancom_last_error());
        goto close;
    }
    size_t got = 0;
    while (got < len && got < sizeof reply) {
        ssize_t n = mancom_read(conn, reply + got, sizeof reply - got, 5000);
        if (n <= 0) {
            fprintf(stderr, "echo_client: %s\n", n == 0 ? "the server closed the connection" : mancom_last_error());
            goto close;
        }
        got += (size_t) n;
    }
    printf("%.*s\n", (int) got, reply);
    rc = 0;
close:
    mancom_close(conn);
out:
    mancom_shutdown();
    return rc;
}
