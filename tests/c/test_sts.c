/* The sts method against a real moto server: AssumeRole through
 * brs_credentials, brs_whoami with the assumed-role ARN, source credentials
 * and MFA codes from the callback, and bad configs.
 *
 * The test starts "$MOTO_PYTHON -m moto.server -H 127.0.0.1 -p PORT" with
 * fork/exec before the library does anything, waits until it accepts
 * connections, and kills it by PID at the end. Without MOTO_PYTHON it
 * fails: `make test-c` sets it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static pid_t moto_pid = 0;
static int moto_port = 0;
static char endpoint[64];

/* A free loopback port: bind port 0, read it back, close. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Start moto; returns 0 on success. */
static int start_moto(void) {
    const char *py = getenv("MOTO_PYTHON");
    if (py == NULL || py[0] == '\0') {
        fprintf(stderr, "MOTO_PYTHON is unset: set it to a python with moto[server] (make test-c does)\n");
        return -1;
    }
    moto_port = free_port();
    if (moto_port == 0) return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", moto_port);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", moto_port);
    moto_pid = fork();
    if (moto_pid < 0) return -1;
    if (moto_pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        char *argv[] = {(char *)py, "-m", "moto.server", "-H", "127.0.0.1", "-p", port, NULL};
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        execv(py, argv);
        _exit(127);
    }
    for (int waited = 0; waited < 60000; waited += 100) {
        if (port_open(moto_port)) return 0;
        int status;
        if (waitpid(moto_pid, &status, WNOHANG) == moto_pid) {
            fprintf(stderr, "moto exited before answering (MOTO_PYTHON=%s)\n", py);
            moto_pid = 0;
            return -1;
        }
        sleep_ms(100);
    }
    fprintf(stderr, "moto did not answer on port %d\n", moto_port);
    return -1;
}

static void stop_moto(void) {
    if (moto_pid <= 0) return;
    kill(moto_pid, SIGTERM);
    for (int waited = 0; waited < 5000; waited += 50) {
        if (waitpid(moto_pid, NULL, WNOHANG) == moto_pid) {
            moto_pid = 0;
            return;
        }
        sleep_ms(50);
    }
    kill(moto_pid, SIGKILL);
    waitpid(moto_pid, NULL, 0);
    moto_pid = 0;
}

/* An sts config for moto; extra_assume is appended to assume_role_kwargs,
 * client to sts_client_kwargs, extra to the top level (each may be ""). */
static void sts_config(char *buf, size_t n, const char *extra_assume, const char *client, const char *extra) {
    snprintf(buf, n,
             "{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": "
             "\"arn:aws:iam::123456789012:role/demo\"%s%s}, "
             "\"sts_client_kwargs\": {\"endpoint_url\": \"%s\", \"region_name\": \"us-east-1\"%s%s}%s%s}",
             extra_assume[0] ? ", " : "", extra_assume, endpoint, client[0] ? ", " : "", client,
             extra[0] ? ", " : "", extra);
}

#define KEYS "\"aws_access_key_id\": \"testing\", \"aws_secret_access_key\": \"testing\""

static void test_assume_role_and_whoami(void) {
    char config[1024];
    sts_config(config, sizeof config, "\"RoleSessionName\": \"gobrs-c\", \"DurationSeconds\": 1800", KEYS, "");
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    int64_t before = now_ms();
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK(c.access_key != NULL && strlen(c.access_key) >= 16 && strcmp(c.access_key, "testing") != 0);
    CHECK(c.secret_key != NULL && c.secret_key[0] != '\0');
    CHECK(c.token != NULL && c.token[0] != '\0');
    /* DurationSeconds 1800: expiry about 30 minutes ahead. */
    CHECK(c.expiry_unix_ms > before + 1700 * 1000 && c.expiry_unix_ms < now_ms() + 1900 * 1000);
    CHECK(c.valid_for_ms > 0);

    char *json = NULL;
    CHECK_STATUS(brs_whoami(s, &json, &err), BRS_OK, &err);
    CHECK_CONTAINS(json, "\"Arn\":\"arn:aws:sts::123456789012:assumed-role/demo/gobrs-c\"");
    CHECK_CONTAINS(json, "\"Account\":\"123456789012\"");
    brs_free(json);

    /* A second session for the same role shares the assumed credentials. */
    brs_session s2 = 0;
    struct brs_credentials c2 = {0};
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s2, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials(s2, &c2, &err), BRS_OK, &err);
    CHECK_STR(c2.access_key, c.access_key ? c.access_key : "");
    brs_credentials_clear(&c);
    brs_credentials_clear(&c2);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(brs_close_session(s2), BRS_OK);
    CHECK_INT(brs_close_session(s), BRS_ECLOSED);
}

/* The callback supplies the source credentials and the MFA code. */
struct sts_cb {
    atomic_int source_calls, mfa_calls, other_calls;
};

