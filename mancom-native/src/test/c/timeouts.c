/* timeouts.c -- tcp.read-timeout and tcp.idle-timeout reach C as their own close codes, on the
 * served side (the close callback's error) and on the dialling side (a blocking read's result).
 *
 *   timeouts IDLE_PORT READ_PORT
 *
 * Needs a config with: idle = tcp://127.0.0.1:IDLE_PORT with tcp.idle-timeout, read =
 * tcp://127.0.0.1:READ_PORT with tcp.read-timeout (served with callbacks here), and idle-out,
 * read-out dialling silent listeners with tcp.idle-timeout and tcp.read-timeout.
 * Only one end of each connection has a timeout, so which end closes is never a race between two
 * timers (with a ManCom client of the same service at the other end, its timer sometimes fired
 * first under load and the server saw a plain close): a plain socket connects to idle and to read
 * and stays silent, and their close callbacks get MANCOM_EIDLETIMEOUT and MANCOM_EREADTIMEOUT (the
 * socket then reads end of stream); idle-out and read-out connect to peers that never send, and
 * their blocking reads return those codes. Nothing waits for a byte to arrive within a timeout.
 * Prints "idle: <code> <message>", "read: <code> <message>", "client idle: <code> <message>" and
 * "client read: <code> <message>"; exit code 0 when each closed with its code. */
#include <mancom.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A plain TCP connection to 127.0.0.1:port, or -1. */
static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: timeouts IDLE_PORT READ_PORT\n");
        return 2;
    }
    if (mancom_init(NULL) != 0) return fail("init");
    if (mancom_register_data_receiver("idle", on_data, on_close, (void *) 0L) < 0) return fail("register idle");
    if (mancom_register_data_receiver("read", on_data, on_close, (void *) 1L) < 0) return fail("register read");
    if (mancom_await_ready(10000) != 0) return fail("await ready");
    int ok = 1;

    /* The served side times out. */
    const char *names[2] = {"idle", "read"};
    int sockets[2];
    for (int i = 0; i < 2; i++) {
        sockets[i] = dial(atoi(argv[1 + i]));
        if (sockets[i] < 0) {
            perror("timeouts: connect");
            return 1;
        }
    }
    pthread_mutex_lock(&lock);
    while (closed < 2) pthread_cond_wait(&cond, &lock); /* the test's own timeout bounds this */
    pthread_mutex_unlock(&lock);
    int expected[2] = {MANCOM_EIDLETIMEOUT, MANCOM_EREADTIMEOUT};
    for (int i = 0; i < 2; i++) {
        if (codes[i] != expected[i]) ok = 0;
        char b;
        ssize_t r = read(sockets[i], &b, 1); /* the server's close: end of stream */
        if (r != 0) {
            fprintf(stderr, "timeouts: the socket to %s read %zd, not end of stream\n", names[i], r);
            ok = 0;
        }
        close(sockets[i]);
        printf("%s: %d %s\n", names[i], codes[i], messages[i]);
    }

    /* The dialling side times out, in a blocking read (10 s: far longer than its 300 ms). */
    const char *outs[2] = {"idle-out", "read-out"};
    for (int i = 0; i < 2; i++) {
        mancom_conn c = mancom_connect(outs[i], 10000);
        if (c < 0) return fail("connect out");
        char b;
        ssize_t r = mancom_read(c, &b, 1, 10000);
        if (r != expected[i]) ok = 0;
        printf("client %s: %zd %s\n", names[i], r, mancom_last_error());
        mancom_close(c);
    }
    printf("strerror: %s | %s\n", mancom_strerror(MANCOM_EIDLETIMEOUT), mancom_strerror(MANCOM_EREADTIMEOUT));
    mancom_shutdown();
    return ok ? 0 : 1;
}
