/* brs_set_logger: silent by default, routes refresh failures to the sink
 * without secrets, and NULL silences it again. */
#include <pthread.h>
#include <unistd.h>

#include "harness.h"

struct sink {
    pthread_mutex_t mu;
    int lines;
    int last_level;
    char last[1024];
};

static void sink_fn(void *user_data, int level, const char *message) {
    struct sink *k = user_data;
    pthread_mutex_lock(&k->mu);
    k->lines++;
    k->last_level = level;
    snprintf(k->last, sizeof k->last, "%s", message);
    pthread_mutex_unlock(&k->mu);
}

/* One read of a session whose getter fails: the refresh logs a warning. */
static void failing_read(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1, .error = "token revoked"};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials(s, &(struct brs_credentials){0}, &err), BRS_ECREDENTIAL, &err);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_silent_by_default(void) {
    /* Nothing reaches stderr (Go's default logger would write there). */
    fflush(stderr);
    char path[] = "/tmp/brs-test-stderr-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    failing_read();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    CHECK_INT(size, 0);
}

static void test_logger_receives_failures(void) {
    struct sink k = {.mu = PTHREAD_MUTEX_INITIALIZER};
    brs_set_logger(sink_fn, &k);
    failing_read();
    brs_set_logger(NULL, NULL);
    pthread_mutex_lock(&k.mu);
    CHECK(k.lines >= 1);
    CHECK_INT(k.last_level, 4); /* warn */
    CHECK_CONTAINS(k.last, "refresh failed");
    CHECK_CONTAINS(k.last, "token revoked");
    CHECK_CONTAINS(k.last, "kind=credential");
    CHECK(strstr(k.last, SECRET_MARKER) == NULL);
    int lines = k.lines;
    pthread_mutex_unlock(&k.mu);

    /* After brs_set_logger(NULL) returns, the sink is never called. */
    failing_read();
    pthread_mutex_lock(&k.mu);
    CHECK_INT(k.lines, lines);
    pthread_mutex_unlock(&k.mu);
}

int main(void) {
    RUN(test_silent_by_default);
    RUN(test_logger_receives_failures);
    return harness_exit();
}
