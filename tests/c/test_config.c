/* Bad configs: every one is BRS_EVALIDATION (or BRS_ECONFIGURATION) naming
 * the parameter, and the getter is never called. */
#include <stdio.h>
#include "harness.h"

struct bad_config {
    const char *name;
    const char *json;
    int status;
    const char *param; /* expected err.param */
};

/* A config of one key whose value is wrong: refused, naming the key. */
#define BAD_VALUE(name, key, value) {name, "{\"" key "\": " value "}", BRS_EVALIDATION, key}

static const struct bad_config bad_configs[] = {
    {"malformed JSON", "{\"method\": ", BRS_EVALIDATION, "config"},
    {"not an object", "[1, 2]", BRS_EVALIDATION, "config"},
    {"null", "null", BRS_EVALIDATION, "config"},
    BAD_VALUE("advisory_timeout a string", "advisory_timeout", "\"x\""),
    BAD_VALUE("mandatory_timeout a bool", "mandatory_timeout", "true"),
    BAD_VALUE("defer_refresh a string", "defer_refresh", "\"no\""),
    BAD_VALUE("background_refresh a number", "background_refresh", "1"),
    {"method a number", "{\"method\": 7}", BRS_EVALIDATION, "method"},
    {"unknown method", "{\"method\": \"kerberos\"}", BRS_EVALIDATION, "method"},
    {"unknown key", "{\"method\": \"custom\", \"region\": \"eu-west-1\"}", BRS_EVALIDATION,
     "region"},
    BAD_VALUE("negative advisory", "advisory_timeout", "-1"),
    BAD_VALUE("negative mandatory", "mandatory_timeout", "-0.5"),
    BAD_VALUE("huge advisory", "advisory_timeout", "1e300"),
    {"invalid UTF-8", "{\"method\": \"cust\xff\xfeom\"}", BRS_EVALIDATION, "config_json"},
    {"invalid UTF-8 in a key", "{\"\xc3\x28\": 1}", BRS_EVALIDATION, "config_json"},
    /* JSON can carry a NUL as an escape; it never matches a name. */
    {"escaped NUL in method", "{\"method\": \"custom\\u0000\"}", BRS_EVALIDATION, "method"},
    /* A NUL inside error text is spelled \u0000, not cut short. */
    {"escaped NUL in a key", "{\"defer_refresh\\u0000\": true}", BRS_EVALIDATION,
     "defer_refresh\\u0000"},
    /* Nothing to read is not {} (a config lost on the way, say). */
    {"empty", "", BRS_EVALIDATION, "config"},
    {"whitespace only", " \t\r\n ", BRS_EVALIDATION, "config"},
    /* A key given twice is refused, naming it, at any depth. */
    {"duplicate method", "{\"method\": \"sts\", \"method\": \"custom\"}", BRS_EVALIDATION, "method"},
    {"duplicate after an escape", "{\"advisory_timeout\": 60, \"advisory\\u005ftimeout\": 30}",
     BRS_EVALIDATION, "advisory_timeout"},
    {"duplicate nested", "{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": \"a\", \"RoleArn\": \"b\"}}",
     BRS_EVALIDATION, "assume_role_kwargs.RoleArn"},
};

static void test_bad_configs(void) {
    for (size_t i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        const struct bad_config *c = &bad_configs[i];
        harness_current = c->name;
        struct getter g = {.lifetime_ms = 3600 * 1000};
        brs_session s = 4242;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session(c->json, getter_cb, &g, &s, &err), c->status, &err);
        CHECK_INT(err.status, c->status);
        CHECK(err.message != NULL && err.message[0] != '\0');
        CHECK_STR(err.param, c->param);
        CHECK_INT(s, 4242); /* out untouched on failure */
        CHECK_INT(atomic_load(&g.calls), 0);
        brs_error_clear(&err);
    }
    harness_current = "test_bad_configs";
}

static void test_value_is_reported_not_secret(void) {
    struct getter g = {.lifetime_ms = 3600 * 1000};
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{\"advisory_timeout\": -5}", getter_cb, &g, &s, &err),
                 BRS_EVALIDATION, &err);
    CHECK_STR(err.value, "-5");
    CHECK_CONTAINS(err.message, "advisory_timeout");
    CHECK_INT(err.http_status, 0);
    CHECK(err.aws_code == NULL);
    CHECK(err.details == NULL);
    brs_error_clear(&err);
}

static void test_custom_without_callback(void) {
    brs_session s;
    brs_error err = {0};
    CHECK_STATUS(brs_new_session("{\"method\": \"custom\"}", NULL, NULL, &s, &err),
                 BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "custom_credentials_method");
    CHECK_CONTAINS(err.message, "callback");
    brs_error_clear(&err);
    /* "custom" is the default method. */
    CHECK_STATUS(brs_new_session("{}", NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
    CHECK_STR(err.param, "custom_credentials_method");
    brs_error_clear(&err);
}

/* Valid configs, the odd ones too (whitespace of every JSON kind, numbers
 * with exponents, a NUL that ends the C string before garbage after it),
 * open a session that reads the getter's credentials. (A duplicated key is
 * an error: bad_configs above.) */
static void test_good_configs(void) {
    const char *good[] = {
        "{}",
        "  {\"method\": \"custom\"}  ",
        " \t\r\n{ \"method\" :\t\"custom\" } \r\n",
        "{\"advisory_timeout\": 0, \"mandatory_timeout\": 0}",
        "{\"advisory_timeout\": 60.5, \"mandatory_timeout\": 60.5, \"defer_refresh\": true}",
        "{\"advisory_timeout\": 6e1, \"mandatory_timeout\": 0.5e2}",
        "{\"background_refresh\": false}",
        "{}\0{{{ not read",
        "{\"defer_refresh\": true}\0\xff\xfe garbage",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct getter g = {.lifetime_ms = 3600 * 1000};
        brs_session s = 0;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session(good[i], getter_cb, &g, &s, &err), BRS_OK, &err);
        CHECK(s != 0);
        brs_error_clear(&err);
        struct brs_credentials c = {0};
        CHECK_STATUS(brs_credentials(s, &c, &err), BRS_OK, &err);
        CHECK_STR(c.access_key, "TESTAK0000000001");
        brs_credentials_clear(&c);
        brs_error_clear(&err);
        CHECK_INT(brs_close_session(s), BRS_OK);
    }
}

/* err->details says who would refuse a parameter: botocore itself under
 * the API minimum, STS over the maximum. */
static void test_details_name_the_refuser(void) {
    static const struct {
        const char *duration;
        const char *refuser;
    } cases[] = {{"60", "\"botocore\":\"ParamValidationError\""},
                 {"99999", "\"botocore\":\"ClientError\""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char config[256];
        snprintf(config, sizeof config,
                 "{\"method\": \"sts\", \"assume_role_kwargs\": {\"RoleArn\": "
                 "\"arn:aws:iam::123456789012:role/r\", \"DurationSeconds\": %s}}",
                 cases[i].duration);
        brs_session s;
        brs_error err = {0};
        CHECK_STATUS(brs_new_session(config, NULL, NULL, &s, &err), BRS_EVALIDATION, &err);
        CHECK_STR(err.param, "assume_role_kwargs.DurationSeconds");
        CHECK_CONTAINS(err.details, cases[i].refuser);
        brs_error_clear(&err);
        CHECK(err.details == NULL);
    }
}

int main(void) {
    RUN(test_bad_configs);
    RUN(test_details_name_the_refuser);
    RUN(test_value_is_reported_not_secret);
    RUN(test_custom_without_callback);
    RUN(test_good_configs);
    return harness_exit();
}
