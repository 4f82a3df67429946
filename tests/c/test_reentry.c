/* Calls into the library from its own callbacks — a getter, a refresh
 * listener, a log sink — on their own session and on another: each works or
 * returns BRS_ERROR at once, never hangs ("Calling the library from a
 * callback" in brs.h). A hang is caught by the test-c timeout. */
#include <pthread.h>

#include "harness.h"

enum call { CALL_CREDENTIALS, CALL_INTO, CALL_REFRESH, CALL_WHOAMI, CALL_CLOSE, CALL_SET_LOGGER, CALL_ON_REFRESH, NCALLS };
static const char *call_names[NCALLS] = {"credentials", "credentials_into", "refresh", "whoami",
                                         "close_session", "set_logger", "on_refresh"};

enum kind { GETTER, LISTENER, SINK, NKINDS };
static const char *kind_names[NKINDS] = {"getter", "listener", "log sink"};

/* What a callback does once, and what came of it. */
struct actor {
    int call;
    brs_session target;
    int status;
    char message[512];
    atomic_int done;
};

static void sink_fn(void *user_data, int level, const char *message);

static void act(struct actor *a) {
    if (atomic_load(&a->done)) return;
    brs_error err = {0};
    struct brs_credentials c = {0};
    char buf[BRS_CREDENTIALS_BUFSIZE];
    char *json = NULL;
    switch (a->call) {
    case CALL_CREDENTIALS:
        a->status = brs_credentials(a->target, &c, &err);
        brs_credentials_clear(&c);
        break;
    case CALL_INTO:
        a->status = brs_credentials_into(a->target, buf, sizeof buf, &c, &err);
        break;
    case CALL_REFRESH:
        a->status = brs_refresh(a->target, &c, &err);
        brs_credentials_clear(&c);
        break;
    case CALL_WHOAMI:
        a->status = brs_whoami(a->target, &json, &err);
        brs_free(json);
        break;
    case CALL_CLOSE:
        a->status = brs_close_session(a->target);
        break;
    case CALL_SET_LOGGER:
        /* the sink re-installs itself; others leave logging off */
        a->status = brs_set_logger(a->call == CALL_SET_LOGGER && a->target == 0 ? NULL : sink_fn, a);
        break;
    case CALL_ON_REFRESH:
        a->status = brs_on_refresh(a->target, NULL, NULL);
        break;
    }
    snprintf(a->message, sizeof a->message, "%s", err.message ? err.message : "");
    brs_error_clear(&err);
    atomic_store(&a->done, 1);
}

static int actor_getter(void *user_data, int request, brs_result *result) {
    (void)request;
    act(user_data);
    set_creds(result, "x", "t", 3600 * 1000);
    return 0;
}

static void actor_listener(void *user_data, const struct brs_credentials *creds) {
    (void)creds;
    act(user_data);
}

static void sink_fn(void *user_data, int level, const char *message) {
    (void)level;
    if (strstr(message, "credential refresh failed") != NULL) act(user_data);
}

/* The status a call from a callback of kind on its own session returns:
 * what need not wait works, the rest is refused. A listener runs after its
 * refresh, so the copy is fresh; a getter's or sink's session has none. */
static int want_own(int kind, int call) {
    switch (call) {
    case CALL_CREDENTIALS:
    case CALL_INTO: return kind == LISTENER ? BRS_OK : BRS_ERROR;
    case CALL_SET_LOGGER:
    case CALL_ON_REFRESH: return BRS_OK;
    default: return BRS_ERROR;
    }
}

/* Run one callback of kind on a session S, doing call on S (own) or on a
 * fresh session T. */
static void run_case(int kind, int call, int own) {
    char name[128];
    snprintf(name, sizeof name, "%s -> %s on %s session", kind_names[kind], call_names[call],
             own ? "its own" : "another");
    harness_current = name;
    struct getter tg = {.lifetime_ms = 3600 * 1000};
    struct getter failing = {.lifetime_ms = 3600 * 1000, .fail = 1, .error = "getter down"};
    struct actor a = {.call = call};
    brs_session s = 0, t = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&tg, "", &t, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(t, &c, &err), BRS_OK, &err); /* T is fresh */
    brs_credentials_clear(&c);
    switch (kind) {
    case GETTER:
        CHECK_STATUS(brs_new_session("{}", actor_getter, &a, &s, &err), BRS_OK, &err);
        break;
    case LISTENER:
        CHECK_STATUS(open_session(&tg, "", &s, &err), BRS_OK, &err);
        CHECK_INT(brs_on_refresh(s, actor_listener, &a), BRS_OK);
        break;
    case SINK:
        CHECK_STATUS(open_session(&failing, "", &s, &err), BRS_OK, &err);
        CHECK_INT(brs_set_logger(sink_fn, &a), BRS_OK);
        break;
    }
    a.target = own ? s : t;
    if (call == CALL_SET_LOGGER) a.target = kind == SINK ? 1 : 0;
    int rc = kind == LISTENER ? brs_refresh(s, NULL, &err) : brs_credentials(s, &c, &err);
    CHECK_INT(rc, kind == SINK ? BRS_ECREDENTIAL : BRS_OK);
    brs_credentials_clear(&c);
    brs_error_clear(&err);
    CHECK_INT(wait_for_count(&a.done, 1, 60000), 1);
    int want = own && call != CALL_SET_LOGGER ? want_own(kind, call) : BRS_OK;
    CHECK_INT(a.status, want);
    if (a.status == BRS_ERROR && call != CALL_CLOSE) CHECK_CONTAINS(a.message, "deadlock");
    if (kind == SINK) brs_set_logger(NULL, NULL);
    /* Whatever the callback did, the sessions still work (or were closed
     * by it, which is fine) and close without hanging. */
    int closed_s = call == CALL_CLOSE && own && a.status == BRS_OK;
    int closed_t = call == CALL_CLOSE && !own && a.status == BRS_OK;
    if (!closed_s && kind != SINK) {
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        brs_credentials_clear(&c);
        brs_error_clear(&err);
    }
    CHECK_INT(brs_close_session(s), closed_s ? BRS_ECLOSED : BRS_OK);
    CHECK_INT(brs_close_session(t), closed_t ? BRS_ECLOSED : BRS_OK);
}