static int sts_callback(void *user_data, int request, brs_result *result) {
    struct sts_cb *cb = user_data;
    switch (request) {
    case BRS_REQ_SOURCE_CREDENTIALS:
        atomic_fetch_add(&cb->source_calls, 1);
        brs_result_set(result, "access_key", "AKIDCALLBACKSOURCE");
        brs_result_set(result, "secret_key", SECRET_MARKER);
        return 0;
    case BRS_REQ_MFA_TOKEN:
        atomic_fetch_add(&cb->mfa_calls, 1);
        brs_result_set(result, "token_code", "123456");
        return 0;
    default:
        atomic_fetch_add(&cb->other_calls, 1);
        brs_result_set(result, "error", "unexpected request");
        return 1;
    }
}

static void test_callback_source_and_mfa(void) {
    char config[1024];
    sts_config(config, sizeof config,
               "\"RoleSessionName\": \"gobrs-c-mfa\", \"SerialNumber\": \"arn:aws:iam::123456789012:mfa/alice\"", "",
               "");
    struct sts_cb cb = {0};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session(config, sts_callback, &cb, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    CHECK(c.access_key != NULL && strcmp(c.access_key, "AKIDCALLBACKSOURCE") != 0);
    CHECK_INT(atomic_load(&cb.source_calls), 1);
    CHECK_INT(atomic_load(&cb.mfa_calls), 1);
    /* Each refresh asks again for both (MFA sessions share nothing). */
    CHECK_STATUS(brs_refresh(s, NULL, &err), BRS_OK, &err);
    CHECK_INT(atomic_load(&cb.source_calls), 2);
    CHECK_INT(atomic_load(&cb.mfa_calls), 2);
    CHECK_INT(atomic_load(&cb.other_calls), 0);
    char *json = NULL;
    CHECK_STATUS(brs_whoami(s, &json, &err), BRS_OK, &err);
    CHECK_CONTAINS(json, "assumed-role/demo/gobrs-c-mfa");
    brs_free(json);
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

static void test_bad_configs(void) {
    char config[1024];
    brs_session s = 0;
    brs_error err = {0};

    sts_config(config, sizeof config, "\"DurationSeconds\": 60", KEYS, "");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_INT(err.status, BRS_EVALIDATION);
    CHECK_STR(err.param, "assume_role_kwargs.DurationSeconds");
    CHECK_CONTAINS(err.message, "900");
    CHECK(s == 0);
    brs_error_clear(&err);

    sts_config(config, sizeof config, "\"Tags\": [{\"Key\": \"a*b\", \"Value\": \"v\"}]", KEYS, "");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "assume_role_kwargs.Tags[0].Key");
    brs_error_clear(&err);

    sts_config(config, sizeof config, "", KEYS ", \"config\": {\"retries\": {\"mode\": \"fast\"}}", "");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "sts_client_kwargs.config.retries.mode");
    brs_error_clear(&err);

    sts_config(config, sizeof config, "", KEYS, "\"mfa_token_provider_kwargs\": {\"shell\": true}, \"mfa_token_provider\": \"x\"");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_ECONFIGURATION, &err);
    CHECK_STR(err.param, "mfa_token_provider_kwargs.shell");
    brs_error_clear(&err);

    /* SerialNumber without a token source cannot work. */
    sts_config(config, sizeof config, "\"SerialNumber\": \"arn:aws:iam::123456789012:mfa/alice\"", KEYS, "");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_ECONFIGURATION, &err);
    CHECK_STR(err.param, "assume_role_kwargs.SerialNumber");
    brs_error_clear(&err);

    /* The secret never shows in an error. */
    sts_config(config, sizeof config, "\"RoleSessionName\": \"x\"",
               "\"aws_access_key_id\": \"testing\", \"aws_secret_access_key\": \"" SECRET_MARKER "\"", "");
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK(err.message != NULL && strstr(err.message, SECRET_MARKER) == NULL);
    brs_error_clear(&err);
}

static void test_connection_refused(void) {
    char config[1024];
    int port = free_port();
    snprintf(config, sizeof config,
             "{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": \"arn:aws:iam::123456789012:role/demo\"}, "
             "\"sts_client_kwargs\": {\"endpoint_url\": \"http://127.0.0.1:%d\", " KEYS
             ", \"config\": {\"retries\": {\"total_max_attempts\": 1}}}}",
             port);
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECONNECTION, &err);
    CHECK_INT(err.status, BRS_ECONNECTION);
    CHECK(c.access_key == NULL);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

int main(void) {
    if (start_moto() != 0) {
        fprintf(stderr, "FAIL: could not start the moto server\n");
        stop_moto();
        return 1;
    }
    RUN(test_assume_role_and_whoami);
    RUN(test_callback_source_and_mfa);
    RUN(test_bad_configs);
    RUN(test_connection_refused);
    stop_moto();
    return harness_exit();
}
