/* poll_server.c -- one thread serves two services with mancom_poll: "echo" sends every byte back,
 * "upper" sends it back in upper case.
 *
 *   cc poll_server.c $(pkg-config --cflags --libs mancom) -o poll_server
 *   MANCOM_CONFIG=app.conf ./poll_server
 *
 * Runs until SIGINT or SIGTERM, then shuts down cleanly (exit code 0).
 */
#include <mancom.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MAX_ITEMS 64

static volatile sig_atomic_t stopping;

static void on_stop(int sig) {
    (void) sig;
    stopping = 1;
}

struct slot {
    mancom_conn conn;
    int upper;        /* which service it belongs to */
    int listener;     /* 1 for the two listeners */
};

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "poll_server: %s\n", mancom_last_error());
        return 1;
    }
    struct slot slots[MAX_ITEMS];
    mancom_pollitem items[MAX_ITEMS];
    int n = 0, rc = 0;
    const char *services[2] = {"echo", "upper"};
    for (int i = 0; i < 2; i++) {
        mancom_conn l = mancom_listen(services[i], 10000);
        if (l < 0) {
            fprintf(stderr, "poll_server: %s\n", mancom_last_error());
            rc = 1;
            goto out;
        }
        slots[n++] = (struct slot) {.conn = l, .upper = i, .listener = 1};
    }
    printf("poll_server: serving echo and upper\n");
    fflush(stdout);

    while (!stopping) {
        for (int i = 0; i < n; i++) items[i] = (mancom_pollitem) {.conn = slots[i].conn, .events = MANCOM_POLLIN};
        int ready = mancom_poll(items, n, 250);       /* wakes now and then to see `stopping` */
        if (ready < 0) {
            fprintf(stderr, "poll_server: %s\n", mancom_last_error());
            rc = 1;
            break;
        }
        for (int i = n - 1; i >= 0 && ready > 0; i--) {
            if (items[i].revents == 0) continue;
            if (slots[i].listener) {
                mancom_conn c = mancom_accept(services[slots[i].upper], 0);
                if (c > 0 && n < MAX_ITEMS) {
                    slots[n++] = (struct slot) {.conn = c, .upper = slots[i].upper};
                } else if (c > 0) {
                    mancom_close(c);                  /* full: refuse */
                }
                continue;
            }
            char buf[8192];
            ssize_t got = mancom_read(slots[i].conn, buf, sizeof buf, 0);
            if (got > 0) {
                if (slots[i].upper)
                    for (ssize_t k = 0; k < got; k++) buf[k] = (char) toupper((unsigned char) buf[k]);
                if (mancom_write(slots[i].conn, buf, (size_t) got) >= 0) continue;
            }
            if (got == MANCOM_ETIMEOUT) continue;     /* nothing after all */
            mancom_close(slots[i].conn);              /* end of stream or failure */
            slots[i] = slots[--n];
        }
    }
out:
    for (int i = 0; i < n; i++) mancom_close(slots[i].conn);
    mancom_shutdown();
    return rc;
}
