/*
 * mancom_compat.h -- the names from the original ManCom notes, on top of mancom.h.
 *
 *   struct EndPoint            == struct mancom_endpoint
 *   registerAcceptor(s, cb, u) == mancom_register_acceptor(s, cb, u)
 *   registerDataReceiver(...)  == mancom_register_data_receiver(...)
 *
 * Threading, ownership and errors are exactly those of mancom.h: these are inline aliases, so
 * new code should prefer the mancom_ names. Include this header instead of mancom.h (it
 * includes mancom.h).
 */
#ifndef MANCOM_COMPAT_H
#define MANCOM_COMPAT_H

#include "mancom.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The original notes' EndPoint: a transport type plus a union of socket, serial, USB address. */
struct EndPoint {
    struct mancom_endpoint ep;
};

typedef mancom_accept_cb AcceptCallback;
typedef mancom_data_cb DataCallback;
typedef mancom_close_cb CloseCallback;

/* Calls cb for every new connection of service; returns a registration id or MANCOM_E... */
static inline int registerAcceptor(const char *service, AcceptCallback cb, void *user) {
    return mancom_register_acceptor(service, cb, user);
}

/* Delivers every chunk of service's connections to on_data and one close event to on_close. */
static inline int registerDataReceiver(const char *service, DataCallback on_data,
                                       CloseCallback on_close, void *user) {
    return mancom_register_data_receiver(service, on_data, on_close, user);
}

/* Fills *out with the local (MANCOM_LOCAL) or remote (MANCOM_REMOTE) end of conn. */
static inline int getEndPoint(mancom_conn conn, int which, struct EndPoint *out) {
    return mancom_conn_endpoint(conn, which, out ? &out->ep : NULL);
}

#ifdef __cplusplus
}
#endif
#endif /* MANCOM_COMPAT_H */
