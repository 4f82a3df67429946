/* Promises of brs.h that once disagreed with the library: valid_for_ms
 * and the advisory window, NUL and control characters in error text, the
 * known keys of an unknown key, a closed handle before the other
 * arguments, a refused brs_result_set, the limits macros, brs_errstr and
 * NULL to the *_clear functions. */
#include "harness.h"

/* ---- valid_for_ms in the advisory window; nobody waits there ---------- */

/* A getter whose second and later calls wait for the test's go-ahead and
 * then fail. */
struct gated {
    atomic_int calls, released;
};

static int gated_cb(void *user_data, int request, brs_result *result) {
    struct gated *g = user_data;
    (void)request;
    if (atomic_fetch_add(&g->calls, 1) > 0) {
        while (!atomic_load(&g->released)) sleep_ms(5);
        brs_result_set(result, "error", "second fetch refused");
        return 1;
    }
    set_creds(result, "x", "t", 4000);
    return 0;
}

static void test_advisory_window(void) {
    /* 4 s credentials, advisory window 1 s (at 3 s), mandatory at expiry */
    struct gated g = {0};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{\"advisory_timeout\": 1, \"mandatory_timeout\": 0}", gated_cb, &g, &s, &err),
                 BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK(c.valid_for_ms > 2000 && c.valid_for_ms <= 3000);
    int64_t wait = c.valid_for_ms;
    brs_credentials_clear(&c);
    sleep_ms((long)wait + 20); /* the advisory window is open */

    /* The caller that starts the refresh gets the current credentials at
     * once, although the getter is blocked; valid_for_ms is short. */
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000001");
    CHECK(c.valid_for_ms > 0 && c.valid_for_ms <= BRS_PENDING_RECHECK_MS);
    brs_credentials_clear(&c);
    CHECK_INT(wait_for_count(&g.calls, 2, 60000), 2);
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err); /* still pending */
    CHECK(c.valid_for_ms > 0 && c.valid_for_ms <= BRS_PENDING_RECHECK_MS);
    brs_credentials_clear(&c);

    /* After the refresh failed: the current credentials, until the retry. */
    atomic_store(&g.released, 1);
    int64_t valid = 0;
    for (int i = 0; i < 2000 && valid <= BRS_PENDING_RECHECK_MS; i++) {
        /* pending reads say at most BRS_PENDING_RECHECK_MS; the failure
         * lands soon (it was released) */
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        valid = c.valid_for_ms;
        brs_credentials_clear(&c);
        if (valid <= BRS_PENDING_RECHECK_MS) sleep_ms(5);
    }
    CHECK(valid > BRS_PENDING_RECHECK_MS && valid <= BRS_RETRY_MS);
    CHECK_INT(atomic_load(&g.calls), 2);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* ---- error text ---------------------------------------------------------- */

static void test_nul_spelled_u0000_everywhere(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{\"bogus\\u0000\": 1}", getter_cb, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "bogus\\u0000");
    CHECK_CONTAINS(err.message, "\"bogus\\u0000\"");
    CHECK(strstr(err.message, "\\x00") == NULL);
    brs_error_clear(&err);
    CHECK_STATUS(brs_new_session("{\"method\": \"custom\\u0000\"}", getter_cb, NULL, &s, &err), BRS_EVALIDATION,
                 &err);
    CHECK_STR(err.value, "custom\\u0000");
    CHECK_CONTAINS(err.message, "\"custom\\u0000\"");
    CHECK(strstr(err.message, "\\x00") == NULL);
    brs_error_clear(&err);
}

static void test_unknown_key_lists_known_keys(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{\"bogus\": 1}", getter_cb, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "bogus");
    CHECK_CONTAINS(err.message,
                   "(known keys: advisory_timeout, background_refresh, defer_refresh, mandatory_timeout, method)");
    brs_error_clear(&err);
    CHECK_STATUS(brs_new_session("{\"method\": \"sts\", \"bogus\": 1}", NULL, NULL, &s, &err), BRS_EVALIDATION,
                 &err);
    CHECK_CONTAINS(err.message, "assume_role_kwargs");
    CHECK_CONTAINS(err.message, "defer_refresh");
    brs_error_clear(&err);
}

