/* The credential callback: failures, bad values, brs_result_set, re-entry,
 * defer_refresh false. */
#include "harness.h"

static void test_failing_getter(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1,
                       .error = "identity service said: token revoked"};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_INT(err.status, BRS_ECREDENTIAL);
    CHECK_CONTAINS(err.message, "identity service said: token revoked");
    CHECK_STR(err.param, "custom_credentials_method");
    /* The getter had set a secret before failing: it is not in the error. */
    CHECK(err.message != NULL && strstr(err.message, SECRET_MARKER) == NULL);
    CHECK(err.value == NULL || strstr(err.value, SECRET_MARKER) == NULL);
    CHECK(c.access_key == NULL && c.secret_key == NULL);
    brs_error_clear(&err);

    /* The next read tries again, and succeeds once the getter does. */
    /* cppcheck-suppress unreadVariable ; the getter reads g through user_data */
    g.fail = 0;
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000002");
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* A callback that returns its status without setting anything. */
static int silent_failure(void *user_data, int request, brs_result *result) {
    (void)user_data, (void)request, (void)result;
    return 7;
}

static void test_failure_without_message(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", silent_failure, NULL, &s, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials(s, &(struct brs_credentials){0}, &err), BRS_ECREDENTIAL, &err);
    CHECK_CONTAINS(err.message, "returned 7");
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* A callback driven by a table of key/value pairs; it records what
 * brs_result_set answered for each. */
struct scripted {
    const char *kv[12]; /* key, value, key, value, ..., NULL */
    int rc[6];          /* brs_result_set's answers */
};

static int scripted_cb(void *user_data, int request, brs_result *result) {
    struct scripted *sc = user_data;
    (void)request;
    for (int i = 0; sc->kv[2 * i] != NULL; i++)
        sc->rc[i] = brs_result_set(result, sc->kv[2 * i], sc->kv[2 * i + 1]);
    return 0;
}

static char expiry_in_an_hour[32];

struct scripted_case {
    const char *name;
    struct scripted script;
    int set_status; /* what brs_result_set answered for the last pair */
    int status;     /* what brs_credentials returned */
    const char *param;
};

static void test_bad_credential_values(void) {
    const char *exp = expiry_in_an_hour;
    struct scripted_case cases[] = {
        {"missing token", {.kv = {"access_key", "TESTAK0000000001", "secret_key", "x", "expiry_time", exp}},
         BRS_OK, BRS_ECREDENTIAL, "token"},
        {"empty access_key",
         {.kv = {"secret_key", "x", "token", "t", "expiry_time", exp, "access_key", ""}},
         BRS_OK, BRS_ECREDENTIAL, "access_key"},
        {"line break in token",
         {.kv = {"access_key", "TESTAK0000000001", "secret_key", "x", "expiry_time", exp, "token",
           "tok\r\nen"}},
         BRS_OK, BRS_ECREDENTIAL, "token"},
        {"expiry not ISO 8601",
         {.kv = {"access_key", "TESTAK0000000001", "secret_key", "x", "token", "t", "expiry_time",
           "next tuesday"}},
         BRS_OK, BRS_ECREDENTIAL, "expiry_time"},
        {"already expired",
         {.kv = {"access_key", "TESTAK0000000001", "secret_key", "x", "token", "t", "expiry_time",
           "2001-01-01T00:00:00Z"}},
         BRS_OK, BRS_ECREDENTIAL, "expiry_time"},
        /* Invalid UTF-8 is refused by brs_result_set, and the answer
         * fails naming the key. */
        {"invalid UTF-8 secret",
         {.kv = {"access_key", "TESTAK0000000001", "token", "t", "expiry_time", exp, "secret_key",
           "\xff\xfe" SECRET_MARKER}},
         BRS_EVALIDATION, BRS_ECREDENTIAL, "secret_key"},
        /* A refused key fails the answer, naming the key. */
        {"unknown key",
         {.kv = {"access_key", "TESTAK0000000001", "secret_key", "x", "token", "t", "expiry_time", exp,
           "region", "eu-west-1"}},
         BRS_EVALIDATION, BRS_ECREDENTIAL, "region"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct scripted_case *tc = &cases[i];
        harness_current = tc->name;
        brs_session s;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session("{}", scripted_cb, &tc->script, &s, &err), BRS_OK, &err);
        struct brs_credentials c = {0};
        CHECK_STATUS(brs_credentials(s, &c, &err), tc->status, &err);
        int last = 0;
        while (tc->script.kv[2 * (last + 1)] != NULL) last++;
        CHECK_INT(tc->script.rc[last], tc->set_status);
        if (tc->param) CHECK_STR(err.param, tc->param);
        CHECK(err.message == NULL || strstr(err.message, SECRET_MARKER) == NULL);
        brs_error_clear(&err);
        brs_credentials_clear(&c);
        CHECK_INT(brs_close_session(s), BRS_OK);
    }
    harness_current = "test_bad_credential_values";
}

static void test_value_ends_at_nul(void) {
    /* A C string ends at its first NUL: "AB\0CD" is the value "AB". */
    struct scripted sc = {.kv = {"access_key", "TESTAK00\0IGNORED", "secret_key", "x", "token", "t",
                           "expiry_time", expiry_in_an_hour}};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", scripted_cb, &sc, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK00");
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* A callback that calls back into its own session. */
struct reentrant {
    brs_session session;
    int credentials_status, refresh_status, whoami_status, close_status;
    char *message;
};

static int reentrant_cb(void *user_data, int request, brs_result *result) {
    struct reentrant *r = user_data;
    (void)request;
    brs_error err = {0};
    struct brs_credentials c = {0};
    char *json = NULL;
    r->credentials_status = brs_credentials(r->session, &c, &err);
    r->message = err.message ? strdup(err.message) : NULL;
    brs_error_clear(&err);
    r->refresh_status = brs_refresh(r->session, &c, NULL);
    r->whoami_status = brs_whoami(r->session, &json, NULL);
    r->close_status = brs_close_session(r->session);
    set_creds(result, "x", "t", 3600 * 1000);
    return 0;
}

static void test_reentry_is_refused_not_deadlocked(void) {
    struct reentrant r = {0};
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", reentrant_cb, &r, &r.session, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(r.session, &c, &err), BRS_OK, &err);
    CHECK_INT(r.credentials_status, BRS_ERROR);
    CHECK_CONTAINS(r.message, "deadlock");
    CHECK_INT(r.refresh_status, BRS_ERROR);
    CHECK_INT(r.whoami_status, BRS_ERROR);
    CHECK_INT(r.close_status, BRS_ERROR);
    free(r.message);
    brs_credentials_clear(&c);
    /* The session is still open and works outside its callback. */
    char *json = NULL;
    CHECK_STATUS(brs_whoami(r.session, &json, &err), BRS_OK, &err);
    brs_free(json);
    CHECK_INT(brs_close_session(r.session), BRS_OK);
}

static void test_eager_first_fetch(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "\"defer_refresh\": false", &s, &err), BRS_OK, &err);
    CHECK_INT(atomic_load(&g.calls), 1); /* fetched inside brs_new_session */
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000001");
    CHECK_INT(atomic_load(&g.calls), 1);
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_eager_first_fetch_error(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1, .error = "no network yet"};
    brs_session s = 4242;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "\"defer_refresh\": false", &s, &err), BRS_ECREDENTIAL, &err);
    CHECK_CONTAINS(err.message, "no network yet");
    CHECK_STR(err.param, "custom_credentials_method");
    CHECK_INT(s, 4242); /* out untouched */
    CHECK_INT(atomic_load(&g.calls), 1);
    brs_error_clear(&err);
}

int main(void) {
    iso8601_ms(now_ms() + 3600 * 1000, expiry_in_an_hour);
    RUN(test_failing_getter);
    RUN(test_failure_without_message);
    RUN(test_bad_credential_values);
    RUN(test_value_ends_at_nul);
    RUN(test_reentry_is_refused_not_deadlocked);
    RUN(test_eager_first_fetch);
    RUN(test_eager_first_fetch_error);
    return harness_exit();
}
