/* Bad input through the C ABI beyond test_config.c and test_callback.c:
 * oversized and deeply nested configs, JSON the parser must refuse, invalid
 * UTF-8 and embedded NULs in configs and callback values, megabyte
 * callback values, expiry strings that cannot be used, and NULL or odd
 * arguments. Each is a status code with a message naming the parameter;
 * nothing crashes, hangs or leaks (valgrind). */
#include <pthread.h>

#include "harness.h"

#define MEGABYTE (1 << 20)
/* The longest error message any bad input may produce. */
#define MAX_MESSAGE 1500

/* A malloc'd string: prefix, then n copies of fill, then suffix. */
static char *build(const char *prefix, const char *fill, size_t n, const char *suffix) {
    size_t lp = strlen(prefix), lf = strlen(fill), ls = strlen(suffix);
    char *s = malloc(lp + lf * n + ls + 1);
    if (s == NULL) abort();
    memcpy(s, prefix, lp);
    for (size_t i = 0; i < n; i++) memcpy(s + lp + i * lf, fill, lf);
    memcpy(s + lp + lf * n, suffix, ls + 1);
    return s;
}

/* A malloc'd copy of a fixed config text (so every case can be freed). */
#define TEXT(json) build(json, "", 0, "")

/* Whether s is valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF). */
static int utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0) return 0;
        uint32_t cp = n == 0 ? *p : (uint32_t)(*p & (0x3F >> n));
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* The error is well formed: status, a short non-empty message, and the
 * expected param (when want_param is not NULL). */
static void check_error(const brs_error *err, int status, const char *want_param) {
    CHECK_INT(err->status, status);
    CHECK(err->message != NULL && err->message[0] != '\0');
    CHECK(err->message == NULL || strlen(err->message) < MAX_MESSAGE);
    CHECK(err->message == NULL || utf8_valid(err->message));
    CHECK(err->value == NULL || strlen(err->value) < MAX_MESSAGE);
    if (want_param != NULL) CHECK_STR(err->param, want_param);
    CHECK(err->param == NULL || strlen(err->param) < MAX_MESSAGE);
}

/* ---- configs ----------------------------------------------------------- */

struct config_case {
    const char *name;
    char *json; /* malloc'd */
    int status;
    const char *param;
};