static void test_every_callback_every_call(void) {
    for (int kind = 0; kind < NKINDS; kind++)
        for (int call = 0; call < NCALLS; call++)
            for (int own = 0; own <= 1; own++) run_case(kind, call, own);
    harness_current = "test_every_callback_every_call";
}

/* The reproducer of the report: a log sink closes the session whose
 * failure it is logging, while a thread waits in brs_credentials. */
static brs_session sink_session;
static atomic_int sink_close_status = -1;

static void closing_sink(void *user_data, int level, const char *message) {
    (void)user_data, (void)level;
    if (strstr(message, "credential refresh failed") != NULL)
        atomic_store(&sink_close_status, brs_close_session(sink_session));
}

static void test_sink_closing_its_session(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1, .error = "getter down"};
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &sink_session, &err), BRS_OK, &err);
    CHECK_INT(brs_set_logger(closing_sink, NULL), BRS_OK);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(sink_session, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_CONTAINS(err.message, "getter down");
    brs_error_clear(&err);
    CHECK_INT(atomic_load(&sink_close_status), BRS_ERROR);
    CHECK_INT(brs_set_logger(NULL, NULL), BRS_OK);
    CHECK_INT(brs_close_session(sink_session), BRS_OK);
}

/* Two sessions whose getters call each other: A's getter refreshes B, whose
 * getter refreshes A. The second call would close a cycle and is refused. */
struct crossed {
    brs_session other;
    int status;
    char message[512];
    atomic_int calls;
};

static int crossed_getter(void *user_data, int request, brs_result *result) {
    struct crossed *x = user_data;
    (void)request;
    if (atomic_fetch_add(&x->calls, 1) == 0) {
        brs_error err = {0};
        x->status = brs_refresh(x->other, NULL, &err);
        snprintf(x->message, sizeof x->message, "%s", err.message ? err.message : "");
        brs_error_clear(&err);
    }
    set_creds(result, "x", "t", 3600 * 1000);
    return 0;
}

static void test_cycle_between_sessions_is_refused(void) {
    struct crossed xa = {0}, xb = {0};
    brs_session a, b;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", crossed_getter, &xa, &a, &err), BRS_OK, &err);
    CHECK_STATUS(brs_new_session("{}", crossed_getter, &xb, &b, &err), BRS_OK, &err);
    xa.other = b, xb.other = a;
    CHECK_STATUS(brs_refresh(a, NULL, &err), BRS_OK, &err);
    /* A's getter waited on B; B's getter, asked to wait on A, was refused. */
    CHECK_INT(xa.status, BRS_OK);
    CHECK_INT(xb.status, BRS_ERROR);
    CHECK_CONTAINS(xb.message, "deadlock");
    CHECK_INT(brs_close_session(a), BRS_OK);
    CHECK_INT(brs_close_session(b), BRS_OK);
}

/* A sink that replaces the sink, on two threads at once: neither waits
 * for the other forever. */
static atomic_int swaps = 0;

static void swapping_sink(void *user_data, int level, const char *message) {
    (void)level, (void)message;
    if (brs_set_logger(swapping_sink, user_data) == BRS_OK) atomic_fetch_add(&swaps, 1);
}

static void *failing_reader(void *arg) {
    struct brs_credentials c = {0};
    brs_credentials(*(brs_session *)arg, &c, NULL);
    return NULL;
}

static void test_sinks_replacing_the_sink(void) {
    struct getter g1 = {.lifetime_ms = 3600 * 1000, .fail = 1, .delay_ms = 20};
    struct getter g2 = {.lifetime_ms = 3600 * 1000, .fail = 1, .delay_ms = 20};
    brs_session s1, s2;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g1, "", &s1, &err), BRS_OK, &err);
    CHECK_STATUS(open_session(&g2, "", &s2, &err), BRS_OK, &err);
    CHECK_INT(brs_set_logger(swapping_sink, NULL), BRS_OK);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, failing_reader, &s1);
    pthread_create(&t2, NULL, failing_reader, &s2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(atomic_load(&swaps) >= 2);
    CHECK_INT(brs_set_logger(NULL, NULL), BRS_OK);
    CHECK_INT(brs_close_session(s1), BRS_OK);
    CHECK_INT(brs_close_session(s2), BRS_OK);
}

int main(void) {
    RUN(test_every_callback_every_call);
    RUN(test_sink_closing_its_session);
    RUN(test_cycle_between_sessions_is_refused);
    RUN(test_sinks_replacing_the_sink);
    return harness_exit();
}
