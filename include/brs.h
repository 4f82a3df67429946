/*
 * brs.h — the C interface of gobrs (libbrs.so).
 *
 * gobrs keeps a set of temporary AWS credentials fresh: it fetches them from
 * a source (your own callback, STS AssumeRole, or the AWS IoT Core X.509
 * credentials endpoint), hands them out, and renews them as they near expiry
 * following botocore's contract:
 *
 *   - advisory window (default 900 s before expiry): one caller refreshes,
 *     every other caller keeps the current credentials; a failed advisory
 *     refresh is logged and tolerated;
 *   - mandatory window (default 600 s before expiry): every caller waits for
 *     one refresh in flight and gets its error if it fails.
 *
 * Credentials that live less than four times the advisory window get both
 * windows scaled down in proportion, so the advisory window is a quarter of
 * the lifetime (a 20-minute credential is refreshed 5 minutes before it
 * expires).
 *
 * Conventions (as in sqlite3.h):
 *
 *   - Every function returns an int status: BRS_OK (0) or one of the
 *     BRS_E* codes below. Their names mirror the Python BRS* error classes.
 *   - Functions that can fail take a `brs_error *err` last. It may be NULL.
 *     When it is not NULL the library zeroes it on entry and, when the call
 *     fails, fills it; release it with brs_error_clear() before reusing it
 *     (a filled struct passed again is overwritten, and its strings leak).
 *   - A session is an opaque integer handle (brs_session). No pointer into
 *     the library's memory is ever handed out except the strings it
 *     allocates for you, which you free as each function says.
 *   - Every function is safe to call from any thread, at the same time,
 *     on the same or different sessions.
 *   - A call on a closed (or never opened) handle returns BRS_ECLOSED. It
 *     never crashes. Closing twice is safe.
 *   - No Go panic ever crosses into C: an internal failure is BRS_ERROR.
 *   - Secrets (secret keys, session tokens, MFA codes, private keys) never
 *     appear in error messages or log lines.
 *   - After fork(), a child may not use the library the parent loaded: the
 *     Go runtime does not survive fork. Every call in such a child returns
 *     BRS_EFORKED at once, without entering the Go runtime (brs_set_logger
 *     does nothing; brs_version, brs_free and the *_clear functions, which
 *     need no runtime, still work). Create sessions after fork, or exec.
 *     This stays so for C: libbrs reads the channel of brs_channel_open()
 *     only from Python (a forked Python child reads its parent's sessions
 *     through it); a C child that wants them can speak the channel's
 *     line-JSON protocol itself over a plain Unix socket (see
 *     brs_channel_open) without entering libbrs.
 *   - One Go runtime per process: loading libbrs.so together with another
 *     Go c-shared library in one process is not supported by Go.
 *
 * Strings are UTF-8 and NUL-terminated. Timestamps are ISO 8601 in UTC
 * ("2026-11-29T01:02:03Z").
 */
#ifndef BRS_H
#define BRS_H

#include "brsver.h" /* BRS_VERSION, BRS_VERSION_NUM, BRS_AT_LEAST_VERSION */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------ */

#define BRS_OK             0 /* success */
#define BRS_ERROR          1 /* BRSError: anything not listed below */
#define BRS_EVALIDATION    2 /* BRSValidationError: a bad parameter */
#define BRS_ECONFIGURATION 3 /* BRSConfigurationError: parameters that cannot work together */
#define BRS_ECREDENTIAL    4 /* BRSCredentialError: the source failed or gave bad credentials */
#define BRS_ECONNECTION    5 /* BRSConnectionError: refused, reset, timed out, TLS failure */
#define BRS_EREQUEST       6 /* BRSRequestError: the service answered with an error */
#define BRS_ECLOSED        7 /* the session handle is closed or unknown */
#define BRS_EFORKED        8 /* called in a child forked after the library started */

/* ---- types ------------------------------------------------------------- */

/* An open session. 0 is never a valid handle. */
typedef uint64_t brs_session;