static void test_bad_configs(void) {
    struct config_case cases[] = {
        /* more than the 4 MiB a config may hold */
        {"5 MiB config", build("{\"method\": \"custom\", \"pad\": \"", "x", 5 * MEGABYTE, "\"}"),
         BRS_EVALIDATION, "config"},
        /* a megabyte where a short string belongs: named, not echoed */
        {"megabyte method", build("{\"method\": \"", "m", MEGABYTE, "\"}"), BRS_EVALIDATION, "method"},
        {"megabyte unknown key", build("{\"", "k", MEGABYTE, "\": 1}"), BRS_EVALIDATION, NULL},
        {"megabyte bool", build("{\"defer_refresh\": \"", "t", MEGABYTE, "\"}"), BRS_EVALIDATION,
         "defer_refresh"},
        {"megabyte number", build("{\"advisory_timeout\": ", "9", MEGABYTE, "}"), BRS_EVALIDATION,
         "advisory_timeout"},
        /* nesting far deeper than any parser stack should go */
        {"deep arrays", build("{\"method\": ", "[", 200000, ""), BRS_EVALIDATION, "config"},
        {"deep objects", build("{\"advisory_timeout\": ", "{\"a\":", 100000, "1"), BRS_EVALIDATION,
         "config"},
        {"deep value of an unknown key", build("{\"x\": ", "[", 100000, ""), BRS_EVALIDATION, "config"},
        {"many keys", build("{", "\"k\": 1, ", 100000, "\"method\": \"custom\"}"), BRS_EVALIDATION, "k"},
        /* JSON the parser must refuse */
        {"NaN", TEXT("{\"advisory_timeout\": NaN}"), BRS_EVALIDATION, "config"},
        {"Infinity", TEXT("{\"advisory_timeout\": Infinity}"), BRS_EVALIDATION, "config"},
        {"number overflow", TEXT("{\"advisory_timeout\": 1e400}"), BRS_EVALIDATION, NULL},
        {"trailing garbage", TEXT("{} x"), BRS_EVALIDATION, "config"},
        {"two objects", TEXT("{}{}"), BRS_EVALIDATION, "config"},
        {"single quotes", TEXT("{'method': 'custom'}"), BRS_EVALIDATION, "config"},
        {"trailing comma", TEXT("{\"method\": \"custom\",}"), BRS_EVALIDATION, "config"},
        {"comment", TEXT("{/* c */}"), BRS_EVALIDATION, "config"},
        {"bare string", TEXT("\"custom\""), BRS_EVALIDATION, "config"},
        {"bare number", TEXT("42"), BRS_EVALIDATION, "config"},
        {"unterminated string", TEXT("{\"method\": \"custom}"), BRS_EVALIDATION, "config"},
        {"control char in string", TEXT("{\"method\": \"cus\ttom\"}"), BRS_EVALIDATION,
         NULL},
        {"bad escape", TEXT("{\"method\": \"\\q\"}"), BRS_EVALIDATION, NULL},
        /* invalid UTF-8 of every kind is refused before parsing */
        {"overlong encoding", TEXT("{\"method\": \"\xc0\xaf\"}"), BRS_EVALIDATION,
         "config_json"},
        {"UTF-8 surrogate", TEXT("{\"method\": \"\xed\xa0\x80\"}"), BRS_EVALIDATION,
         "config_json"},
        {"truncated sequence", TEXT("{\"method\": \"\xe2\x82\"}"), BRS_EVALIDATION,
         "config_json"},
        {"beyond U+10FFFF", TEXT("{\"method\": \"\xf4\x90\x80\x80\"}"), BRS_EVALIDATION,
         "config_json"},
        {"lone continuation byte", TEXT("\x80{}"), BRS_EVALIDATION, "config_json"},
        /* a JSON escape of a lone surrogate is valid JSON but no name */
        {"escaped lone surrogate", TEXT("{\"method\": \"\\ud800\"}"), BRS_EVALIDATION,
         "method"},
        /* a wrong type inside a key's value */
        {"timeout an object", TEXT("{\"mandatory_timeout\": {\"s\": 1}}"), BRS_EVALIDATION,
         "mandatory_timeout"},
        {"timeout an array", TEXT("{\"mandatory_timeout\": [1]}"), BRS_EVALIDATION,
         "mandatory_timeout"},
        {"timeout null", TEXT("{\"background_refresh\": null, \"advisory_timeout\": \"\"}"),
         BRS_EVALIDATION, "advisory_timeout"},
        {"method empty", TEXT("{\"method\": \"\"}"), BRS_EVALIDATION, "method"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config_case *c = &cases[i];
        harness_current = c->name;
        struct getter g = {.lifetime_ms = 3600 * 1000};
        brs_session s = 4242;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session(c->json, getter_cb, &g, &s, &err), c->status, &err);
        check_error(&err, c->status, c->param);
        /* never the whole oversized value */
        CHECK(err.message == NULL || strstr(err.message, "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm") == NULL);
        CHECK_INT(s, 4242);
        CHECK_INT(atomic_load(&g.calls), 0);
        brs_error_clear(&err);
        free(c->json);
    }
    harness_current = "test_bad_configs";
}

/* The sts and iot methods' own keys: a wrong type, an empty or oversized
 * value, an unknown key, each named in err.param. No network call is made
 * (nothing listens on port 9). */
#define STS_PRE "{\"method\": \"sts\", \"sts_client_kwargs\": {\"endpoint_url\": \"http://127.0.0.1:9\", " \
                "\"aws_access_key_id\": \"AKIDC\", \"aws_secret_access_key\": \"s\"}, "
#define ROLE "\"arn:aws:iam::123456789012:role/demo\""

