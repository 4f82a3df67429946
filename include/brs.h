/*
 * brs.h — the C interface of gobrs (libbrs.so).
 *
 * gobrs keeps a set of temporary AWS credentials fresh: it fetches them from
 * a source (your own callback, STS AssumeRole, or the AWS IoT Core X.509
 * credentials endpoint), hands them out, and renews them as they near expiry
 * following botocore's contract:
 *
 *   - advisory window (default 900 s before expiry): the first caller
 *     starts a refresh, and every caller, that one included, keeps the
 *     current credentials without waiting for it; a failed advisory
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
 *   - A call on a closed (or never opened) handle returns BRS_ECLOSED,
 *     whatever its other arguments: the handle is checked first (after
 *     fork, see below). It never crashes. Closing twice is safe.
 *   - Error text (message, param, value) spells every control character as
 *     \u00XX: a NUL is \u0000, a newline \u000a, ESC \u001b, wherever it
 *     came from (a config key, a callback's "error", a service's answer).
 *     Text a message quotes from your input is in double quotes, escaped
 *     as JSON writes it.
 *   - No Go panic ever crosses into C: an internal failure is BRS_ERROR.
 *   - Secrets (secret keys, session tokens, MFA codes, private keys) never
 *     appear in error messages or log lines.
 *   - After fork(), a child may not use the library the parent loaded: the
 *     Go runtime does not survive fork. Every call in such a child returns
 *     BRS_EFORKED at once, without entering the Go runtime (brs_set_logger
 *     does nothing; brs_version, brs_errstr, brs_free and the *_clear functions,
 *     which need no runtime, still work). Create sessions after fork, or exec.
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

/*
 * BRS_API marks the functions the library exports. Define it before
 * including this header to override it (e.g. as empty).
 */
#ifndef BRS_API
#if defined(__GNUC__) || defined(__clang__)
#define BRS_API __attribute__((visibility("default")))
#else
#define BRS_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits ------------------------------------------------------------ */

#define BRS_MAX_CONFIG_BYTES    4194304  /* config_json, in bytes (4 MiB) */
#define BRS_MAX_VALUE_BYTES     65536    /* each credential string, in bytes */
#define BRS_MAX_TIMEOUT_SECONDS 10000000 /* advisory_timeout, mandatory_timeout */
#define BRS_MAX_ERROR_TEXT      1024     /* a callback's "error" text kept, in bytes
                                            (cut on a character boundary, "..." added) */
/* How long valid_for_ms lets a copy be kept in the advisory window while a
 * refresh runs, and after a failed advisory refresh (see brs_credentials). */
#define BRS_PENDING_RECHECK_MS  100
#define BRS_RETRY_MS            1000
/* A buffer of this size holds any usual set for brs_credentials_into
 * (STS session tokens are a few KiB at most). */
#define BRS_CREDENTIALS_BUFSIZE 8192

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

