package custom

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
)

// assertKind fails unless err is a *core.Error of kind k naming param (when
// param is not empty) in its text and Param.
func assertKind(t *testing.T, err error, k core.Kind, param string) {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *core.Error", err, err)
	}
	if e.Kind != k {
		t.Errorf("kind = %v, want %v (error: %v)", e.Kind, k, err)
	}
	if param != "" && (e.Param != param || !strings.Contains(err.Error(), param)) {
		t.Errorf("Param = %q, want %q named in the text (error: %v)", e.Param, param, err)
	}
}

func TestCustomProvider(t *testing.T) {
	ctx := context.Background()
	clock := core.NewFakeClock(testutil.T0)
	inner := errors.New("upstream said no")
	for _, tc := range []struct {
		name  string
		fn    Func
		kind  core.Kind
		param string
		is    error
	}{
		{"valid", func(context.Context) (map[string]string, error) { return testutil.GoodMap(), nil }, core.KindUnknown, "", nil},
		{"nil func", nil, core.KindValidation, "custom_credentials_method", core.ErrValidation},
		{"getter error", func(context.Context) (map[string]string, error) { return nil, inner }, core.KindCredential, "custom_credentials_method", inner},
		{"getter gobrs error kept", func(context.Context) (map[string]string, error) {
			return nil, &core.Error{Kind: core.KindConnection, Message: "no route"}
		}, core.KindConnection, "", core.ErrConnection},
		{"nil result", func(context.Context) (map[string]string, error) { return nil, nil }, core.KindCredential, "access_key", core.ErrCredential},
		{"bad result", func(context.Context) (map[string]string, error) {
			m := testutil.GoodMap()
			m["secret_key"] = testutil.SecretMark + "\x00"
			return m, nil
		}, core.KindCredential, "secret_key", core.ErrCredential},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{Func: tc.fn, Clock: clock}
			c, err := p.Retrieve(ctx)
			if tc.kind == core.KindUnknown {
				if err != nil || c.AccessKeyID != "AKIDMAPTEST00001" {
					t.Fatalf("Retrieve = %v, %v", c, err)
				}
				return
			}
			assertKind(t, err, tc.kind, tc.param)
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			testutil.AssertNoSecret(t, "the error", err.Error())
		})
	}
	// Without a clock it uses the system clock.
	p := NewProvider(func(context.Context) (map[string]string, error) {
		m := testutil.GoodMap()
		m["expiry_time"] = time.Now().Add(time.Hour).Format(time.RFC3339)
		return m, nil
	})
	p.Clock = nil
	if _, err := p.Retrieve(ctx); err != nil {
		t.Fatalf("system clock: %v", err)
	}
}

// A session over a custom getter reports a bad result as a credential error
// naming the field, without the secret, and logs nothing secret either.
func TestSessionWithBadCustomResult(t *testing.T) {
	clock := core.NewFakeClock(testutil.T0)
	var logs testutil.SyncBuffer
	m := testutil.GoodMap()
	m["token"] = testutil.TokenMark + "\xff"
	s, err := core.NewSession(&Provider{Func: func(context.Context) (map[string]string, error) { return m, nil }, Clock: clock},
		func(o *core.Options) { o.Clock, o.Logger = clock, slog.New(slog.NewTextHandler(&logs, nil)) })
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	defer s.Close()
	_, err = s.Credentials(context.Background())
	assertKind(t, err, core.KindCredential, "token")
	testutil.AssertNoSecret(t, "the error", err.Error())
	testutil.AssertNoSecret(t, "the log", logs.String())
	if !strings.Contains(logs.String(), "token") {
		t.Errorf("log %q does not name the field", logs.String())
	}
}
