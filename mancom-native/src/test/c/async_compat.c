/* async_compat.c -- the original names (mancom_compat.h) serve srv (tcp://127.0.0.1:0) and
 * mancom_connect_async talks to it: on_open writes, on_data checks the echo, on_close ends.
 * Exit code 0 when the whole conversation happened in order. */
#include <mancom_compat.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int accepted, opened, echoed, closed, close_error = -1, endpoint_in_close = -1;
static mancom_conn client;
static char got[64];
static size_t got_len;

static void server_accept(mancom_conn conn, void *user) {
    (void) conn; (void) user;
    pthread_mutex_lock(&lock);
    accepted++;
    pthread_mutex_unlock(&lock);
}

static void server_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    mancom_write(conn, buf, len);
}

static void client_open(mancom_conn conn, void *user) {
    pthread_mutex_lock(&lock);
    opened++;
    client = conn;
    pthread_mutex_unlock(&lock);
    mancom_write(conn, user, strlen(user));     /* callbacks may write */
}

static void client_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    pthread_mutex_lock(&lock);
    memcpy(got + got_len, buf, len < sizeof got - got_len ? len : sizeof got - got_len);
    got_len += len;
    if (got_len >= strlen(user)) {
        echoed = 1;
        mancom_close(conn);                     /* ... and close */
    }
    pthread_mutex_unlock(&lock);
}

static void client_close(mancom_conn conn, int error, void *user) {
    (void) user;
    struct EndPoint ep;
    int endpoint = conn != 0 ? getEndPoint(conn, MANCOM_REMOTE, &ep) : 1;  /* still valid in on_close */
    pthread_mutex_lock(&lock);
    if (conn != 0) endpoint_in_close = endpoint == 0 && ep.ep.type == MANCOM_TRANSPORT_TCP ? 0 : endpoint;
    closed++;
    close_error = error;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

int main(void) {
    static char message[] = "hello, async";
    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "async_compat: %s\n", mancom_last_error());
        return 1;
    }
    int acc = registerAcceptor("srv", server_accept, NULL);
    int rec = registerDataReceiver("srv", server_data, NULL, NULL);
    if (acc < 0 || rec < 0 || mancom_await_ready(10000) < 0) {
        fprintf(stderr, "async_compat: %s\n", mancom_last_error());
        return 1;
    }
    int id = mancom_connect_async("srv", client_open, client_data, client_close, message);
    if (id < 0) {
        fprintf(stderr, "async_compat: %s\n", mancom_last_error());
        return 1;
    }
    pthread_mutex_lock(&lock);
    while (!closed) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    int failed_id = mancom_connect_async("refused", NULL, client_data, client_close, message);
    pthread_mutex_lock(&lock);
    while (closed < 2) pthread_cond_wait(&cond, &lock);
    int refused_error = close_error;
    pthread_mutex_unlock(&lock);

    printf("accepted=%d opened=%d echoed=%d closed=%d got=%.*s endpoint_in_close=%d refused_id=%d refused_error=%d\n",
           accepted, opened, echoed, closed, (int) got_len, got, endpoint_in_close, failed_id > 0, refused_error);
    int ok = accepted == 1 && opened == 1 && echoed && got_len == strlen(message)
             && memcmp(got, message, got_len) == 0 && endpoint_in_close == 0 && failed_id > 0
             && refused_error == MANCOM_EUNREACHABLE && mancom_unregister(acc) == 0 && mancom_unregister(rec) == 0;
    mancom_shutdown();
    return ok ? 0 : 1;
}