static void test_control_characters_escaped(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1,
                       .error = "line one\nline two\r\x1b[31mred\x1b[0m\tend\x7f"};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_CONTAINS(err.message, "line one\\u000aline two\\u000d\\u001b[31mred\\u001b[0m\\u0009end\\u007f");
    for (const char *p = err.message; p != NULL && *p; p++) CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* ---- a closed handle comes first -------------------------------------- */

static void test_closed_handle_before_null_out(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    brs_session handles[] = {s, 0, 4242, UINT64_MAX};
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
        CHECK_STATUS(brs_credentials(handles[i], NULL, &err), BRS_ECLOSED, &err);
        brs_error_clear(&err);
        CHECK_STATUS(brs_credentials_into(handles[i], NULL, 0, NULL, &err), BRS_ECLOSED, &err);
        brs_error_clear(&err);
        CHECK_STATUS(brs_refresh(handles[i], NULL, &err), BRS_ECLOSED, &err);
        brs_error_clear(&err);
        CHECK_STATUS(brs_whoami(handles[i], NULL, &err), BRS_ECLOSED, &err);
        CHECK_CONTAINS(err.message, "closed");
        brs_error_clear(&err);
    }
}

/* ---- a refused brs_result_set fails the answer ------------------------ */

static int careless_cb(void *user_data, int request, brs_result *result) {
    (void)user_data, (void)request;
    set_creds(result, "\xc3\x28 not UTF-8 " SECRET_MARKER, "t", 3600 * 1000); /* status ignored */
    return 0;
}

