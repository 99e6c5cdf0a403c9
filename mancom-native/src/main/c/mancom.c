/*
 * libmancom: the C shim of ManCom.
 *
 * mancom_init() boots a JVM in this process with the JNI invocation API and calls the Java
 * bootstrap (io.mancom.nativeshim.internal.Bootstrap.start) once through JNI (after asking it
 * the table's size, so that a jar from another version is refused, not trusted). The bootstrap
 * returns the address of a table of JNA callback function pointers (a JNA Structure the Java
 * side keeps alive); from then on every call goes C -> Java through that table, and Java calls
 * the program's callbacks through JNA Functions. There is no other JNI in this file.
 *
 * Why the table: one JNI call and one struct copy at init, then each API call is a plain
 * indirect call into a JNA callback stub, which attaches a foreign thread once and keeps it
 * attached (CallbackThreadInitializer with detach=false).
 */
#define _GNU_SOURCE
#include "mancom.h"

#include <dlfcn.h>
#include <errno.h>
#include <jni.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The layout the Java side (internal.EndpointWriter) writes; keep both in step. */
_Static_assert(offsetof(struct mancom_endpoint, addr) == 8, "endpoint layout");
_Static_assert(offsetof(struct mancom_endpoint, uri) == 288, "endpoint layout");
_Static_assert(sizeof(struct mancom_endpoint) == 800, "endpoint layout");
_Static_assert(offsetof(struct mancom_serial_addr, baud) == 256, "serial layout");
_Static_assert(offsetof(struct mancom_usb_addr, serial) == 28, "usb layout");
_Static_assert(sizeof(mancom_pollitem) == 16, "pollitem layout");

/* The function table: field for field the JNA Structure internal.Table. */
struct mancom_table {
    int (*shutdown)(void);
    int (*await_ready)(int timeout_ms);
    int (*register_acceptor)(const char *service, mancom_accept_cb cb, void *user);
    int (*register_data_receiver)(const char *service, mancom_data_cb d, mancom_close_cb c, void *user);
    int (*connect_async)(const char *service, mancom_accept_cb o, mancom_data_cb d, mancom_close_cb c, void *user);
    int (*unregister)(int id);
    int64_t (*listen)(const char *service, int timeout_ms);
    int64_t (*accept)(const char *service, int timeout_ms);
    int64_t (*connect)(const char *service, int timeout_ms);
    int64_t (*read)(int64_t conn, void *buf, int64_t len, int timeout_ms);
    int64_t (*write)(int64_t conn, const void *buf, int64_t len);
    int (*close)(int64_t conn);
    int (*poll)(mancom_pollitem *items, int n, int timeout_ms);
    int (*endpoint)(int64_t conn, int which, struct mancom_endpoint *out);
    int (*last_error)(char *buf, int len);
    void (*set_error)(const char *message);
    int (*ping)(void *fn, int n);
    int (*shutdown_output)(int64_t conn);
    int (*status_json)(char *buf, int64_t len);
    int (*set_certificates)(void *cb, void *user); /* last: the table only grows at its end (ABI) */
};

enum { ST_NEW, ST_RUNNING, ST_DONE };

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int state = ST_NEW;
static struct mancom_table T;
static JavaVM *jvm;
static __thread char tls_err[1024];

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_err, sizeof tls_err, fmt, ap);
    va_end(ap);
    if (state == ST_RUNNING) {
        T.set_error(tls_err);
    }
    return code;
}

#define REQUIRE_RUNNING(fn)                                                                      \
    do {                                                                                         \
        if (state != ST_RUNNING)                                                                 \
            return fail(MANCOM_ENOTINIT, "%s: ManCom is not initialised: call mancom_init() first" \
                        " (and not after mancom_shutdown())", fn);                               \
    } while (0)

