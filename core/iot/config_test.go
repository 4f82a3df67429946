package iot

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// configJSON is a deferred iot config with extra merged in (nil deletes).
func configJSON(t *testing.T, extra map[string]any) []byte {
	t.Helper()
	m := map[string]any{
		"method": "iot", "endpoint": "127.0.0.1:9", "role_alias": testRoleAlias,
		"certificate": "/nonexistent/cert.pem", "private_key": "/nonexistent/key.pem",
	}
	maps.Copy(m, extra)
	maps.DeleteFunc(m, func(_ string, v any) bool { return v == nil })
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The config is decoded strictly and case-sensitively at every level:
// {"PKCS11_LIB": ...} was once read as pkcs11_lib.
func TestConfigKeysAreExact(t *testing.T) {
	for _, tt := range []struct {
		name  string
		extra map[string]any
		param string
	}{
		{"pkcs11 key upper case", map[string]any{"private_key": nil, "pkcs11": map[string]any{"PKCS11_LIB": "/x.so"}}, "pkcs11.PKCS11_LIB"},
		{"pkcs11 key mixed case", map[string]any{"private_key": nil, "pkcs11": map[string]any{"pkcs11_lib": "/x.so", "User_Pin": "1"}}, "pkcs11.User_Pin"},
		{"top-level key upper case", map[string]any{"Endpoint": "x"}, "Endpoint"},
		{"pkcs11 slot_id a fraction", map[string]any{"private_key": nil, "pkcs11": map[string]any{"pkcs11_lib": "/x.so", "slot_id": 1.5}}, "pkcs11.slot_id"},
		{"duration_seconds a string", map[string]any{"duration_seconds": "900"}, "duration_seconds"},
		{"timeout a string", map[string]any{"timeout": "10"}, "timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := core.NewSessionFromJSON(configJSON(t, tt.extra), core.Hooks{})
			if err == nil {
				s.Close()
				t.Fatal("accepted")
			}
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != tt.param {
				t.Fatalf("err = %v, want a validation error naming %s", err, tt.param)
			}
		})
	}
}

// A data endpoint is rewritten, and the session says so in its warnings
// (with the endpoint used) instead of only logging it.
func TestDataEndpointIsAWarning(t *testing.T) {
	var seen []core.Warning
	srv := newIoTServer(t)
	cfg := configJSON(t, map[string]any{
		"endpoint":    "a1b2c3-ats.iot.eu-west-1.amazonaws.com",
		"certificate": string(srv.device.Cert), "private_key": string(srv.device.Key),
	})
	s, err := core.NewSessionFromJSON(cfg, core.Hooks{Warn: func(w core.Warning) { seen = append(seen, w) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.Warnings()
	if len(w) != 1 || w[0].Param != "endpoint" || w[0].Value != "a1b2c3.credentials.iot.eu-west-1.amazonaws.com" {
		t.Fatalf("Warnings() = %+v", w)
	}
	if len(seen) != 1 || seen[0] != w[0] {
		t.Fatalf("Hooks.Warn saw %+v", seen)
	}
	for _, want := range []string{"'***-ats.iot.eu-west-1.amazonaws.com'", "'***.credentials.iot.eu-west-1.amazonaws.com'"} {
		if !strings.Contains(w[0].Message, want) || strings.Contains(w[0].Message, "a1b2c3") {
			t.Errorf("message %q: want %s, without the account prefix", w[0].Message, want)
		}
	}
	plain, err := core.NewSessionFromJSON(configJSON(t, map[string]any{
		"endpoint": w[0].Value, "certificate": string(srv.device.Cert), "private_key": string(srv.device.Key),
	}), core.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.Warnings() != nil {
		t.Fatalf("warnings without cause: %+v", plain.Warnings())
	}
}
