/* backlog.c -- the C blocking API takes its accept backlog from the service's settings.
 *
 * Needs a config with: small = tcp://127.0.0.1:0 with blocking.accept-backlog = 1.
 * Listens on "small" and connects three clients without accepting. The runtime keeps one
 * connection for mancom_accept and closes the others (the backlog is 1): two clients read end
 * of stream, the listener polls MANCOM_POLLIN, one accept succeeds and is the third client's
 * peer, a second accept times out. Prints "refused=2 accepted=1"; exit code 0 when all held. */
#include <mancom.h>

#include <stdio.h>

static int fail(const char *what) {
    fprintf(stderr, "backlog: %s: %s\n", what, mancom_last_error());
    return 1;
}

static int run(void) {
    mancom_conn listener = mancom_listen("small", 10000);
    if (listener < 0) return fail("listen");
    mancom_conn clients[3];
    int open[3] = {1, 1, 1};
    for (int i = 0; i < 3; i++) {
        clients[i] = mancom_connect("small", 10000);
        if (clients[i] < 0) return fail("connect");
    }
    int refused = 0;
    while (refused < 2) {
        mancom_pollitem items[3];
        int n = 0, which[3];
        for (int i = 0; i < 3; i++) {
            if (open[i]) {
                items[n] = (mancom_pollitem) {.conn = clients[i], .events = MANCOM_POLLIN};
                which[n++] = i;
            }
        }
        int ready = mancom_poll(items, n, 10000);
        if (ready <= 0) return ready < 0 ? fail("poll") : fail("poll timed out before two clients were refused");
        for (int k = 0; k < n; k++) {
            if (!(items[k].revents & MANCOM_POLLIN)) continue;
            char b;
            ssize_t r = mancom_read(clients[which[k]], &b, 1, 0);
            if (r != 0) {
                fprintf(stderr, "backlog: a waiting client read %zd, not end of stream\n", r);
                return 1;
            }
            open[which[k]] = 0;
            refused++;
        }
    }
    if (refused != 2) return fail("more than two clients were refused");
    mancom_pollitem l = {.conn = listener, .events = MANCOM_POLLIN};
    if (mancom_poll(&l, 1, 10000) != 1 || l.revents != MANCOM_POLLIN) return fail("listener not readable");
    mancom_conn server = mancom_accept("small", 10000);
    if (server < 0) return fail("accept");
    if (mancom_write(server, "k", 1) != 1) return fail("write");
    int kept = open[0] ? 0 : open[1] ? 1 : 2;
    char b = 0;
    if (mancom_read(clients[kept], &b, 1, 10000) != 1 || b != 'k') return fail("the kept client did not get the accepted peer's byte");
    if (mancom_accept("small", 0) != MANCOM_ETIMEOUT) return fail("a second accept did not time out");
    printf("refused=%d accepted=1\n", refused);
    for (int i = 0; i < 3; i++) mancom_close(clients[i]);
    mancom_close(server);
    return mancom_close(listener) == 0 ? 0 : fail("close listener");
}

int main(void) {
    if (mancom_init(NULL) < 0) return fail("init");
    int rc = run();
    mancom_shutdown();
    return rc;
}
