/*
 * shim.h — private C declarations of libbrs.so (not installed).
 *
 * The public functions of include/brs.h are C functions (shim.c) that check
 * for a forked child, a closed handle and a call that would deadlock before
 * they enter Go, and that answer fresh credentials from a copy kept in C.
 * They call the Go exports declared in _cgo_export.h (brsgo_*); Go calls
 * back the brs_shim_* functions below.
 */
#ifndef BRS_SHIM_H
#define BRS_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include "brs.h"

#define BRS_HIDDEN __attribute__((visibility("hidden")))

/* The C side of a brs_result: the id of a Go-side collector. */
struct brs_result {
    uint64_t id;
};

/* Call a brs_callback held as an integer, marking the thread as inside
 * `session`'s callback meanwhile. */
BRS_HIDDEN int brs_shim_invoke(uintptr_t cb, uintptr_t user_data, int request, brs_result *result,
                               uint64_t session);

/* Keep a copy of session's new current credentials (Go memory, copied). */
BRS_HIDDEN void brs_shim_publish(uint64_t session, const char *ak, size_t ak_len, const char *sk, size_t sk_len,
                                 const char *tok, size_t tok_len, const char *exp, size_t exp_len,
                                 int64_t expiry_ms, int64_t until_ms);

/* Whether session has a refresh listener (brs_on_refresh). */
BRS_HIDDEN int brs_shim_has_listener(uint64_t session);

/* Hand creds to session's refresh listener, if any, marking the thread as
 * inside the session's callback meanwhile. */
BRS_HIDDEN void brs_shim_notify(uint64_t session, const struct brs_credentials *creds);

/* Whether a log sink is set. */
BRS_HIDDEN int brs_shim_log_enabled(void);

/* Hand a log line of session (0: of no session) to the sink, if any. */
BRS_HIDDEN void brs_shim_log(uint64_t session, int level, const char *message);

#endif /* BRS_SHIM_H */
