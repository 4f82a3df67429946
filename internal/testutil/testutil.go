// Package testutil holds the helpers the Go tests of several packages
// share: fake credential material, a goroutine-safe log sink, waiting on
// goroutines without timed assertions, a leak check and a test PKI. It
// imports no gobrs package, so that the tests of core itself can use it.
// Only tests import it.
package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// T0 is the fake clock's start in every engine test.
var T0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Distinctive secret material: no error, log line or rendering may contain
// these substrings.
const (
	SecretMark = "S3CR3T-xyzzy-"
	TokenMark  = "T0K3N-plugh-"
)

// ErrBoom is the error a fake getter or provider fails with.
var ErrBoom = errors.New("getter failed on purpose")

// GoodMap returns a valid custom getter result (expiring an hour after T0)
// whose secret key and token hold the secret marks.
func GoodMap() map[string]string {
	return map[string]string{
		"access_key":  "AKIDMAPTEST00001",
		"secret_key":  SecretMark + "map",
		"token":       TokenMark + "map",
		"expiry_time": "2030-01-02T04:04:05Z",
	}
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (w *SyncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// String returns what was written.
func (w *SyncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// DiscardLogger logs nothing.
var DiscardLogger = slog.New(slog.DiscardHandler)

// WaitFor polls cond until it holds. It only synchronises with goroutines
// (it asserts nothing about time); the deadline turns a hang into a failure.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// Recv receives one value from ch; the deadline turns a hang into a failure.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

// AssertNoSecret fails when text contains any of the secret marks.
func AssertNoSecret(t testing.TB, what, text string) {
	t.Helper()
	for _, m := range []string{SecretMark, TokenMark} {
		if strings.Contains(text, m) {
			t.Errorf("%s shows a secret (%q found)", what, m)
		}
	}
}

// STSError answers an STS Query API request with an error in STS's XML
// form.
func STSError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
		`<Code>%s</Code><Message>%s</Message></Error><RequestId>r3</RequestId></ErrorResponse>`, code, msg)
}
