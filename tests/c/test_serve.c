/* brs_serve, brs_serve_info, brs_serve_stop: the container-credentials
 * server, read over a plain socket as an AWS SDK would; and the
 * credential_process key of method "custom". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Every log line, to check that none holds a secret. */
static pthread_mutex_t logs_mu = PTHREAD_MUTEX_INITIALIZER;
static char logs[1 << 16];
static size_t logs_len = 0;

static void log_sink(void *user_data, int level, const char *message) {
    (void)user_data;
    (void)level;
    pthread_mutex_lock(&logs_mu);
    int n = snprintf(logs + logs_len, sizeof logs - logs_len, "%s\n", message);
    if (n > 0 && (size_t)n < sizeof logs - logs_len) logs_len += (size_t)n;
    pthread_mutex_unlock(&logs_mu);
}

/* The string value of "key" in a flat JSON object, into out. */
static int json_str(const char *json, const char *key, char *out, size_t n) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (p == NULL) return 0;
    p += strlen(pat);
    const char *end = strchr(p, '"');
    if (end == NULL || (size_t)(end - p) >= n) return 0;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = 0;
    return 1;
}

/* GET url (http://127.0.0.1:PORT/PATH) with the Authorization header auth
 * (none when NULL); the whole answer goes to resp. Returns the status. */
static int http_get(const char *url, const char *auth, char *resp, size_t n) {
    int port = 0;
    char path[256] = "";
    resp[0] = 0;
    if (sscanf(url, "http://127.0.0.1:%d%255s", &port, path) != 2) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s%s\r\n", path,
                       auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    if (write(fd, req, (size_t)len) != len) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    ssize_t r;
    while (got < n - 1 && (r = read(fd, resp + got, n - 1 - got)) > 0) got += (size_t)r;
    resp[got] = 0;
    close(fd);
    int status = -1;
    sscanf(resp, "HTTP/1.1 %d", &status);
    return status;
}

static void read_file(const char *path, char *out, size_t n) {
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    size_t got = fread(out, 1, n - 1, f);
    out[got] = 0;
    fclose(f);
}

static void test_serve(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    brs_server srv = 0;
    CHECK_STATUS(brs_serve(s, "{\"log_requests\": true}", &srv, &err), BRS_OK, &err);
    CHECK(srv != 0);

    char *info = NULL;
    CHECK_STATUS(brs_serve_info(srv, &info, &err), BRS_OK, &err);
    char url[256] = "", token_file[512] = "", token[128] = "";
    CHECK(json_str(info, "url", url, sizeof url));
    CHECK(json_str(info, "token_file", token_file, sizeof token_file));
    CHECK(strncmp(url, "http://127.0.0.1:", 17) == 0);
    CHECK_CONTAINS(url, "/credentials");
    brs_free(info);

    struct stat st;
    CHECK(stat(token_file, &st) == 0 && (st.st_mode & 0777) == 0600);
    read_file(token_file, token, sizeof token);
    CHECK_INT(strlen(token), 64);

    char resp[8192];
    CHECK_INT(http_get(url, token, resp, sizeof resp), 200);
    CHECK_CONTAINS(resp, "Content-Type: application/json");
    CHECK_CONTAINS(resp, "\"AccessKeyId\":\"TESTAK0000000001\"");
    CHECK_CONTAINS(resp, "\"SecretAccessKey\":\"" SECRET_MARKER);
    CHECK_CONTAINS(resp, "\"Token\":\"token-" SECRET_MARKER);
    CHECK_CONTAINS(resp, "\"Expiration\":\"");
    /* a second read is the same refresh */
    CHECK_INT(http_get(url, token, resp, sizeof resp), 200);
    CHECK_INT(atomic_load(&g.calls), 1);

    CHECK_INT(http_get(url, NULL, resp, sizeof resp), 401);
    CHECK(strstr(resp, SECRET_MARKER) == NULL);
    CHECK_INT(http_get(url, "0000000000000000000000000000000000000000000000000000000000000000", resp, sizeof resp), 403);
    CHECK(strstr(resp, SECRET_MARKER) == NULL);

    CHECK_STATUS(brs_serve_info(srv, &info, &err), BRS_OK, &err);
    CHECK_CONTAINS(info, "\"served\":2");
    CHECK_CONTAINS(info, "\"refused\":2");
    CHECK(strstr(info, token) == NULL); /* info holds no secret */
    brs_free(info);

    /* a closed session: 503 until the server stops */
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(http_get(url, token, resp, sizeof resp), 503);
    CHECK_CONTAINS(resp, "SessionClosed");

    CHECK_INT(brs_serve_stop(srv), BRS_OK);
    CHECK(stat(token_file, &st) != 0); /* removed */
    CHECK_INT(http_get(url, token, resp, sizeof resp), -1);
    CHECK_INT(brs_serve_stop(srv), BRS_ECLOSED); /* twice: harmless */
    info = (char *)1;
    CHECK_STATUS(brs_serve_info(srv, &info, &err), BRS_ECLOSED, &err);
    CHECK(info == NULL);
    brs_error_clear(&err);

    pthread_mutex_lock(&logs_mu);
    CHECK(strstr(logs, SECRET_MARKER) == NULL);
    CHECK(strstr(logs, token) == NULL);
    CHECK(strstr(logs, "status=401") != NULL); /* the sink saw the requests */
    pthread_mutex_unlock(&logs_mu);
}