static void test_bad_method_configs(void) {
    struct config_case cases[] = {
        {"sts: no assume_role_kwargs", TEXT(STS_PRE "\"defer_refresh\": true}"), BRS_EVALIDATION,
         "assume_role_kwargs"},
        {"sts: assume_role_kwargs a string", TEXT(STS_PRE "\"assume_role_kwargs\": \"x\"}"),
         BRS_EVALIDATION, "assume_role_kwargs"},
        {"sts: RoleArn a number", TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": 5}}"),
         BRS_EVALIDATION, "assume_role_kwargs.RoleArn"},
        {"sts: RoleArn empty", TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": \"\"}}"),
         BRS_EVALIDATION, "assume_role_kwargs.RoleArn"},
        {"sts: RoleArn a megabyte", build(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": \"", "r", MEGABYTE, "\"}}"),
         BRS_EVALIDATION, "assume_role_kwargs.RoleArn"},
        {"sts: unknown AssumeRole key",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"Nope\": 1}}"), BRS_EVALIDATION,
         "assume_role_kwargs.Nope"},
        {"sts: DurationSeconds a string",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"DurationSeconds\": \"900\"}}"),
         BRS_EVALIDATION, "assume_role_kwargs.DurationSeconds"},
        {"sts: DurationSeconds huge",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"DurationSeconds\": 1e300}}"),
         BRS_EVALIDATION, "assume_role_kwargs.DurationSeconds"},
        {"sts: Tags of the wrong shape",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"Tags\": [1]}}"),
         BRS_EVALIDATION, "assume_role_kwargs.Tags[0]"},
        {"sts: 1001 tags",
         build(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"Tags\": [",
               "{\"Key\": \"k\", \"Value\": \"v\"}, ", 1000, "{\"Key\": \"k\", \"Value\": \"v\"}]}}"),
         BRS_EVALIDATION, "assume_role_kwargs.Tags"},
        {"sts: Policy a megabyte",
         build(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"Policy\": \"", "p", MEGABYTE, "\"}}"),
         BRS_EVALIDATION, "assume_role_kwargs.Policy"},
        {"sts: unknown client key",
         TEXT("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"nope\": 1}}"),
         BRS_EVALIDATION, "sts_client_kwargs.nope"},
        {"sts: endpoint_url a number",
         TEXT("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"endpoint_url\": 1}}"),
         BRS_EVALIDATION, "sts_client_kwargs.endpoint_url"},
        {"sts: endpoint_url not a URL",
         TEXT("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"endpoint_url\": \"ftp://x\"}}"),
         BRS_EVALIDATION, "sts_client_kwargs.endpoint_url"},
        {"sts: verify a megabyte path",
         build("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"aws_access_key_id\": \"AKIDC\", \"aws_secret_access_key\": \"s\", "
               "\"verify\": \"", "v", MEGABYTE, "\"}}"),
         BRS_EVALIDATION, "sts_client_kwargs.verify"},
        {"sts: read_timeout negative",
         TEXT("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"config\": {\"read_timeout\": -1}}}"),
         BRS_EVALIDATION, "sts_client_kwargs.config.read_timeout"},
        {"sts: secret key a megabyte",
         build("{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": " ROLE "}, "
               "\"sts_client_kwargs\": {\"aws_access_key_id\": \"AKIDC\", \"aws_secret_access_key\": \"" SECRET_MARKER,
               "s", MEGABYTE, "\"}}"),
         BRS_EVALIDATION, "sts_client_kwargs.aws_secret_access_key"},
        {"sts: mfa_token_provider a number",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"SerialNumber\": \"arn:aws:iam::1:mfa/a\"}, "
               "\"mfa_token_provider\": 5}"),
         BRS_EVALIDATION, "mfa_token_provider"},
        {"sts: refused mfa_token_provider_kwargs key",
         TEXT(STS_PRE "\"assume_role_kwargs\": {\"RoleArn\": " ROLE ", \"SerialNumber\": \"arn:aws:iam::1:mfa/a\"}, "
               "\"mfa_token_provider\": \"echo 123456\", \"mfa_token_provider_kwargs\": {\"shell\": true}}"),
         BRS_ECONFIGURATION, "mfa_token_provider_kwargs.shell"},
        {"iot: nothing given", TEXT("{\"method\": \"iot\"}"), BRS_EVALIDATION, "endpoint"},
        {"iot: endpoint a number", TEXT("{\"method\": \"iot\", \"endpoint\": 1}"), BRS_EVALIDATION,
         "endpoint"},
        {"iot: endpoint a megabyte", build("{\"method\": \"iot\", \"role_alias\": \"a\", \"certificate\": \"c\", "
                                           "\"endpoint\": \"", "e", MEGABYTE, "\"}"),
         BRS_EVALIDATION, "endpoint"},
        {"iot: endpoint not loopback", TEXT("{\"method\": \"iot\", \"role_alias\": \"a\", \"certificate\": \"c\", "
                                             "\"endpoint\": \"example.com\"}"),
         BRS_EVALIDATION, "endpoint"},
        {"iot: role_alias empty", TEXT("{\"method\": \"iot\", \"endpoint\": \"127.0.0.1:9\", \"certificate\": \"c\", "
                                        "\"role_alias\": \"\"}"),
         BRS_EVALIDATION, "role_alias"},
        {"iot: certificate a file that is not there",
         TEXT("{\"method\": \"iot\", \"endpoint\": \"127.0.0.1:9\", \"role_alias\": \"a\", "
               "\"certificate\": \"/nonexistent/cert.pem\", \"private_key\": \"/nonexistent/key.pem\"}"),
         BRS_EVALIDATION, "certificate"},
        {"iot: certificate a megabyte of PEM garbage",
         build("{\"method\": \"iot\", \"endpoint\": \"127.0.0.1:9\", \"role_alias\": \"a\", "
               "\"private_key\": \"k\", \"certificate\": \"-----BEGIN CERTIFICATE-----\\n", "QUFB", MEGABYTE / 4,
               "\\n-----END CERTIFICATE-----\\n\"}"),
         BRS_EVALIDATION, "certificate"},
        {"iot: timeout a string", TEXT("{\"method\": \"iot\", \"timeout\": \"10\"}"), BRS_EVALIDATION,
         "timeout"},
        {"iot: unknown key", TEXT("{\"method\": \"iot\", \"endpoint\": \"127.0.0.1:9\", \"nope\": 1}"),
         BRS_EVALIDATION, "nope"},
        {"iot: unknown pkcs11 key", TEXT("{\"method\": \"iot\", \"pkcs11\": {\"nope\": 1}}"),
         BRS_EVALIDATION, "pkcs11.nope"},
        {"iot: pkcs11 user_pin a number", TEXT("{\"method\": \"iot\", \"pkcs11\": {\"user_pin\": 1234}}"),
         BRS_EVALIDATION, "pkcs11.user_pin"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config_case *c = &cases[i];
        harness_current = c->name;
        brs_session s = 4242;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session(c->json, NULL, NULL, &s, &err), c->status, &err);
        check_error(&err, c->status, c->param);
        CHECK(err.message == NULL || strstr(err.message, SECRET_MARKER) == NULL);
        CHECK(err.value == NULL || strstr(err.value, SECRET_MARKER) == NULL);
        CHECK_INT(s, 4242);
        if (s != 4242) brs_close_session(s);
        brs_error_clear(&err);
        free(c->json);
    }
    harness_current = "test_bad_method_configs";
}

