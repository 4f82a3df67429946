/*
 * brs_bench.c — the cost of brs_credentials() from C, with fresh credentials.
 *
 * A custom session whose callback returns credentials valid for an hour is
 * read ITERS times (argv[1], default 200000) by one thread, then by 8
 * threads at once, in two ways: brs_credentials() followed by the
 * brs_credentials_clear() it requires, and brs_credentials_into() a buffer
 * of the caller's (no allocation).
 *
 * Prints one JSON line:
 *   ns_1            nanoseconds per call, one thread (median of 5 batches)
 *   cpu_ns_1        ns_1 from the thread's CPU time (what the call costs,
 *                   with the time other processes took out; into_cpu_ns_1
 *                   likewise)
 *   ns_8            nanoseconds per call seen by each of 8 threads (median)
 *   ns_8_aggregate  wall time of the 8-thread run / all calls made in it
 *   scaling_8       ns_8 * min(cores, 8) / 8 / ns_1: the cost of a call
 *                   with 8 threads against one, the cores' share taken out
 *                   (1 is perfect scaling; the target is <= 2)
 *   cpu_scaling_8   the same ratio from each thread's CPU time rather than
 *                   wall time: what contention between the threads costs,
 *                   whatever else the machine runs (1: none)
 *   into_*          the same for brs_credentials_into
 *   cores           online processors
 *   version         brs_version()
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brs.h"

#define THREADS 8
#define BATCHES 5

static brs_session session;
static long iters;
static int use_into;
static pthread_barrier_t start;

static int getter(void *user_data, int request, brs_result *result) {
    char expiry[32];
    struct tm tm;
    time_t t = time(NULL) + 3600;
    (void)user_data;
    if (request != BRS_REQ_CREDENTIALS) {
        brs_result_set(result, "error", "unexpected request");
        return 1;
    }
    gmtime_r(&t, &tm);
    strftime(expiry, sizeof expiry, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (brs_result_set(result, "access_key", "bench-access-key") != BRS_OK ||
        brs_result_set(result, "secret_key", "bench-secret") != BRS_OK ||
        brs_result_set(result, "token", "bench-token") != BRS_OK ||
        brs_result_set(result, "expiry_time", expiry) != BRS_OK) {
        return 1;
    }
    return 0;
}

static double clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

/* The CPU time of the last reads() on this thread, per call. */
static __thread double cpu_per_call;

/* Reads n times; returns nanoseconds per call, or -1 on a failed call. */
static double reads(long n) {
    struct brs_credentials creds;
    brs_error err;
    char buf[BRS_CREDENTIALS_BUFSIZE];
    double c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        /* no memset: brs_credentials* zero creds and err on entry */
        int rc = use_into ? brs_credentials_into(session, buf, sizeof buf, &creds, &err)
                          : brs_credentials(session, &creds, &err);
        if (rc != BRS_OK) {
            fprintf(stderr, "brs_credentials: %s\n", err.message ? err.message : "(no message)");
            brs_error_clear(&err);
            return -1;
        }
        if (!use_into) brs_credentials_clear(&creds);
    }
    cpu_per_call = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0) / (double)n;
    return (now_ns() - t0) / (double)n;
}

struct result {
    double wall, cpu;
};

static void *worker(void *arg) {
    struct result *r = arg;
    pthread_barrier_wait(&start);
    r->wall = reads(iters);
    r->cpu = cpu_per_call;
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One measured pass (the current use_into): fills the figures. */
static int measure(double *ns_1, double *ns_8, double *ns_8_aggregate, double *cpu_scaling, double *cpu_1) {
    double single[BATCHES], single_cpu[BATCHES], per_thread[THREADS], per_thread_cpu[THREADS], t0, wall;
    struct result results[THREADS];
    pthread_t threads[THREADS];
    int i;
    if (reads(iters / 10 + 1) < 0) /* warm-up */
        return -1;
    for (i = 0; i < BATCHES; i++) {
        if ((single[i] = reads(iters)) < 0)
            return -1;
        single_cpu[i] = cpu_per_call;
    }
    pthread_barrier_init(&start, NULL, THREADS + 1);
    for (i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, &results[i]);
    pthread_barrier_wait(&start);
    t0 = now_ns();
    for (i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    wall = now_ns() - t0;
    pthread_barrier_destroy(&start);
    for (i = 0; i < THREADS; i++) {
        if (results[i].wall < 0)
            return -1;
        per_thread[i] = results[i].wall;
        per_thread_cpu[i] = results[i].cpu;
    }
    *cpu_1 = median(single_cpu, BATCHES);
    *cpu_scaling = median(per_thread_cpu, THREADS) / *cpu_1;
    *ns_1 = median(single, BATCHES);
    *ns_8 = median(per_thread, THREADS);
    *ns_8_aggregate = wall / ((double)THREADS * (double)iters);
    return 0;
}

int main(int argc, char **argv) {
    brs_error err;
    double ns_1, ns_8, ns_8_aggregate, cpu_scaling, cpu_1, into_1, into_8, into_8_aggregate, into_cpu_scaling, into_cpu_1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double share;

    iters = argc > 1 ? atol(argv[1]) : 200000;
    if (iters <= 0) {
        fprintf(stderr, "usage: %s [iterations > 0]\n", argv[0]);
        return 2;
    }
    if (cores < 1)
        cores = 1;
    share = (double)(cores < THREADS ? cores : THREADS) / THREADS;
    memset(&err, 0, sizeof err);
    if (brs_new_session("{\"method\": \"custom\"}", getter, NULL, &session, &err) != BRS_OK) {
        fprintf(stderr, "brs_new_session: %s\n", err.message ? err.message : "(no message)");
        brs_error_clear(&err);
        return 1;
    }
    use_into = 0;
    if (measure(&ns_1, &ns_8, &ns_8_aggregate, &cpu_scaling, &cpu_1) < 0)
        return 1;
    use_into = 1;
    if (measure(&into_1, &into_8, &into_8_aggregate, &into_cpu_scaling, &into_cpu_1) < 0)
        return 1;
    printf("{\"ns_1\": %.1f, \"cpu_ns_1\": %.1f, \"into_cpu_ns_1\": %.1f, \"ns_8\": %.1f, \"ns_8_aggregate\": %.1f, \"scaling_8\": %.2f, \"cpu_scaling_8\": %.2f, "
           "\"into_ns_1\": %.1f, \"into_ns_8\": %.1f, \"into_ns_8_aggregate\": %.1f, \"into_scaling_8\": %.2f, "
           "\"into_cpu_scaling_8\": %.2f, \"cores\": %ld, \"iterations\": %ld, \"version\": \"%s\"}\n",
           ns_1, cpu_1, into_cpu_1, ns_8, ns_8_aggregate, ns_8 * share / ns_1, cpu_scaling, into_1, into_8, into_8_aggregate,
           into_8 * share / into_1, into_cpu_scaling, cores, iters, brs_version());
    brs_close_session(session);
    return 0;
}
