/* status_json.c -- mancom_status_json on a runtime that has moved bytes.
 *
 *   status_json SERVICE N   connects to SERVICE (an echo server), writes N pattern bytes, reads
 *                           the N bytes back and closes; then asks for the status JSON the
 *                           snprintf way: with no buffer (the length), with a short buffer (a
 *                           NUL-terminated prefix, the same length returned), with a buffer of
 *                           the length plus one (the whole document). Checks the document names
 *                           SERVICE with N bytes in and out, and prints it on one line:
 *                           "json=<document>".
 *
 * Exit code 0 when everything happened as described. */
#include <mancom.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what) {
    fprintf(stderr, "status_json: %s: %s\n", what, mancom_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: status_json SERVICE N\n");
        return 2;
    }
    const char *service = argv[1];
    long n = atol(argv[2]);
    if (mancom_init(NULL) != 0) return fail("init");

    mancom_conn conn = mancom_connect(service, 10000);
    if (conn < 0) return fail("connect");
    char buf[8192];
    for (long off = 0; off < n;) {
        size_t take = (size_t) (n - off < (long) sizeof buf ? n - off : (long) sizeof buf);
        for (size_t i = 0; i < take; i++) buf[i] = (char) ((off + (long) i) % 251);
        if (mancom_write(conn, buf, take) != (ssize_t) take) return fail("write");
        off += (long) take;
    }
    for (long got = 0; got < n;) {
        ssize_t r = mancom_read(conn, buf, sizeof buf, 10000);
        if (r <= 0) return fail("read");
        got += r;
    }
    if (mancom_close(conn) != 0) return fail("close");

    int len = mancom_status_json(NULL, 0);
    if (len <= 0) return fail("status_json(NULL, 0)");

    char small[16];
    memset(small, 'x', sizeof small);
    int again = mancom_status_json(small, sizeof small);
    if (again < (int) sizeof small) {
        fprintf(stderr, "status_json: a short buffer returned %d, under its size\n", again);
        return 1;
    }
    if (strlen(small) != sizeof small - 1 || small[0] != '{') {
        fprintf(stderr, "status_json: a short buffer holds \"%.*s\", not a NUL-terminated prefix\n",
                (int) sizeof small, small);
        return 1;
    }

    /* The closed connection leaves the live list on the runtime's loop a moment after
     * mancom_close returns; the document changes size meanwhile, so ask again with what the
     * last call said it needs until the connection is gone (5 s at most). */
    char *json = NULL;
    int whole = again;
    for (int tries = 0;; tries++) {
        size_t cap = (size_t) whole + 1;
        free(json);
        json = malloc(cap);
        if (json == NULL) return 1;
        whole = mancom_status_json(json, cap);
        if (whole < 0) return fail("status_json");
        if ((size_t) whole >= cap) continue; /* grew since: the returned length is the new need */
        if (strlen(json) != (size_t) whole) {
            fprintf(stderr, "status_json: returned %d but holds %zu bytes\n", whole, strlen(json));
            return 1;
        }
        if (strstr(json, "\"connectionsOpen\":0,") != NULL) break;
        if (tries > 500) {
            fprintf(stderr, "status_json: the closed connection is still open in %s\n", json);
            return 1;
        }
        usleep(10000);
    }
    char name[300];
    snprintf(name, sizeof name, "\"name\":\"%s\"", service);
    char in[64], out[64];
    snprintf(in, sizeof in, "\"bytesIn\":%ld,", n);
    snprintf(out, sizeof out, "\"bytesOut\":%ld,", n);
    if (strstr(json, name) == NULL || strstr(json, in) == NULL || strstr(json, out) == NULL) {
        fprintf(stderr, "status_json: %s, %s or %s missing from %s\n", name, in, out, json);
        return 1;
    }
    printf("json=%s\n", json);
    fflush(stdout);
    free(json);
    mancom_shutdown();
    return 0;
}
