/* bench_calls.c -- the cost of one C call into the API and of one C callback, in nanoseconds
 * (median of 31 batches). Prints one line: "calls main: ... thread: ...". */
#include <mancom.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int mancom__ping(void *fn, int n);   /* libmancom's benchmark probe, not in mancom.h */

#define BATCHES 31
#define N 20000

static volatile long sink;

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) conn; (void) buf; (void) len; (void) user;
    sink++;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

enum { PING, POLL, CALLBACK };

static double median_ns(int what) {
    double v[BATCHES];
    for (int b = -5; b < BATCHES; b++) {                 /* 5 warm-up batches */
        double t0 = now_ns();
        if (what == CALLBACK) {
            mancom__ping((void *) on_data, N);
        } else {
            for (int i = 0; i < N; i++) {
                if (what == PING) mancom__ping(NULL, 0);
                else mancom_poll(NULL, 0, 0);
            }
        }
        if (b >= 0) v[b] = (now_ns() - t0) / N;
    }
    qsort(v, BATCHES, sizeof v[0], cmp);
    return v[BATCHES / 2];
}

static void report(const char *who) {
    double ping = median_ns(PING), poll = median_ns(POLL), cb = median_ns(CALLBACK);
    printf("%s: C->Java no-op call %.0f ns, mancom_poll(NULL,0,0) %.0f ns, Java->C callback %.0f ns\n", who, ping, poll, cb);
}

static void *thread_main(void *arg) {
    (void) arg;
    report("C thread");
    return NULL;
}

int main(void) {
    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "bench_calls: %s\n", mancom_last_error());
        return 1;
    }
    report("main thread");
    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    mancom_shutdown();
    return 0;
}
