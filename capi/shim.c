/*
 * shim.c — the public C entry points of libbrs.so.
 *
 * Each function of include/brs.h is a C function here. Before anything
 * enters Go it
 *
 *   - answers BRS_EFORKED in a forked child, without touching the Go
 *     runtime (which does not survive fork and hangs as soon as it needs a
 *     goroutine, timer or network call);
 *   - answers BRS_ECLOSED for a handle that is not open (the handle table
 *     below is the authority);
 *   - refuses a call that would wait on the thread making it: a call from
 *     a session's own callback (getter, listener or log sink) that needs
 *     Go, and a call from one session's callback into another whose
 *     callbacks already wait on the first (the wait-for graph below).
 *
 * It also keeps, per session, a copy of the current credentials that Go
 * publishes on every refresh; brs_credentials() and brs_credentials_into()
 * copy it out under a seqlock without entering Go until the advisory window
 * opens. The log sink (brs_set_logger) lives here as well, so that a sink
 * may call the library, brs_set_logger included.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim.h"
#include "_cgo_export.h"


/* Set in a child process created by fork() after the library was loaded. */
static volatile sig_atomic_t brs_forked = 0;

static void brs_atfork_child(void) { brs_forked = 1; }

__attribute__((constructor)) static void brs_shim_init(void) {
    pthread_atfork(NULL, NULL, brs_atfork_child);
}

/* Fill err (if any, already zeroed) with status, param and a message; no
 * Go. */
__attribute__((format(printf, 4, 5))) static int brs_fail(brs_error *err, int status, const char *param, const char *fmt, ...) {
    if (err != NULL) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        err->status = status;
        err->message = strdup(buf);
        err->param = param != NULL ? strdup(param) : NULL;
    }
    return status;
}

#define BRS_FORK_MESSAGE                                                                          \
    "libbrs cannot be used in a child forked after it was loaded; create sessions after fork, " \
    "or exec"

/* ---- the handle table -------------------------------------------------- */

/*
 * A handle is (generation << BRS_INDEX_BITS) | (slot index + 1): a slot is
 * reused after its session closed, under a new generation, so a stale
 * handle never names the new session. Slots live in chunks that are never
 * freed, so a reader may look at a slot without a lock whatever happens to
 * its session meanwhile.
 */
#define BRS_INDEX_BITS 20
#define BRS_CHUNK_SLOTS 64
#define BRS_CHUNKS (((1u << BRS_INDEX_BITS) - 1) / BRS_CHUNK_SLOTS)

/* The copy of the current credentials a slot holds, at most this many
 * bytes for the four strings and their NULs; a larger set is not copied
 * (every read then enters Go). */
#define BRS_SLOT_BYTES 8192

struct brs_slot {
    /* Seqlock: odd while a writer changes the fields below up to buf. */
    _Atomic uint64_t seq;
    _Atomic uint64_t handle; /* the open session's handle; 0 while opening, closing or free */
    int64_t until_ms;        /* copy usable before this instant (Unix ms) */
    int64_t expiry_ms;
    uint32_t len[4];         /* access_key, secret_key, token, expiry_time */
    uint32_t total;          /* bytes of buf in use (NULs included); 0: no copy */
    char buf[BRS_SLOT_BYTES];

    /* Writers (publish, close, on_refresh) hold mu. */
    pthread_mutex_t mu;
    uint64_t owner;          /* the handle while allocated, 0 once withdrawn or free */
    brs_refresh_fn listener;
    void *listener_data;
    uint64_t generation;
    uint32_t next_free;      /* free list link: index + 1, 0 ends it */
};

static struct brs_slot *_Atomic brs_chunks[BRS_CHUNKS];
static pthread_mutex_t brs_table_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t brs_free_head = 0; /* index + 1 of a free slot, 0: none */
static uint32_t brs_slots_made = 0;

/* The slot a handle points at (open or not), or NULL for a handle that
 * never was one. Lock-free. */
static struct brs_slot *brs_slot_at(brs_session h) {
    uint64_t index = h & ((1u << BRS_INDEX_BITS) - 1);
    if (index == 0) return NULL;
    index--;
    if (index / BRS_CHUNK_SLOTS >= BRS_CHUNKS) return NULL;
    struct brs_slot *chunk = atomic_load_explicit(&brs_chunks[index / BRS_CHUNK_SLOTS], memory_order_acquire);
    return chunk != NULL ? &chunk[index % BRS_CHUNK_SLOTS] : NULL;
}