/* A running credentials server (brs_serve). 0 is never a valid handle. */
typedef uint64_t brs_server;

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
     * asking the library again. Callers that cache a copy use this:
     *   - before the advisory window: until it opens;
     *   - in the advisory window, while a refresh runs: at most
     *     BRS_PENDING_RECHECK_MS (the refresh's result is picked up soon);
     *   - after a failed advisory refresh: until the next attempt is due,
     *     at most BRS_RETRY_MS;
     *   - 0 when a refresh is due now (ask again at once).
     * It never runs past the mandatory window. */
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
 * contains the "error" text (its first BRS_MAX_ERROR_TEXT bytes). Values
 * set before a failure are discarded.
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
 * Re-entry: see "Calling the library from a callback" below.
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
 * session, never after brs_close_session() has returned.
 */
typedef void (*brs_refresh_fn)(void *user_data, const struct brs_credentials *creds);

/*
 * A log sink: level is -4 debug, 0 info, 4 warn, 8 error (Go slog levels);
 * message is "text key=value ..." (values with spaces are quoted), valid
 * only during the call. Example:
 *   gobrs: credential refresh failed kind=credential error="..."
 * A line about a session (a failed refresh) runs as that session's
 * callback; the sink may run on any thread, several at once.
 */
typedef void (*brs_log_fn)(void *user_data, int level, const char *message);

/*
 * Calling the library from a callback.
 *
 * A getter (brs_callback), a refresh listener (brs_refresh_fn) or a log
 * sink (brs_log_fn) running for session S may call any function of this
 * header. None of them deadlocks; each either works or returns BRS_ERROR at
 * once with a message that says why:
 *
 *   brs_credentials, brs_credentials_into on S
 *       work while S's credentials need no refresh (answered from the
 *       library's copy, without waiting); BRS_ERROR when a refresh is
 *       needed (it would wait for the callback that is running).
 *   brs_refresh, brs_whoami, brs_close_session on S
 *       BRS_ERROR (they wait for S's callbacks); S stays open.
 *   brs_credentials*, brs_refresh, brs_whoami, brs_close_session on
 *   another session T, and brs_new_session
 *       work, waiting for T as any caller would, unless T's own callbacks
 *       are at that moment waiting on S, directly or through other
 *       sessions: then BRS_ERROR (the library tracks who waits on whom).
 *   brs_on_refresh and brs_warnings on any session, brs_set_logger,
 *   brs_result_set (on the getter's own result), brs_version, brs_errstr,
 *   brs_free, *_clear
 *       always work; they never wait for a callback.
 *
 * A log line that belongs to no session (one about a config, say) runs
 * as no session's callback: every call works from its sink. What the
 * library cannot see is a wait of yours: a callback that hands a call on
 * its own session to another thread and waits for it does deadlock.
 */

/* ---- functions --------------------------------------------------------- */

/*
 * The library version, e.g. "0.1.0". Static storage: do not free.
 */
BRS_API const char *brs_version(void);

/*
 * A short static description of a status code ("the session is closed or
 * unknown" for BRS_ECLOSED, "unknown status code" for a code not listed
 * above). Static storage: do not free. Needs no session; works anywhere,
 * a forked child included.
 */
BRS_API const char *brs_errstr(int status);

/*
 * Open a session.
 *
 * config_json: a JSON object, copied during the call, at most
 * BRS_MAX_CONFIG_BYTES. Keys:
 *   "method"             "custom" (default), "sts" or "iot"
 *   "defer_refresh"      bool, default true: fetch at first use. When false
 *                        the first fetch happens here and its error is
 *                        returned.
 *   "advisory_timeout"   number of seconds, 0 to BRS_MAX_TIMEOUT_SECONDS,
 *                        default 900
 *   "mandatory_timeout"  number of seconds, 0 to BRS_MAX_TIMEOUT_SECONDS,
 *                        default 600; one over advisory_timeout is read as
 *                        botocore does: the refresh at the advisory window
 *                        is mandatory
 *   "background_refresh" bool, default false: renew ahead of the advisory
 *                        window from a library thread, so no caller waits.
 *   "refresh_timeout"    number of seconds > 0, or null (default): none.
 *                        A caller that waited this long for a refresh gets
 *                        BRS_ECREDENTIAL (in the advisory window: the
 *                        current credentials) while the refresh goes on
 *                        and is used once it lands; the way out of a
 *                        callback that never returns (one that waits for
 *                        a thread reading this same session, say).
 *   method "custom" with callback NULL: "credential_process", a command
 *     (a string, split as a POSIX shell would quote it but never run by
 *     one, or an array of strings) that prints credential_process JSON
 *     Version 1 ({"Version": 1, "AccessKeyId", "SecretAccessKey",
 *     "SessionToken", "Expiration"}) on its standard output; its standard
 *     error goes to the process's. It runs at each refresh, at most one
 *     minute (then killed with its process group); its output is read up
 *     to 64 KiB and never quoted in errors (BRS_ECREDENTIAL, param
 *     "credential_process"). With a callback it is BRS_ECONFIGURATION.
 *   method "sts": "assume_role_kwargs" (object, AssumeRole parameters in
 *     their AWS names: RoleArn, RoleSessionName, ...), "sts_client_kwargs"
 *     (object; with "botocore_config": true, options of a botocore Config
 *     in its "config" that the STS client does not honour are named by
 *     brs_warnings() instead of refused), "mfa_token_provider" (command:
 *     string or array of strings), "mfa_token_provider_kwargs" (object).
 *     See README.md.
 *   method "iot": "endpoint", "role_alias", "certificate", "private_key",
 *     "thing_name", "ca", "verify_peer", "timeout", "duration_seconds",
 *     "pkcs11". See README.md.
 *   Keys match exactly (case-sensitive) at every level; null means "not
 *   given" (except for background_refresh). Unknown keys and wrong types
 *   are BRS_EVALIDATION naming the key (err->param); the message of an
 *   unknown key lists the known ones. What the library does otherwise than
 *   asked (an IoT data endpoint rewritten) is told by brs_warnings(). A
 *   key given twice in one object is BRS_EVALIDATION naming it (JSON
 *   parsers differ on which one wins; the library picks none). NULL or bytes
 *   that are not UTF-8 are BRS_EVALIDATION with param "config_json"; an
 *   empty or whitespace-only string, malformed JSON, a value that is not an
 *   object, or more than BRS_MAX_CONFIG_BYTES, param "config". The string
 *   ends at its first NUL; a JSON "\u0000" escape is accepted by the parser
 *   but never matches a name.
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
BRS_API int brs_new_session(const char *config_json, brs_callback callback, void *user_data,
                            brs_session *out, brs_error *err);

/*
 * Current credentials, refreshed first when a window demands it.
 *
 * Before the advisory window opens this never enters the Go runtime: the
 * library keeps a copy of the current set in C, updated on each refresh,
 * and copies it out (one allocation; readers write nothing they share,
 * so threads do not contend). In the advisory window the first caller
 * starts a refresh and, like every caller meanwhile, returns the current
 * credentials at once; in the mandatory window (or before the first fetch) callers wait
 * for the refresh and get its error if it fails.
 *
 * out: zeroed on entry, filled on success; release with
 * brs_credentials_clear() before reusing it. On failure it is left zeroed.
 * NULL is BRS_EVALIDATION with param "out" (for an open handle).
 * valid_for_ms tells how long a caller may keep a copy without calling
 * again (see struct brs_credentials).
 */
BRS_API int brs_credentials(brs_session session, struct brs_credentials *out, brs_error *err);

/*
 * brs_credentials() without allocating: the four strings are written to
 * buf (buflen bytes; BRS_CREDENTIALS_BUFSIZE is enough for usual sets) and
 * out's pointers point into it. buf is yours: do NOT pass out to
 * brs_credentials_clear(); wipe buf (it holds the secret key and token)
 * when you are done with it, e.g. with explicit_bzero(). A buf too small
 * is BRS_EVALIDATION with param "buflen" and a message giving the size
 * needed; NULL buf or out, param "buf" or "out". Same windows, waits and
 * errors as brs_credentials().
 */
BRS_API int brs_credentials_into(brs_session session, char *buf, size_t buflen, struct brs_credentials *out,
                                 brs_error *err);

/*
 * Force a refresh now (joining one already in flight) and, when out is not
 * NULL, return the new credentials as brs_credentials() does (valid_for_ms
 * runs to the advisory window of the new credentials). The callback's
 * error is returned as is; the current credentials are kept.
 */
BRS_API int brs_refresh(brs_session session, struct brs_credentials *out, brs_error *err);

/*
 * The identity the credentials belong to, as a JSON object in *json_out
 * (GetCallerIdentity for sts; {"method":"custom"} for custom). Free
 * *json_out with brs_free(). *json_out is NULL on failure; a NULL json_out
 * is BRS_EVALIDATION with param "json_out" (for an open handle).
 */
BRS_API int brs_whoami(brs_session session, char **json_out, brs_error *err);

/*
 * What the session does otherwise than its config asked, decided when it
 * was opened (for instance an IoT data endpoint rewritten to the
 * credentials endpoint): a JSON array in *json_out, empty ("[]") when
 * nothing, of objects {"param": "...", "message": "..."} with, when a
 * value was used instead of the one given, "value": "...". Messages never
 * hold a secret; tell the user (Python raises each as a BRSWarning). The
 * answer is the same at every call, until the session is closed. Free
 * *json_out with brs_free(). *json_out is NULL on failure; a NULL json_out
 * is BRS_EVALIDATION with param "json_out" (for an open handle). Never
 * waits and never calls the callback.
 */
BRS_API int brs_warnings(brs_session session, char **json_out, brs_error *err);

/*
 * Close a session: stop background refresh, wait for a refresh in flight
 * (and its listener) to finish, release everything. From the moment it is
 * called the handle answers BRS_ECLOSED; after it returns the callback and
 * the listener are never called again. Returns BRS_OK, or BRS_ECLOSED when
 * the handle was already closed or unknown (harmless), BRS_ERROR when
 * called from the session's own callback (the session stays open; see
 * "Calling the library from a callback"), BRS_EFORKED in a forked child.
 */
BRS_API int brs_close_session(brs_session session);

/*
 * Have renewed credentials pushed to fn after each successful refresh
 * (background refresh above all), so a caller that keeps a copy, as the
 * Python package does, need not ask again when its copy's valid_for_ms runs
 * out. NULL removes it. It never enters Go and never waits, so it may be
 * called from anywhere, a callback included. A listener replaced while a
 * refresh completes may be called once more. Returns BRS_OK, or
 * BRS_ECLOSED, BRS_EFORKED in a forked child.
 */
BRS_API int brs_on_refresh(brs_session session, brs_refresh_fn fn, void *user_data);

/*
 * Set the answer of a callback. key is one of the names listed at
 * brs_callback ("access_key", "secret_key", "token", "expiry_time",
 * "token_code"), or "error"; any of them is accepted whatever the request,
 * and a key set twice keeps the last value. value is copied; as a C string
 * it ends at its first NUL. Returns BRS_OK, or BRS_EVALIDATION for an
 * unknown key, a NULL key or value, or a value that is not valid UTF-8
 * (the key is then left unset). A refused value also fails the callback's
 * answer: when the callback returns 0, the caller gets BRS_ECREDENTIAL with
 * err->param naming the key and a message saying why it was refused, so an
 * ignored status is not lost. Call it only during the callback: the result
 * is freed when the callback returns (a late call may answer BRS_ECLOSED,
 * but reading freed memory is undefined behaviour; do not rely on it).
 */
BRS_API int brs_result_set(brs_result *result, const char *key, const char *value);

/*
 * Route the library's log lines (refresh failures, never secrets) to fn,
 * process-wide, for every session, open or future; every level is passed.
 * fn may be called from any thread, several at once. NULL silences
 * logging, which is the default. When brs_set_logger returns, the previous
 * fn is never called again, and it waits for lines being delivered to it,
 * so that its user_data may be released, with two exceptions that would
 * otherwise deadlock: the line of the sink that calls brs_set_logger (a
 * sink may call it), and lines whose sink is itself inside a library call
 * that may wait (it is not called again either). It never enters Go.
 * Returns BRS_OK, or BRS_EFORKED in a forked child (where it does nothing).
 */
BRS_API int brs_set_logger(brs_log_fn fn, void *user_data);

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

/*
 * Serve a session to every process and AWS SDK of this host with the AWS
 * container-credentials protocol (what `gobrs serve` runs; docs/serve.md):
 * an HTTP server on a loopback address that answers
 *
 *   GET <path>   Authorization: <token>
 *   200 {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ...,
 *        "Expiration": "2026-12-01T06:25:18Z"}       (application/json)
 *
 * A process points its SDK at it with AWS_CONTAINER_CREDENTIALS_FULL_URI
 * (the "url" of brs_serve_info) and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 * (its "token_file"). Each request reads the session as brs_credentials()
 * does (same windows, single flight), so any number of clients cause one
 * refresh per refresh of the session. Other answers are JSON
 * {"code": ..., "message": ...}: 401 without a token, 403 with a wrong one
 * (no hint either way), 404 for another path, 405 for another method, 413
 * for a body, 429 over the request rate, 431 over the header field count,
 * 503 when no credentials can be had (a failed refresh in the mandatory
 * window, a closed session; the message says why, without a secret).
 *
 * session: an open session; the server reads it by handle, so closing the
 *   session makes the server answer 503 until brs_serve_stop().
 * options_json: NULL or a JSON object, copied during the call. Keys, all
 *   optional:
 *   "listen"                  "host:port", default "127.0.0.1:0" (port 0
 *                             picks a free one). host must be a loopback
 *                             address (127.0.0.0/8, "[::1]") or
 *                             "localhost"; anything else is
 *                             BRS_EVALIDATION with param "listen".
 *   "path"                    the one path served, default "/credentials"
 *   "token_file"              where the token (64 hex digits, 256 random
 *                             bits) is written: a new file, mode 0600,
 *                             renamed into place. Default: "token" in a new
 *                             private (0700) temporary directory.
 *   "env_file"                when set, receives the two lines
 *                             AWS_CONTAINER_CREDENTIALS_FULL_URI=<url> and
 *                             AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=<path>
 *                             (mode 0600, renamed into place) once the
 *                             server listens.
 *   "max_connections"         connections open at once, default 128 (more
 *                             wait to be accepted)
 *   "max_header_bytes"        default 8192; "max_headers" (fields), default 32
 *   "max_requests_per_second" all clients together, default 1000 (bursts
 *                             of twice as many pass); requests without
 *                             the token are paced apart, at the same rate
 *   "request_timeout"         seconds a request may wait for a refresh,
 *                             default 30 (then 503)
 *   "log_requests"            bool, default false: a debug log line per
 *                             request (status, refusal reason, client)
 *   Unknown keys and wrong types are BRS_EVALIDATION naming the key.
 * out: receives the server's handle on success; untouched on failure.
 *
 * The server runs on library threads until brs_serve_stop(). It logs
 * through brs_set_logger: a warning per failed lookup (5xx), a debug line
 * per request with "log_requests", never the token or a secret.
 *
 * Returns BRS_OK; BRS_ECLOSED for a closed session; BRS_EVALIDATION for bad
 * options or a NULL out; BRS_ECONFIGURATION when the address cannot be
 * bound or a file cannot be written (param "listen", "token_file" or
 * "env_file"); BRS_EFORKED in a forked child.
 */
BRS_API int brs_serve(brs_session session, const char *options_json, brs_server *out, brs_error *err);

/*
 * What a server is: a JSON object in *json_out, {"url": ..., "token_file":
 * ..., "address": "127.0.0.1:PORT", "served": N, "refused": N, "failed":
 * N} (the counts of 200 answers, of requests refused before a lookup, and
 * of 5xx answers). It holds no secret. Free *json_out with brs_free(); it
 * is NULL on failure. Returns BRS_OK, BRS_ECLOSED for a stopped or unknown
 * server, BRS_EVALIDATION for a NULL json_out, BRS_EFORKED in a forked
 * child.
 */
BRS_API int brs_serve_info(brs_server server, char **json_out, brs_error *err);

/*
 * Stop a server: it accepts no new connection, requests in flight get up
 * to two seconds to finish, then every connection is closed and the token
 * file (with the directory brs_serve made for it) and the env file are
 * removed. The session is left open. Call it before the process exits: a
 * killed process leaves its files behind. Returns BRS_OK, BRS_ECLOSED when
 * the server was already stopped or unknown (harmless), BRS_ERROR when a
 * file could not be removed, BRS_EFORKED in a forked child.
 */
BRS_API int brs_serve_stop(brs_server server);

/* Release a string the library returned (brs_whoami, brs_warnings, ...). NULL is a no-op. */
BRS_API void brs_free(void *ptr);

/*
 * Release the strings of *creds, filled by brs_credentials() or
 * brs_refresh() (secrets zeroed first), and zero it. NULL is a no-op, and
 * so is a zeroed struct. Never pass a struct filled by
 * brs_credentials_into() (its strings are in your buffer).
 */
BRS_API void brs_credentials_clear(struct brs_credentials *creds);

/* Release the strings of *err and zero it. NULL is a no-op, and so is a
 * zeroed struct. */
BRS_API void brs_error_clear(brs_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BRS_H */
