/* errors.c -- every error path of the C API returns its code and a message; never a crash.
 * Prints "ok <name>" per check, "FAIL <name> ..." on a mismatch; exit code 0 when all pass.
 * Needs a config with: srv = tcp://127.0.0.1:0, cb = tcp://127.0.0.1:0, refused = a closed port. */
#include <mancom.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int failures, checks;

static void check(const char *name, long long got, long long want) {
    checks++;
    const char *msg = mancom_last_error();
    if (got == want) {
        printf("ok %s: %lld %s\n", name, got, want < 0 ? msg : "");
        if (want < 0 && msg[0] == '\0') {
            printf("FAIL %s: empty message\n", name);
            failures++;
        }
    } else {
        printf("FAIL %s: got %lld, want %lld (%s)\n", name, got, want, msg);
        failures++;
    }
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int in_callback_read = 1, in_callback_accept = 1, in_callback_done;

static void on_accept(mancom_conn conn, void *user) {
    (void) user;
    char b[4];
    int r = (int) mancom_read(conn, b, sizeof b, 0);               /* blocking call: refused */
    int a = (int) mancom_accept("srv", 0);
    pthread_mutex_lock(&lock);
    in_callback_read = r;
    in_callback_accept = a;
    in_callback_done = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) conn; (void) buf; (void) len; (void) user;
}

