// brs.h compiles as C++ (g++ -Wall -Wextra -Werror -pedantic, built by
// `make test-c`): every declaration is used once so that a C-only construct
// in the header fails the build, and BRS_API may be overridden.
#include "brs.h"

#include <cstdio>

static int getter(void *, int, brs_result *result) { return brs_result_set(result, "error", "unused"); }
static void listener(void *, const struct brs_credentials *) {}
static void sink(void *, int, const char *) {}

int main() {
    brs_session s = 0;
    brs_error err = {};
    struct brs_credentials c = {};
    char buf[BRS_CREDENTIALS_BUFSIZE];
    char *json = nullptr;
    brs_callback cb = getter;
    brs_refresh_fn fn = listener;
    brs_log_fn log = sink;
    int rc = brs_new_session("{}", cb, nullptr, &s, &err);
    brs_error_clear(&err);
    rc |= brs_on_refresh(s, fn, nullptr);
    rc |= brs_set_logger(log, nullptr);
    rc |= brs_credentials(s, &c, &err);
    brs_credentials_clear(&c);
    brs_error_clear(&err);
    rc |= brs_credentials_into(s, buf, sizeof buf, &c, &err);
    brs_error_clear(&err);
    rc |= brs_refresh(s, nullptr, &err);
    brs_error_clear(&err);
    rc |= brs_whoami(s, &json, &err);
    brs_free(json);
    brs_error_clear(&err);
    rc |= brs_close_session(s);
    brs_server srv = 0;
    rc |= brs_serve(s, "{}", &srv, &err); /* closed: BRS_ECLOSED, no server */
    brs_error_clear(&err);
    rc |= brs_serve_info(srv, &json, &err);
    brs_error_clear(&err);
    rc |= brs_serve_stop(srv);
    rc |= brs_set_logger(nullptr, nullptr);
    std::printf("%s %s %d %d\n", brs_version(), brs_errstr(rc), BRS_MAX_CONFIG_BYTES, BRS_REQ_CREDENTIALS);
    return 0;
}