/*
 * A failure's details. All strings are owned by the struct and released by
 * brs_error_clear(); any of them may be NULL.
 */
typedef struct brs_error {
    int status;        /* the BRS_E* code, same as the return value */
    int http_status;   /* HTTP status of a request error, else 0 */
    char *message;     /* human-readable, never contains a secret */
    char *param;       /* the parameter or field at fault, if known */
    char *value;       /* a non-secret rendering of the bad value, if any */
    char *aws_code;    /* the service error code (e.g. "AccessDenied") */
    /*
     * A JSON object with what a host needs to raise the failure as its own
     * SDK would, or NULL. Never holds a secret. Keys, each optional:
     *   "operation"     the STS operation ("AssumeRole", "GetCallerIdentity")
     *   "error_message" the service's error message
     *   "request_id"    the service's request id
     *   "attempts"      how many attempts were made (retries exhausted)
     *   "connection"    why no answer came (BRS_ECONNECTION): "endpoint"
     *                   (refused, unreachable, unknown host),
     *                   "connect_timeout", "read_timeout", "closed" (the
     *                   connection dropped before an answer), "tls", or
     *                   "timeout" (the IoT request timed out)
     *   "endpoint"      the URL that was called (BRS_ECONNECTION)
     *   "botocore"      for a refused parameter (BRS_EVALIDATION): who
     *                   would refuse it, "ParamValidationError" (botocore
     *                   itself) or "ClientError" (STS, then with
     *                   "error_code" and "http_status" as STS would answer)
     *   "reason"        for an expiry_time (BRS_ECREDENTIAL): "expired" or
     *                   "unparsable"
     */
    char *details;
} brs_error;

/*
 * One set of credentials. The strings are allocated by the library and
 * released (secrets zeroed first) by brs_credentials_clear().
 *
 * The type is spelled `struct brs_credentials` (there is no typedef: the
 * name belongs to the function brs_credentials(), as with struct stat and
 * stat()). Start from a zeroed struct: struct brs_credentials c = {0};
 */
struct brs_credentials {
    char *access_key;
    char *secret_key;
    char *token;
    char *expiry_time;      /* ISO 8601 UTC: "2026-12-01T06:25:18Z", with
                               sub-seconds when the source gave any
                               ("2026-12-01T06:25:18.5Z") */
    int64_t expiry_unix_ms; /* expiry_time as Unix milliseconds */
    /* Milliseconds during which these credentials may be reused without
     * asking the library again (until the advisory window opens, or 0 while
     * a refresh is pending). Callers that cache a copy use this. */
    int64_t valid_for_ms;
};

/* What a callback is asked for (the `request` argument). */
#define BRS_REQ_CREDENTIALS        1 /* custom method: the credentials */
#define BRS_REQ_SOURCE_CREDENTIALS 2 /* sts method: the credentials that call AssumeRole */
#define BRS_REQ_MFA_TOKEN          3 /* sts method: the MFA token code */

/*
 * The answer a callback fills with brs_result_set(). Opaque; valid only
 * during the callback that received it: the library frees it when the
 * callback returns, so do not keep the pointer or hand it to a thread that
 * outlives the call.
 */
typedef struct brs_result brs_result;