#define REQUIRE_ARG(fn, arg)                                                                     \
    do {                                                                                         \
        if ((arg) == NULL) return fail(MANCOM_EINVAL, "%s: " #arg " is NULL", fn);               \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Finding the JVM and the jar                                                              */
/* ---------------------------------------------------------------------------------------- */

static void append(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *dst, size_t cap, const char *fmt, ...) {
    size_t used = strlen(dst);
    if (used + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + used, cap - used, fmt, ap);
    va_end(ap);
}

static int try_home(const char *home, const char *why, char *out, size_t cap, char *tried, size_t tcap) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/lib/server/libjvm.so", home);
    if (access(path, R_OK) == 0) {
        snprintf(out, cap, "%s", path);
        return 1;
    }
    append(tried, tcap, "%s%s (%s)", tried[0] ? ", " : "", path, why);
    return 0;
}

/* The JDK home of the `java` on PATH, through symlinks (/usr/bin/java -> /etc/alternatives...). */
static int java_on_path(char *home, size_t cap) {
    const char *path = getenv("PATH");
    if (path == NULL) return 0;
    char *copy = strdup(path);
    int found = 0;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL && !found;
         dir = strtok_r(NULL, ":", &save)) {
        char candidate[PATH_MAX], real[PATH_MAX];
        snprintf(candidate, sizeof candidate, "%s/java", dir[0] ? dir : ".");
        if (access(candidate, X_OK) != 0 || realpath(candidate, real) == NULL) continue;
        char *slash = strrchr(real, '/');                 /* .../bin/java -> .../bin */
        if (slash == NULL) continue;
        *slash = '\0';
        slash = strrchr(real, '/');                       /* .../bin -> ... */
        if (slash == NULL || strcmp(slash, "/bin") != 0) continue;
        *slash = '\0';
        snprintf(home, cap, "%s", real);
        found = 1;
    }
    free(copy);
    return found;
}

static int find_libjvm(const mancom_options *o, char *out, size_t cap) {
    char tried[3072] = "";
    char home[PATH_MAX];
    if (o != NULL && o->java_home != NULL && try_home(o->java_home, "mancom_options.java_home", out, cap, tried, sizeof tried)) return 0;
    const char *env = getenv("JAVA_HOME");
    if (env != NULL && env[0] && try_home(env, "$JAVA_HOME", out, cap, tried, sizeof tried)) return 0;
    if (env == NULL || !env[0]) append(tried, sizeof tried, "%s$JAVA_HOME (not set)", tried[0] ? ", " : "");
    if (java_on_path(home, sizeof home)) {
        if (try_home(home, "the java on PATH", out, cap, tried, sizeof tried)) return 0;
    } else {
        append(tried, sizeof tried, "%sjava on PATH (none found)", tried[0] ? ", " : "");
    }
    if (try_home("/usr/lib/jvm/default-java", "the system default", out, cap, tried, sizeof tried)) return 0;
    return fail(MANCOM_EJVM, "mancom_init: cannot find libjvm.so; looked for %s. Install a JDK or JRE 17 or "
                "newer, or set JAVA_HOME (or mancom_options.java_home) to its home folder", tried);
}

static int find_jar(const mancom_options *o, char *out, size_t cap) {
    char tried[3072] = "";
    const char *candidates[3] = {0};
    const char *why[3] = {"mancom_options.jar_path", "$MANCOM_JAR", "beside libmancom.so"};
    char beside[PATH_MAX + 16] = "";
    Dl_info info;
    if (dladdr((void *) &mancom_init, &info) != 0 && info.dli_fname != NULL) {
        char real[PATH_MAX];
        if (realpath(info.dli_fname, real) != NULL) {
            char *slash = strrchr(real, '/');
            if (slash != NULL) *slash = '\0';
            snprintf(beside, sizeof beside, "%s/mancom.jar", real);
        }
    }
    candidates[0] = o != NULL ? o->jar_path : NULL;
    candidates[1] = getenv("MANCOM_JAR");
    candidates[2] = beside[0] ? beside : NULL;
    for (int i = 0; i < 3; i++) {
        if (candidates[i] == NULL || !candidates[i][0]) {
            append(tried, sizeof tried, "%s%s (not set)", tried[0] ? ", " : "", why[i]);
            continue;
        }
        if (access(candidates[i], R_OK) == 0) {
            snprintf(out, cap, "%s", candidates[i]);
            return 0;
        }
        append(tried, sizeof tried, "%s%s (%s: %s)", tried[0] ? ", " : "", candidates[i], why[i], strerror(errno));
    }
    return fail(MANCOM_EJVM, "mancom_init: cannot find the ManCom jar; looked for %s. Keep lib/mancom.jar of "
                "the distribution beside libmancom.so, or set MANCOM_JAR", tried);
}

