package sts

import (
	"strings"
	"testing"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func items(n int, item func(i int) any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = item(i)
	}
	return out
}

func tag(i int) any { return map[string]any{"Key": "k" + repeat("x", i), "Value": "v"} }

const arn20 = "arn:aws:iam::1:role/x" // 21 characters

// TestSTSConfigValidation: every AssumeRole parameter, client setting and
// MFA option is checked when the session is built, with an error of the
// right kind naming the parameter, and secrets are never echoed.
func TestSTSConfigValidation(t *testing.T) {
	const endpoint = "http://127.0.0.1:9"
	tests := []struct {
		name   string
		assume map[string]any
		client map[string]any
		extra  map[string]any
		kind   core.Kind
		param  string
	}{
		// assume_role_kwargs
		{"RoleArn missing", map[string]any{"RoleArn": nil}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleArn"},
		{"RoleArn short", map[string]any{"RoleArn": "arn:aws:iam::1:r"}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleArn"},
		{"RoleArn long", map[string]any{"RoleArn": "arn:" + repeat("a", 2045)}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleArn"},
		{"RoleArn control char", map[string]any{"RoleArn": arn20 + "\x01"}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleArn"},
		{"RoleArn not a string", map[string]any{"RoleArn": 42}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleArn"},
		{"RoleSessionName short", map[string]any{"RoleSessionName": "a"}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleSessionName"},
		{"RoleSessionName long", map[string]any{"RoleSessionName": repeat("a", 65)}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleSessionName"},
		{"RoleSessionName empty", map[string]any{"RoleSessionName": ""}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleSessionName"},
		{"RoleSessionName pattern", map[string]any{"RoleSessionName": "bad name"}, nil, nil, core.KindValidation, "assume_role_kwargs.RoleSessionName"},
		{"PolicyArns too many", map[string]any{"PolicyArns": items(11, func(int) any { return map[string]any{"arn": arn20} })}, nil, nil, core.KindValidation, "assume_role_kwargs.PolicyArns"},
		{"PolicyArns arn short", map[string]any{"PolicyArns": []any{map[string]any{"arn": "arn:x"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.PolicyArns[0].arn"},
		{"PolicyArns wrong key case", map[string]any{"PolicyArns": []any{map[string]any{"Arn": arn20}}}, nil, nil, core.KindValidation, "assume_role_kwargs.PolicyArns[0].Arn"},
		{"PolicyArns not a list", map[string]any{"PolicyArns": "arn"}, nil, nil, core.KindValidation, "assume_role_kwargs.PolicyArns"},
		{"Policy empty", map[string]any{"Policy": ""}, nil, nil, core.KindValidation, "assume_role_kwargs.Policy"},
		{"Policy long", map[string]any{"Policy": repeat("p", 2049)}, nil, nil, core.KindValidation, "assume_role_kwargs.Policy"},
		{"Policy bad char", map[string]any{"Policy": "{\x02}"}, nil, nil, core.KindValidation, "assume_role_kwargs.Policy"},
		{"DurationSeconds low", map[string]any{"DurationSeconds": 899}, nil, nil, core.KindValidation, "assume_role_kwargs.DurationSeconds"},
		{"DurationSeconds high", map[string]any{"DurationSeconds": 43201}, nil, nil, core.KindValidation, "assume_role_kwargs.DurationSeconds"},
		{"DurationSeconds fraction", map[string]any{"DurationSeconds": 900.5}, nil, nil, core.KindValidation, "assume_role_kwargs.DurationSeconds"},
		{"DurationSeconds string", map[string]any{"DurationSeconds": "900"}, nil, nil, core.KindValidation, "assume_role_kwargs.DurationSeconds"},
		{"DurationSeconds huge", map[string]any{"DurationSeconds": 1e300}, nil, nil, core.KindValidation, "assume_role_kwargs.DurationSeconds"},
		{"ExternalId short", map[string]any{"ExternalId": "e"}, nil, nil, core.KindValidation, "assume_role_kwargs.ExternalId"},
		{"ExternalId long", map[string]any{"ExternalId": repeat("e", 1225)}, nil, nil, core.KindValidation, "assume_role_kwargs.ExternalId"},
		{"ExternalId pattern", map[string]any{"ExternalId": "no spaces"}, nil, nil, core.KindValidation, "assume_role_kwargs.ExternalId"},
		{"SerialNumber short", map[string]any{"SerialNumber": "ABCDEFGH", "TokenCode": "123456"}, nil, nil, core.KindValidation, "assume_role_kwargs.SerialNumber"},
		{"SerialNumber long", map[string]any{"SerialNumber": repeat("s", 257), "TokenCode": "123456"}, nil, nil, core.KindValidation, "assume_role_kwargs.SerialNumber"},
		{"SerialNumber pattern", map[string]any{"SerialNumber": "serial number!", "TokenCode": "123456"}, nil, nil, core.KindValidation, "assume_role_kwargs.SerialNumber"},
		{"TokenCode short", map[string]any{"SerialNumber": testSerial, "TokenCode": "12345"}, nil, nil, core.KindValidation, "assume_role_kwargs.TokenCode"},
		{"TokenCode letters", map[string]any{"SerialNumber": testSerial, "TokenCode": "12345a"}, nil, nil, core.KindValidation, "assume_role_kwargs.TokenCode"},
		{"TokenCode number", map[string]any{"SerialNumber": testSerial, "TokenCode": 123456}, nil, nil, core.KindValidation, "assume_role_kwargs.TokenCode"},
		{"Tags too many", map[string]any{"Tags": items(51, tag)}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags"},
		{"Tag key empty", map[string]any{"Tags": []any{map[string]any{"Key": "", "Value": "v"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Key"},
		{"Tag key long", map[string]any{"Tags": []any{map[string]any{"Key": repeat("k", 129), "Value": "v"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Key"},
		{"Tag key pattern", map[string]any{"Tags": []any{tag(0), map[string]any{"Key": "a*b", "Value": "v"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[1].Key"},
		{"Tag value long", map[string]any{"Tags": []any{map[string]any{"Key": "k", "Value": repeat("v", 257)}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Value"},
		{"Tag value pattern", map[string]any{"Tags": []any{map[string]any{"Key": "k", "Value": "a;b"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Value"},
		{"Tag duplicate key", map[string]any{"Tags": []any{map[string]any{"Key": "Team", "Value": "a"}, map[string]any{"Key": "team", "Value": "b"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[1].Key"},
		{"Tag unknown field", map[string]any{"Tags": []any{map[string]any{"Key": "k", "Value": "v", "Color": "red"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Color"},
		{"Tag value wrong type", map[string]any{"Tags": []any{map[string]any{"Key": "k", "Value": 1}}}, nil, nil, core.KindValidation, "assume_role_kwargs.Tags[0].Value"},
		{"TransitiveTagKeys too many", map[string]any{"TransitiveTagKeys": items(51, func(i int) any { return "k" })}, nil, nil, core.KindValidation, "assume_role_kwargs.TransitiveTagKeys"},
		{"TransitiveTagKeys empty key", map[string]any{"TransitiveTagKeys": []any{""}}, nil, nil, core.KindValidation, "assume_role_kwargs.TransitiveTagKeys[0]"},
		{"TransitiveTagKeys not strings", map[string]any{"TransitiveTagKeys": []any{"a", 1}}, nil, nil, core.KindValidation, "assume_role_kwargs.TransitiveTagKeys[1]"},
		{"SourceIdentity short", map[string]any{"SourceIdentity": "s"}, nil, nil, core.KindValidation, "assume_role_kwargs.SourceIdentity"},
		{"SourceIdentity long", map[string]any{"SourceIdentity": repeat("s", 65)}, nil, nil, core.KindValidation, "assume_role_kwargs.SourceIdentity"},
		{"SourceIdentity pattern", map[string]any{"SourceIdentity": "a/b"}, nil, nil, core.KindValidation, "assume_role_kwargs.SourceIdentity"},
		{"ProvidedContexts too many", map[string]any{"ProvidedContexts": items(6, func(int) any {
			return map[string]any{"ProviderArn": arn20, "ContextAssertion": "abcd"}
		})}, nil, nil, core.KindValidation, "assume_role_kwargs.ProvidedContexts"},
		{"ProviderArn short", map[string]any{"ProvidedContexts": []any{map[string]any{"ProviderArn": "arn", "ContextAssertion": "abcd"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.ProvidedContexts[0].ProviderArn"},
		{"ContextAssertion short", map[string]any{"ProvidedContexts": []any{map[string]any{"ProviderArn": arn20, "ContextAssertion": "abc"}}}, nil, nil, core.KindValidation, "assume_role_kwargs.ProvidedContexts[0].ContextAssertion"},
		{"ContextAssertion long", map[string]any{"ProvidedContexts": []any{map[string]any{"ProviderArn": arn20, "ContextAssertion": repeat("c", 2049)}}}, nil, nil, core.KindValidation, "assume_role_kwargs.ProvidedContexts[0].ContextAssertion"},
		{"unknown AssumeRole key", map[string]any{"MinimumSessionTokenSize": 1}, nil, nil, core.KindValidation, "assume_role_kwargs.MinimumSessionTokenSize"},
		{"AssumeRole key case", map[string]any{"rolesessionname": "abc"}, nil, nil, core.KindValidation, "assume_role_kwargs.rolesessionname"},
		{"assume_role_kwargs missing", map[string]any{"RoleArn": nil}, nil, map[string]any{"assume_role_kwargs": nil}, core.KindValidation, "assume_role_kwargs"},
		{"assume_role_kwargs not an object", nil, nil, map[string]any{"assume_role_kwargs": []any{}}, core.KindValidation, "assume_role_kwargs"},

		// MFA rules (the anchor's configuration errors)
		{"SerialNumber without token source", map[string]any{"SerialNumber": testSerial}, nil, nil, core.KindConfiguration, "assume_role_kwargs.SerialNumber"},
		{"TokenCode without SerialNumber", map[string]any{"TokenCode": "123456"}, nil, nil, core.KindConfiguration, "assume_role_kwargs.SerialNumber"},
		{"command without SerialNumber", nil, nil, map[string]any{"mfa_token_provider": "ykman oath code"}, core.KindConfiguration, "assume_role_kwargs.SerialNumber"},
		{"empty command string", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "  "}, core.KindConfiguration, "mfa_token_provider"},
		{"empty command list", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": []any{}}, core.KindConfiguration, "mfa_token_provider"},
		{"empty program", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": []any{""}}, core.KindConfiguration, "mfa_token_provider"},
		{"unbalanced quote", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "ykman 'oath"}, core.KindConfiguration, "mfa_token_provider"},
		{"command wrong type", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": 5}, core.KindValidation, "mfa_token_provider"},
		{"command list of numbers", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": []any{1}}, core.KindValidation, "mfa_token_provider"},
		{"kwargs without command", map[string]any{"SerialNumber": testSerial, "TokenCode": "123456"}, nil, map[string]any{"mfa_token_provider_kwargs": map[string]any{"timeout": 5}}, core.KindConfiguration, "mfa_token_provider_kwargs"},
		{"kwargs shell", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"shell": true}}, core.KindConfiguration, "mfa_token_provider_kwargs.shell"},
		{"kwargs executable", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"executable": "/bin/sh"}}, core.KindConfiguration, "mfa_token_provider_kwargs.executable"},
		{"kwargs preexec_fn", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"preexec_fn": "f"}}, core.KindConfiguration, "mfa_token_provider_kwargs.preexec_fn"},
		{"kwargs stdout", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"stdout": 1}}, core.KindConfiguration, "mfa_token_provider_kwargs.stdout"},
		{"kwargs stderr", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"stderr": 1}}, core.KindConfiguration, "mfa_token_provider_kwargs.stderr"},
		{"kwargs unknown", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"bogus": 1}}, core.KindConfiguration, "mfa_token_provider_kwargs.bogus"},
		{"kwargs timeout zero", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"timeout": 0}}, core.KindValidation, "mfa_token_provider_kwargs.timeout"},
		{"kwargs timeout string", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"timeout": "30"}}, core.KindValidation, "mfa_token_provider_kwargs.timeout"},
		{"kwargs env not strings", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"env": map[string]any{"A": 1}}}, core.KindValidation, "mfa_token_provider_kwargs.env.A"},
		{"kwargs env bad key", map[string]any{"SerialNumber": testSerial}, nil, map[string]any{"mfa_token_provider": "x", "mfa_token_provider_kwargs": map[string]any{"env": map[string]any{"A=B": "1"}}}, core.KindValidation, "mfa_token_provider_kwargs.env"},

		// sts_client_kwargs
		{"region_name", nil, map[string]any{"region_name": "us east 1"}, nil, core.KindValidation, "sts_client_kwargs.region_name"},
		{"region_name type", nil, map[string]any{"region_name": 1}, nil, core.KindValidation, "sts_client_kwargs.region_name"},
		{"endpoint_url scheme", nil, map[string]any{"endpoint_url": "ftp://127.0.0.1"}, nil, core.KindValidation, "sts_client_kwargs.endpoint_url"},
		{"endpoint_url relative", nil, map[string]any{"endpoint_url": "localhost/sts"}, nil, core.KindValidation, "sts_client_kwargs.endpoint_url"},
		{"use_ssl type", nil, map[string]any{"use_ssl": "yes"}, nil, core.KindValidation, "sts_client_kwargs.use_ssl"},
		{"verify number", nil, map[string]any{"verify": 1}, nil, core.KindValidation, "sts_client_kwargs.verify"},
		{"verify empty path", nil, map[string]any{"verify": ""}, nil, core.KindValidation, "sts_client_kwargs.verify"},
		{"access key without secret", nil, map[string]any{"aws_secret_access_key": nil}, nil, core.KindConfiguration, "sts_client_kwargs.aws_secret_access_key"},
		{"secret without access key", nil, map[string]any{"aws_access_key_id": nil}, nil, core.KindConfiguration, "sts_client_kwargs.aws_access_key_id"},
		{"token without keys", nil, map[string]any{"aws_access_key_id": nil, "aws_secret_access_key": nil, "aws_session_token": "tok"}, nil, core.KindConfiguration, "sts_client_kwargs.aws_access_key_id"},
		{"secret with a newline", nil, map[string]any{"aws_secret_access_key": "line\nbreak"}, nil, core.KindValidation, "sts_client_kwargs.aws_secret_access_key"},
		{"aws_account_id", nil, map[string]any{"aws_account_id": "12"}, nil, core.KindValidation, "sts_client_kwargs.aws_account_id"},
		{"service_name", nil, map[string]any{"service_name": "s3"}, nil, core.KindValidation, "sts_client_kwargs.service_name"},
		{"api_version", nil, map[string]any{"api_version": "2020-01-01"}, nil, core.KindValidation, "sts_client_kwargs.api_version"},
		{"unknown client key", nil, map[string]any{"profile_name": "dev"}, nil, core.KindValidation, "sts_client_kwargs.profile_name"},
		{"config unknown key", nil, map[string]any{"config": map[string]any{"tcp_keepalive": true}}, nil, core.KindValidation, "sts_client_kwargs.config.tcp_keepalive"},
		{"connect_timeout zero", nil, map[string]any{"config": map[string]any{"connect_timeout": 0}}, nil, core.KindValidation, "sts_client_kwargs.config.connect_timeout"},
		{"read_timeout negative", nil, map[string]any{"config": map[string]any{"read_timeout": -1}}, nil, core.KindValidation, "sts_client_kwargs.config.read_timeout"},
		{"read_timeout huge", nil, map[string]any{"config": map[string]any{"read_timeout": 1e9}}, nil, core.KindValidation, "sts_client_kwargs.config.read_timeout"},
		{"retries mode", nil, map[string]any{"config": map[string]any{"retries": map[string]any{"mode": "fast"}}}, nil, core.KindValidation, "sts_client_kwargs.config.retries.mode"},
		{"retries max_attempts negative", nil, map[string]any{"config": map[string]any{"retries": map[string]any{"max_attempts": -1}}}, nil, core.KindValidation, "sts_client_kwargs.config.retries.max_attempts"},
		{"retries max_attempts fraction", nil, map[string]any{"config": map[string]any{"retries": map[string]any{"max_attempts": 1.5}}}, nil, core.KindValidation, "sts_client_kwargs.config.retries.max_attempts"},
		{"retries total_max_attempts zero", nil, map[string]any{"config": map[string]any{"retries": map[string]any{"total_max_attempts": 0}}}, nil, core.KindValidation, "sts_client_kwargs.config.retries.total_max_attempts"},
		{"retries unknown key", nil, map[string]any{"config": map[string]any{"retries": map[string]any{"backoff": 1}}}, nil, core.KindValidation, "sts_client_kwargs.config.retries.backoff"},
		{"proxies key", nil, map[string]any{"config": map[string]any{"proxies": map[string]any{"ftp": "http://p:1"}}}, nil, core.KindValidation, "sts_client_kwargs.config.proxies"},
		{"proxies url", nil, map[string]any{"config": map[string]any{"proxies": map[string]any{"https": "proxy"}}}, nil, core.KindValidation, "sts_client_kwargs.config.proxies.https"},
		{"proxies scheme", nil, map[string]any{"config": map[string]any{"proxies": map[string]any{"https": "ftp://user:pw@p:1"}}}, nil, core.KindValidation, "sts_client_kwargs.config.proxies.https"},
		{"sts_client_kwargs not an object", nil, nil, map[string]any{"sts_client_kwargs": "x"}, core.KindValidation, "sts_client_kwargs"},
		{"unknown top-level key", nil, nil, map[string]any{"role_arn": "x"}, core.KindValidation, "role_arn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := stsConfig(endpoint, tt.assume, tt.client, tt.extra)
			s, err := core.NewSessionFromJSON(cfg, core.Hooks{})
			if err == nil {
				s.Close()
				t.Fatalf("config accepted: %s", cfg)
			}
			e := wantErr(t, err, tt.kind, tt.param)
			if strings.HasSuffix(tt.name, "not an object") && !strings.Contains(e.Error(), "must be an object") {
				t.Errorf("message does not say an object is wanted: %v", e)
			}
			text := e.Error() + " " + e.Value
			for _, secret := range []string{testSourceSecret, "123456", "12345a", "no spaces", "pw@", "line\nbreak"} {
				if strings.Contains(text, secret) {
					t.Errorf("error echoes %q: %s", secret, text)
				}
			}
		})
	}
}

// TestSTSConfigAccepted: values at the AWS limits are accepted.
func TestSTSConfigAccepted(t *testing.T) {
	assume := map[string]any{
		"RoleArn":           "arn:" + repeat("a", 2044),
		"RoleSessionName":   repeat("s", 64),
		"PolicyArns":        items(10, func(int) any { return map[string]any{"arn": "arn:aws:iam::1:policy/a"} }),
		"Policy":            repeat("p", 2048),
		"DurationSeconds":   43200,
		"ExternalId":        repeat("e", 1224),
		"SerialNumber":      "GAHT12345",
		"TokenCode":         "000000",
		"Tags":              items(50, tag),
		"TransitiveTagKeys": items(50, func(int) any { return repeat("k", 128) }),
		"SourceIdentity":    "id",
		"ProvidedContexts":  items(5, func(int) any { return map[string]any{"ProviderArn": arn20, "ContextAssertion": "abcd"} }),
	}
	client := map[string]any{
		"verify": false, "use_ssl": true, "aws_account_id": "123456789012", "service_name": "sts", "api_version": "2011-06-15",
		"config": map[string]any{"connect_timeout": 0.5, "read_timeout": 86400, "retries": map[string]any{"max_attempts": 99, "mode": "standard"},
			"proxies": map[string]any{"http": "http://user:pw@127.0.0.1:3128", "https": "socks5://127.0.0.1:1080"}},
	}
	extra := map[string]any{"mfa_token_provider": []string{"true"}, "mfa_token_provider_kwargs": map[string]any{"timeout": 86400, "env": map[string]any{}, "cwd": "/"}}
	s, err := core.NewSessionFromJSON(stsConfig("https://127.0.0.1:9/sts", assume, client, extra), core.Hooks{})
	if err != nil {
		t.Fatalf("limit values refused: %v", err)
	}
	s.Close()
	d := int32(900)
	p := AssumeRoleParams{RoleArn: arn20, DurationSeconds: &d}
	if err := p.Validate(); err != nil {
		t.Fatalf("DurationSeconds 900 refused: %v", err)
	}
	// nulls are Python's None: ignored.
	nulls := map[string]any{"RoleSessionName": nil, "Policy": nil, "Tags": nil, "DurationSeconds": nil}
	s, err = core.NewSessionFromJSON(stsConfig("https://127.0.0.1:9", nulls, map[string]any{"verify": nil, "config": nil}, map[string]any{"mfa_token_provider": nil}), core.Hooks{})
	if err != nil {
		t.Fatalf("null values refused: %v", err)
	}
	s.Close()
}

// TestNewSTSProviderGoAPI: the Go API validates like the JSON path and
// the resolved settings follow botocore's defaults.
func TestNewSTSProviderGoAPI(t *testing.T) {
	if _, err := NewProvider(Options{}); core.KindOf(err) != core.KindValidation {
		t.Fatalf("empty options: %v", err)
	}
	bad := int32(60)
	_, err := NewProvider(Options{AssumeRole: AssumeRoleParams{RoleArn: testRoleArn, DurationSeconds: &bad}})
	wantErr(t, err, core.KindValidation, "assume_role_kwargs.DurationSeconds")
	f := false
	_, err = NewProvider(Options{AssumeRole: AssumeRoleParams{RoleArn: testRoleArn},
		Client: ClientConfig{Verify: &f, CABundle: "/etc/ssl/ca.pem"}})
	wantErr(t, err, core.KindConfiguration, "sts_client_kwargs.verify")

	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "eu-north-1")
	t.Setenv("AWS_ENDPOINT_URL_STS", "")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	one := 1
	s := resolveClientSettings(&ClientConfig{Config: Config{Retries: RetryConfig{MaxAttempts: &one, Mode: "legacy"}}})
	if s.region != "eu-north-1" || s.endpoint != "http://127.0.0.1:4566" || s.attempts != 2 || s.adaptive ||
		s.connect != defaultSTSConnectTimeout || s.read != defaultSTSReadTimeout {
		t.Fatalf("resolved settings %+v", s)
	}
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	if s := resolveClientSettings(&ClientConfig{}); s.endpoint != "" {
		t.Fatalf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS not honoured: %q", s.endpoint)
	}
}

// TestSTSClientSharing: sessions with the same client settings share one
// STS client; different settings get their own.
func TestSTSClientSharing(t *testing.T) {
	mk := func(client map[string]any) *Provider {
		t.Helper()
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(stsConfig("http://127.0.0.1:7", nil, client, nil), &raw); err != nil {
			t.Fatal(err)
		}
		delete(raw, "method")
		o, err := parseSTSConfig(raw)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewProvider(o)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := mk(nil), mk(map[string]any{"aws_access_key_id": "AKIDOTHER"})
	c := mk(map[string]any{"config": map[string]any{"read_timeout": 5}})
	if a.client != b.client {
		t.Fatalf("same client settings, different clients")
	}
	if a.client == c.client {
		t.Fatalf("different read_timeout, same client")
	}
}