/*
 * A credential callback.
 *
 *   request BRS_REQ_CREDENTIALS: set "access_key", "secret_key", "token" and
 *     "expiry_time" (ISO 8601; with an offset or "Z"; a time without an
 *     offset is read as UTC). All four are required.
 *   request BRS_REQ_SOURCE_CREDENTIALS: set "access_key" and "secret_key",
 *     and "token" when the source credentials are temporary.
 *   request BRS_REQ_MFA_TOKEN: set "token_code".
 *
 * Return 0 on success. Return non-zero on failure, after setting "error" to
 * a message (no secrets in it, please); the caller gets BRS_ECREDENTIAL,
 * with err->param "custom_credentials_method" (BRS_REQ_CREDENTIALS),
 * "source_credentials" or "mfa_token_provider", and a message that
 * contains the "error" text. Values set before a failure are discarded.
 * Bad values returned with 0 (a missing or empty key, an expiry that does
 * not parse or has passed, a NUL or line break in a value) are also
 * BRS_ECREDENTIAL, with err->param naming the key.
 *
 * Threads: the callback may run on any thread, including threads the
 * library starts itself (refreshes run off the caller's thread, and
 * background refresh runs on its own). Calls for one session never overlap:
 * one refresh is in flight at a time. Callbacks of different sessions may
 * run at the same time.
 *
 * Re-entry: a callback must not wait for its own session. A call of
 * brs_credentials(), brs_refresh(), brs_whoami(), brs_close_session() or
 * brs_on_refresh() on the callback's own session, from the thread running
 * the callback, returns BRS_ERROR at once ("would deadlock") instead of
 * hanging. (Made from another thread that the callback then waits for, it
 * does deadlock.) Other sessions may be used freely.
 *
 * Lifetime: user_data is yours; the library never dereferences it. The
 * callback is never called after brs_close_session() has returned.
 */
typedef int (*brs_callback)(void *user_data, int request, brs_result *result);

/*
 * A refresh listener (brs_on_refresh): told of every new set of credentials
 * right after a successful refresh. creds belongs to the library and is
 * valid only during the call (copy what you keep; do not clear it). Same
 * threading as brs_callback: any thread, never two calls at once for one
 * session, never after brs_close_session() has returned; it must not call
 * back into its own session.
 */
typedef void (*brs_refresh_fn)(void *user_data, const struct brs_credentials *creds);

/*
 * A log sink: level is -4 debug, 0 info, 4 warn, 8 error (Go slog levels);
 * message is "text key=value ..." (values with spaces are quoted), valid
 * only during the call. Example:
 *   gobrs: credential refresh failed kind=credential error="..."
 */
typedef void (*brs_log_fn)(void *user_data, int level, const char *message);

/* ---- functions --------------------------------------------------------- */

/*
 * The library version, e.g. "0.1.0". Static storage: do not free.
 */
const char *brs_version(void);

/*
 * Open a session.
 *
 * config_json: a JSON object, copied during the call. Keys:
 *   "method"             "custom" (default), "sts" or "iot"
 *   "defer_refresh"      bool, default true: fetch at first use. When false
 *                        the first fetch happens here and its error is
 *                        returned.
 *   "advisory_timeout"   number of seconds >= 0, default 900
 *   "mandatory_timeout"  number of seconds >= 0, default 600; one over
 *                        advisory_timeout is read as botocore does: the
 *                        refresh at the advisory window is mandatory
 *   "background_refresh" bool, default false: renew ahead of the advisory
 *                        window from a library thread, so no caller waits.
 *   "refresh_timeout"    number of seconds > 0, or null (default): none.
 *                        A caller that waited this long for a refresh gets
 *                        BRS_ECREDENTIAL (in the advisory window: the
 *                        current credentials) while the refresh goes on
 *                        and is used once it lands; the way out of a
 *                        callback that never returns (one that waits for
 *                        a thread reading this same session, say).
 *   method "sts": "assume_role_kwargs" (object, AssumeRole parameters in
 *     their AWS names: RoleArn, RoleSessionName, ...), "sts_client_kwargs"
 *     (object), "mfa_token_provider" (command: string or array of strings),
 *     "mfa_token_provider_kwargs" (object). See README.md.
 *   method "iot": "endpoint", "role_alias", "certificate", "private_key",
 *     "thing_name", "ca", "verify_peer", "timeout", "duration_seconds",
 *     "pkcs11". See README.md.
 *   Unknown keys and wrong types are BRS_EVALIDATION naming the key
 *   (err->param). An empty string means {}. NULL or bytes that are not
 *   UTF-8 are BRS_EVALIDATION with param "config_json"; malformed JSON or a
 *   value that is not an object, param "config". The string ends at its
 *   first NUL; a JSON "\u0000" escape is accepted by the parser but never
 *   matches a name (error text spells a NUL as \u0000).
 *
 * callback, user_data: method "custom" requires callback. For "sts" it is
 *   optional: it supplies source credentials (else the AWS SDK for Go
 *   default chain or explicit keys are used) and MFA token codes.
 *
 * out: receives the handle on success; untouched on failure. NULL is
 *   BRS_EVALIDATION with param "out".
 *
 * Returns BRS_OK, or BRS_EVALIDATION / BRS_ECONFIGURATION for a bad config,
 * or (defer_refresh false) the first fetch's error.
 */
