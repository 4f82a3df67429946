package core_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	_ "github.com/gobrs/gobrs/core/custom"
	_ "github.com/gobrs/gobrs/core/iot"
	_ "github.com/gobrs/gobrs/core/sts"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// countingHooks returns hooks whose credentials callback counts its calls
// and answers with valid credentials on the system clock.
func countingHooks(calls *atomic.Int64) core.Hooks {
	return core.Hooks{Credentials: func(context.Context) (map[string]string, error) {
		calls.Add(1)
		m := testutil.GoodMap()
		m["expiry_time"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		return m, nil
	}}
}

func TestNewSessionFromJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		check  func(t *testing.T, o core.Options, calls int64)
	}{
		{"empty object", "{}", func(t *testing.T, o core.Options, calls int64) {
			if !o.DeferRefresh || o.AdvisoryTimeout != 900*time.Second || o.MandatoryTimeout != 600*time.Second || o.BackgroundRefresh || calls != 0 {
				t.Errorf("defaults not applied: %+v, %d calls", o, calls)
			}
		}},
		{"custom", `{"method":"custom"}`, nil},
		{"null values are defaults", `{"method":null,"defer_refresh":null,"advisory_timeout":null}`, func(t *testing.T, o core.Options, calls int64) {
			if !o.DeferRefresh || o.AdvisoryTimeout != 900*time.Second {
				t.Errorf("null did not leave the defaults: %+v", o)
			}
		}},
		{"every common key", `{"method":"custom","defer_refresh":false,"advisory_timeout":120.5,"mandatory_timeout":60,"background_refresh":true}`,
			func(t *testing.T, o core.Options, calls int64) {
				if o.DeferRefresh || o.AdvisoryTimeout != 120500*time.Millisecond || o.MandatoryTimeout != time.Minute || !o.BackgroundRefresh {
					t.Errorf("options = %+v", o)
				}
				if calls != 1 {
					t.Errorf("eager session called the getter %d times, want 1", calls)
				}
			}},
		{"zero timeouts", `{"advisory_timeout":0,"mandatory_timeout":0}`, func(t *testing.T, o core.Options, calls int64) {
			if o.AdvisoryTimeout != 0 || o.MandatoryTimeout != 0 {
				t.Errorf("options = %+v", o)
			}
		}},
		{"largest timeouts", `{"advisory_timeout":1e7,"mandatory_timeout":1e7}`, nil},
		{"refresh_timeout", `{"refresh_timeout":2.5}`, func(t *testing.T, o core.Options, calls int64) {
			if o.RefreshTimeout != 2500*time.Millisecond {
				t.Errorf("RefreshTimeout = %v, want 2.5s", o.RefreshTimeout)
			}
		}},
		{"refresh_timeout null is none", `{"refresh_timeout":null}`, func(t *testing.T, o core.Options, calls int64) {
			if o.RefreshTimeout != 0 {
				t.Errorf("RefreshTimeout = %v, want 0 (none)", o.RefreshTimeout)
			}
		}},
		// botocore's reading: no refresh before the advisory window, and
		// then it is mandatory.
		{"advisory alone under the default mandatory", `{"advisory_timeout":300}`, func(t *testing.T, o core.Options, calls int64) {
			if o.AdvisoryTimeout != 300*time.Second || o.MandatoryTimeout != 300*time.Second {
				t.Errorf("options = %+v, want both windows at 300s", o)
			}
		}},
		{"mandatory alone over the default advisory", `{"mandatory_timeout":1200}`, func(t *testing.T, o core.Options, calls int64) {
			if o.AdvisoryTimeout != 900*time.Second || o.MandatoryTimeout != 900*time.Second {
				t.Errorf("options = %+v, want both windows at 900s", o)
			}
		}},
		{"mandatory over advisory", `{"advisory_timeout":100,"mandatory_timeout":200}`, func(t *testing.T, o core.Options, calls int64) {
			if o.AdvisoryTimeout != 100*time.Second || o.MandatoryTimeout != 100*time.Second {
				t.Errorf("options = %+v, want both windows at 100s", o)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			s, err := core.NewSessionFromJSON([]byte(tc.config), countingHooks(&calls), func(o *core.Options) { o.Logger = testutil.DiscardLogger })
			if err != nil {
				t.Fatalf("NewSessionFromJSON(%s): %v", tc.config, err)
			}
			defer s.Close()
			if tc.check != nil {
				tc.check(t, s.Options(), calls.Load())
			}
			if _, err := s.Credentials(context.Background()); err != nil {
				t.Fatalf("Credentials: %v", err)
			}
		})
	}
}

