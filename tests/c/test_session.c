/* Session lifecycle: open, read, whoami, refresh, close, handles. */
#include "harness.h"

static void test_version(void) {
    const char *v = brs_version();
    CHECK(v != NULL);
    if (v == NULL) return;
    CHECK(v[0] >= '0' && v[0] <= '9');
    CHECK(strchr(v, '.') != NULL);
    CHECK_STR(v, BRS_VERSION); /* the library's version is the header's */
}

static void test_read_credentials(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK(s != 0);
    CHECK_INT(atomic_load(&g.calls), 0); /* defer_refresh defaults to true */

    struct brs_credentials c = {0};
    int64_t before = now_ms();
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000001");
    CHECK_CONTAINS(c.secret_key, SECRET_MARKER);
    CHECK_CONTAINS(c.token, "token-");
    /* "2026-12-01T06:25:18Z", or with the sub-seconds the source gave:
     * "2026-12-01T06:25:18.123Z" */
    CHECK(c.expiry_time != NULL && strlen(c.expiry_time) >= 20 && c.expiry_time[19] != '\0' &&
          c.expiry_time[strlen(c.expiry_time) - 1] == 'Z' && c.expiry_time[10] == 'T');
    /* expiry_unix_ms is about an hour ahead, to the millisecond. */
    CHECK(c.expiry_unix_ms >= before + 3600 * 1000 - 1000);
    CHECK(c.expiry_unix_ms <= now_ms() + 3600 * 1000);
    /* Reusable until the advisory window (900 s before expiry) opens. */
    CHECK(c.valid_for_ms > 2600 * 1000 && c.valid_for_ms <= 2700 * 1000);
    CHECK_INT(err.status, 0);
    CHECK(err.message == NULL);

    /* A second read is served from the cache. */
    struct brs_credentials c2 = {0};
    CHECK_STATUS(brs_credentials(s, &c2, &err), BRS_OK, &err);
    CHECK_STR(c2.access_key, "TESTAK0000000001");
    CHECK_INT(atomic_load(&g.calls), 1);

    /* brs_refresh forces a fetch. */
    struct brs_credentials c3 = {0};
    CHECK_STATUS(brs_refresh(s, &c3, &err), BRS_OK, &err);
    CHECK_STR(c3.access_key, "TESTAK0000000002");
    CHECK(c3.valid_for_ms > 2600 * 1000);
    CHECK_INT(atomic_load(&g.calls), 2);
    CHECK_STATUS(brs_refresh(s, NULL, &err), BRS_OK, &err); /* out may be NULL */
    CHECK_INT(atomic_load(&g.calls), 3);
    CHECK_INT(atomic_load(&g.set_errors), 0);

    brs_credentials_clear(&c);
    CHECK(c.access_key == NULL && c.secret_key == NULL && c.expiry_unix_ms == 0);
    brs_credentials_clear(&c2);
    brs_credentials_clear(&c3);
    brs_credentials_clear(&c3); /* clearing twice is harmless */
    brs_credentials_clear(NULL);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_whoami(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    char *json = NULL;
    CHECK_STATUS(brs_whoami(s, &json, &err), BRS_OK, &err);
    CHECK_STR(json, "{\"method\":\"custom\"}");
    brs_free(json);
    brs_free(NULL);
    CHECK_STATUS(brs_whoami(s, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "json_out");
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* brs_warnings: "[]" when the config was taken as given; the string is
 * the caller's to free (valgrind checks); closed handles answer ECLOSED. */
static void test_warnings(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    for (int i = 0; i < 2; i++) { /* the same answer at every call */
        char *json = NULL;
        CHECK_STATUS(brs_warnings(s, &json, &err), BRS_OK, &err);
        CHECK_STR(json, "[]");
        brs_free(json);
    }
    CHECK_STATUS(brs_warnings(s, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "json_out");
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    char *after = (char *)"untouched";
    CHECK_STATUS(brs_warnings(s, &after, &err), BRS_ECLOSED, &err);
    CHECK(after == NULL);
    brs_error_clear(&err);
    CHECK_INT(atomic_load(&g.calls), 0);
}

static void test_closed_and_unknown_handles(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(brs_close_session(s), BRS_ECLOSED); /* closing twice is safe */

    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECLOSED, &err);
    CHECK_INT(err.status, BRS_ECLOSED);
    CHECK_CONTAINS(err.message, "closed");
    CHECK(c.access_key == NULL);
    brs_error_clear(&err);
    CHECK(err.message == NULL && err.status == 0);
    brs_error_clear(&err); /* clearing twice is harmless */
    brs_error_clear(NULL);

    CHECK_STATUS(brs_refresh(s, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
    char *json = NULL;
    CHECK_STATUS(brs_whoami(s, &json, &err), BRS_ECLOSED, &err);
    CHECK(json == NULL);
    brs_error_clear(&err);

    /* Handles never issued, including 0, answer BRS_ECLOSED too. */
    CHECK_STATUS(brs_credentials(0, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
    CHECK_STATUS(brs_credentials(UINT64_MAX, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(0), BRS_ECLOSED);
    CHECK_INT(brs_close_session(987654321), BRS_ECLOSED);
    /* err may be NULL. */
    CHECK_INT(brs_credentials(s, &c, NULL), BRS_ECLOSED);
    CHECK_INT(atomic_load(&g.calls), 0);
}

static void test_null_arguments(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session(NULL, getter_cb, &g, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "config_json");
    brs_error_clear(&err);
    CHECK_STATUS(brs_new_session("{}", getter_cb, &g, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "out");
    brs_error_clear(&err);

    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials(s, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "out");
    brs_error_clear(&err);
    CHECK_INT(brs_result_set(NULL, "access_key", "x"), BRS_EVALIDATION);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(atomic_load(&g.calls), 0);
}

int main(void) {
    RUN(test_version);
    RUN(test_read_credentials);
    RUN(test_whoami);
    RUN(test_warnings);
    RUN(test_closed_and_unknown_handles);
    RUN(test_null_arguments);
    return harness_exit();
}