int brs_new_session(const char *config_json, brs_callback callback, void *user_data,
                    brs_session *out, brs_error *err);

/*
 * Current credentials, refreshed first when a window demands it (this may
 * block while a mandatory refresh runs; the callback may run meanwhile on
 * another thread).
 *
 * out: zeroed on entry, filled on success; release with
 * brs_credentials_clear() before reusing it. On failure it is left zeroed.
 * NULL is BRS_EVALIDATION with param "out". valid_for_ms tells how long a
 * caller may keep a copy without calling again (see struct brs_credentials).
 */
int brs_credentials(brs_session session, struct brs_credentials *out, brs_error *err);

/*
 * Force a refresh now (joining one already in flight) and, when out is not
 * NULL, return the new credentials as brs_credentials() does (valid_for_ms
 * runs to the advisory window of the new credentials). The callback's
 * error is returned as is; the current credentials are kept.
 */
int brs_refresh(brs_session session, struct brs_credentials *out, brs_error *err);

/*
 * The identity the credentials belong to, as a JSON object in *json_out
 * (GetCallerIdentity for sts; {"method":"custom"} for custom). Free
 * *json_out with brs_free(). *json_out is NULL on failure; a NULL json_out
 * is BRS_EVALIDATION with param "json_out".
 */
int brs_whoami(brs_session session, char **json_out, brs_error *err);

/*
 * Close a session: stop background refresh, wait for a refresh in flight
 * to finish, release everything. After it returns the callback is never
 * called again and the handle answers BRS_ECLOSED. Returns BRS_OK, or
 * BRS_ECLOSED when the handle was already closed or unknown (harmless),
 * BRS_ERROR when called from the session's own callback (see brs_callback;
 * the session stays open), BRS_EFORKED in a forked child.
 */
int brs_close_session(brs_session session);

/*
 * Have renewed credentials pushed to fn after each successful refresh
 * (background refresh above all), so a caller that keeps a copy, as the
 * Python package does, need not ask again when its copy's valid_for_ms runs
 * out. Set it once, right after brs_new_session(); NULL removes it. A
 * listener replaced while a refresh completes may be called once more.
 * Returns BRS_OK, or BRS_ECLOSED; BRS_ERROR from the session's own callback
 * or listener (see brs_callback), BRS_EFORKED in a forked child.
 */
int brs_on_refresh(brs_session session, brs_refresh_fn fn, void *user_data);

/*
 * Set the answer of a callback. key is one of the names listed at
 * brs_callback ("access_key", "secret_key", "token", "expiry_time",
 * "token_code"), or "error"; any of them is accepted whatever the request,
 * and a key set twice keeps the last value. value is copied; as a C string
 * it ends at its first NUL. Returns BRS_OK, or BRS_EVALIDATION for an
 * unknown key, a NULL argument, or a value that is not valid UTF-8 (the
 * key is then left unset). Call it only during the callback: the result is
 * freed when the callback returns (a late call may answer BRS_ECLOSED, but
 * reading freed memory is undefined behaviour; do not rely on it).
 */
int brs_result_set(brs_result *result, const char *key, const char *value);

