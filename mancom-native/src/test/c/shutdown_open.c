/* shutdown_open.c -- mancom_shutdown with connections still open delivers every close event.
 *
 *   shutdown_open SERVICE    echoes on SERVICE with callbacks, counting accepts and close events;
 *                            on SIGTERM calls mancom_shutdown while the peers keep their
 *                            connections open, then prints "accepted=<a> closed=<c>"
 *
 * Exit code 0 when every accepted connection got its close callback (exactly once) before
 * mancom_shutdown returned. */
#include <mancom.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int accepted;
static atomic_int closed;

static void on_accept(mancom_conn conn, void *user) {
    (void) conn;
    (void) user;
    atomic_fetch_add(&accepted, 1);
}

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    mancom_write(conn, buf, len);
}

static void on_close(mancom_conn conn, int error, void *user) {
    (void) conn;
    (void) error;
    (void) user;
    atomic_fetch_add(&closed, 1);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: shutdown_open SERVICE\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    if (mancom_init(NULL) < 0
            || mancom_register_acceptor(argv[1], on_accept, NULL) < 0
            || mancom_register_data_receiver(argv[1], on_data, on_close, NULL) < 0
            || mancom_await_ready(10000) < 0) {
        fprintf(stderr, "shutdown_open: %s\n", mancom_last_error());
        return 1;
    }
    printf("serving '%s'\n", argv[1]);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    mancom_shutdown();
    int a = atomic_load(&accepted);
    int c = atomic_load(&closed);
    printf("accepted=%d closed=%d\n", a, c);
    fflush(stdout);
    return a > 0 && a == c ? 0 : 1;
}