/* ---------------------------------------------------------------------------------------- */
/* Booting                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef jint (*create_vm_fn)(JavaVM **, void **, void *);

static int java_failure(JNIEnv *env, const char *what) {
    jthrowable ex = (*env)->ExceptionOccurred(env);
    (*env)->ExceptionClear(env);
    const char *text = "(no detail)";
    jstring s = NULL;
    if (ex != NULL) {
        jclass obj = (*env)->FindClass(env, "java/lang/Object");
        jmethodID to_string = (*env)->GetMethodID(env, obj, "toString", "()Ljava/lang/String;");
        s = (jstring) (*env)->CallObjectMethod(env, ex, to_string);
        if ((*env)->ExceptionCheck(env)) (*env)->ExceptionClear(env);
        if (s != NULL) text = (*env)->GetStringUTFChars(env, s, NULL);
    }
    fail(MANCOM_EJVM, "mancom_init: %s: %s", what, text);
    if (s != NULL) (*env)->ReleaseStringUTFChars(env, s, text);
    return MANCOM_EJVM;
}

static int create_vm(const mancom_options *o, JNIEnv **env) {
    char libjvm[PATH_MAX], jar[PATH_MAX];
    int rc;
    if ((rc = find_libjvm(o, libjvm, sizeof libjvm)) < 0 || (rc = find_jar(o, jar, sizeof jar)) < 0) return rc;
    void *lib = dlopen(libjvm, RTLD_NOW | RTLD_GLOBAL);
    if (lib == NULL) return fail(MANCOM_EJVM, "mancom_init: cannot load %s: %s", libjvm, dlerror());
    create_vm_fn create = (create_vm_fn) dlsym(lib, "JNI_CreateJavaVM");
    if (create == NULL) return fail(MANCOM_EJVM, "mancom_init: %s has no JNI_CreateJavaVM", libjvm);

    enum { MAX_OPTS = 64 };
    JavaVMOption opts[MAX_OPTS];
    int n = 0;
    char classpath[PATH_MAX + 32];
    snprintf(classpath, sizeof classpath, "-Djava.class.path=%s", jar);
    opts[n++].optionString = classpath;
    opts[n++].optionString = "-Xrs";                    /* leave SIGINT/SIGTERM to the program */
    opts[n++].optionString = "-Djna.encoding=UTF-8";
    /* JNA, Netty's epoll and jSerialComm load native code; JDK 22+ warns unless allowed. */
    opts[n++].optionString = "--enable-native-access=ALL-UNNAMED";
    opts[n++].optionString = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn";
    char *env_opts = getenv("MANCOM_JVM_OPTS") ? strdup(getenv("MANCOM_JVM_OPTS")) : NULL;
    if (env_opts != NULL) {
        for (char *save = NULL, *t = strtok_r(env_opts, " \t", &save); t != NULL && n < MAX_OPTS;
             t = strtok_r(NULL, " \t", &save)) {
            opts[n++].optionString = t;
        }
    }
    for (int i = 0; o != NULL && o->jvm_options != NULL && i < o->n_jvm_options && n < MAX_OPTS; i++) {
        if (o->jvm_options[i] != NULL) opts[n++].optionString = (char *) o->jvm_options[i];
    }
    for (int i = 0; i < n; i++) opts[i].extraInfo = NULL;
    JavaVMInitArgs args = {.version = JNI_VERSION_1_8, .nOptions = n, .options = opts, .ignoreUnrecognized = JNI_FALSE};
    jint created = create(&jvm, (void **) env, &args);
    free(env_opts);
    if (created != JNI_OK) {
        jvm = NULL;
        return fail(MANCOM_EJVM, "mancom_init: JNI_CreateJavaVM(%s) failed with %d (a bad option in MANCOM_JVM_OPTS or "
                    "mancom_options.jvm_options? out of memory?)", libjvm, (int) created);
    }
    return 0;
}