/*
 * Route the library's log lines (refresh failures, never secrets) to fn,
 * process-wide, for every session, open or future; every level is passed.
 * fn may be called from any thread, several at once. NULL silences
 * logging, which is the default. When brs_set_logger returns, the previous
 * fn is never called again (the call waits for a line being delivered to
 * it), so its user_data may be released; fn itself must therefore not
 * call brs_set_logger.
 */
void brs_set_logger(brs_log_fn fn, void *user_data);

/*
 * The channel: serve this process's sessions to its forked children (and
 * their children) over a private local socket; the parent's Go runtime
 * answers, so the whole process tree shares one refresh per session.
 *
 * brs_channel_open() creates the process's channel the first time and
 * returns the same one afterwards. dir is the directory of the socket;
 * NULL means $XDG_RUNTIME_DIR/gobrs, or /tmp/gobrs-<uid> when that is
 * unset. The directory is created with mode 0700 if missing and refused
 * (BRS_ECONFIGURATION) unless it is a directory owned by this user that no
 * one else may enter; sockets left there by processes that are gone
 * (killed, say) are removed first. On BRS_OK, *path_out is the socket's
 * path and *token_out the channel's secret token (64 hex digits), both
 * allocated by the library: release them with brs_free(), and hand the
 * token only to processes that may read every session of this process.
 * Both are set to NULL on failure. Returns BRS_OK, BRS_EVALIDATION for a
 * NULL path_out or token_out, BRS_ECONFIGURATION for an unusable dir,
 * BRS_EFORKED in a forked child.
 *
 * The protocol (core/credserver): connect to the socket (the server checks
 * with SO_PEERCRED that the peer runs as the same user), then write one
 * JSON object per line, {"token": "...", "op": "credentials", "session": N}
 * with op one of "credentials", "refresh", "whoami", "ping", and read
 * lines until one has no "wait" key: {"ok": true, "credentials": {...}}
 * (the fields of struct brs_credentials), {"ok": true, "identity": {...}},
 * or {"ok": false, "error": {"kind": "closed", "message": ...}}. A
 * {"wait": true} line comes every 500 ms while a refresh runs, so a reader
 * that hears nothing for two seconds knows the server stopped answering.
 * A handle closed with brs_close_session() answers kind "closed".
 *
 * brs_channel_close() stops serving and removes the socket; requests in
 * flight get no answer. Call it before the process exits (a killed
 * process leaves its socket, which the next brs_channel_open() of the same
 * user removes). Returns BRS_OK (also when no channel is open), or
 * BRS_EFORKED in a forked child.
 */
int brs_channel_open(const char *dir, char **path_out, char **token_out, brs_error *err);
int brs_channel_close(void);

/*
 * Host sessions for a process that cannot run Go: the other end of the
 * connected stream socket fd (a socketpair, say) is a process forked after
 * the Go runtime started in it. brs_host_serve() blocks, serving that
 * process until it closes its end (or exits, even killed): it creates and
 * closes sessions on its command, runs their callbacks (getter, source
 * credentials, MFA token) by asking it over fd, and serves the sessions on
 * a channel of its own in dir (as for brs_channel_open, NULL for the
 * default), whose path and token are the first line it writes to fd. The
 * Python package starts a fresh interpreter that calls it when a forked
 * child creates a session; the line protocol is core/credserver's
 * (host.go). fd is the library's from the call on: it is closed (and was
 * made non-blocking) when the call returns. Returns BRS_OK when
 * the other end closed, BRS_EVALIDATION when fd is not a socket,
 * BRS_ECONFIGURATION for an unusable dir, BRS_EFORKED in a forked child.
 */
int brs_host_serve(int fd, const char *dir);

/* Release a string the library returned (brs_whoami). NULL is a no-op. */
void brs_free(void *ptr);

/* Release the strings of *creds (secrets zeroed first) and zero it. */
void brs_credentials_clear(struct brs_credentials *creds);

/* Release the strings of *err and zero it. */
void brs_error_clear(brs_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BRS_H */