/* Whether handle h names an open session right now. */
static int brs_is_open(brs_session h) {
    struct brs_slot *slot = brs_slot_at(h);
    return h != 0 && slot != NULL && atomic_load_explicit(&slot->handle, memory_order_acquire) == h;
}

/* Allocate a slot and return its new handle, 0 when the table is full. */
static brs_session brs_slot_alloc(void) {
    pthread_mutex_lock(&brs_table_mu);
    uint32_t index;
    if (brs_free_head != 0) {
        index = brs_free_head - 1;
        brs_free_head = brs_slot_at(index + 1)->next_free;
    } else if (brs_slots_made < BRS_CHUNKS * BRS_CHUNK_SLOTS) {
        index = brs_slots_made++;
        if (index % BRS_CHUNK_SLOTS == 0) {
            struct brs_slot *chunk = calloc(BRS_CHUNK_SLOTS, sizeof *chunk);
            if (chunk == NULL) {
                brs_slots_made--;
                pthread_mutex_unlock(&brs_table_mu);
                return 0;
            }
            for (int i = 0; i < BRS_CHUNK_SLOTS; i++) pthread_mutex_init(&chunk[i].mu, NULL);
            atomic_store_explicit(&brs_chunks[index / BRS_CHUNK_SLOTS], chunk, memory_order_release);
        }
    } else {
        pthread_mutex_unlock(&brs_table_mu);
        return 0;
    }
    struct brs_slot *slot = brs_slot_at(index + 1);
    pthread_mutex_lock(&slot->mu);
    slot->generation++;
    brs_session h = (slot->generation << BRS_INDEX_BITS) | (index + 1);
    slot->owner = h;
    slot->listener = NULL;
    slot->listener_data = NULL;
    uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    slot->total = 0;
    atomic_store_explicit(&slot->handle, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, s + 2, memory_order_release);
    pthread_mutex_unlock(&slot->mu);
    pthread_mutex_unlock(&brs_table_mu);
    return h;
}

/* Show the slot of h, whose session Go now holds, to readers. */
static void brs_slot_open(brs_session h) {
    struct brs_slot *slot = brs_slot_at(h);
    pthread_mutex_lock(&slot->mu);
    uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&slot->handle, h, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, s + 2, memory_order_release);
    pthread_mutex_unlock(&slot->mu);
}

/* Withdraw h from readers: it answers BRS_ECLOSED from now on. Returns 0
 * when h was not open (already closing or closed). */
static int brs_slot_withdraw(brs_session h) {
    struct brs_slot *slot = brs_slot_at(h);
    if (slot == NULL) return 0;
    pthread_mutex_lock(&slot->mu);
    int open = atomic_load_explicit(&slot->handle, memory_order_relaxed) == h;
    if (slot->owner == h) {
        uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
        atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&slot->handle, 0, memory_order_relaxed);
        explicit_bzero(slot->buf, slot->total);
        slot->total = 0;
        atomic_store_explicit(&slot->seq, s + 2, memory_order_release);
        slot->owner = 0;
        slot->listener = NULL;
    }
    pthread_mutex_unlock(&slot->mu);
    return open;
}

/* Put back a slot whose session is gone (withdrawn and closed in Go, or
 * never opened there). */
static void brs_slot_free(brs_session h) {
    struct brs_slot *slot = brs_slot_at(h);
    brs_slot_withdraw(h);
    pthread_mutex_lock(&brs_table_mu);
    slot->next_free = brs_free_head;
    brs_free_head = (uint32_t)(h & ((1u << BRS_INDEX_BITS) - 1));
    pthread_mutex_unlock(&brs_table_mu);
}

/*
 * The fast path's clock: CLOCK_REALTIME_COARSE, which the vDSO reads
 * without the TSC (CLOCK_REALTIME costs 65-200 ns a call in a VM that traps
 * rdtsc, 12 ns this way). It lags real time by up to one tick, so it is
 * advanced by a tick: the copy is served a tick early at worst, never late,
 * and valid_for_ms comes out a few milliseconds short, never long.
 */
