/* Refresh across real time with short-lived credentials. Each test sleeps
 * a few seconds at most (polling, so a slow run under valgrind waits
 * longer instead of failing). */
#include "harness.h"

/* Credentials living 2 s with advisory 1 s / mandatory 0.5 s: the windows
 * shrink to a quarter of the lifetime (0.5 s / 0.25 s), so the advisory
 * window opens 1.5 s after each fetch. */
#define SHORT_LIVED "\"advisory_timeout\": 1, \"mandatory_timeout\": 0.5"

static void test_short_lived_refreshes(void) {
    struct getter g = {.lifetime_ms = 2000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, SHORT_LIVED, &s, &err), BRS_OK, &err);

    char last_key[32] = "";
    int distinct = 0, reads = 0, failures = 0;
    int64_t deadline = now_ms() + 60 * 1000;
    /* Until the third key is handed out: an advisory refresh is started by
     * a read that does not wait for it, so a later read picks it up. */
    while (distinct < 3 && now_ms() < deadline) {
        struct brs_credentials c = {0};
        int rc = brs_credentials(s, &c, &err);
        reads++;
        if (rc != BRS_OK) {
            failures++;
            fprintf(stderr, "read failed: %s\n", err.message);
            brs_error_clear(&err);
            continue;
        }
        if (strcmp(c.access_key, last_key) != 0) {
            distinct++;
            snprintf(last_key, sizeof last_key, "%s", c.access_key);
        }
        /* What a caller may cache never outlives the advisory window. */
        CHECK(c.valid_for_ms >= 0 && c.valid_for_ms <= 1500);
        CHECK(c.expiry_unix_ms > now_ms() - 100);
        brs_credentials_clear(&c);
        sleep_ms(100);
    }
    CHECK_INT(failures, 0);
    CHECK(atomic_load(&g.calls) >= 3); /* refreshed at least twice */
    CHECK(distinct >= 3);              /* and the new keys were handed out */
    CHECK(reads > atomic_load(&g.calls)); /* most reads came from the cache */
    char want[32];
    getter_access_key(atomic_load(&g.calls), want);
    CHECK_STR(last_key, want);
    CHECK_INT(atomic_load(&g.overlaps), 0);
    CHECK_INT(atomic_load(&g.set_errors), 0);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_background_refresh(void) {
    struct getter g = {.lifetime_ms = 2000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g,
                              SHORT_LIVED ", \"defer_refresh\": false, \"background_refresh\": true",
                              &s, &err),
                 BRS_OK, &err);
    CHECK_INT(atomic_load(&g.calls), 1);
    /* Nobody reads: the library renews on its own before the advisory
     * window (1.5 s after the first fetch). */
    CHECK(wait_for_count(&g.done, 2, 30 * 1000) >= 2);
    int calls = atomic_load(&g.calls);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    /* The read found the renewed credentials ready: it did not fetch. */
    CHECK(calls >= 2);
    CHECK(c.access_key != NULL && strcmp(c.access_key, "TESTAK0000000001") != 0);
    CHECK(atomic_load(&g.calls) == calls || atomic_load(&g.calls) == calls + 1);
    brs_credentials_clear(&c);
    CHECK_INT(atomic_load(&g.overlaps), 0);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_background_refresh_off_by_default(void) {
    struct getter g = {.lifetime_ms = 2000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, SHORT_LIVED ", \"defer_refresh\": false", &s, &err), BRS_OK,
                 &err);
    sleep_ms(2500); /* past expiry: without readers nothing is fetched */
    CHECK_INT(atomic_load(&g.calls), 1);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK_STR(c.access_key, "TESTAK0000000002"); /* the reader fetched */
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* What a refresh listener saw. */
struct pushed {
    atomic_int calls;
    atomic_int after_close; /* calls once `closed` was set */
    atomic_int closed;
    char last_key[32];
    int64_t last_valid_for_ms;
};

static void on_refresh(void *user_data, const struct brs_credentials *c) {
    struct pushed *p = user_data;
    if (atomic_load(&p->closed)) atomic_fetch_add(&p->after_close, 1);
    snprintf(p->last_key, sizeof p->last_key, "%s", c->access_key);
    p->last_valid_for_ms = c->valid_for_ms;
    atomic_fetch_add(&p->calls, 1);
}

static void test_refresh_listener(void) {
    struct getter g = {.lifetime_ms = 2000};
    struct pushed p = {0};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, SHORT_LIVED ", \"background_refresh\": true", &s, &err), BRS_OK,
                 &err);
    CHECK_INT(brs_on_refresh(s, on_refresh, &p), BRS_OK);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err); /* first fetch, by this reader */
    brs_credentials_clear(&c);
    /* Background refreshes are pushed with no reader asking. */
    int64_t deadline = now_ms() + 60 * 1000;
    while (atomic_load(&p.calls) < 3 && now_ms() < deadline) sleep_ms(50);
    CHECK(atomic_load(&p.calls) >= 3);
    atomic_store(&p.closed, 1); /* may race one last push; counted below only after close */
    atomic_store(&p.after_close, 0);
    CHECK_INT(brs_close_session(s), BRS_OK);
    int seen = atomic_load(&p.after_close);
    char want[32];
    getter_access_key(atomic_load(&g.calls), want);
    CHECK_STR(p.last_key, want); /* the listener saw the latest set */
    CHECK(p.last_valid_for_ms > 0 && p.last_valid_for_ms <= 1500);
    sleep_ms(300);
    CHECK_INT(atomic_load(&p.after_close), seen); /* nothing once close returned */
    CHECK_INT(brs_on_refresh(s, on_refresh, &p), BRS_ECLOSED);
}

int main(void) {
    RUN(test_short_lived_refreshes);
    RUN(test_background_refresh);
    RUN(test_background_refresh_off_by_default);
    RUN(test_refresh_listener);
    return harness_exit();
}
