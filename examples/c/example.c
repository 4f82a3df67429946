/*
 * example.c — use libbrs from C with your own credential getter.
 *
 * Build (from the repository root, after `make lib`):
 *
 *   cc -Iinclude -o example examples/c/example.c -Lbuild -lbrs -Wl,-rpath,"$PWD/build"
 *
 * The getter below stands in for your authentication flow: it returns a
 * fresh set of temporary credentials valid for one hour. gobrs calls it the
 * first time credentials are needed and again whenever they near expiry.
 * This program never prints the secret key or the session token.
 */
#include <stdio.h>
#include <time.h>

#include "brs.h"

struct my_source {
    int calls; /* your own state, reached through user_data */
};

/* A brs_callback: fill the result with brs_result_set(); return 0 on
 * success, or set "error" and return non-zero on failure. */
static int my_getter(void *user_data, int request, brs_result *result) {
    struct my_source *src = user_data;
    if (request != BRS_REQ_CREDENTIALS) {
        brs_result_set(result, "error", "this getter only supplies credentials");
        return 1;
    }
    src->calls++;

    /* Real code would call its identity service here. */
    char expiry[32];
    time_t in_an_hour = time(NULL) + 3600;
    struct tm tm;
    gmtime_r(&in_an_hour, &tm);
    strftime(expiry, sizeof expiry, "%Y-%m-%dT%H:%M:%SZ", &tm);

    brs_result_set(result, "access_key", "EXAMPLEACCESSKEY");
    brs_result_set(result, "secret_key", "example-secret-never-printed");
    brs_result_set(result, "token", "example-session-token");
    brs_result_set(result, "expiry_time", expiry);
    return 0;
}

int main(void) {
    struct my_source src = {0};
    brs_error err = {0};
    brs_session session;

    printf("libbrs %s\n", brs_version());

    /* Refresh 15 minutes before expiry; fetch lazily at the first read. */
    const char *config = "{\"method\": \"custom\", \"advisory_timeout\": 900, "
                         "\"mandatory_timeout\": 600}";
    if (brs_new_session(config, my_getter, &src, &session, &err) != BRS_OK) {
        fprintf(stderr, "brs_new_session: %s (status %d)\n", err.message, err.status);
        brs_error_clear(&err);
        return 1;
    }

    struct brs_credentials creds = {0};
    if (brs_credentials(session, &creds, &err) != BRS_OK) {
        fprintf(stderr, "brs_credentials: %s (status %d)\n", err.message, err.status);
        brs_error_clear(&err);
        brs_close_session(session);
        return 1;
    }
    printf("access key:  %s\n", creds.access_key);
    printf("expires at:  %s\n", creds.expiry_time);
    printf("reuse for:   %lld s without asking again\n", (long long)(creds.valid_for_ms / 1000));
    printf("getter calls: %d\n", src.calls);
    brs_credentials_clear(&creds); /* zeroes the secret and token, frees */

    brs_close_session(session); /* the getter is never called after this */
    return 0;
}
