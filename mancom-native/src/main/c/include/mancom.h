/*
 * mancom.h -- the ManCom C API: the same services, configuration and transports as the Java
 * API (io.mancom.ManCom), for C programs.
 *
 * Build:   cc app.c $(pkg-config --cflags --libs mancom)
 *          (PKG_CONFIG_PATH=<dist>/lib/pkgconfig; the .pc file adds an rpath to libmancom.so)
 *
 * ---------------------------------------------------------------------------------------------
 * LIFECYCLE
 *   mancom_init() starts a Java virtual machine inside this process (JNI invocation API), loads
 *   the one ManCom jar and starts the runtime on the configuration. Every other call needs a
 *   successful mancom_init() first (else MANCOM_ENOTINIT). mancom_shutdown() closes every
 *   connection and registration, stops the runtime and destroys the JVM. A JVM cannot be
 *   created twice in one process, so mancom_init() after mancom_shutdown() is MANCOM_ESTATE.
 *
 * THREADING
 *   - Every function may be called from any thread, including threads the program creates;
 *     such a thread is attached to the JVM on its first call and stays attached until it ends.
 *   - Callbacks (mancom_accept_cb, mancom_data_cb, mancom_close_cb) run on the event-loop
 *     thread of their connection, a thread owned by the runtime. The callbacks of one
 *     connection run one at a time and in order: open/accept, data..., close (exactly once).
 *     Callbacks must not block: from inside a callback you may call mancom_write,
 *     mancom_close, mancom_conn_endpoint, mancom_unregister, mancom_last_error and
 *     mancom_strerror. The waiting calls (mancom_await_ready, mancom_listen, mancom_accept,
 *     mancom_connect, mancom_read, mancom_poll) and mancom_shutdown return MANCOM_ESTATE there.
 *   - Blocking calls on one connection: one reader thread and one writer thread at a time.
 *
 * OWNERSHIP
 *   - The data buffer passed to mancom_data_cb is lent for the duration of the call: read it or
 *     pass it to mancom_write (which copies), never keep the pointer.
 *   - mancom_write copies the caller's bytes before it returns; the caller keeps its buffer.
 *   - Strings passed in (service names, paths) are copied; they may be freed after the call.
 *   - Strings returned (mancom_strerror, mancom_last_error) are owned by the library.
 *
 * HANDLES
 *   A mancom_conn is a checked handle (a generation-tagged id), never a pointer: a bogus or stale
 *   handle is MANCOM_EBADHANDLE, never a crash. Blocking connections (from mancom_accept,
 *   mancom_connect) and listeners (mancom_listen) are released by mancom_close, like a file
 *   descriptor; afterwards their handle is MANCOM_EBADHANDLE. Connections handed to callbacks
 *   are released by the runtime after their close callback returned.
 *
 * ERRORS
 *   Every call returns a negative MANCOM_E... code on failure. mancom_strerror(code) names the
 *   code; mancom_last_error() is the full message of this thread's last failure (what happened
 *   and what to do), as the Java runtime wrote it.
 * ---------------------------------------------------------------------------------------------
 */
#ifndef MANCOM_H
#define MANCOM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes (negative return values) ---- */
#define MANCOM_OK                  0
#define MANCOM_EINVAL             (-1)   /* a NULL or out-of-range argument */
#define MANCOM_ENOTINIT           (-2)   /* mancom_init() has not succeeded (or shutdown ran) */
#define MANCOM_EBADHANDLE         (-3)   /* not a live connection, listener or registration */
#define MANCOM_ESTATE             (-4)   /* not allowed now: init twice, blocking in a callback */
#define MANCOM_EJVM               (-5)   /* the JVM or the ManCom jar could not be found/started */
#define MANCOM_EINTERNAL          (-6)   /* a bug: the message has the Java exception */
/* one code per io.mancom.ManComException.Reason */
#define MANCOM_ECONFIG            (-10)  /* CONFIG: the configuration is invalid */
#define MANCOM_ENOSERVICE         (-11)  /* UNKNOWN_SERVICE: no service of that name */
#define MANCOM_ENOTRANSPORT       (-12)  /* NO_TRANSPORT: no transport for the scheme */
#define MANCOM_EWRONGMODE         (-13)  /* WRONG_MODE: service served the other way */
#define MANCOM_EADDRINUSE         (-14)  /* ADDRESS_IN_USE */
#define MANCOM_EUNREACHABLE       (-15)  /* UNREACHABLE: refused or not reachable */
#define MANCOM_ETIMEOUT           (-16)  /* TIMEOUT */
#define MANCOM_ECLOSED            (-17)  /* CLOSED: the connection or runtime is closed */
#define MANCOM_ELINKFAILED        (-18)  /* LINK_FAILED: reset, or the link failed */
#define MANCOM_EWRITEQUEUEFULL    (-19)  /* WRITE_QUEUE_FULL */
#define MANCOM_ENODEVICE          (-20)  /* NO_DEVICE */
#define MANCOM_EPERM              (-21)  /* PERMISSION_DENIED */
#define MANCOM_EBUSY              (-22)  /* BUSY: device held by another program */
#define MANCOM_EPROTOCOL          (-23)  /* PROTOCOL: the peer broke the protocol */
#define MANCOM_ENOTREADY          (-24)  /* NOT_READY: a service is not bound yet */
#define MANCOM_EIO                (-25)  /* IO: any other I/O failure */
#define MANCOM_EIDLETIMEOUT       (-26)  /* IDLE_TIMEOUT: no byte either way (tcp.idle-timeout) */
#define MANCOM_EREADTIMEOUT       (-27)  /* READ_TIMEOUT: no byte received (tcp.read-timeout) */

