/* threads.c -- 8 C threads use the blocking API at once against a C callback echo service in the
 * same process (srv = tcp://127.0.0.1:0). Exit code 0 when every thread got every byte back. */
#include <mancom.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 200
#define SIZE 1000

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    mancom_write(conn, buf, len);
}

static void *worker(void *arg) {
    long id = (long) arg;
    char out[SIZE], in[SIZE];
    mancom_conn c = mancom_connect("srv", 10000);
    if (c < 0) {
        fprintf(stderr, "thread %ld: connect: %s\n", id, mancom_last_error());
        return (void *) 1;
    }
    for (int r = 0; r < ROUNDS; r++) {
        memset(out, 'a' + (int) ((id + r) % 26), sizeof out);
        if (mancom_write(c, out, sizeof out) != SIZE) {
            fprintf(stderr, "thread %ld: write: %s\n", id, mancom_last_error());
            return (void *) 1;
        }
        size_t got = 0;
        while (got < SIZE) {
            ssize_t n = mancom_read(c, in + got, SIZE - got, 10000);
            if (n <= 0) {
                fprintf(stderr, "thread %ld: read %zd: %s\n", id, n, mancom_last_error());
                return (void *) 1;
            }
            got += (size_t) n;
        }
        if (memcmp(in, out, SIZE) != 0) {
            fprintf(stderr, "thread %ld: round %d: wrong bytes\n", id, r);
            return (void *) 1;
        }
    }
    mancom_close(c);
    return NULL;
}

int main(void) {
    if (mancom_init(NULL) < 0 || mancom_register_data_receiver("srv", on_data, NULL, NULL) < 0
        || mancom_await_ready(10000) < 0) {
        fprintf(stderr, "threads: %s\n", mancom_last_error());
        return 1;
    }
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, (void *) i);
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        failed += r != NULL;
    }
    printf("threads: %d of %d threads echoed %d x %d bytes\n", THREADS - failed, THREADS, ROUNDS, SIZE);
    mancom_shutdown();
    return failed == 0 ? 0 : 1;
}
