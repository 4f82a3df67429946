/*
 * harness.h — a tiny test harness shared by the C tests of libbrs.
 *
 * Each tests/c/test_*.c file defines static test functions and a main()
 * that runs them with RUN(); CHECK* macros record failures and go on.
 * main() returns harness_exit(), non-zero when any check failed.
 *
 * It also holds a configurable credential getter (struct getter) that the
 * tests hand to brs_new_session(), and time helpers.
 */
#ifndef BRS_TEST_HARNESS_H
#define BRS_TEST_HARNESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brs.h"

static int harness_failures = 0;
static const char *harness_current = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            harness_failures++;                                                              \
            fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, harness_current,   \
                    #cond);                                                                  \
        }                                                                                    \
    } while (0)

#define CHECK_INT(got, want)                                                                 \
    do {                                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);                             \
        if (g_ != w_) {                                                                      \
            harness_failures++;                                                              \
            fprintf(stderr, "FAIL %s:%d [%s]: %s is %lld, want %lld\n", __FILE__, __LINE__, \
                    harness_current, #got, g_, w_);                                          \
        }                                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                                 \
    do {                                                                                     \
        const char *g_ = (got), *w_ = (want);                                                \
        if (g_ == NULL || strcmp(g_, w_) != 0) {                                             \
            harness_failures++;                                                              \
            fprintf(stderr, "FAIL %s:%d [%s]: %s is \"%s\", want \"%s\"\n", __FILE__,        \
                    __LINE__, harness_current, #got, g_ ? g_ : "(null)", w_);                \
        }                                                                                    \
    } while (0)

/* CHECK_CONTAINS: got is not NULL and contains want. */
#define CHECK_CONTAINS(got, want)                                                            \
    do {                                                                                     \
        const char *g_ = (got), *w_ = (want);                                                \
        if (g_ == NULL || strstr(g_, w_) == NULL) {                                          \
            harness_failures++;                                                              \
            fprintf(stderr, "FAIL %s:%d [%s]: %s is \"%s\", want it to contain \"%s\"\n",    \
                    __FILE__, __LINE__, harness_current, #got, g_ ? g_ : "(null)", w_);      \
        }                                                                                    \
    } while (0)

/* CHECK_STATUS: a call returned want; on a mismatch print the error. */
#define CHECK_STATUS(got, want, errp)                                                        \
    do {                                                                                     \
        int g_ = (got), w_ = (want);                                                         \
        if (g_ != w_) {                                                                      \
            harness_failures++;                                                              \
            const brs_error *e_ = (errp);                                                    \
            fprintf(stderr, "FAIL %s:%d [%s]: %s is %d, want %d (%s)\n", __FILE__, __LINE__, \
                    harness_current, #got, g_, w_,                                           \
                    e_ && e_->message ? e_->message : "no message");                         \
        }                                                                                    \
    } while (0)

#define RUN(fn)                                                                              \
    do {                                                                                     \
        harness_current = #fn;                                                               \
        int before_ = harness_failures;                                                      \
        fn();                                                                                \
        fprintf(stderr, "%s %s\n", harness_failures == before_ ? "ok  " : "FAIL", #fn);      \
    } while (0)

static inline int harness_exit(void) {
    if (harness_failures) fprintf(stderr, "%d check(s) failed\n", harness_failures);
    return harness_failures ? 1 : 0;
}

/* ---- time -------------------------------------------------------------- */

static inline void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static inline int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Format Unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static inline void iso8601_ms(int64_t ms, char buf[32]) {
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/*
 * Poll until *counter >= want, sleeping step_ms between looks, for at most
 * limit_ms (generous: the tests run under valgrind). Returns the last value.
 */
static inline int wait_for_count(atomic_int *counter, int want, long limit_ms) {
    for (long waited = 0; atomic_load(counter) < want && waited < limit_ms; waited += 50)
        sleep_ms(50);
    return atomic_load(counter);
}

/* ---- a configurable credential getter ---------------------------------- */

/* Every secret the getter hands out contains this marker, so a test can
 * assert that no error text or log line ever shows a secret. */
#define SECRET_MARKER "s3cr3t-DO-NOT-PRINT"

struct getter {
    int lifetime_ms;       /* expiry_time = now + lifetime_ms */
    int delay_ms;          /* sleep inside the callback */
    int fail;              /* non-zero: set "error" and return 1 */
    const char *error;     /* the "error" message when failing */
    atomic_int calls;      /* callbacks entered */
    atomic_int done;       /* callbacks returned */
    atomic_int in_flight;  /* callbacks running now */
    atomic_int overlaps;   /* entries that found another call running */
    atomic_int after_close;/* entries after *closed was set */
    atomic_int closed;     /* set by a test once brs_close_session returned */
    atomic_int set_errors; /* brs_result_set calls that did not return BRS_OK */
};

/* The access key of call n (1-based): "TESTAK" + 10 digits. */
static inline void getter_access_key(int n, char buf[32]) { snprintf(buf, 32, "TESTAK%010d", n); }

static inline int getter_cb(void *user_data, int request, brs_result *result) {
    struct getter *g = user_data;
    int n = atomic_fetch_add(&g->calls, 1) + 1;
    if (atomic_load(&g->closed)) atomic_fetch_add(&g->after_close, 1);
    if (atomic_fetch_add(&g->in_flight, 1) > 0) atomic_fetch_add(&g->overlaps, 1);
    int rc = 0;
    if (request != BRS_REQ_CREDENTIALS) {
        brs_result_set(result, "error", "unexpected request");
        rc = 1;
    } else {
        if (g->delay_ms > 0) sleep_ms(g->delay_ms);
        char ak[32], secret[64], token[64], expiry[32];
        getter_access_key(n, ak);
        snprintf(secret, sizeof secret, "%s-%d", SECRET_MARKER, n);
        snprintf(token, sizeof token, "token-%s-%d", SECRET_MARKER, n);
        iso8601_ms(now_ms() + g->lifetime_ms, expiry);
        int bad = 0;
        bad += brs_result_set(result, "access_key", ak) != BRS_OK;
        bad += brs_result_set(result, "secret_key", secret) != BRS_OK;
        bad += brs_result_set(result, "token", token) != BRS_OK;
        bad += brs_result_set(result, "expiry_time", expiry) != BRS_OK;
        if (bad) atomic_fetch_add(&g->set_errors, bad);
        if (g->fail) {
            brs_result_set(result, "error", g->error ? g->error : "getter failed");
            rc = 1;
        }
    }
    atomic_fetch_sub(&g->in_flight, 1);
    atomic_fetch_add(&g->done, 1);
    return rc;
}

/* Answer a credentials request: access key "TESTAK0000000001", the given
 * secret key and token, expiring lifetime_ms from now. */
static inline void set_creds(brs_result *result, const char *secret, const char *token, int64_t lifetime_ms) {
    char expiry[32];
    iso8601_ms(now_ms() + lifetime_ms, expiry);
    brs_result_set(result, "access_key", "TESTAK0000000001");
    brs_result_set(result, "secret_key", secret);
    brs_result_set(result, "token", token);
    brs_result_set(result, "expiry_time", expiry);
}

/* Open a custom session on g with the given extra JSON keys (may be ""). */
static inline int open_session(struct getter *g, const char *extra, brs_session *out, brs_error *err) {
    char config[512];
    snprintf(config, sizeof config, "{\"method\": \"custom\"%s%s}", extra[0] ? ", " : "", extra);
    return brs_new_session(config, getter_cb, g, out, err);
}

#endif /* BRS_TEST_HARNESS_H */