static void test_serve_options(void) {
    char dir[] = "/tmp/brs-test-serve-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char opts[2048], token_file[600], env_file[600];
    snprintf(token_file, sizeof token_file, "%s/token", dir);
    snprintf(env_file, sizeof env_file, "%s/env", dir);
    snprintf(opts, sizeof opts, "{\"path\": \"/creds\", \"token_file\": \"%s\", \"env_file\": \"%s\"}", token_file,
             env_file);
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    brs_server srv = 0;
    CHECK_STATUS(brs_serve(s, opts, &srv, &err), BRS_OK, &err);
    char env[2048], want[2048], *info = NULL, url[256] = "";
    CHECK_STATUS(brs_serve_info(srv, &info, &err), BRS_OK, &err);
    CHECK(json_str(info, "url", url, sizeof url));
    brs_free(info);
    read_file(env_file, env, sizeof env);
    snprintf(want, sizeof want, "AWS_CONTAINER_CREDENTIALS_FULL_URI=%s\nAWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s\n", url,
             token_file);
    CHECK_STR(env, want);
    CHECK_CONTAINS(url, "/creds");
    CHECK_INT(brs_serve_stop(srv), BRS_OK);
    struct stat st;
    CHECK(stat(env_file, &st) != 0 && stat(token_file, &st) != 0);
    CHECK(rmdir(dir) == 0); /* nothing left in it */

    /* bad options name the key; nothing is left serving */
    static const struct {
        const char *opts;
        int status;
        const char *param;
    } bad[] = {
        {"{\"listen\": \"0.0.0.0:0\"}", BRS_EVALIDATION, "listen"},
        {"{\"listen\": \"[::]:8080\"}", BRS_EVALIDATION, "listen"},
        {"{\"listen\": \"10.1.2.3:0\"}", BRS_EVALIDATION, "listen"},
        {"{\"listen\": 5}", BRS_EVALIDATION, "options.listen"},
        {"{\"bind\": \"127.0.0.1:0\"}", BRS_EVALIDATION, "options.bind"},
        {"{\"path\": \"creds\"}", BRS_EVALIDATION, "path"},
        {"{\"max_connections\": 0.5}", BRS_EVALIDATION, "options.max_connections"},
        {"{\"token_file\": \"/nonexistent/dir/token\"}", BRS_ECONFIGURATION, "token_file"},
        {"[1]", BRS_EVALIDATION, "options"},
        {"\xff", BRS_EVALIDATION, "options_json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        brs_server x = 0;
        CHECK_STATUS(brs_serve(s, bad[i].opts, &x, &err), bad[i].status, &err);
        CHECK_STR(err.param, bad[i].param);
        CHECK(x == 0);
        brs_error_clear(&err);
    }
    CHECK_STATUS(brs_serve(s, "{}", NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "out");
    brs_error_clear(&err);
    CHECK_STATUS(brs_serve_info(1, NULL, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "json_out");
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
    brs_server x = 0;
    CHECK_STATUS(brs_serve(s, NULL, &x, &err), BRS_ECLOSED, &err);
    CHECK(x == 0);
    brs_error_clear(&err);
    CHECK_INT(brs_serve_stop(0), BRS_ECLOSED);
}

/* method "custom" with credential_process and no callback */
static void test_credential_process(void) {
    char expiry[32], config[1024];
    iso8601_ms(now_ms() + 3600 * 1000, expiry);
    snprintf(config, sizeof config,
             "{\"method\": \"custom\", \"credential_process\": [\"/bin/sh\", \"-c\", \"printf '%%s' "
             "'{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"AKIDPROC\\\", \\\"SecretAccessKey\\\": \\\"" SECRET_MARKER
             "\\\", \\\"SessionToken\\\": \\\"tok\\\", \\\"Expiration\\\": \\\"%s\\\"}'\"]}",
             expiry);
    brs_session s = 0;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_OK, &err);
    brs_error_clear(&err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
    brs_error_clear(&err);
    CHECK_STR(c.access_key, "AKIDPROC");
    CHECK_STR(c.secret_key, SECRET_MARKER);
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);

    /* a failing command: BRS_ECREDENTIAL naming credential_process */
    CHECK_STATUS(brs_new_session("{\"credential_process\": \"/bin/false\"}", NULL, NULL, &s, &err), BRS_OK, &err);
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_STR(err.param, "credential_process");
    CHECK_CONTAINS(err.message, "exit status 1");
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);

    /* with a callback as well: BRS_ECONFIGURATION */
    struct getter g = {.lifetime_ms = 3600 * 1000};
    CHECK_STATUS(brs_new_session("{\"credential_process\": \"x\"}", getter_cb, &g, &s, &err), BRS_ECONFIGURATION, &err);
    CHECK_STR(err.param, "credential_process");
    brs_error_clear(&err);
    CHECK_STATUS(brs_new_session("{\"credential_process\": 3}", NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "credential_process");
    brs_error_clear(&err);
}

int main(void) {
    brs_set_logger(log_sink, NULL);
    RUN(test_serve);
    RUN(test_serve_options);
    RUN(test_credential_process);
    brs_set_logger(NULL, NULL);
    return harness_exit();
}
