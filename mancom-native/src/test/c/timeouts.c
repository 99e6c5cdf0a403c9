/* timeouts.c -- tcp.read-timeout and tcp.idle-timeout reach C as their own close codes.
 *
 * Needs a config with: idle = tcp://127.0.0.1:0 with tcp.idle-timeout, read = tcp://127.0.0.1:0
 * with tcp.read-timeout. Serves both with callbacks, connects a blocking client to each that
 * sends one byte and then stays silent; the server side's on_close gets MANCOM_EIDLETIMEOUT and
 * MANCOM_EREADTIMEOUT, and each client (same service, same timeout) reads end of stream or its
 * own timeout's code. Prints "idle: <code> <message>" and
 * "read: <code> <message>"; exit code 0 when both closed with their code. */
#include <mancom.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int codes[2];
static char messages[2][512];
static int closed;

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    mancom_write(conn, buf, len); /* echo */
}

static void on_close(mancom_conn conn, int error, void *user) {
    (void) conn;
    int which = (int) (long) user;
    pthread_mutex_lock(&lock);
    codes[which] = error;
    snprintf(messages[which], sizeof messages[which], "%s", mancom_last_error());
    closed++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static int fail(const char *what) {
    fprintf(stderr, "timeouts: %s: %s\n", what, mancom_last_error());
    return 1;
}

int main(void) {
    if (mancom_init(NULL) != 0) return fail("init");
    if (mancom_register_data_receiver("idle", on_data, on_close, (void *) 0L) < 0) return fail("register idle");
    if (mancom_register_data_receiver("read", on_data, on_close, (void *) 1L) < 0) return fail("register read");
    if (mancom_await_ready(10000) != 0) return fail("await ready");
    const char *names[2] = {"idle", "read"};
    mancom_conn clients[2];
    for (int i = 0; i < 2; i++) {
        clients[i] = mancom_connect(names[i], 10000);
        if (clients[i] < 0) return fail("connect");
        if (mancom_write(clients[i], "x", 1) != 1) return fail("write");
        char b;
        if (mancom_read(clients[i], &b, 1, 10000) != 1) return fail("echo");
    }
    pthread_mutex_lock(&lock);
    while (closed < 2) pthread_cond_wait(&cond, &lock); /* the test's own timeout bounds this */
    pthread_mutex_unlock(&lock);
    int ok = codes[0] == MANCOM_EIDLETIMEOUT && codes[1] == MANCOM_EREADTIMEOUT;
    for (int i = 0; i < 2; i++) {
        char b;
        ssize_t r = mancom_read(clients[i], &b, 1, 10000);
        /* The client is a connection of the same service, with the same timeout: it ends with the
         * same code, or reads end of stream if the server's side closed first. */
        if (r != 0 && r != codes[i]) {
            fprintf(stderr, "timeouts: client %s read %zd, not end of stream or %d\n", names[i], r, codes[i]);
            ok = 0;
        }
        mancom_close(clients[i]);
        printf("%s: %d %s\n", names[i], codes[i], messages[i]);
    }
    printf("strerror: %s | %s\n", mancom_strerror(MANCOM_EIDLETIMEOUT), mancom_strerror(MANCOM_EREADTIMEOUT));
    mancom_shutdown();
    return ok ? 0 : 1;
}