static int64_t brs_tick_ms = -1;

static int64_t brs_now_ms(void) {
    struct timespec ts;
    int64_t tick = __atomic_load_n(&brs_tick_ms, __ATOMIC_RELAXED);
    if (tick < 0) {
        tick = clock_getres(CLOCK_REALTIME_COARSE, &ts) == 0 ? (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1
                                                             : 1000;
        __atomic_store_n(&brs_tick_ms, tick, __ATOMIC_RELAXED);
    }
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + tick;
}

/* Outcomes of brs_copy_out. */
enum { BRS_COPY_OK, BRS_COPY_STALE, BRS_COPY_CLOSED, BRS_COPY_SMALL };

/*
 * Copy the slot's credentials, when they may still be used at now, into
 * dst (cap bytes; NULL: a buffer malloc'd here, freed by
 * brs_credentials_clear) and
 * point out's strings into it. *need gets the size the copy takes.
 */
static int brs_copy_out(brs_session h, char *dst, size_t cap, struct brs_credentials *out,
                        size_t *need) {
    struct brs_slot *slot = brs_slot_at(h);
    if (slot == NULL || h == 0) return BRS_COPY_CLOSED;
    int64_t now = brs_now_ms();
    char *mine = NULL;
    size_t mine_cap = 0;
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&slot->seq, memory_order_acquire);
        if (s1 & 1) continue; /* a writer is at work: it copies a few KiB at most */
        uint64_t handle = atomic_load_explicit(&slot->handle, memory_order_relaxed);
        uint32_t total = slot->total;
        int64_t until = slot->until_ms, expiry = slot->expiry_ms;
        const uint32_t len[4] = {slot->len[0], slot->len[1], slot->len[2], slot->len[3]};
        int outcome = handle != h ? BRS_COPY_CLOSED
                      : total == 0 || now >= until || total > BRS_SLOT_BYTES ? BRS_COPY_STALE
                      : dst != NULL && total > cap                           ? BRS_COPY_SMALL
                                                                              : BRS_COPY_OK;
        if (outcome == BRS_COPY_OK && dst == NULL && mine_cap < total) {
            /* allocate outside the snapshot's checks, then read again */
            free(mine);
            if ((mine = malloc(total)) == NULL) return BRS_COPY_STALE;
            mine_cap = total;
            continue;
        }
        if (outcome == BRS_COPY_OK) memcpy(dst != NULL ? dst : mine, slot->buf, total);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&slot->seq, memory_order_relaxed) != s1) continue;
        *need = total;
        if (outcome != BRS_COPY_OK) {
            free(mine);
            return outcome;
        }
        char *p = dst != NULL ? dst : mine;
        out->access_key = p;
        out->secret_key = p + len[0] + 1;
        out->token = out->secret_key + len[1] + 1;
        out->expiry_time = out->token + len[2] + 1;
        out->expiry_unix_ms = expiry;
        out->valid_for_ms = until - now;
        return BRS_COPY_OK;
    }
}

/* Called by Go, under the session's lock, each time new credentials become
 * current. The strings are Go memory, valid only during the call. */
