package sts

import (
	"context"
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
