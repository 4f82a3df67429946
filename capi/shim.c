/*
 * shim.c — the public C entry points of libbrs.so.
 *
 * Each function of include/brs.h that needs Go is a thin C function here:
 * it answers BRS_EFORKED in a forked child without entering the Go runtime
 * (which does not survive fork and hangs as soon as it needs a goroutine,
 * timer or network call), refuses a call from inside the session's own
 * callback (which would deadlock), and then calls the Go export brsgo_*.
 * The functions that need no Go (brs_version, brs_free, brs_*_clear) are
 * plain C.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

#define BRS_API __attribute__((visibility("default")))

/* Set in a child process created by fork() after the library was loaded. */
static volatile sig_atomic_t brs_forked = 0;

static void brs_atfork_child(void) { brs_forked = 1; }

__attribute__((constructor)) static void brs_shim_init(void) {
    pthread_atfork(NULL, NULL, brs_atfork_child);
}

/* The session whose callback this thread is running, 0 if none. */
static __thread uint64_t brs_in_callback = 0;

/* Fill err (if any, already zeroed) with status and a static message; no
 * Go involved. */
static int brs_fail(brs_error *err, int status, const char *message) {
    if (err != NULL) {
        err->status = status;
        err->message = strdup(message);
    }
    return status;
}

/*
 * The entry check of every function that takes a session: zero err (when
 * not NULL), then refuse the call in a forked child and from the session's
 * own callback. BRS_OK lets the call go on into Go. Session 0 is never a
 * handle (brs_new_session passes it), so it is never the callback's own.
 */
static int brs_enter(brs_session session, brs_error *err) {
    if (err != NULL) memset(err, 0, sizeof *err);
    if (brs_forked)
        return brs_fail(err, BRS_EFORKED,
                        "libbrs cannot be used in a child forked after it was loaded; "
                        "create sessions after fork, or exec");
    if (session != 0 && session == brs_in_callback)
        return brs_fail(err, BRS_ERROR,
                        "a session's callback called back into the same session; "
                        "this would deadlock (the call waits for the callback)");
    return BRS_OK;
}

/* BRS_VERSION comes from include/brsver.h (through brs.h), made from VERSION. */
BRS_API const char *brs_version(void) { return BRS_VERSION; }

BRS_API int brs_new_session(const char *config_json, brs_callback callback, void *user_data,
                            brs_session *out, brs_error *err) {
    int rc = brs_enter(0, err);
    return rc != BRS_OK ? rc
                        : brsgo_new_session((char *)config_json, (uintptr_t)callback,
                                            (uintptr_t)user_data, out, err);
}

BRS_API int brs_credentials(brs_session session, struct brs_credentials *out, brs_error *err) {
    if (out != NULL) memset(out, 0, sizeof *out);
    int rc = brs_enter(session, err);
    return rc != BRS_OK ? rc : brsgo_credentials(session, out, err, 0);
}

BRS_API int brs_refresh(brs_session session, struct brs_credentials *out, brs_error *err) {
    if (out != NULL) memset(out, 0, sizeof *out);
    int rc = brs_enter(session, err);
    return rc != BRS_OK ? rc : brsgo_credentials(session, out, err, 1);
}

BRS_API int brs_whoami(brs_session session, char **json_out, brs_error *err) {
    if (json_out != NULL) *json_out = NULL;
    int rc = brs_enter(session, err);
    return rc != BRS_OK ? rc : brsgo_whoami(session, json_out, err);
}

BRS_API int brs_close_session(brs_session session) {
    int rc = brs_enter(session, NULL);
    return rc != BRS_OK ? rc : brsgo_close_session(session);
}

BRS_API int brs_on_refresh(brs_session session, brs_refresh_fn fn, void *user_data) {
    int rc = brs_enter(session, NULL);
    return rc != BRS_OK ? rc : brsgo_on_refresh(session, (uintptr_t)fn, (uintptr_t)user_data);
}

BRS_API int brs_result_set(brs_result *result, const char *key, const char *value) {
    if (brs_forked) return BRS_EFORKED;
    if (result == NULL || key == NULL || value == NULL) return BRS_EVALIDATION;
    return brsgo_result_set(result->id, (char *)key, (char *)value);
}

BRS_API void brs_set_logger(brs_log_fn fn, void *user_data) {
    if (brs_forked) return;
    brsgo_set_logger((uintptr_t)fn, (uintptr_t)user_data);
}

BRS_API void brs_free(void *ptr) { free(ptr); }

/* Overwrite s with zeros in a way the compiler may not elide. */
static void brs_wipe(char *s) {
    if (s == NULL) return;
    volatile char *p = s;
    while (*p != '\0') *p++ = '\0';
}

BRS_API void brs_credentials_clear(struct brs_credentials *creds) {
    if (creds == NULL) return;
    brs_wipe(creds->secret_key);
    brs_wipe(creds->token);
    free(creds->access_key);
    free(creds->secret_key);
    free(creds->token);
    free(creds->expiry_time);
    memset(creds, 0, sizeof *creds);
}

BRS_API void brs_error_clear(brs_error *err) {
    if (err == NULL) return;
    free(err->message);
    free(err->param);
    free(err->value);
    free(err->aws_code);
    free(err->details);
    memset(err, 0, sizeof *err);
}

/* ---- called from Go ---------------------------------------------------- */

int brs_shim_invoke(uintptr_t cb, uintptr_t user_data, int request, brs_result *result,
                    uint64_t session) {
    uint64_t outer = brs_in_callback;
    brs_in_callback = session;
    int rc = ((brs_callback)cb)((void *)user_data, request, result);
    brs_in_callback = outer;
    return rc;
}

void brs_shim_notify(uintptr_t fn, uintptr_t user_data, const struct brs_credentials *creds,
                     uint64_t session) {
    uint64_t outer = brs_in_callback;
    brs_in_callback = session;
    ((brs_refresh_fn)fn)((void *)user_data, creds);
    brs_in_callback = outer;
}

void brs_shim_log(uintptr_t fn, uintptr_t user_data, int level, const char *message) {
    ((brs_log_fn)fn)((void *)user_data, level, message);
}

/* ---- the channel (core/credserver) -------------------------------------- */

BRS_API int brs_channel_open(const char *dir, char **path_out, char **token_out, brs_error *err) {
    if (path_out != NULL) *path_out = NULL;
    if (token_out != NULL) *token_out = NULL;
    int rc = brs_enter(0, err);
    return rc != BRS_OK ? rc : brsgo_channel_open((char *)dir, path_out, token_out, err);
}

BRS_API int brs_channel_close(void) {
    int rc = brs_enter(0, NULL);
    return rc != BRS_OK ? rc : brsgo_channel_close();
}

BRS_API int brs_host_serve(int fd, const char *dir) {
    int rc = brs_enter(0, NULL);
    return rc != BRS_OK ? rc : brsgo_host_serve(fd, (char *)dir);
}
