/* Threads: concurrent readers during refreshes, and close while a callback
 * is in flight. */
#include <pthread.h>

#include "harness.h"

#define READERS 8

/* A reader reads until *stop is set or, with stop NULL, until it has seen
 * the session closed. */
struct reader {
    brs_session session;
    atomic_int *stop;
    int reads, errors, closed, bad_keys;
};

static void *reader_main(void *arg) {
    struct reader *r = arg;
    while (r->stop != NULL ? !atomic_load(r->stop) : r->closed == 0) {
        struct brs_credentials c = {0};
        brs_error err = {0};
        int rc = brs_credentials(r->session, &c, &err);
        if (rc == BRS_ECLOSED) {
            r->closed++;
            brs_error_clear(&err);
        } else if (rc != BRS_OK) {
            r->errors++;
            fprintf(stderr, "reader: %s\n", err.message);
            brs_error_clear(&err);
        } else if (c.access_key == NULL || strncmp(c.access_key, "TESTAK", 6) != 0 ||
                   c.secret_key == NULL || strstr(c.secret_key, SECRET_MARKER) == NULL) {
            r->bad_keys++;
        }
        r->reads++;
        brs_credentials_clear(&c);
        sleep_ms(2);
    }
    return NULL;
}

static void start_readers(pthread_t threads[READERS], struct reader readers[READERS], brs_session s,
                          atomic_int *stop) {
    for (int i = 0; i < READERS; i++) {
        readers[i] = (struct reader){.session = s, .stop = stop};
        CHECK_INT(pthread_create(&threads[i], NULL, reader_main, &readers[i]), 0);
    }
}

/* Join the readers; none saw an error or a wrong key. */
static void join_readers(pthread_t threads[READERS], struct reader readers[READERS]) {
    for (int i = 0; i < READERS; i++) {
        pthread_join(threads[i], NULL);
        CHECK_INT(readers[i].errors, 0);
        CHECK_INT(readers[i].bad_keys, 0);
    }
}

static void test_concurrent_readers(void) {
    /* 2.5 s credentials, windows scaled to 0.625 s / 0.31 s; the getter
     * takes 30 ms, long enough for readers to pile up behind it. */
    struct getter g = {.lifetime_ms = 2500, .delay_ms = 30};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "\"advisory_timeout\": 1, \"mandatory_timeout\": 0.5", &s, &err),
                 BRS_OK, &err);
    atomic_int stop = 0;
    pthread_t threads[READERS];
    struct reader readers[READERS];
    start_readers(threads, readers, s, &stop);
    /* Run until the getter has been called four times (three refreshes). */
    CHECK(wait_for_count(&g.done, 4, 60 * 1000) >= 4);
    atomic_store(&stop, 1);
    join_readers(threads, readers);
    int reads = 0;
    for (int i = 0; i < READERS; i++) {
        CHECK_INT(readers[i].closed, 0);
        CHECK(readers[i].reads > 0);
        reads += readers[i].reads;
    }
    CHECK(reads > atomic_load(&g.calls));
    CHECK_INT(atomic_load(&g.overlaps), 0); /* the getter never ran twice at once */
    CHECK_INT(atomic_load(&g.set_errors), 0);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

struct refresher {
    brs_session session;
    int status;
};

static void *refresher_main(void *arg) {
    struct refresher *r = arg;
    struct brs_credentials c = {0};
    r->status = brs_refresh(r->session, &c, NULL);
    brs_credentials_clear(&c);
    return NULL;
}

static void test_close_waits_for_callback(void) {
    /* Background refresh on, so a forgotten goroutine would call the
     * getter again after close; the getter takes 300 ms. */
    struct getter g = {.lifetime_ms = 1200, .delay_ms = 300};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g,
                              "\"advisory_timeout\": 1, \"mandatory_timeout\": 0.5, "
                              "\"defer_refresh\": false, \"background_refresh\": true",
                              &s, &err),
                 BRS_OK, &err);
    CHECK_INT(atomic_load(&g.done), 1);

    struct refresher r = {.session = s};
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, refresher_main, &r), 0);
    CHECK(wait_for_count(&g.calls, 2, 30 * 1000) >= 2); /* a callback is running */
    CHECK_INT(brs_close_session(s), BRS_OK);
    /* Close returned only after the callback did. */
    CHECK_INT(atomic_load(&g.in_flight), 0);
    CHECK_INT(atomic_load(&g.done), atomic_load(&g.calls));
    atomic_store(&g.closed, 1);
    int calls = atomic_load(&g.calls);
    pthread_join(t, NULL);
    CHECK(r.status == BRS_OK || r.status == BRS_ECLOSED);

    /* Well past the next background renewal: the getter stays quiet. */
    sleep_ms(1500);
    CHECK_INT(atomic_load(&g.calls), calls);
    CHECK_INT(atomic_load(&g.after_close), 0);
    CHECK_INT(brs_credentials(s, &(struct brs_credentials){0}, NULL), BRS_ECLOSED);
}

static void test_close_races_readers(void) {
    /* Readers racing a close get BRS_OK or BRS_ECLOSED, never a crash. */
    struct getter g = {.lifetime_ms = 1200, .delay_ms = 5};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "\"advisory_timeout\": 1, \"mandatory_timeout\": 0.5", &s, &err),
                 BRS_OK, &err);
    pthread_t threads[READERS];
    struct reader readers[READERS];
    start_readers(threads, readers, s, NULL); /* each reads until it sees the close */
    wait_for_count(&g.done, 1, 30 * 1000);
    sleep_ms(50); /* let the readers get going (not needed for the checks) */
    CHECK_INT(brs_close_session(s), BRS_OK);
    atomic_store(&g.closed, 1);
    join_readers(threads, readers);
    for (int i = 0; i < READERS; i++) CHECK(readers[i].closed > 0); /* every reader saw the close */
    CHECK_INT(atomic_load(&g.after_close), 0);
}

int main(void) {
    RUN(test_concurrent_readers);
    RUN(test_close_waits_for_callback);
    RUN(test_close_races_readers);
    return harness_exit();
}
