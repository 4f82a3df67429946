/* Leaks: opening, using and closing many sessions, failing ones included,
 * leaves memory and threads flat.
 *
 * Under valgrind (make test-c) the run is short and memcheck itself finds
 * any C allocation that is never freed. Outside valgrind (make test-c runs
 * this binary natively too) it opens 10,000 sessions and asserts that the
 * resident set size and the thread count, read from /proc/self/status after
 * a warm-up batch, stay within a bound. BRS_LEAK_SESSIONS overrides the
 * count. */
#include <valgrind/valgrind.h>

#include "harness.h"

/* RSS may move by this much without a leak (Go heap and allocator noise,
 * measured ~1 MB); 10,000 sessions never closed cost ~20 MB. */
#define RSS_SLACK_KB (8 * 1024)
/* Threads the Go runtime may add under load (it keeps idle ones). */
#define THREAD_SLACK 3

static long proc_status(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    long value = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, n) == 0 && line[n] == ':') {
            value = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

static atomic_int pushes;

static void count_push(void *user_data, const struct brs_credentials *creds) {
    (void)creds;
    atomic_fetch_add((atomic_int *)user_data, 1);
}

/* One session's life: open, read twice, whoami, a forced refresh, close;
 * every third with a refresh listener, every fourth with background
 * refresh, every seventh with a failing getter, every eleventh left to
 * fail at open with a bad config. */
static void one_session(int i) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = i % 7 == 0, .error = "scheduled failure"};
    brs_session s = 0;
    brs_error err = {0};
    if (i % 11 == 0) {
        CHECK_STATUS(open_session(&g, "\"advisory_timeout\": \"soon\"", &s, &err), BRS_EVALIDATION, &err);
        brs_error_clear(&err);
        return;
    }
    const char *extra = i % 4 == 0 ? "\"background_refresh\": true" : "";
    CHECK_STATUS(open_session(&g, extra, &s, &err), BRS_OK, &err);
    if (i % 3 == 0) CHECK_INT(brs_on_refresh(s, count_push, &pushes), BRS_OK);
    struct brs_credentials c = {0};
    int want = g.fail ? BRS_ECREDENTIAL : BRS_OK;
    for (int k = 0; k < 2; k++) {
        CHECK_STATUS(brs_credentials(s, &c, &err), want, &err);
        brs_credentials_clear(&c);
        brs_error_clear(&err);
    }
    char *json = NULL;
    CHECK_STATUS(brs_whoami(s, &json, &err), BRS_OK, &err);
    brs_free(json);
    CHECK_STATUS(brs_refresh(s, &c, &err), want, &err);
    brs_credentials_clear(&c);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    /* a closed handle answers without allocating anything it keeps */
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECLOSED, &err);
    brs_error_clear(&err);
}

static int sessions_to_run(void) {
    const char *env = getenv("BRS_LEAK_SESSIONS");
    if (env != NULL && atoi(env) > 0) return atoi(env);
    return RUNNING_ON_VALGRIND ? 1000 : 10000; /* ~15 s under valgrind */
}

static void test_many_sessions(void) {
    int n = sessions_to_run();
    int warmup = n / 10 > 0 ? n / 10 : 1;
    for (int i = 0; i < warmup; i++) one_session(i);
    long rss_before = proc_status("VmRSS"), threads_before = proc_status("Threads");
    CHECK(rss_before > 0 && threads_before > 0);
    for (int i = 0; i < n; i++) one_session(i);
    long rss_after = proc_status("VmRSS"), threads_after = proc_status("Threads");
    fprintf(stderr, "%d sessions: VmRSS %ld -> %ld kB, Threads %ld -> %ld%s\n", n, rss_before, rss_after,
            threads_before, threads_after, RUNNING_ON_VALGRIND ? " (valgrind: bounds not asserted)" : "");
    CHECK(atomic_load(&pushes) > 0);
    if (!RUNNING_ON_VALGRIND) {
        CHECK(rss_after - rss_before < RSS_SLACK_KB);
        CHECK(threads_after - threads_before <= THREAD_SLACK);
    }
}

int main(void) {
    RUN(test_many_sessions);
    return harness_exit();
}