int main(void) {
    char buf[64];
    /* before init */
    check("connect before init", mancom_connect("srv", 100), MANCOM_ENOTINIT);
    check("register before init", mancom_register_acceptor("srv", on_accept, NULL), MANCOM_ENOTINIT);
    check("poll before init", mancom_poll(NULL, 0, 0), MANCOM_ENOTINIT);
    mancom_shutdown(); /* harmless */

    check("init", mancom_init(NULL), 0);
    check("init twice", mancom_init(NULL), MANCOM_ESTATE);

    /* NULL arguments */
    check("connect NULL service", mancom_connect(NULL, 100), MANCOM_EINVAL);
    check("accept NULL service", mancom_accept(NULL, 100), MANCOM_EINVAL);
    check("listen NULL service", mancom_listen(NULL, 100), MANCOM_EINVAL);
    check("register acceptor NULL cb", mancom_register_acceptor("cb", NULL, NULL), MANCOM_EINVAL);
    check("register receiver NULL service", mancom_register_data_receiver(NULL, on_data, NULL, NULL), MANCOM_EINVAL);
    check("connect_async NULL data cb", mancom_connect_async("srv", NULL, NULL, NULL, NULL), MANCOM_EINVAL);
    check("read NULL buf", mancom_read(1, NULL, 4, 0), MANCOM_EINVAL);
    check("write NULL buf", mancom_write(1, NULL, 4), MANCOM_EINVAL);
    check("endpoint NULL out", mancom_conn_endpoint(1, MANCOM_LOCAL, NULL), MANCOM_EINVAL);
    check("poll NULL items", mancom_poll(NULL, 2, 0), MANCOM_EINVAL);
    check("poll negative n", mancom_poll(NULL, -1, 0), MANCOM_EINVAL);

    /* unknown service */
    check("connect unknown service", mancom_connect("no-such-service", 100), MANCOM_ENOSERVICE);
    check("message names known services", strstr(mancom_last_error(), "srv") != NULL, 1);
    check("accept unknown service", mancom_accept("no-such-service", 100), MANCOM_ENOSERVICE);
    check("register unknown service", mancom_register_data_receiver("no-such-service", on_data, NULL, NULL), MANCOM_ENOSERVICE);

    /* bogus handles */
    check("write bogus handle", mancom_write(123456789, "x", 1), MANCOM_EBADHANDLE);
    check("read bogus handle", mancom_read(-5, buf, sizeof buf, 0), MANCOM_EBADHANDLE);
    check("close bogus handle", mancom_close(0), MANCOM_EBADHANDLE);
    check("shutdown_output bogus handle", mancom_shutdown_output(42), MANCOM_EBADHANDLE);
    check("close forged handle", mancom_close(((int64_t) 77 << 32) | 1), MANCOM_EBADHANDLE);
    check("unregister bogus id", mancom_unregister(987654), MANCOM_EBADHANDLE);
    struct mancom_endpoint ep;
    check("endpoint bogus handle", mancom_conn_endpoint(42, MANCOM_REMOTE, &ep), MANCOM_EBADHANDLE);
    check("endpoint bad which", mancom_conn_endpoint(42, 7, &ep), MANCOM_EINVAL);
    mancom_pollitem bogus = {.conn = 31337, .events = MANCOM_POLLIN};
    check("poll bogus handle", mancom_poll(&bogus, 1, 0), 1);
    check("poll bogus handle revents", bogus.revents, MANCOM_POLLNVAL);

    /* refused, timeouts */
    check("connect refused", mancom_connect("refused", 2000), MANCOM_EUNREACHABLE);
    mancom_conn listener = mancom_listen("srv", 5000);
    check("listen", listener > 0, 1);
    check("listener local endpoint", mancom_conn_endpoint(listener, MANCOM_LOCAL, &ep), 0);
    check("listener endpoint is tcp", ep.type, MANCOM_TRANSPORT_TCP);
    check("listener bound a port", ((struct sockaddr_in *) &ep.addr.sock)->sin_port != 0, 1);
    check("read on a listener", mancom_read(listener, buf, sizeof buf, 0), MANCOM_EBADHANDLE);
    check("accept timeout", mancom_accept("srv", 50), MANCOM_ETIMEOUT);
    check("wrong mode", mancom_register_data_receiver("srv", on_data, NULL, NULL), MANCOM_EWRONGMODE);

    mancom_conn client = mancom_connect("srv", 5000);
    check("connect", client > 0, 1);
    mancom_conn server = mancom_accept("srv", 5000);
    check("accept", server > 0, 1);
    check("client remote endpoint", mancom_conn_endpoint(client, MANCOM_REMOTE, &ep), 0);
    check("remote is 127.0.0.1", ((struct sockaddr_in *) &ep.addr.sock)->sin_addr.s_addr == htonl(INADDR_LOOPBACK), 1);
    check("remote uri", strncmp(ep.uri, "tcp://127.0.0.1:", 16), 0);
    check("read timeout", mancom_read(server, buf, sizeof buf, 50), MANCOM_ETIMEOUT);
    check("write", mancom_write(client, "ping", 4), 4);
    check("poll readable", ({ mancom_pollitem it = {.conn = server, .events = MANCOM_POLLIN};
                              int r = mancom_poll(&it, 1, 5000); r == 1 ? it.revents : -100 + r; }), MANCOM_POLLIN);
    check("read", mancom_read(server, buf, sizeof buf, 5000), 4);
    check("poll timeout", ({ mancom_pollitem it = {.conn = server, .events = MANCOM_POLLIN}; mancom_poll(&it, 1, 50); }), 0);
    check("close client", mancom_close(client), 0);
    check("read end of stream", mancom_read(server, buf, sizeof buf, 5000), 0);
    /* TCP cannot tell a close from a half-close (both are a FIN): the connection stays open for
     * writing, as after mancom_shutdown_output, until this side closes it or the peer resets it. */
    check("write after the peer's end of stream", mancom_write(server, "x", 1), 1);
    check("read closed handle", mancom_read(client, buf, sizeof buf, 0), MANCOM_EBADHANDLE);
    check("write closed handle", mancom_write(client, "x", 1), MANCOM_EBADHANDLE);
    check("close closed handle", mancom_close(client), MANCOM_EBADHANDLE);
    check("shutdown_output closed handle", mancom_shutdown_output(client), MANCOM_EBADHANDLE);
    check("shutdown_output on a listener", mancom_shutdown_output(listener), MANCOM_EBADHANDLE);
    check("close server", mancom_close(server), 0);
    check("close listener", mancom_close(listener), 0);
    check("accept after listener closed relistens", mancom_accept("srv", 0), MANCOM_ETIMEOUT);

    /* blocking calls from inside a callback are refused */
    int reg = mancom_register_acceptor("cb", on_accept, NULL);
    check("register acceptor", reg > 0, 1);
    int recv = mancom_register_data_receiver("cb", on_data, NULL, NULL);
    check("register receiver", recv > 0, 1);
    check("second receiver", mancom_register_data_receiver("cb", on_data, NULL, NULL), MANCOM_ESTATE);
    check("await ready", mancom_await_ready(5000), 0);
    mancom_conn cbc = mancom_connect("cb", 5000);
    check("connect to callback service", cbc > 0, 1);
    pthread_mutex_lock(&lock);
    while (!in_callback_done) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    check("read inside a callback", in_callback_read, MANCOM_ESTATE);
    check("accept inside a callback", in_callback_accept, MANCOM_ESTATE);
    check("close", mancom_close(cbc), 0);
    check("unregister", mancom_unregister(reg), 0);
    check("unregister twice", mancom_unregister(reg), MANCOM_EBADHANDLE);

    /* strerror */
    check("strerror known", strstr(mancom_strerror(MANCOM_ETIMEOUT), "MANCOM_ETIMEOUT") != NULL, 1);
    check("strerror unknown", strstr(mancom_strerror(-999), "unknown") != NULL, 1);

    mancom_shutdown();
    check("connect after shutdown", mancom_connect("srv", 100), MANCOM_ENOTINIT);
    check("init after shutdown", mancom_init(NULL), MANCOM_ESTATE);
    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
