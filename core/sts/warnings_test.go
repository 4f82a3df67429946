package sts

import (
	"context"
	"strings"
	"testing"

	"github.com/gobrs/gobrs/core"
)

// A TokenCode given with a token source is ignored: the session says so in
// its warnings when it opens (and still logs it at the first refresh).
func TestIgnoredTokenCodeIsAWarning(t *testing.T) {
	hook := core.Hooks{MFAToken: func(context.Context) (string, error) { return "918273", nil }}
	serial := map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/alice"}
	withCode := map[string]any{"SerialNumber": serial["SerialNumber"], "TokenCode": "564738"}
	for _, tt := range []struct {
		name   string
		assume map[string]any
		hooks  core.Hooks
		extra  map[string]any
		warns  bool
	}{
		{"token hook", withCode, hook, nil, true},
		{"token command", withCode, core.Hooks{}, map[string]any{"mfa_token_provider": []string{"true"}}, true},
		{"static code alone", withCode, core.Hooks{}, nil, false},
		{"token hook alone", serial, hook, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := core.NewSessionFromJSON(stsConfig("http://127.0.0.1:9", tt.assume, nil, tt.extra), tt.hooks)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			w := s.Warnings()
			if !tt.warns {
				if w != nil {
					t.Fatalf("Warnings() = %+v", w)
				}
				return
			}
			if len(w) != 1 || w[0].Param != "assume_role_kwargs.TokenCode" || w[0].Value != "" {
				t.Fatalf("Warnings() = %+v", w)
			}
			assertNoSTSSecret(t, w[0].Message, "564738")
		})
	}
}

// sts_client_kwargs.config made from a botocore Config (botocore_config):
// the options the client does not honour are named in one warning; without
// botocore_config they are refused, as before.
func TestBotocoreConfigOptionsWithoutEffect(t *testing.T) {
	config := map[string]any{"tcp_keepalive": true, "connect_timeout": 5, "signature_version": "sigv4",
		"parameter_validation": false}
	s, err := core.NewSessionFromJSON(stsConfig("http://127.0.0.1:9", nil,
		map[string]any{"config": config, "botocore_config": true}, nil), core.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.Warnings()
	if len(w) != 1 || w[0].Param != "sts_client_kwargs.config" ||
		!strings.Contains(w[0].Message, "no effect on gobrs's STS client: parameter_validation, tcp_keepalive (see docs/compat.md)") {
		t.Fatalf("Warnings() = %+v", w)
	}
	for _, sig := range []any{"s3v4", true, nil} {
		s, err := core.NewSessionFromJSON(stsConfig("http://127.0.0.1:9", nil,
			map[string]any{"config": map[string]any{"signature_version": sig}, "botocore_config": true}, nil), core.Hooks{})
		if err != nil {
			t.Fatalf("signature_version %v: %v", sig, err)
		}
		if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "signature_version") {
			t.Errorf("signature_version %v: Warnings() = %+v", sig, w)
		}
		s.Close()
	}
	// an honoured option is still checked
	_, err = core.NewSessionFromJSON(stsConfig("http://127.0.0.1:9", nil,
		map[string]any{"config": map[string]any{"connect_timeout": "5"}, "botocore_config": true}, nil), core.Hooks{})
	wantErr(t, err, core.KindValidation, "sts_client_kwargs.config.connect_timeout")
	_, err = core.NewSessionFromJSON(stsConfig("http://127.0.0.1:9", nil,
		map[string]any{"config": map[string]any{"tcp_keepalive": true}}, nil), core.Hooks{})
	wantErr(t, err, core.KindValidation, "sts_client_kwargs.config.tcp_keepalive")
}
