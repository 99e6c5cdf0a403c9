/* half_close.c -- request/response whose request ends with a half-close, blocking style.
 *
 *   half_close client SERVICE N   connects, writes N pattern bytes, mancom_shutdown_output, then
 *                                 checks that poll reports MANCOM_POLLOUT and a write fails at once
 *                                 with MANCOM_ECLOSED, reads the answer to the end of stream and
 *                                 checks that poll still reports MANCOM_POLLOUT (the server has
 *                                 closed by then); prints "reply=<answer>"
 *   half_close server SERVICE     accepts one connection, reads to the end of stream (the peer's
 *                                 half-close) counting the bytes and checking the pattern, then
 *                                 writes "got <count>" and closes; prints "served <count>"
 *
 * Exit code 0 when everything happened as described. */
#include <mancom.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "half_close: %s: %s\n", what, mancom_last_error());
    return 1;
}

static int client(const char *service, long n) {
    mancom_conn conn = mancom_connect(service, 10000);
    if (conn < 0) return fail("connect");
    char buf[8192];
    for (long off = 0; off < n;) {
        size_t take = (size_t) (n - off < (long) sizeof buf ? n - off : (long) sizeof buf);
        for (size_t i = 0; i < take; i++) buf[i] = (char) ((off + (long) i) % 251);
        if (mancom_write(conn, buf, take) != (ssize_t) take) return fail("write");
        off += (long) take;
    }
    if (mancom_shutdown_output(conn) != 0) return fail("shutdown_output");
    /* A write no longer waits (it fails at once), so poll says so at once. */
    mancom_pollitem it = {.conn = conn, .events = MANCOM_POLLOUT};
    if (mancom_poll(&it, 1, 5000) != 1 || !(it.revents & MANCOM_POLLOUT)) {
        fprintf(stderr, "half_close: no MANCOM_POLLOUT after shutdown_output (revents %d)\n", it.revents);
        return 1;
    }
    ssize_t late = mancom_write(conn, "x", 1);
    if (late != MANCOM_ECLOSED) {
        fprintf(stderr, "half_close: a write after shutdown_output returned %zd\n", late);
        return 1;
    }
    printf("late write: %s\n", mancom_last_error());
    char reply[256];
    size_t got = 0;
    for (;;) {
        ssize_t r = mancom_read(conn, reply + got, sizeof reply - 1 - got, 10000);
        if (r < 0) return fail("read");
        if (r == 0) break;
        got += (size_t) r;
    }
    reply[got] = '\0';
    /* The server has answered and closed by now: a write still would not wait, so POLLOUT stays
     * (poll(2) says the same of a shut socket). Before the answer this raced with the close. */
    it.revents = 0;
    if (mancom_poll(&it, 1, 5000) != 1 || !(it.revents & MANCOM_POLLOUT)) {
        fprintf(stderr, "half_close: no MANCOM_POLLOUT after the end of stream (revents %d)\n", it.revents);
        return 1;
    }
    printf("reply=%s\n", reply);
    return mancom_close(conn) == 0 ? 0 : fail("close");
}

static int server(const char *service) {
    if (mancom_listen(service, 10000) < 0) return fail("listen");
    printf("serving '%s'\n", service);
    fflush(stdout);
    mancom_conn conn = mancom_accept(service, 20000);
    if (conn < 0) return fail("accept");
    char buf[8192];
    long count = 0;
    for (;;) {
        ssize_t r = mancom_read(conn, buf, sizeof buf, 10000);
        if (r < 0) return fail("read");
        if (r == 0) break; /* the client half-closed: the request is complete */
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != (char) ((count + i) % 251)) {
                fprintf(stderr, "half_close: byte %ld is wrong\n", count + (long) i);
                return 1;
            }
        }
        count += r;
    }
    char answer[64];
    int len = snprintf(answer, sizeof answer, "got %ld", count);
    if (mancom_write(conn, answer, (size_t) len) != len) return fail("write after the peer's half-close");
    printf("served %ld\n", count);
    return mancom_close(conn) == 0 ? 0 : fail("close");
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "client") == 0 && argc < 4)) {
        fprintf(stderr, "usage: half_close client SERVICE N | half_close server SERVICE\n");
        return 2;
    }
    if (mancom_init(NULL) < 0) return fail("init");
    int rc = strcmp(argv[1], "client") == 0 ? client(argv[2], atol(argv[3])) : server(argv[2]);
    mancom_shutdown();
    return rc;
}
