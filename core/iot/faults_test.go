package iot

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/faulttest"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// The engine through the failures of an IoT credentials endpoint
// (internal/faulttest).

func TestFaultsAcrossTheWindows(t *testing.T) { faulttest.AcrossTheWindows(t, "iot") }

func TestFaultsBackgroundRefresh(t *testing.T) { faulttest.BackgroundRefresh(t, "iot") }

// TestFaultsTLSMisconfiguration: a server whose certificate the client
// does not trust, or that refuses the client's certificate, is a
// connection error naming no secret; fixing the trust is a new session.
func TestFaultsTLSMisconfiguration(t *testing.T) {
	clock := core.NewFakeClock(testutil.T0)
	f := faulttest.NewServer(t, "iot", clock)
	// the server trusts only another CA's clients
	other := testutil.NewCA(t, "other CA")
	pool := x509.NewCertPool()
	pool.AddCert(other.Cert)
	f.TLS.ClientCAs = pool
	f.Set(faulttest.Refuse)
	f.Set(faulttest.OK) // listen again with the new TLS config
	s := faulttest.Session(t, f, clock, io.Discard)
	_, err := s.Credentials(context.Background())
	faulttest.Check(t, err, faulttest.Case{Kind: core.KindConnection, Param: "endpoint"})
}

// FuzzIoTErrorHoldsNoSecret: whatever the status and the rest of the body,
// an IoT answer carrying credentials never puts their secret and token in
// the error (a JSON answer shows only its message).
func FuzzIoTErrorHoldsNoSecret(f *testing.F) {
	f.Add(500, "fault-secret-1234", "internal failure", "x")
	f.Add(403, "s3cr3t-s3cr3t", "", `{"nested": true}`)
	f.Add(200, "tokentokentoken", "ok", "")
	f.Add(429, "\u00e9", "Rate exceeded", "\x00")
	f.Fuzz(func(t *testing.T, status int, seed, message, junk string) {
		// hex after a marker: no cleaning of the message can forge it
		secret := "SECRETMARK" + hex.EncodeToString([]byte(seed))
		if strings.Contains(message, secret) || strings.Contains(cleanMessage(message), secret) || strings.Contains(junk, secret) {
			return // the fuzzer put the secret where it is meant to be shown
		}
		body, err := json.Marshal(map[string]any{
			"message": message,
			"extra":   junk,
			"credentials": map[string]any{"accessKeyId": "AKIDFUZZ", "secretAccessKey": secret,
				"sessionToken": secret, "expiration": "not a time"},
		})
		if err != nil {
			return
		}
		_, err = parseIoTResponse(status, body)
		if err == nil {
			t.Fatalf("status %d accepted credentials with an expiration that is not a time", status)
		}
		var e *core.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %v is %T, not *core.Error", err, err)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(e.Value, secret) {
			t.Fatalf("status %d: the error holds the secret %q: %v", status, secret, err)
		}
	})
}