func TestNewSessionFromJSONErrors(t *testing.T) {
	huge := `{"method":"custom","x":"` + strings.Repeat("a", core.MaxConfigLen) + `"}`
	for _, tc := range []struct {
		name, config, param string
		mention             []string
	}{
		{"unknown key", `{"method":"custom","region":"us-east-1"}`, "region", core.CommonKeys},
		{"empty", "", "config", []string{"empty"}},
		{"blank", " \n\t", "config", []string{"empty"}},
		{"duplicate key", `{"method":"sts","method":"custom"}`, "method", []string{`"method" appears twice`}},
		{"duplicate key spelled with an escape", `{"defer_refresh":true,"defer\u005frefresh":false}`, "defer_refresh", []string{"twice"}},
		{"duplicate empty key", `{"":0,"":true}`, "config", []string{`"" appears twice`}},
		{"duplicate empty key nested", `{"x":{"":0,"":1}}`, "x", []string{"in x"}},
		{"duplicate nested key", `{"x":[{"a":1},{"b":{"c":1,"c":2}}]}`, "x.b.c", []string{"in x.b"}},
		{"same key in two objects is fine, unknown key reported", `{"y":{"a":1},"z":{"a":1}}`, "y", nil},
		{"NUL in a key spelled \\u0000", `{"bogus\u0000":1}`, "bogus\x00", []string{`"bogus\u0000"`}},
		{"first unknown key, sorted", `{"zeta":1,"alpha":2}`, "alpha", nil},
		{"empty key", `{"":0}`, "config", []string{`""`}},
		{"long unknown key cut", `{"` + strings.Repeat("k", 5000) + `":0}`, strings.Repeat("k", 64) + "...", nil},
		{"bad method", `{"method":"magic"}`, "method", core.Methods()},
		{"method wrong type", `{"method":5}`, "method", []string{"string"}},
		{"long bad method cut", `{"method":"` + strings.Repeat("m", 5000) + `"}`, "method", nil},
		{"defer_refresh wrong type", `{"defer_refresh":"yes"}`, "defer_refresh", []string{"boolean"}},
		{"background_refresh wrong type", `{"background_refresh":1}`, "background_refresh", []string{"boolean"}},
		{"advisory_timeout string", `{"advisory_timeout":"900"}`, "advisory_timeout", []string{"number"}},
		{"advisory_timeout object", `{"advisory_timeout":{"s":1}}`, "advisory_timeout", []string{"number"}},
		{"advisory_timeout array", `{"advisory_timeout":[1]}`, "advisory_timeout", []string{"number"}},
		{"advisory_timeout negative", `{"advisory_timeout":-1}`, "advisory_timeout", nil},
		{"advisory_timeout too big", `{"advisory_timeout":10000001}`, "advisory_timeout", nil},
		{"advisory_timeout overflows", `{"advisory_timeout":1e999}`, "advisory_timeout", []string{"range"}},
		{"mandatory_timeout negative", `{"mandatory_timeout":-0.5}`, "mandatory_timeout", nil},
		{"refresh_timeout zero", `{"refresh_timeout":0}`, "refresh_timeout", nil},
		{"refresh_timeout negative", `{"refresh_timeout":-1}`, "refresh_timeout", nil},
		{"refresh_timeout too large", `{"refresh_timeout":1e8}`, "refresh_timeout", nil},
		{"refresh_timeout a string", `{"refresh_timeout":"5"}`, "refresh_timeout", nil},
		{"malformed", `{"method":`, "config", nil},
		{"trailing garbage", `{} x`, "config", nil},
		{"array", `[]`, "config", []string{"object"}},
		{"string", `"custom"`, "config", []string{"object"}},
		{"number", `42`, "config", []string{"object"}},
		{"null", `null`, "config", []string{"object"}},
		{"huge", huge, "config", []string{"bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			s, err := core.NewSessionFromJSON([]byte(tc.config), countingHooks(&calls), func(o *core.Options) { o.Logger = testutil.DiscardLogger })
			if s != nil {
				s.Close()
				t.Fatalf("NewSessionFromJSON(%.80s) opened a session", tc.config)
			}
			core.AssertKind(t, err, core.KindValidation, tc.param)
			if !errors.Is(err, core.ErrValidation) {
				t.Errorf("errors.Is(%v, ErrValidation) = false", err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if len(err.Error()) > 400 {
				t.Errorf("error text is %d bytes long", len(err.Error()))
			}
			if calls.Load() != 0 {
				t.Errorf("getter called for an invalid config")
			}
		})
	}
	if _, err := core.NewSessionFromJSON([]byte(`{}`), core.Hooks{}); core.KindOf(err) != core.KindValidation ||
		!strings.Contains(err.Error(), "custom_credentials_method") {
		t.Errorf("custom without a callback: %v", err)
	}
}

// A failing eager fetch from a JSON config returns the getter's error.
func TestNewSessionFromJSONEagerFailure(t *testing.T) {
	hooks := core.Hooks{Credentials: func(context.Context) (map[string]string, error) { return nil, testutil.ErrBoom }}
	s, err := core.NewSessionFromJSON([]byte(`{"defer_refresh":false}`), hooks, func(o *core.Options) { o.Logger = testutil.DiscardLogger })
	if s != nil || !errors.Is(err, testutil.ErrBoom) {
		t.Fatalf("NewSessionFromJSON = %v, %v", s, err)
	}
	core.AssertKind(t, err, core.KindCredential, "custom_credentials_method")
}

func TestDecodeJSONAndNoUnknownKeys(t *testing.T) {
	var v struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, tc := range []struct{ raw, param string }{
		{`{"name":"a","n":1}`, ""},
		{`{"name":"a","extra":1}`, "opt.extra"},
		{`{"name":1}`, "opt.name"},
		{`{"n":"1"}`, "opt.n"},
		{`[`, "opt"},
	} {
		err := core.DecodeJSON("opt", []byte(tc.raw), &v)
		if tc.param == "" {
			if err != nil {
				t.Errorf("DecodeJSON(%s): %v", tc.raw, err)
			}
			continue
		}
		core.AssertKind(t, err, core.KindValidation, tc.param)
	}
	raw := map[string]json.RawMessage{"known": nil, "b": nil, "a": nil}
	core.AssertKind(t, core.NoUnknownKeys(raw, "known"), core.KindValidation, "a")
	if err := core.NoUnknownKeys(raw, "known", "a", "b"); err != nil {
		t.Errorf("NoUnknownKeys with all known: %v", err)
	}
}

func TestRegisterMethod(t *testing.T) {
	if got := core.Methods(); len(got) == 0 || !strings.Contains(strings.Join(got, ","), "custom") {
		t.Fatalf("Methods() = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering custom twice did not panic")
		}
	}()
	core.RegisterMethod("custom", nil)
}

func FuzzNewSessionFromJSON(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `{"method":"custom"}`, `{"method":"sts"}`, `{"method":"iot"}`,
		`{"method":"custom","defer_refresh":false,"advisory_timeout":120,"mandatory_timeout":60,"background_refresh":true}`,
		`{"advisory_timeout":-1}`, `{"advisory_timeout":1e999}`, `{"mandatory_timeout":1e7}`, `{"advisory_timeout":"1"}`,
		`{"defer_refresh":1}`, `{"method":["custom"]}`, `{"method":{"a":1}}`, `{"x":1}`, `{"method":"custom",}`,
		`{"method":"\u0000"}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"advisory_timeout":-0}`, `{"advisory_timeout":1E+2}`,
		`{"method":"custom","method":"x"}`, "{\"method\":\"\xff\"}", `{"advisory_timeout":0.000000001}`,
		`   {"defer_refresh":true}   `, `{"defer_refresh":tru}`, `{`, `}`,
	} {
		f.Add([]byte(seed))
	}
	hooks := countingHooks(new(atomic.Int64))
	f.Fuzz(func(t *testing.T, config []byte) {
		s, err := core.NewSessionFromJSON(config, hooks, func(o *core.Options) { o.Logger = testutil.DiscardLogger })
		if err != nil {
			if s != nil {
				t.Fatalf("both a session and an error: %v", err)
			}
			var e *core.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *core.Error", err, err)
			}
			if e.Kind != core.KindValidation || e.Param == "" {
				t.Fatalf("error %v: kind %v, param %q; want a validation error naming a key", err, e.Kind, e.Param)
			}
			return
		}
		defer s.Close()
		o := s.Options()
		if o.AdvisoryTimeout < 0 || o.MandatoryTimeout < 0 || o.MandatoryTimeout > o.AdvisoryTimeout {
			t.Fatalf("accepted invalid windows %v / %v", o.AdvisoryTimeout, o.MandatoryTimeout)
		}
	})
}
