/* Hello from C: serves the built-in "demo" service (a loopback echo) with the callback API, talks
 * to it with the blocking API, and exits 0 when the echo came back byte for byte.
 *
 *   cc hello.c $(pkg-config --cflags --libs mancom) -o hello && ./hello
 *
 * Needs an installed ManCom (the Debian package or the tarball: mancom.h, libmancom.so, the jar
 * beside it) and a Java 17+ runtime, which libmancom.so starts inside this process. */
#include <mancom.h>
#include <stdio.h>
#include <string.h>

static void on_data(mancom_conn c, const void *buf, size_t len, void *user) {
    (void) user;
    mancom_write(c, buf, len); /* echo */
}

int main(void) {
    const char msg[] = "hello from C";
    char got[sizeof msg];
    int rc = 1;
    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "mancom_init: %s\n", mancom_last_error());
        return 1;
    }
    if (mancom_register_data_receiver("demo", on_data, NULL, NULL) < 0 || mancom_await_ready(5000) < 0) {
        fprintf(stderr, "serving demo: %s\n", mancom_last_error());
        goto out;
    }
    mancom_conn c = mancom_connect("demo", 5000);
    if (c < 0) {
        fprintf(stderr, "mancom_connect: %s\n", mancom_last_error());
        goto out;
    }
    size_t n = 0;
    if (mancom_write(c, msg, sizeof msg) == (ssize_t) sizeof msg) {
        while (n < sizeof msg) {
            ssize_t r = mancom_read(c, got + n, sizeof msg - n, 5000);
            if (r <= 0) break;
            n += (size_t) r;
        }
    }
    mancom_close(c);
    if (n == sizeof msg && memcmp(msg, got, sizeof msg) == 0) {
        printf("echoed: %s\n", got);
        rc = 0;
    } else {
        fprintf(stderr, "the echo did not come back (%zu of %zu bytes): %s\n", n, sizeof msg, mancom_last_error());
    }
out:
    mancom_shutdown();
    return rc;
}