/* ---- init options ---- */
typedef struct mancom_options {
    /* One explicit config file instead of /etc/mancom, the user file and $MANCOM_CONFIG
     * (NULL: the layered system-wide configuration, which includes $MANCOM_CONFIG). */
    const char *config_path;
    /* The ManCom jar (NULL: $MANCOM_JAR, then mancom.jar beside libmancom.so). */
    const char *jar_path;
    /* The JDK/JRE home holding lib/server/libjvm.so (NULL: $JAVA_HOME, the `java` on PATH,
     * /usr/lib/jvm/default-java). */
    const char *java_home;
    /* Extra JVM options such as "-Xmx256m" (also read from $MANCOM_JVM_OPTS, space separated). */
    const char *const *jvm_options;
    int n_jvm_options;
} mancom_options;

/* ---- handles, endpoints ---- */
typedef int64_t mancom_conn;          /* > 0: a handle; < 0: an error code */

#define MANCOM_TRANSPORT_TCP     1
#define MANCOM_TRANSPORT_SERIAL  2
#define MANCOM_TRANSPORT_USB     3

struct mancom_serial_addr {
    char device[256];                 /* "/dev/ttyUSB0" */
    int32_t baud;
    int32_t data_bits;                /* 5..8 */
    int32_t parity;                   /* 'N', 'E', 'O', 'M', 'S' */
    int32_t stop_bits_x10;            /* 10, 15 or 20 */
    int32_t flow;                     /* 0 none, 1 rts/cts, 2 xon/xoff */
};

struct mancom_usb_addr {
    int32_t vendor_id;
    int32_t product_id;
    int32_t interface_number;
    int32_t bus;                      /* -1: any */
    int32_t device_address;           /* -1: any */
    int32_t in_endpoint;              /* -1: the interface's first bulk IN */
    int32_t out_endpoint;             /* -1: the interface's first bulk OUT */
    char serial[128];                 /* "": any */
};

/* Where a connection is. type is a MANCOM_TRANSPORT_...; for TCP, addr.sock holds a
 * sockaddr_in or sockaddr_in6 (ss_family tells which). uri is the canonical endpoint URI
 * (truncated to fit). */
struct mancom_endpoint {
    int32_t type;
    union {
        struct sockaddr_storage sock;
        struct mancom_serial_addr serial;
        struct mancom_usb_addr usb;
    } addr;
    char uri[512];
};

#define MANCOM_LOCAL   0
#define MANCOM_REMOTE  1

/* ---- callbacks (see THREADING above) ---- */
/* A connection opened: accepted by a server, or a connect_async completed. */
typedef void (*mancom_accept_cb)(mancom_conn conn, void *user);
/* A chunk of data arrived; buf is lent for the duration of the call. */
typedef void (*mancom_data_cb)(mancom_conn conn, const void *buf, size_t len, void *user);
/* The connection closed, exactly once: error is 0 for a clean close, else a MANCOM_E... code
 * and mancom_last_error() says why. conn is 0 when a connect_async failed before it opened.
 * The handle is released when this callback returns. */
typedef void (*mancom_close_cb)(mancom_conn conn, int error, void *user);

/* ---- lifecycle ---- */
/* Starts the JVM and the runtime. opts may be NULL (defaults). 0 or a negative code. */
int mancom_init(const mancom_options *opts);
/* Waits until every service with a registration is listening (or timeout_ms passes). */
int mancom_await_ready(int timeout_ms);
/* Closes everything and destroys the JVM. Safe to call when not initialised. */
void mancom_shutdown(void);

/* ---- callback API ---- */
/* Each returns a registration id (> 0) or a negative code; mancom_unregister(id) removes it. */
int mancom_register_acceptor(const char *service, mancom_accept_cb on_accept, void *user);
int mancom_register_data_receiver(const char *service, mancom_data_cb on_data,
                                  mancom_close_cb on_close, void *user);
/* Connects to the service; on_open runs with the new connection's handle before any on_data.
 * If the connection cannot be made, on_close runs with conn 0 and the error. on_open may be
 * NULL. mancom_unregister(id) closes the connection (or abandons the attempt). */
int mancom_connect_async(const char *service, mancom_accept_cb on_open, mancom_data_cb on_data,
                         mancom_close_cb on_close, void *user);
int mancom_unregister(int registration);

/* ---- blocking API ---- timeout_ms < 0 waits without limit (connect: the configured
 * connect-timeout); 0 does not wait. */
