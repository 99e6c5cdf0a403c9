/* echo_server.c -- callback style: echoes every byte of every connection of a service.
 *
 *   cc echo_server.c $(pkg-config --cflags --libs mancom) -o echo_server
 *   MANCOM_CONFIG=app.conf ./echo_server [service]        # default service: echo
 *
 * Runs until SIGINT or SIGTERM, then shuts down cleanly (exit code 0).
 */
#include <mancom.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>

/* Runs on the connection's event-loop thread: must not block. buf is lent for the call;
 * mancom_write copies it. */
static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    if (mancom_write(conn, buf, len) < 0) {
        fprintf(stderr, "echo_server: write failed: %s\n", mancom_last_error());
        mancom_close(conn);
    }
}

static void on_close(mancom_conn conn, int error, void *user) {
    (void) user;
    if (error != 0) {
        fprintf(stderr, "echo_server: connection %lld failed: %s\n", (long long) conn, mancom_last_error());
    }
}

int main(int argc, char **argv) {
    const char *service = argc > 1 ? argv[1] : "echo";
    /* Block the stop signals before the runtime starts threads, and wait for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "echo_server: %s\n", mancom_last_error());
        return 1;
    }
    int rc = 0;
    if (mancom_register_data_receiver(service, on_data, on_close, NULL) < 0 || mancom_await_ready(10000) < 0) {
        fprintf(stderr, "echo_server: %s\n", mancom_last_error());
        rc = 1;
    } else {
        printf("echo_server: serving '%s'\n", service);
        fflush(stdout);
        int sig;
        sigwait(&stop, &sig);
    }
    mancom_shutdown();
    return rc;
}