/* ---- callback values --------------------------------------------------- */

/* A callback that sets the four keys from a table, each of which may be
 * replaced by a test; it records what brs_result_set answered. */
struct values {
    const char *access_key, *secret_key, *token, *expiry_time, *error;
    int rc;         /* what the callback returns */
    int set_status; /* worst brs_result_set status */
};

static int values_cb(void *user_data, int request, brs_result *result) {
    struct values *v = user_data;
    (void)request;
    const char *keys[] = {"access_key", "secret_key", "token", "expiry_time", "error"};
    const char *vals[] = {v->access_key, v->secret_key, v->token, v->expiry_time, v->error};
    for (int i = 0; i < 5; i++) {
        if (vals[i] == NULL) continue;
        int st = brs_result_set(result, keys[i], vals[i]);
        if (st != BRS_OK) v->set_status = st;
    }
    return v->rc;
}

static char expiry_ok[32];

struct value_case {
    const char *name;
    struct values v;
    int status;        /* of brs_credentials */
    const char *param; /* err.param */
    int set_status;    /* of the worst brs_result_set */
};

static void run_value_case(struct value_case *tc) {
    harness_current = tc->name;
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", values_cb, &tc->v, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    CHECK_STATUS(brs_credentials(s, &c, &err), tc->status, &err);
    CHECK_INT(tc->v.set_status, tc->set_status);
    if (tc->status != BRS_OK) {
        check_error(&err, tc->status, tc->param);
        CHECK(c.access_key == NULL && c.secret_key == NULL);
        CHECK(err.message == NULL || strstr(err.message, SECRET_MARKER) == NULL);
    }
    brs_error_clear(&err);
    brs_credentials_clear(&c);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* A log sink that counts every line and those holding a secret marker. */
struct secret_sink {
    pthread_mutex_t mu;
    int lines, leaks;
};

static void secret_sink_fn(void *user_data, int level, const char *message) {
    struct secret_sink *k = user_data;
    (void)level;
    pthread_mutex_lock(&k->mu);
    k->lines++;
    if (strstr(message, SECRET_MARKER) != NULL || strstr(message, "ssssssssssssssss") != NULL) k->leaks++;
    pthread_mutex_unlock(&k->mu);
}

static void test_bad_callback_values(void) {
    /* Every refresh failure below is logged: no line may hold a secret
     * (test_logger.c checks one failure's line; these are many more). */
    struct secret_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    brs_set_logger(secret_sink_fn, &sink);
    char *mb_secret = build(SECRET_MARKER, "s", MEGABYTE, "");
    char *mb_plain = build("", "a", MEGABYTE, "");
    char *mb_expiry = build("2030-01-01T00:00:00", "0", MEGABYTE, "Z");
    char *mb_error = build("", "e", MEGABYTE, "");
    char *mb_error3 = build("", "\xe2\x82\xac", MEGABYTE / 3, ""); /* the euro sign: 3 bytes */
    const char *ak = "TESTAK0000000001", *sk = SECRET_MARKER "-1", *tok = "tok-" SECRET_MARKER;
    const char *exp = expiry_ok;
    struct value_case cases[] = {
        /* megabyte values: refused by name, never echoed */
        {"megabyte access_key", {mb_plain, sk, tok, exp, NULL, 0, 0}, BRS_ECREDENTIAL, "access_key", 0},
        {"megabyte secret_key", {ak, mb_secret, tok, exp, NULL, 0, 0}, BRS_ECREDENTIAL, "secret_key", 0},
        {"megabyte token", {ak, sk, mb_secret, exp, NULL, 0, 0}, BRS_ECREDENTIAL, "token", 0},
        {"megabyte expiry", {ak, sk, tok, mb_expiry, NULL, 0, 0}, BRS_ECREDENTIAL, "expiry_time", 0},
        /* a megabyte error message is cut short */
        {"megabyte error", {ak, sk, tok, exp, mb_error, 1, 0}, BRS_ECREDENTIAL,
         "custom_credentials_method", 0},
        {"megabyte multi-byte error", {ak, sk, tok, exp, mb_error3, 1, 0}, BRS_ECREDENTIAL,
         "custom_credentials_method", 0},
        /* invalid UTF-8: refused by brs_result_set, so the key is missing */
        {"invalid UTF-8 access_key", {"TESTAK\xc3\x28", sk, tok, exp, NULL, 0, 0}, BRS_ECREDENTIAL,
         "access_key", BRS_EVALIDATION},
        {"invalid UTF-8 token", {ak, sk, "\xed\xa0\x80" SECRET_MARKER, exp, NULL, 0, 0}, BRS_ECREDENTIAL,
         "token", BRS_EVALIDATION},
        {"invalid UTF-8 expiry", {ak, sk, tok, "2030-01-01T00:00:00Z\xff", NULL, 0, 0}, BRS_ECREDENTIAL,
         "expiry_time", BRS_EVALIDATION},
        /* an error message that is not UTF-8 is dropped; the failure stays */
        {"invalid UTF-8 error", {ak, sk, tok, exp, "bad \xff message", 1, 0}, BRS_ECREDENTIAL,
         "custom_credentials_method", BRS_EVALIDATION},
        /* embedded NUL: the C string ends there */
        {"NUL ends the token early", {ak, sk, "\0" SECRET_MARKER, exp, NULL, 0, 0}, BRS_ECREDENTIAL,
         "token", 0},
        /* expiries that cannot be used */
        {"expiry Feb 30", {ak, sk, tok, "2030-02-30T00:00:00Z", NULL, 0, 0}, BRS_ECREDENTIAL,
         "expiry_time", 0},
        {"expiry offset +25:00", {ak, sk, tok, "2030-01-01T00:00:00+25:00", NULL, 0, 0},
         BRS_ECREDENTIAL, "expiry_time", 0},
        {"expiry a date", {ak, sk, tok, "2030-01-01", NULL, 0, 0}, BRS_ECREDENTIAL, "expiry_time", 0},
        {"expiry unix seconds", {ak, sk, tok, "1893456000", NULL, 0, 0}, BRS_ECREDENTIAL,
         "expiry_time", 0},
        {"expiry empty", {ak, sk, tok, "", NULL, 0, 0}, BRS_ECREDENTIAL, "expiry_time", 0},
        {"expiry blank", {ak, sk, tok, " \t ", NULL, 0, 0}, BRS_ECREDENTIAL, "expiry_time", 0},
        {"expiry zero time", {ak, sk, tok, "0001-01-01T00:00:00Z", NULL, 0, 0}, BRS_ECREDENTIAL,
         "expiry_time", 0},
        {"expiry naive past", {ak, sk, tok, "2001-01-01T00:00:00", NULL, 0, 0}, BRS_ECREDENTIAL,
         "expiry_time", 0},
        /* a negative return is a failure like any non-zero one */
        {"negative return", {ak, sk, tok, exp, NULL, -1, 0}, BRS_ECREDENTIAL,
         "custom_credentials_method", 0},
        /* odd but valid */
        {"expiry naive future", {ak, sk, tok, "2099-01-01T00:00:00", NULL, 0, 0}, BRS_OK, NULL, 0},
        {"expiry padded", {ak, sk, tok, "  2099-01-01T00:00:00Z  ", NULL, 0, 0}, BRS_OK, NULL, 0},
        {"expiry nanoseconds", {ak, sk, tok, "2099-01-01T00:00:00.123456789+01:00", NULL, 0, 0}, BRS_OK,
         NULL, 0},
        {"non-ASCII values", {"TESTAK\xc3\xa9", "s\xe2\x82\xac", "t\xf0\x9f\x94\x91", exp, NULL, 0, 0},
         BRS_OK, NULL, 0},
        {"error set on success is ignored", {ak, sk, tok, exp, "ignored", 0, 0}, BRS_OK, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_value_case(&cases[i]);
    harness_current = "test_bad_callback_values";
    brs_set_logger(NULL, NULL);
    CHECK(sink.lines >= 10);
    CHECK_INT(sink.leaks, 0);
    free(mb_secret);
    free(mb_plain);
    free(mb_expiry);
    free(mb_error);
    free(mb_error3);
}

/* brs_result_set's own argument checks, from inside a callback. */
struct set_args {
    int null_key, null_value, empty_key, unknown_key, bad_key, key_with_nul, set_twice;
};

static int set_args_cb(void *user_data, int request, brs_result *result) {
    struct set_args *a = user_data;
    (void)request;
    a->null_key = brs_result_set(result, NULL, "x");
    a->null_value = brs_result_set(result, "access_key", NULL);
    a->empty_key = brs_result_set(result, "", "x");
    a->unknown_key = brs_result_set(result, "ACCESS_KEY", "x");
    a->bad_key = brs_result_set(result, "access_key\xff", "x");
    /* "access_key\0junk" is the C string "access_key" */
    a->key_with_nul = brs_result_set(result, "access_key\0junk", "TESTAK0000000009");
    brs_result_set(result, "secret_key", "first");
    a->set_twice = brs_result_set(result, "secret_key", SECRET_MARKER);
    brs_result_set(result, "token", "t");
    brs_result_set(result, "expiry_time", expiry_ok);
    return 0;
}

static void test_result_set_arguments(void) {
    struct set_args a;
    memset(&a, -1, sizeof a);
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{}", set_args_cb, &a, &s, &err), BRS_OK, &err);
    struct brs_credentials c = {0};
    /* Every refusal is reported by brs_result_set, and the first one also
     * fails the callback's answer, although the callback returned 0. */
    CHECK_STATUS(brs_credentials(s, &c, &err), BRS_ECREDENTIAL, &err);
    CHECK_CONTAINS(err.message, "the key is NULL");
    brs_error_clear(&err);
    CHECK_INT(a.null_key, BRS_EVALIDATION);
    CHECK_INT(a.null_value, BRS_EVALIDATION);
    CHECK_INT(a.empty_key, BRS_EVALIDATION);
    CHECK_INT(a.unknown_key, BRS_EVALIDATION);
    CHECK_INT(a.bad_key, BRS_EVALIDATION);
    CHECK_INT(a.key_with_nul, BRS_OK);
    CHECK_INT(a.set_twice, BRS_OK);
    CHECK(c.access_key == NULL);
    brs_credentials_clear(&c);
    brs_error_clear(&err);
    CHECK_INT(brs_close_session(s), BRS_OK);
}

/* ---- odd arguments to the other functions ------------------------------ */

static void test_null_error_structs(void) {
    /* Every failing call works with err == NULL. */
    struct getter g = {.lifetime_ms = 3600 * 1000, .fail = 1};
    brs_session s = 0;
    CHECK_INT(brs_new_session("{\"method\": 1}", getter_cb, &g, &s, NULL), BRS_EVALIDATION);
    CHECK_INT(brs_new_session(NULL, NULL, NULL, NULL, NULL), BRS_EVALIDATION);
    CHECK_INT(brs_new_session("{}", getter_cb, &g, &s, NULL), BRS_OK);
    CHECK_INT(brs_credentials(s, NULL, NULL), BRS_EVALIDATION);
    struct brs_credentials c = {0};
    CHECK_INT(brs_credentials(s, &c, NULL), BRS_ECREDENTIAL);
    CHECK_INT(brs_refresh(s, NULL, NULL), BRS_ECREDENTIAL);
    CHECK_INT(brs_whoami(s, NULL, NULL), BRS_EVALIDATION);
    CHECK(c.access_key == NULL);
    CHECK_INT(brs_close_session(s), BRS_OK);
    CHECK_INT(brs_refresh(s, NULL, NULL), BRS_ECLOSED);
}

static void test_garbage_in_out_structs(void) {
    /* Output structs are zeroed on entry: garbage in them is never read or
     * freed (the documented contract is to start zeroed; the library must
     * still not crash when a caller forgets). */
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s = 0;
    brs_error err;
    memset(&err, 0, sizeof err);
    CHECK_STATUS(open_session(&g, "", &s, &err), BRS_OK, &err);
    struct brs_credentials c;
    memset(&c, 0xAB, sizeof c);
    brs_error err2;
    memset(&err2, 0xCD, sizeof err2);
    CHECK_STATUS(brs_credentials(s, &c, &err2), BRS_OK, &err2);
    CHECK_INT(err2.status, 0);
    CHECK(err2.message == NULL && err2.param == NULL);
    CHECK_STR(c.access_key, "TESTAK0000000001");
    brs_credentials_clear(&c);
    char *json = (char *)0x1; /* overwritten, never freed */
    CHECK_STATUS(brs_whoami(s, &json, &err2), BRS_OK, &err2);
    CHECK_STR(json, "{\"method\":\"custom\"}");
    brs_free(json);
    CHECK_INT(brs_close_session(s), BRS_OK);
    memset(&err2, 0xCD, sizeof err2);
    CHECK_STATUS(brs_whoami(s, &json, &err2), BRS_ECLOSED, &err2);
    CHECK(json == NULL);
    brs_error_clear(&err2);
}

/* A refresh listener that calls back into its own session. */
struct pushy {
    brs_session session;
    atomic_int pushes, credentials_status, close_status, on_refresh_status;
};

static void pushy_fn(void *user_data, const struct brs_credentials *creds) {
    struct pushy *p = user_data;
    struct brs_credentials c = {0};
    atomic_store(&p->credentials_status, brs_credentials(p->session, &c, NULL));
    brs_credentials_clear(&c);
    atomic_store(&p->close_status, brs_close_session(p->session));
    atomic_store(&p->on_refresh_status, brs_on_refresh(p->session, NULL, NULL));
    if (creds != NULL && creds->access_key != NULL) atomic_fetch_add(&p->pushes, 1);
}

static void test_on_refresh_odd_calls(void) {
    /* unknown, zero and closed handles */
    CHECK_INT(brs_on_refresh(0, pushy_fn, NULL), BRS_ECLOSED);
    CHECK_INT(brs_on_refresh(UINT64_MAX, pushy_fn, NULL), BRS_ECLOSED);
    struct getter g = {.lifetime_ms = 3600 * 1000};
    struct pushy p = {0};
    brs_error err = {0};
    CHECK_STATUS(open_session(&g, "", &p.session, &err), BRS_OK, &err);
    CHECK_INT(brs_on_refresh(p.session, NULL, NULL), BRS_OK); /* nothing to remove: fine */
    CHECK_INT(brs_on_refresh(p.session, pushy_fn, &p), BRS_OK);
    /* the listener's calls into its own session work when they need not
     * wait (fresh credentials, removing itself) and are refused, not hung,
     * when they would */
    CHECK_STATUS(brs_refresh(p.session, NULL, &err), BRS_OK, &err);
    CHECK_INT(wait_for_count(&p.pushes, 1, 60000), 1);
    CHECK_INT(atomic_load(&p.credentials_status), BRS_OK);
    CHECK_INT(atomic_load(&p.close_status), BRS_ERROR);
    CHECK_INT(atomic_load(&p.on_refresh_status), BRS_OK);
    CHECK_INT(brs_close_session(p.session), BRS_OK);
    CHECK_INT(brs_on_refresh(p.session, pushy_fn, &p), BRS_ECLOSED);
}

static void test_logger_null_and_odd_levels(void) {
    /* NULL logger twice, then a logger that ignores everything. */
    brs_set_logger(NULL, NULL);
    brs_set_logger(NULL, (void *)0x1);
    brs_free(NULL);
    brs_credentials_clear(NULL);
    brs_error_clear(NULL);
}

int main(void) {
    iso8601_ms(now_ms() + 3600 * 1000, expiry_ok);
    RUN(test_bad_configs);
    RUN(test_bad_method_configs);
    RUN(test_bad_callback_values);
    RUN(test_result_set_arguments);
    RUN(test_null_error_structs);
    RUN(test_garbage_in_out_structs);
    RUN(test_on_refresh_odd_calls);
    RUN(test_logger_null_and_odd_levels);
    return harness_exit();
}