int mancom_init(const mancom_options *o) {
    pthread_mutex_lock(&init_lock);
    int rc = 0;
    JNIEnv *env = NULL;
    if (state == ST_RUNNING) {
        rc = fail(MANCOM_ESTATE, "mancom_init: ManCom is already initialised");
        goto out;
    }
    if (state == ST_DONE) {
        rc = fail(MANCOM_ESTATE, "mancom_init: called after mancom_shutdown(); a JVM cannot be started twice in one process");
        goto out;
    }
    if (jvm == NULL) {
        if ((rc = create_vm(o, &env)) < 0) goto out;
    } else if ((*jvm)->AttachCurrentThread(jvm, (void **) &env, NULL) != JNI_OK) {
        rc = fail(MANCOM_EJVM, "mancom_init: cannot attach this thread to the JVM");
        goto out;
    }
    jclass boot = (*env)->FindClass(env, "io/mancom/nativeshim/internal/Bootstrap");
    if (boot == NULL) {
        rc = java_failure(env, "the jar has no io.mancom.nativeshim.internal.Bootstrap (is MANCOM_JAR the distribution's lib/mancom.jar?)");
        goto out;
    }
    jmethodID start = (*env)->GetStaticMethodID(env, boot, "start", "(Ljava/lang/String;)J");
    jmethodID failure = (*env)->GetStaticMethodID(env, boot, "failure", "()Ljava/lang/String;");
    jmethodID table_size = (*env)->GetStaticMethodID(env, boot, "tableSize", "()I");
    if (start == NULL || failure == NULL || table_size == NULL) {
        rc = java_failure(env, "Bootstrap does not match this libmancom.so (mixed versions?)");
        goto out;
    }
    /* The table is copied whole below: a jar with a shorter one would leave entries pointing at
     * whatever follows it. */
    jint size = (*env)->CallStaticIntMethod(env, boot, table_size);
    if ((*env)->ExceptionCheck(env)) {
        rc = java_failure(env, "the Java bootstrap failed");
        goto out;
    }
    if (size < (jint) sizeof T) {
        rc = fail(MANCOM_EJVM, "mancom_init: the jar's function table has %d bytes, this libmancom.so needs %zu "
                  "(mixed versions: use the mancom.jar of the same distribution)", (int) size, sizeof T);
        goto out;
    }
    jstring config = NULL;
    if (o != NULL && o->config_path != NULL) config = (*env)->NewStringUTF(env, o->config_path);
    jlong table = (*env)->CallStaticLongMethod(env, boot, start, config);
    if ((*env)->ExceptionCheck(env)) {
        rc = java_failure(env, "the Java bootstrap failed");
        goto out;
    }
    if (table <= 0) {
        jstring msg = (jstring) (*env)->CallStaticObjectMethod(env, boot, failure);
        const char *text = msg != NULL ? (*env)->GetStringUTFChars(env, msg, NULL) : "(no message)";
        rc = fail(table < 0 && table > -100 ? (int) table : MANCOM_EINTERNAL, "%s", text);
        if (msg != NULL) (*env)->ReleaseStringUTFChars(env, msg, text);
        goto out;
    }
    memcpy(&T, (const void *) (intptr_t) table, sizeof T);
    state = ST_RUNNING;
out:
    pthread_mutex_unlock(&init_lock);
    return rc;
}

void mancom_shutdown(void) {
    pthread_mutex_lock(&init_lock);
    if (state == ST_RUNNING && T.shutdown() == 0) {
        state = ST_DONE;
        JNIEnv *env;
        /* DestroyJavaVM waits for the JVM's non-daemon threads; the runtime has stopped its own. */
        if ((*jvm)->AttachCurrentThread(jvm, (void **) &env, NULL) == JNI_OK) {
            (*jvm)->DestroyJavaVM(jvm);
        }
        jvm = NULL;
    }
    pthread_mutex_unlock(&init_lock);
}

