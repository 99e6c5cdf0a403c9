/* tls_sni.c -- a TLS echo service whose certificate a C callback picks by server name (SNI).
 *
 *   MANCOM_CONFIG=app.conf ./tls_sni B_CERT B_KEY C_CERT C_KEY
 *
 * Service 'sec' (its config has tls { cert, key }: the default). For server name "b.test" the
 * callback names B's files; for "c.test" it returns C's PEM text (read at start); for
 * "refuse.test" it refuses the handshake; for any other name (or none) the default. Prints each
 * name it was asked for. Runs until SIGTERM, then shuts down cleanly (exit code 0).
 */
#include <mancom.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *b_cert, *b_key;
static char *c_cert_pem, *c_key_pem;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t) n + 1);
    if (s != NULL && fread(s, 1, (size_t) n, f) == (size_t) n) {
        s[n] = '\0';
    } else {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

/* Runs on a runtime thread, not an event loop; possibly on several at once. */
static int pick(const char *server_name, mancom_certificate *out, void *user) {
    if (user != (void *) &b_cert) return -2; /* the user pointer must come back unchanged */
    pthread_mutex_lock(&out_lock);
    printf("tls_sni: asked for %s\n", server_name == NULL ? "(none)" : server_name);
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    if (server_name == NULL) return 0;
    if (strcmp(server_name, "b.test") == 0) {
        out->cert_file = b_cert;
        out->key_file = b_key;
        return 1;
    }
    if (strcmp(server_name, "c.test") == 0) {
        out->cert_pem = c_cert_pem;
        out->key_pem = c_key_pem;
        return 1;
    }
    if (strcmp(server_name, "refuse.test") == 0) return -1;
    return 0;
}

static void on_data(mancom_conn conn, const void *buf, size_t len, void *user) {
    (void) user;
    if (mancom_write(conn, buf, len) < 0) mancom_close(conn);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: tls_sni B_CERT B_KEY C_CERT C_KEY\n");
        return 2;
    }
    b_cert = argv[1];
    b_key = argv[2];
    c_cert_pem = slurp(argv[3]);
    c_key_pem = slurp(argv[4]);
    if (c_cert_pem == NULL || c_key_pem == NULL) {
        fprintf(stderr, "tls_sni: cannot read %s or %s\n", argv[3], argv[4]);
        return 1;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if (mancom_set_certificate_callback(pick, NULL) != MANCOM_ENOTINIT) {
        fprintf(stderr, "tls_sni: setting the callback before mancom_init must be MANCOM_ENOTINIT\n");
        return 1;
    }
    if (mancom_init(NULL) < 0) {
        fprintf(stderr, "tls_sni: %s\n", mancom_last_error());
        return 1;
    }
    int rc = 0;
    if (mancom_set_certificate_callback(pick, (void *) &b_cert) < 0
            || mancom_register_data_receiver("sec", on_data, NULL, NULL) < 0 || mancom_await_ready(10000) < 0) {
        fprintf(stderr, "tls_sni: %s\n", mancom_last_error());
        rc = 1;
    } else {
        printf("tls_sni: serving 'sec'\n");
        fflush(stdout);
        int sig;
        sigwait(&stop, &sig);
    }
    mancom_shutdown();
    free(c_cert_pem);
    free(c_key_pem);
    return rc;
}
