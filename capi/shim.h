/*
 * shim.h — private C declarations of libbrs.so (not installed).
 *
 * The public functions of include/brs.h are small C functions (shim.c) that
 * check for a forked child and for re-entry from a session's own callback
 * before they enter Go, so that a forked child never touches the Go runtime.
 * They call the Go exports declared in _cgo_export.h (brsgo_*).
 */
#ifndef BRS_SHIM_H
#define BRS_SHIM_H

#include <stdint.h>
#include "brs.h"

/* The C side of a brs_result: the id of a Go-side collector. */
struct brs_result {
    uint64_t id;
};

/* Call a brs_callback held as an integer, marking the thread as inside
 * `session`'s callback meanwhile (see brs_enter in shim.c). */
__attribute__((visibility("hidden"))) int brs_shim_invoke(uintptr_t cb, uintptr_t user_data, int request, brs_result *result,
                                                         uint64_t session);

/* Call a brs_refresh_fn held as an integer, marking the thread as inside
 * `session`'s callback meanwhile. */
__attribute__((visibility("hidden"))) void brs_shim_notify(uintptr_t fn, uintptr_t user_data,
                                                          const struct brs_credentials *creds, uint64_t session);

/* Call a brs_log_fn held as an integer. */
__attribute__((visibility("hidden"))) void brs_shim_log(uintptr_t fn, uintptr_t user_data, int level, const char *message);

#endif /* BRS_SHIM_H */