/* ---------------------------------------------------------------------------------------- */
/* The API: argument checks here, everything else in Java                                  */
/* ---------------------------------------------------------------------------------------- */

int mancom_await_ready(int timeout_ms) {
    REQUIRE_RUNNING("mancom_await_ready");
    return T.await_ready(timeout_ms);
}

int mancom_register_acceptor(const char *service, mancom_accept_cb on_accept, void *user) {
    REQUIRE_RUNNING("mancom_register_acceptor");
    REQUIRE_ARG("mancom_register_acceptor", service);
    REQUIRE_ARG("mancom_register_acceptor", on_accept);
    return T.register_acceptor(service, on_accept, user);
}

int mancom_register_data_receiver(const char *service, mancom_data_cb on_data, mancom_close_cb on_close, void *user) {
    REQUIRE_RUNNING("mancom_register_data_receiver");
    REQUIRE_ARG("mancom_register_data_receiver", service);
    REQUIRE_ARG("mancom_register_data_receiver", on_data);
    return T.register_data_receiver(service, on_data, on_close, user);
}

int mancom_connect_async(const char *service, mancom_accept_cb on_open, mancom_data_cb on_data,
                         mancom_close_cb on_close, void *user) {
    REQUIRE_RUNNING("mancom_connect_async");
    REQUIRE_ARG("mancom_connect_async", service);
    REQUIRE_ARG("mancom_connect_async", on_data);
    return T.connect_async(service, on_open, on_data, on_close, user);
}

int mancom_unregister(int registration) {
    REQUIRE_RUNNING("mancom_unregister");
    return T.unregister(registration);
}

mancom_conn mancom_listen(const char *service, int timeout_ms) {
    REQUIRE_RUNNING("mancom_listen");
    REQUIRE_ARG("mancom_listen", service);
    return T.listen(service, timeout_ms);
}

mancom_conn mancom_accept(const char *service, int timeout_ms) {
    REQUIRE_RUNNING("mancom_accept");
    REQUIRE_ARG("mancom_accept", service);
    return T.accept(service, timeout_ms);
}

mancom_conn mancom_connect(const char *service, int timeout_ms) {
    REQUIRE_RUNNING("mancom_connect");
    REQUIRE_ARG("mancom_connect", service);
    return T.connect(service, timeout_ms);
}

ssize_t mancom_read(mancom_conn conn, void *buf, size_t len, int timeout_ms) {
    REQUIRE_RUNNING("mancom_read");
    REQUIRE_ARG("mancom_read", buf);
    if (len > (size_t) INT32_MAX) len = INT32_MAX;
    return (ssize_t) T.read(conn, buf, (int64_t) len, timeout_ms);
}

ssize_t mancom_write(mancom_conn conn, const void *buf, size_t len) {
    REQUIRE_RUNNING("mancom_write");
    REQUIRE_ARG("mancom_write", buf);
    if (len > (size_t) INT32_MAX) return fail(MANCOM_EINVAL, "mancom_write: len %zu is over 2 GiB; write in pieces", len);
    return (ssize_t) T.write(conn, buf, (int64_t) len);
}

int mancom_shutdown_output(mancom_conn conn) {
    REQUIRE_RUNNING("mancom_shutdown_output");
    return T.shutdown_output(conn);
}

int mancom_close(mancom_conn conn) {
    REQUIRE_RUNNING("mancom_close");
    return T.close(conn);
}

int mancom_conn_endpoint(mancom_conn conn, int which, struct mancom_endpoint *out) {
    REQUIRE_RUNNING("mancom_conn_endpoint");
    REQUIRE_ARG("mancom_conn_endpoint", out);
    if (which != MANCOM_LOCAL && which != MANCOM_REMOTE)
        return fail(MANCOM_EINVAL, "mancom_conn_endpoint: which is %d; expected MANCOM_LOCAL or MANCOM_REMOTE", which);
    memset(out, 0, sizeof *out);
    return T.endpoint(conn, which, out);
}

int mancom_poll(mancom_pollitem *items, int n, int timeout_ms) {
    REQUIRE_RUNNING("mancom_poll");
    if (n < 0) return fail(MANCOM_EINVAL, "mancom_poll: n is %d", n);
    if (n > 0) REQUIRE_ARG("mancom_poll", items);
    return T.poll(items, n, timeout_ms);
}