static void test_refused_value_fails_the_answer(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", careless_cb, NULL, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_STR(err.param, "secret_key");
    CHECK_CONTAINS(err.message, "refused");
    CHECK_CONTAINS(err.message, "not valid UTF-8");
    CHECK(strstr(err.message, "missing") == NULL);
    CHECK(strstr(err.message, SECRET_MARKER) == NULL);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* ---- the limits macros ------------------------------------------------- */

/* A getter whose token is token_len bytes, or whose error is error_len. */
struct sized {
    size_t token_len, error_len;
};

static int sized_cb(void *user_data, int request, brs_result *result) {
    struct sized *z = user_data;
    (void)request;
    char expiry[32];
    iso8601_ms(now_ms() + 3600 * 1000, expiry);
    size_t n = z->error_len ? z->error_len : z->token_len;
    char *text = malloc(n + 1);
    memset(text, z->error_len ? 'e' : 't', n);
    text[n] = '\0';
    brs_result_set(result, "access_key", "TESTAK0000000001");
    brs_result_set(result, "secret_key", "x");
    brs_result_set(result, "token", z->error_len ? "t" : text);
    brs_result_set(result, "expiry_time", expiry);
    if (z->error_len) brs_result_set(result, "error", text);
    free(text);
    return z->error_len ? 1 : 0;
}

static int read_sized(struct sized *z, brs_error *err) {
    brs_session s;
    int rc = brs_new_session("{}", sized_cb, z, &s, err);
    if (rc != BRS_OK) return rc;
    struct brs_credentials c = {0};
    rc = brs_credentials(s, &c, err);
    if (rc == BRS_OK && strlen(c.token) != z->token_len) rc = -1;
    brs_credentials_clear(&c);
    brs_close_session(s);
    return rc;
}

static void test_limits(void) {
    brs_session s;
    brs_error err = {0};
    /* config: exactly BRS_MAX_CONFIG_BYTES is read, one more is refused */
    char *config = malloc(BRS_MAX_CONFIG_BYTES + 2);
    memset(config, ' ', BRS_MAX_CONFIG_BYTES + 1);
    config[0] = '{', config[BRS_MAX_CONFIG_BYTES - 1] = '}', config[BRS_MAX_CONFIG_BYTES] = '\0';
    CHECK_STATUS(brs_new_session(config, getter_cb, NULL, &s, &err), BRS_OK, &err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    config[BRS_MAX_CONFIG_BYTES - 1] = ' ', config[BRS_MAX_CONFIG_BYTES] = '}', config[BRS_MAX_CONFIG_BYTES + 1] = '\0';
    CHECK_STATUS(brs_new_session(config, getter_cb, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "config");
    brs_error_clear(&err);
    free(config);

    /* timeouts */
    char buf[128];
    snprintf(buf, sizeof buf, "{\"advisory_timeout\": %d}", BRS_MAX_TIMEOUT_SECONDS);
    CHECK_STATUS(brs_new_session(buf, getter_cb, NULL, &s, &err), BRS_OK, &err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    snprintf(buf, sizeof buf, "{\"advisory_timeout\": %d.5}", BRS_MAX_TIMEOUT_SECONDS);
    CHECK_STATUS(brs_new_session(buf, getter_cb, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "advisory_timeout");
    brs_error_clear(&err);

    /* each credential string */
    struct sized z = {.token_len = BRS_MAX_VALUE_BYTES};
    CHECK_STATUS(read_sized(&z, &err), BRS_OK, &err);
    z.token_len++;
    CHECK_STATUS(read_sized(&z, &err), BRS_ECREDENTIAL, &err);
    CHECK_STR(err.param, "token");
    brs_error_clear(&err);

    /* a callback's error text: BRS_MAX_ERROR_TEXT bytes kept, then "..." */
    z = (struct sized){.error_len = BRS_MAX_ERROR_TEXT * 3};
    CHECK_STATUS(read_sized(&z, &err), BRS_ECREDENTIAL, &err);
    char *kept = malloc(BRS_MAX_ERROR_TEXT + 5);
    memset(kept, 'e', BRS_MAX_ERROR_TEXT);
    strcpy(kept + BRS_MAX_ERROR_TEXT, "...");
    CHECK_CONTAINS(err.message, kept);
    kept[BRS_MAX_ERROR_TEXT] = 'e', kept[BRS_MAX_ERROR_TEXT + 1] = '\0';
    CHECK(err.message != NULL && strstr(err.message, kept) == NULL);
    free(kept);
    brs_error_clear(&err);
}

/* ---- brs_errstr and NULL to the *_clear functions ----------------------- */

static void test_errstr_and_clear_null(void) {
    const char *seen[BRS_EFORKED + 1];
    for (int code = BRS_OK; code <= BRS_EFORKED; code++) {
        seen[code] = brs_errstr(code);
        CHECK(seen[code] != NULL && seen[code][0] != '\0');
        for (int j = 0; j < code; j++) CHECK(strcmp(seen[j], seen[code]) != 0);
        CHECK(brs_errstr(code) == seen[code]); /* static: same pointer each time */
    }
    CHECK_STR(brs_errstr(BRS_ECLOSED), "the session is closed or unknown");
    CHECK_STR(brs_errstr(-1), "unknown status code");
    CHECK_STR(brs_errstr(9999), "unknown status code");
    brs_error_clear(NULL);
    brs_credentials_clear(NULL);
    brs_error err = {0};
    struct brs_credentials c = {0};
    brs_error_clear(&err); /* zeroed: a no-op */
    brs_credentials_clear(&c);
    CHECK(err.message == NULL && c.access_key == NULL);
}

int main(void) {
    RUN(test_advisory_window);
    RUN(test_nul_spelled_u0000_everywhere);
    RUN(test_unknown_key_lists_known_keys);
    RUN(test_control_characters_escaped);
    RUN(test_closed_handle_before_null_out);
    RUN(test_refused_value_fails_the_answer);
    RUN(test_limits);
    RUN(test_errstr_and_clear_null);
    return harness_exit();
}