/* Binds the service for mancom_accept and waits until it listens. Returns a listener handle:
 * poll it for MANCOM_POLLIN (a connection waits); mancom_close(listener) stops listening. */
mancom_conn mancom_listen(const char *service, int timeout_ms);
/* The next connection of the service (listening first if needed). */
mancom_conn mancom_accept(const char *service, int timeout_ms);
mancom_conn mancom_connect(const char *service, int timeout_ms);
/* Bytes read (>= 1), 0 at end of stream, or a negative code (MANCOM_ETIMEOUT loses nothing).
 * End of stream is the peer closing or half-closing (mancom_shutdown_output, a TCP FIN, a mux
 * CloseRead); after a half-close the connection can still be written until mancom_close. */
ssize_t mancom_read(mancom_conn conn, void *buf, size_t len, int timeout_ms);
/* Queues all len bytes (waiting for room on a blocking connection); len or a negative code. */
ssize_t mancom_write(mancom_conn conn, const void *buf, size_t len);
/* Half-close: sends what is queued, then ends this side's output (a TCP FIN; CloseRead on a mux
 * stream) while reading goes on, so the peer sees end of stream and may still answer. Later
 * writes fail with MANCOM_ECLOSED. 0, or a negative code: MANCOM_EIO on a link that has no
 * half-close (a serial line, a USB device). A blocking connection waits until the shutdown is
 * sent; a callback connection returns at once. A callback connection whose peer half-closes is
 * closed once what is queued is sent (there is no end-of-input callback): to answer after the
 * peer's half-close, use a blocking connection. */
int mancom_shutdown_output(mancom_conn conn);
/* Sends what is queued, then closes; releases blocking connections and listeners. */
int mancom_close(mancom_conn conn);
/* Fills *out with this side (MANCOM_LOCAL) or the other side (MANCOM_REMOTE). */
int mancom_conn_endpoint(mancom_conn conn, int which, struct mancom_endpoint *out);

/* ---- poll ---- */
#define MANCOM_POLLIN    0x001   /* data to read, end of stream, or (listener) a connection */
#define MANCOM_POLLOUT   0x004   /* the write queue has room */
#define MANCOM_POLLERR   0x008   /* revents only: the link failed */
#define MANCOM_POLLHUP   0x010   /* revents only: closed (buffered data may remain) */
#define MANCOM_POLLNVAL  0x020   /* revents only: not a blocking connection or listener */

typedef struct mancom_pollitem {
    mancom_conn conn;                 /* a blocking connection or a listener */
    short events;                     /* MANCOM_POLLIN | MANCOM_POLLOUT */
    short revents;                    /* set by mancom_poll */
} mancom_pollitem;

/* Like poll(2): waits until an item is ready or timeout_ms passes. Returns the number of items
 * with revents != 0, 0 on timeout, or a negative code. */
int mancom_poll(mancom_pollitem *items, int n, int timeout_ms);

/* ---- monitoring ---- */
/* This process's runtime status as JSON, the document `GET /status` on its control socket
 * serves (process, services with their byte counts and errors, open channels; see
 * docs/monitoring.md). Like snprintf: returns the JSON's length in bytes (without the NUL);
 * when that is len or more, buf holds the first len - 1 bytes and a NUL (a prefix, not valid
 * JSON), or nothing when len is 0 (buf may then be NULL), so call again with the returned length
 * plus one. A negative code on failure. Any thread; inside a callback it holds up that
 * connection's loop while the JSON is built. The figures are a snapshot, read racily. */
int mancom_status_json(char *buf, size_t len);

/* ---- TLS certificates (docs/tls.md) ---- */
/* The certificate a TLS service presents for one handshake: PEM text (cert_pem + key_pem) or
 * PEM files (cert_file + key_file), the service's certificate first in the chain, the key in
 * unencrypted PKCS#8. The strings are copied when the callback returns; they need to live only
 * until then. */
typedef struct mancom_certificate {
    const char *cert_pem;
    const char *key_pem;
    const char *cert_file;
    const char *key_file;
} mancom_certificate;
/* Picks the certificate for a handshake by the server name the client asked for (SNI; NULL
 * when it sent none). Return 1 with *out filled, 0 for the service's configured tls.cert, or a
 * negative value to refuse the handshake. Runs on a runtime thread that is not an event loop
 * (it may read files), possibly on several at once; the handshake waits for it. */
typedef int (*mancom_certificate_cb)(const char *server_name, mancom_certificate *out, void *user);
/* Sets the callback for every TLS service of this process (NULL: back to tls.cert). Takes
 * effect for the next handshake. 0 or a negative code. */
int mancom_set_certificate_callback(mancom_certificate_cb cb, void *user);

/* ---- errors ---- */
/* A short name for a code ("MANCOM_ETIMEOUT: timed out"); never NULL. */
const char *mancom_strerror(int code);
/* This thread's last error message; "" if none. Valid until this thread's next ManCom call. */
const char *mancom_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* MANCOM_H */