int mancom_status_json(char *buf, size_t len) {
    REQUIRE_RUNNING("mancom_status_json");
    if (len > 0) REQUIRE_ARG("mancom_status_json", buf);
    if (len > (size_t) INT32_MAX) len = INT32_MAX;
    return T.status_json(buf, (int64_t) len);
}

int mancom_set_certificate_callback(mancom_certificate_cb cb, void *user) {
    REQUIRE_RUNNING("mancom_set_certificate_callback");
    return T.set_certificates((void *) cb, user);
}

/* Not in mancom.h, for the benchmark: with fn NULL one round trip into the runtime that does
 * nothing; else the runtime calls fn(1, fn, 0, NULL) n times, as it calls a data callback. */
int mancom__ping(void *fn, int n) {
    REQUIRE_RUNNING("mancom__ping");
    return T.ping(fn, n);
}

/* ---------------------------------------------------------------------------------------- */
/* Errors                                                                                   */
/* ---------------------------------------------------------------------------------------- */

const char *mancom_last_error(void) {
    if (state == ST_RUNNING) T.last_error(tls_err, (int) sizeof tls_err);
    return tls_err;
}

const char *mancom_strerror(int code) {
    switch (code) {
    case MANCOM_OK: return "MANCOM_OK: success";
    case MANCOM_EINVAL: return "MANCOM_EINVAL: invalid argument";
    case MANCOM_ENOTINIT: return "MANCOM_ENOTINIT: mancom_init() has not succeeded";
    case MANCOM_EBADHANDLE: return "MANCOM_EBADHANDLE: not a live connection, listener or registration";
    case MANCOM_ESTATE: return "MANCOM_ESTATE: not allowed in this state or on this thread";
    case MANCOM_EJVM: return "MANCOM_EJVM: the Java runtime or the ManCom jar could not be started";
    case MANCOM_EINTERNAL: return "MANCOM_EINTERNAL: internal error";
    case MANCOM_ECONFIG: return "MANCOM_ECONFIG: the configuration is invalid";
    case MANCOM_ENOSERVICE: return "MANCOM_ENOSERVICE: no such service is configured";
    case MANCOM_ENOTRANSPORT: return "MANCOM_ENOTRANSPORT: no transport for the endpoint's scheme";
    case MANCOM_EWRONGMODE: return "MANCOM_EWRONGMODE: the service is served the other way (callbacks vs blocking)";
    case MANCOM_EADDRINUSE: return "MANCOM_EADDRINUSE: address in use";
    case MANCOM_EUNREACHABLE: return "MANCOM_EUNREACHABLE: the peer refused or is unreachable";
    case MANCOM_ETIMEOUT: return "MANCOM_ETIMEOUT: timed out";
    case MANCOM_ECLOSED: return "MANCOM_ECLOSED: closed";
    case MANCOM_ELINKFAILED: return "MANCOM_ELINKFAILED: the link failed";
    case MANCOM_EWRITEQUEUEFULL: return "MANCOM_EWRITEQUEUEFULL: the write queue is full";
    case MANCOM_ENODEVICE: return "MANCOM_ENODEVICE: no such device";
    case MANCOM_EPERM: return "MANCOM_EPERM: permission denied";
    case MANCOM_EBUSY: return "MANCOM_EBUSY: the device is busy";
    case MANCOM_EPROTOCOL: return "MANCOM_EPROTOCOL: the peer broke the protocol";
    case MANCOM_ENOTREADY: return "MANCOM_ENOTREADY: not ready";
    case MANCOM_EIO: return "MANCOM_EIO: I/O error";
    case MANCOM_EIDLETIMEOUT: return "MANCOM_EIDLETIMEOUT: closed after tcp.idle-timeout with no byte either way";
    case MANCOM_EREADTIMEOUT: return "MANCOM_EREADTIMEOUT: closed after tcp.read-timeout with no byte received";
    default: return "MANCOM_E?: unknown error code";
    }
}
