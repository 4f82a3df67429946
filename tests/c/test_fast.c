/* The read that never enters Go: brs_credentials() and
 * brs_credentials_into() answer fresh credentials from the library's copy,
 * which every refresh replaces, and readers never see a torn set while it
 * is replaced. */
#include <pthread.h>
#include <sched.h>

#include "harness.h"

static void test_copy_follows_refreshes(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    for (int i = 0; i < 100; i++) {
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        CHECK_STR(c.access_key, "TESTAK0000000001");
        CHECK_CONTAINS(c.secret_key, SECRET_MARKER "-1");
        CHECK(c.valid_for_ms > 0 && c.valid_for_ms <= 2700 * 1000);
        brs_credentials_clear(&c);
    }
    CHECK_INT(atomic_load(&g.calls), 1);
    /* A refresh's result is what the next read sees, on any thread. */
    for (int n = 2; n <= 5; n++) {
        CHECK_STATUS(brs_refresh(s, NULL, &err), BRS_OK, &err);
        char ak[32];
        getter_access_key(n, ak);
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        CHECK_STR(c.access_key, ak);
        brs_credentials_clear(&c);
    }
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
}

static void test_into_caller_buffer(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    char buf[BRS_CREDENTIALS_BUFSIZE];
    struct brs_credentials c;
    size_t expiry_len = 0; /* ISO 8601 UTC, with sub-seconds when the getter gave any */
    /* The first read goes through Go (no copy yet), the next from the copy. */
    for (int i = 0; i < 2; i++) {
        memset(&c, 0xAB, sizeof c);
        CHECK_STATUS(brs_credentials_into(s, buf, sizeof buf, &c, &err), BRS_OK, &err);
        CHECK(c.access_key == buf);
        CHECK_STR(c.access_key, "TESTAK0000000001");
        CHECK_CONTAINS(c.token, "token-" SECRET_MARKER);
        CHECK(c.expiry_time != NULL && strlen(c.expiry_time) >= 20);
        if (c.expiry_time != NULL) expiry_len = strlen(c.expiry_time);
        CHECK(c.expiry_unix_ms > now_ms());
        CHECK(c.valid_for_ms > 0);
        CHECK(c.expiry_time + strlen(c.expiry_time) < buf + sizeof buf);
    }
    explicit_bzero(buf, sizeof buf);
    /* too small: the size needed is in the message; out stays zeroed */
    size_t need = strlen("TESTAK0000000001") + 1 + strlen(SECRET_MARKER "-1") + 1 +
                  strlen("token-" SECRET_MARKER "-1") + 1 + expiry_len + 1;
    CHECK_STATUS(brs_credentials_into(s, buf, need - 1, &c, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "buflen");
    char want[64];
    snprintf(want, sizeof want, "take %zu bytes", need);
    CHECK_CONTAINS(err.message, want);
    CHECK(c.access_key == NULL);
    brs_error_clear(&err);
    CHECK_STATUS(brs_credentials_into(s, buf, need, &c, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials_into(s, NULL, 100, &c, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "buf");
    brs_error_clear(&err);
    CHECK_STATUS(brs_credentials_into(s, buf, sizeof buf, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "out");
    brs_error_clear(&err);
    CHECK_INT(atomic_load(&g.calls), 1);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_STATUS(brs_credentials_into(s, buf, sizeof buf, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
}

/* A set larger than the copy holds is served through Go, whole. */
static int big_cb(void *user_data, int request, brs_result *result) {
    (void)user_data, (void)request;
    static char token[20001];
    memset(token, 'T', sizeof token - 1);
    set_creds(result, "x", token, 3600 * 1000);
    return 0;
}

static void test_large_set(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", big_cb, NULL, &s, &err), BRS_OK, &err);
    for (int i = 0; i < 3; i++) {
        struct brs_credentials c = {0};
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        CHECK_INT(strlen(c.token), 20000);
        brs_credentials_clear(&c);
        char small[BRS_CREDENTIALS_BUFSIZE], *large = malloc(30000);
        CHECK_STATUS(brs_credentials_into(s, small, sizeof small, &c, &err), BRS_EVALIDATION, &err);
        brs_error_clear(&err);
        CHECK_STATUS(brs_credentials_into(s, large, 30000, &c, &err), BRS_OK, &err);
        CHECK_INT(strlen(c.token), 20000);
        free(large);
    }
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* Readers on several threads while another thread refreshes without a
 * pause: every set read is whole (its four strings from one fetch). */
struct torn {
    brs_session s;
    atomic_int stop, reads, torn, failed;
};

static int consistent(const struct brs_credentials *c) {
    /* access key "TESTAK" + n, secret SECRET_MARKER "-" n, token "token-" ... "-" n */
    int n = atoi(c->access_key + 6);
    char want[64];
    snprintf(want, sizeof want, "%s-%d", SECRET_MARKER, n);
    if (strcmp(c->secret_key, want) != 0) return 0;
    snprintf(want, sizeof want, "token-%s-%d", SECRET_MARKER, n);
    return strcmp(c->token, want) == 0;
}

static void *torn_reader(void *arg) {
    struct torn *t = arg;
    char buf[BRS_CREDENTIALS_BUFSIZE];
    for (int i = 0; !atomic_load(&t->stop) || i < 10; i++) {
        struct brs_credentials c = {0};
        int rc = i % 2 ? brs_credentials(t->s, &c, NULL) : brs_credentials_into(t->s, buf, sizeof buf, &c, NULL);
        if (rc != BRS_OK) {
            atomic_fetch_add(&t->failed, 1);
            continue;
        }
        if (!consistent(&c)) atomic_fetch_add(&t->torn, 1);
        if (i % 2) brs_credentials_clear(&c);
        atomic_fetch_add(&t->reads, 1);
        sched_yield(); /* under valgrind (one thread at a time) the refresher needs its turns */
    }
    return NULL;
}

static void test_no_torn_reads(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    struct torn t = {0};
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &t.s, &err), BRS_OK, &err);
    CHECK_STATUS(brs_refresh(t.s, NULL, &err), BRS_OK, &err);
    pthread_t readers[4];
    for (int i = 0; i < 4; i++) pthread_create(&readers[i], NULL, torn_reader, &t);
    for (int i = 0; i < 60; i++) CHECK_STATUS(brs_refresh(t.s, NULL, &err), BRS_OK, &err);
    atomic_store(&t.stop, 1);
    for (int i = 0; i < 4; i++) pthread_join(readers[i], NULL);
    CHECK_INT(atomic_load(&t.torn), 0);
    CHECK_INT(atomic_load(&t.failed), 0);
    CHECK(atomic_load(&t.reads) >= 40);
    CHECK_INT(brs_close_session(t.s), BRS_OK);
}

/* Handles of closed sessions stay closed when their slots are reused. */
static void test_stale_handles(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session old, s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &old, &err), BRS_OK, &err);
    CHECK_INT(brs_close_session(old), BRS_OK);
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK(s != old);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    brs_credentials_clear(&c);
    CHECK_STATUS(brs_credentials(old, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(old), BRS_ECLOSED);
    CHECK_INT(brs_on_refresh(old, NULL, NULL), BRS_ECLOSED);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

int main(void) {
    RUN(test_copy_follows_refreshes);
    RUN(test_into_caller_buffer);
    RUN(test_large_set);
    RUN(test_no_torn_reads);
    RUN(test_stale_handles);
    return harness_exit();
}