void brs_shim_publish(uint64_t h, const char *ak, size_t ak_len, const char *sk, size_t sk_len, const char *tok,
                      size_t tok_len, const char *exp, size_t exp_len, int64_t expiry_ms, int64_t until_ms) {
    struct brs_slot *slot = brs_slot_at(h);
    if (slot == NULL) return;
    size_t total = ak_len + sk_len + tok_len + exp_len + 4;
    pthread_mutex_lock(&slot->mu);
    if (slot->owner == h) {
        uint64_t s = atomic_load_explicit(&slot->seq, memory_order_relaxed);
        atomic_store_explicit(&slot->seq, s + 1, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        explicit_bzero(slot->buf, slot->total);
        slot->total = 0;
        if (total <= BRS_SLOT_BYTES) {
            const char *const src[4] = {ak, sk, tok, exp};
            const size_t len[4] = {ak_len, sk_len, tok_len, exp_len};
            char *p = slot->buf;
            for (int i = 0; i < 4; i++) {
                memcpy(p, src[i], len[i]);
                p[len[i]] = '\0';
                p += len[i] + 1;
                slot->len[i] = (uint32_t)len[i];
            }
            slot->total = (uint32_t)total;
            slot->until_ms = until_ms;
            slot->expiry_ms = expiry_ms;
        }
        atomic_store_explicit(&slot->seq, s + 2, memory_order_release);
    }
    pthread_mutex_unlock(&slot->mu);
}

/* ---- callbacks and the wait-for graph ---------------------------------- */

/* The session whose callback (getter, listener or log sink) this thread is
 * running, 0 if none. */
static __thread uint64_t brs_in_callback = 0;

/*
 * The wait-for graph: an edge a -> b while a thread running one of a's
 * callbacks waits in a call on session b (a refresh of b, its close, ...).
 * A call that would close a cycle (b's callbacks already wait on a,
 * directly or through other sessions) is refused instead of deadlocking.
 */
struct brs_edge {
    uint64_t from, to;
};
static pthread_mutex_t brs_graph_mu = PTHREAD_MUTEX_INITIALIZER;
static struct brs_edge *brs_edges = NULL;
static size_t brs_nedges = 0, brs_cap_edges = 0;

/* Whether `to` reaches `target` through the edges (depth-first, with the
 * depth bounded by the number of edges). brs_graph_mu held. */
static int brs_reaches(uint64_t from, uint64_t target, size_t depth) {
    if (from == target) return 1;
    if (depth > brs_nedges) return 0;
    for (size_t i = 0; i < brs_nedges; i++)
        if (brs_edges[i].from == from && brs_reaches(brs_edges[i].to, target, depth + 1)) return 1;
    return 0;
}

/* Add the edge from -> to unless it closes a cycle; 0 when refused. */
static int brs_edge_add(uint64_t from, uint64_t to) {
    pthread_mutex_lock(&brs_graph_mu);
    int ok = !brs_reaches(to, from, 0);
    if (ok && brs_nedges == brs_cap_edges) {
        size_t cap = brs_cap_edges ? 2 * brs_cap_edges : 16;
        struct brs_edge *e = realloc(brs_edges, cap * sizeof *e);
        if (e == NULL) ok = 0;
        else brs_edges = e, brs_cap_edges = cap;
    }
    if (ok) brs_edges[brs_nedges++] = (struct brs_edge){from, to};
    pthread_mutex_unlock(&brs_graph_mu);
    return ok;
}

static void brs_edge_remove(uint64_t from, uint64_t to) {
    pthread_mutex_lock(&brs_graph_mu);
    for (size_t i = 0; i < brs_nedges; i++) {
        if (brs_edges[i].from == from && brs_edges[i].to == to) {
            brs_edges[i] = brs_edges[--brs_nedges];
            break;
        }
    }
    if (brs_nedges == 0) {
        free(brs_edges);
        brs_edges = NULL;
        brs_cap_edges = 0;
    }
    pthread_mutex_unlock(&brs_graph_mu);
}

static void brs_log_park(int parked);

/*
 * The gate of every call that may wait inside Go for session h (0: a new
 * session). Outside a callback it lets the call through. In a callback of
 * session c it refuses the call when h == c, or when h's callbacks wait on
 * c already; otherwise it records c -> h until brs_wait_end. A thread
 * delivering a log line is marked as parked meanwhile (brs_set_logger does
 * not wait for it). Returns BRS_OK to go on.
 */
static int brs_wait_begin(brs_session h, const char *fn, brs_error *err) {
    uint64_t c = brs_in_callback;
    if (c == 0) {
        brs_log_park(1);
        return BRS_OK;
    }
    if (h == c)
        return brs_fail(err, BRS_ERROR, NULL,
                        "%s was called from a callback of the same session (getter, refresh listener or "
                        "log sink); it would wait for that callback and deadlock",
                        fn);
    if (!brs_edge_add(c, h))
        return brs_fail(err, BRS_ERROR, NULL,
                        "%s was called from a callback of one session on another session whose own "
                        "callbacks are waiting for the first; it would deadlock",
                        fn);
    brs_log_park(1);
    return BRS_OK;
}

static void brs_wait_end(brs_session h) {
    brs_log_park(0);
    if (brs_in_callback != 0) brs_edge_remove(brs_in_callback, h);
}

int brs_shim_invoke(uintptr_t cb, uintptr_t user_data, int request, brs_result *result, uint64_t session) {
    uint64_t outer = brs_in_callback;
    brs_in_callback = session;
    int rc = ((brs_callback)cb)((void *)user_data, request, result);
    brs_in_callback = outer;
    return rc;
}

/* Called by Go after each successful refresh that is still current: hand
 * creds to the session's listener, if any. */
void brs_shim_notify(uint64_t h, const struct brs_credentials *creds) {
    struct brs_slot *slot = brs_slot_at(h);
    if (slot == NULL) return;
    pthread_mutex_lock(&slot->mu);
    brs_refresh_fn fn = slot->owner == h ? slot->listener : NULL;
    void *data = slot->listener_data;
    pthread_mutex_unlock(&slot->mu);
    if (fn == NULL) return;
    uint64_t outer = brs_in_callback;
    brs_in_callback = h;
    fn(data, creds);
    brs_in_callback = outer;
}

int brs_shim_has_listener(uint64_t h) {
    struct brs_slot *slot = brs_slot_at(h);
    if (slot == NULL) return 0;
    pthread_mutex_lock(&slot->mu);
    int has = slot->owner == h && slot->listener != NULL;
    pthread_mutex_unlock(&slot->mu);
    return has;
}

/* ---- the log sink ------------------------------------------------------ */

/*
 * brs_set_logger waits for lines being delivered to the previous sink
 * before it returns, except its own (when a sink calls it) and those whose
 * sink is itself inside a library call that may wait (parked), as waiting
 * for them could deadlock. Deliveries are few: a list under a mutex.
 */
struct brs_delivery {
    uint64_t generation;
    int parked;
    struct brs_delivery *next;
};
static pthread_mutex_t brs_log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t brs_log_done = PTHREAD_COND_INITIALIZER;
static brs_log_fn brs_log_sink = NULL;
static void *brs_log_data = NULL;
static uint64_t brs_log_generation = 0;
static struct brs_delivery *brs_deliveries = NULL;
static _Atomic int brs_log_on = 0;
static __thread struct brs_delivery *brs_delivering = NULL;

static void brs_log_park(int parked) {
    struct brs_delivery *d = brs_delivering;
    if (d == NULL) return;
    pthread_mutex_lock(&brs_log_mu);
    d->parked += parked ? 1 : -1;
    pthread_cond_broadcast(&brs_log_done);
    pthread_mutex_unlock(&brs_log_mu);
}

int brs_shim_log_enabled(void) { return atomic_load_explicit(&brs_log_on, memory_order_relaxed); }

void brs_shim_log(uint64_t session, int level, const char *message) {
    pthread_mutex_lock(&brs_log_mu);
    brs_log_fn fn = brs_log_sink;
    void *data = brs_log_data;
    struct brs_delivery d = {brs_log_generation, 0, brs_deliveries};
    if (fn != NULL) brs_deliveries = &d;
    pthread_mutex_unlock(&brs_log_mu);
    if (fn == NULL) return;
    struct brs_delivery *outer_d = brs_delivering;
    uint64_t outer = brs_in_callback;
    brs_delivering = &d;
    if (session != 0) brs_in_callback = session;
    fn(data, level, message);
    brs_in_callback = outer;
    brs_delivering = outer_d;
    pthread_mutex_lock(&brs_log_mu);
    for (struct brs_delivery **p = &brs_deliveries; *p != NULL; p = &(*p)->next) {
        if (*p == &d) {
            *p = d.next;
            break;
        }
    }
    pthread_cond_broadcast(&brs_log_done);
    pthread_mutex_unlock(&brs_log_mu);
}

/* Whether a delivery of a generation before gen is running and not ours
 * or parked. brs_log_mu held. */
static int brs_log_busy(uint64_t gen) {
    for (struct brs_delivery *d = brs_deliveries; d != NULL; d = d->next)
        if (d->generation < gen && d != brs_delivering && d->parked == 0) return 1;
    return 0;
}

/* ---- the public functions ---------------------------------------------- */

/* BRS_VERSION comes from include/brsver.h (through brs.h), made from VERSION. */
BRS_API const char *brs_version(void) { return BRS_VERSION; }

BRS_API const char *brs_errstr(int status) {
    switch (status) {
    case BRS_OK: return "not an error";
    case BRS_ERROR: return "error";
    case BRS_EVALIDATION: return "invalid parameter";
    case BRS_ECONFIGURATION: return "parameters that cannot work together";
    case BRS_ECREDENTIAL: return "the credential source failed or gave bad credentials";
    case BRS_ECONNECTION: return "connection failed";
    case BRS_EREQUEST: return "the service answered with an error";
    case BRS_ECLOSED: return "the session is closed or unknown";
    case BRS_EFORKED: return "called in a child forked after the library started";
    default: return "unknown status code";
    }
}

/* The entry check of every function that takes a session and an error:
 * zero err, then refuse a forked child and a handle that is not open. */
static int brs_enter(brs_session session, brs_error *err) {
    if (err != NULL) memset(err, 0, sizeof *err);
    if (brs_forked) return brs_fail(err, BRS_EFORKED, NULL, "%s", BRS_FORK_MESSAGE);
    if (!brs_is_open(session))
        return brs_fail(err, BRS_ECLOSED, NULL, "the session handle is closed or unknown");
    return BRS_OK;
}

BRS_API int brs_new_session(const char *config_json, brs_callback callback, void *user_data, brs_session *out,
                            brs_error *err) {
    if (err != NULL) memset(err, 0, sizeof *err);
    if (brs_forked) return brs_fail(err, BRS_EFORKED, NULL, "%s", BRS_FORK_MESSAGE);
    if (config_json == NULL)
        return brs_fail(err, BRS_EVALIDATION, "config_json", "config_json must not be NULL");
    if (out == NULL) return brs_fail(err, BRS_EVALIDATION, "out", "out must not be NULL");
    brs_session h = brs_slot_alloc();
    if (h == 0) return brs_fail(err, BRS_ERROR, NULL, "too many open sessions");
    int rc = brs_wait_begin(h, "brs_new_session", err);
    if (rc == BRS_OK) {
        rc = brsgo_new_session((char *)config_json, (uintptr_t)callback, (uintptr_t)user_data, h, err);
        brs_wait_end(h);
    }
    if (rc != BRS_OK) {
        brs_slot_free(h);
        return rc;
    }
    brs_slot_open(h);
    *out = h;
    return BRS_OK;
}

/* brs_credentials and brs_refresh (refresh != 0) through Go, into out
 * (may be NULL for a refresh). */
static int brs_credentials_go(brs_session session, struct brs_credentials *out, brs_error *err, int refresh) {
    const char *fn = refresh ? "brs_refresh" : "brs_credentials";
    int rc = brs_wait_begin(session, fn, err);
    if (rc != BRS_OK) return rc;
    rc = brsgo_credentials(session, out, err, refresh);
    brs_wait_end(session);
    return rc;
}

BRS_API int brs_credentials(brs_session session, struct brs_credentials *out, brs_error *err) {
    if (out != NULL) memset(out, 0, sizeof *out);
    int rc = brs_enter(session, err);
    if (rc != BRS_OK) return rc;
    if (out == NULL) return brs_fail(err, BRS_EVALIDATION, "out", "out must not be NULL");
    size_t need;
    switch (brs_copy_out(session, NULL, 0, out, &need)) {
    case BRS_COPY_OK: return BRS_OK;
    case BRS_COPY_CLOSED: return brs_fail(err, BRS_ECLOSED, NULL, "the session handle is closed or unknown");
    }
    return brs_credentials_go(session, out, err, 0);
}

BRS_API int brs_credentials_into(brs_session session, char *buf, size_t buflen, struct brs_credentials *out,
                                 brs_error *err) {
    if (out != NULL) memset(out, 0, sizeof *out);
    int rc = brs_enter(session, err);
    if (rc != BRS_OK) return rc;
    if (out == NULL) return brs_fail(err, BRS_EVALIDATION, "out", "out must not be NULL");
    if (buf == NULL) return brs_fail(err, BRS_EVALIDATION, "buf", "buf must not be NULL");
    size_t need = 0;
    switch (brs_copy_out(session, buf, buflen, out, &need)) {
    case BRS_COPY_OK: return BRS_OK;
    case BRS_COPY_CLOSED: return brs_fail(err, BRS_ECLOSED, NULL, "the session handle is closed or unknown");
    case BRS_COPY_SMALL:
        return brs_fail(err, BRS_EVALIDATION, "buflen", "buflen %zu is too small: these credentials take %zu bytes",
                        buflen, need);
    }
    /* Through Go, then into buf. */
    struct brs_credentials c = {0};
    rc = brs_credentials_go(session, &c, err, 0);
    if (rc != BRS_OK) return rc;
    const char *src[4] = {c.access_key, c.secret_key, c.token, c.expiry_time};
    size_t len[4];
    need = 0;
    for (int i = 0; i < 4; i++) need += (len[i] = strlen(src[i])) + 1;
    if (need > buflen) {
        brs_credentials_clear(&c);
        return brs_fail(err, BRS_EVALIDATION, "buflen", "buflen %zu is too small: these credentials take %zu bytes",
                        buflen, need);
    }
    char *dst[4], *p = buf;
    for (int i = 0; i < 4; i++) {
        dst[i] = p;
        memcpy(p, src[i], len[i] + 1);
        p += len[i] + 1;
    }
    *out = (struct brs_credentials){dst[0], dst[1], dst[2], dst[3], c.expiry_unix_ms, c.valid_for_ms};
    brs_credentials_clear(&c);
    return BRS_OK;
}

BRS_API int brs_refresh(brs_session session, struct brs_credentials *out, brs_error *err) {
    if (out != NULL) memset(out, 0, sizeof *out);
    int rc = brs_enter(session, err);
    return rc != BRS_OK ? rc : brs_credentials_go(session, out, err, 1);
}

BRS_API int brs_whoami(brs_session session, char **json_out, brs_error *err) {
    if (json_out != NULL) *json_out = NULL;
    int rc = brs_enter(session, err);
    if (rc != BRS_OK) return rc;
    if (json_out == NULL) return brs_fail(err, BRS_EVALIDATION, "json_out", "json_out must not be NULL");
    if ((rc = brs_wait_begin(session, "brs_whoami", err)) != BRS_OK) return rc;
    rc = brsgo_whoami(session, json_out, err);
    brs_wait_end(session);
    return rc;
}

BRS_API int brs_warnings(brs_session session, char **json_out, brs_error *err) {
    if (json_out != NULL) *json_out = NULL;
    int rc = brs_enter(session, err);
    if (rc != BRS_OK) return rc;
    if (json_out == NULL) return brs_fail(err, BRS_EVALIDATION, "json_out", "json_out must not be NULL");
    return brsgo_warnings(session, json_out, err); /* never waits: no wait tracking */
}

BRS_API int brs_close_session(brs_session session) {
    int rc = brs_enter(session, NULL);
    if (rc != BRS_OK) return rc;
    if ((rc = brs_wait_begin(session, "brs_close_session", NULL)) != BRS_OK) return rc;
    if (!brs_slot_withdraw(session)) {
        brs_wait_end(session);
        return BRS_ECLOSED; /* another thread closed it first */
    }
    rc = brsgo_close_session(session);
    brs_wait_end(session);
    brs_slot_free(session);
    return rc;
}

BRS_API int brs_on_refresh(brs_session session, brs_refresh_fn fn, void *user_data) {
    if (brs_forked) return BRS_EFORKED;
    struct brs_slot *slot = brs_slot_at(session);
    if (slot == NULL || session == 0) return BRS_ECLOSED;
    pthread_mutex_lock(&slot->mu);
    int open = atomic_load_explicit(&slot->handle, memory_order_relaxed) == session;
    if (open) {
        slot->listener = fn;
        slot->listener_data = fn != NULL ? user_data : NULL;
    }
    pthread_mutex_unlock(&slot->mu);
    return open ? BRS_OK : BRS_ECLOSED;
}

BRS_API int brs_result_set(brs_result *result, const char *key, const char *value) {
    if (brs_forked) return BRS_EFORKED;
    if (result == NULL) return BRS_EVALIDATION;
    return brsgo_result_set(result->id, (char *)key, (char *)value);
}

BRS_API int brs_set_logger(brs_log_fn fn, void *user_data) {
    if (brs_forked) return BRS_EFORKED;
    pthread_mutex_lock(&brs_log_mu);
    brs_log_sink = fn;
    brs_log_data = fn != NULL ? user_data : NULL;
    uint64_t gen = ++brs_log_generation;
    atomic_store_explicit(&brs_log_on, fn != NULL, memory_order_relaxed);
    /* Our own delivery, if a sink calls us, counts as parked meanwhile. */
    if (brs_delivering != NULL) brs_delivering->parked++;
    while (brs_log_busy(gen)) pthread_cond_wait(&brs_log_done, &brs_log_mu);
    if (brs_delivering != NULL) brs_delivering->parked--;
    pthread_mutex_unlock(&brs_log_mu);
    return BRS_OK;
}

BRS_API void brs_free(void *ptr) { free(ptr); }

/* Overwrite s with zeros in a way the compiler may not elide. */
static void brs_wipe(char *s) {
    if (s != NULL) explicit_bzero(s, strlen(s));
}

/* The four strings of a struct the library filled share one allocation,
 * which starts at access_key. */
BRS_API void brs_credentials_clear(struct brs_credentials *creds) {
    if (creds == NULL) return;
    brs_wipe(creds->secret_key);
    brs_wipe(creds->token);
    free(creds->access_key);
    memset(creds, 0, sizeof *creds);
}

BRS_API void brs_error_clear(brs_error *err) {
    if (err == NULL) return;
    free(err->message);
    free(err->param);
    free(err->value);
    free(err->aws_code);
    free(err->details);
    memset(err, 0, sizeof *err);
}

/* ---- the channel (core/credserver) -------------------------------------- */

BRS_API int brs_channel_open(const char *dir, char **path_out, char **token_out, brs_error *err) {
    if (path_out != NULL) *path_out = NULL;
    if (token_out != NULL) *token_out = NULL;
    if (err != NULL) memset(err, 0, sizeof *err);
    if (brs_forked) return brs_fail(err, BRS_EFORKED, NULL, "%s", BRS_FORK_MESSAGE);
    return brsgo_channel_open((char *)dir, path_out, token_out, err);
}

BRS_API int brs_channel_close(void) { return brs_forked ? BRS_EFORKED : brsgo_channel_close(); }

BRS_API int brs_host_serve(int fd, const char *dir) {
    return brs_forked ? BRS_EFORKED : brsgo_host_serve(fd, (char *)dir);
}

/* ---- the container-credentials server (core/credserver/http.go) -------- */

BRS_API int brs_serve(brs_session session, const char *options_json, brs_server *out, brs_error *err) {
    int rc = brs_enter(session, err);
    if (rc != BRS_OK) return rc;
    if (out == NULL) return brs_fail(err, BRS_EVALIDATION, "out", "out must not be NULL");
    return brsgo_serve(session, (char *)options_json, out, err);
}

BRS_API int brs_serve_info(brs_server server, char **json_out, brs_error *err) {
    if (json_out != NULL) *json_out = NULL;
    if (err != NULL) memset(err, 0, sizeof *err);
    if (brs_forked) return brs_fail(err, BRS_EFORKED, NULL, "%s", BRS_FORK_MESSAGE);
    if (json_out == NULL) return brs_fail(err, BRS_EVALIDATION, "json_out", "json_out must not be NULL");
    return brsgo_serve_info(server, json_out, err);
}

BRS_API int brs_serve_stop(brs_server server) { return brs_forked ? BRS_EFORKED : brsgo_serve_stop(server); }

/* ---- exit ---------------------------------------------------------------- */

/*
 * brs_close_all is private to the Python binding (include/brs.h does not
 * declare it), which calls it at interpreter exit: every open handle is
 * withdrawn (it answers BRS_ECLOSED, its copy is no longer served, its
 * listener no longer called), then brsgo_close_all (capi/shutdown.go)
 * closes the Go sessions, waiting at most timeout_ms. The slots are not put
 * back: the process is ending.
 */
BRS_API int brs_close_all(int64_t timeout_ms) {
    if (brs_forked) return BRS_EFORKED;
    pthread_mutex_lock(&brs_table_mu);
    uint32_t made = brs_slots_made;
    pthread_mutex_unlock(&brs_table_mu);
    for (uint32_t i = 0; i < made; i++) {
        const struct brs_slot *slot = brs_slot_at(i + 1);
        brs_session h = atomic_load_explicit(&slot->handle, memory_order_acquire);
        if (h != 0) brs_slot_withdraw(h);
    }
    return brsgo_close_all(timeout_ms);
}
