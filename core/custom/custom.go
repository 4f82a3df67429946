// Package custom is the "custom" method: credentials from a getter the
// host program supplies (a Go func, or the C layer's callback), as
// boto3-refresh-session's custom method defines them. Importing it (for
// its side effect, as a database/sql driver) registers the method with
// core.NewSessionFromJSON.
package custom

import (
	"context"
	"time"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

func init() {
	core.RegisterMethod("custom", func(raw map[string]json.RawMessage, hooks core.Hooks) (core.Provider, error) {
		if err := core.NoUnknownKeys(raw); err != nil {
			return nil, err
		}
		if hooks.Credentials == nil {
			return nil, core.NewValidationError("custom_credentials_method", "", "the custom method requires a credentials callback (custom_credentials_method)")
		}
		return NewProvider(hooks.Credentials), nil
	})
}

// Func is a user credential getter: it returns the keys access_key,
// secret_key, token and expiry_time, as boto3-refresh-session's custom
// method defines them. expiry_time is ISO 8601; without an offset it is
// read as UTC.
type Func func(ctx context.Context) (map[string]string, error)

// Provider adapts a Func into a core.Provider. The result is checked by
// CredentialsFromMap: missing or empty keys, an unparseable expiry and
// an already expired result are credential errors naming the field.
type Provider struct {
	Func  Func
	Clock core.Clock
}

// NewProvider returns a Provider for fn on the system clock.
func NewProvider(fn Func) *Provider {
	return &Provider{Func: fn, Clock: core.SystemClock{}}
}

// Retrieve calls the getter and converts its result.
func (p *Provider) Retrieve(ctx context.Context) (core.Credentials, error) {
	if p.Func == nil {
		return core.Credentials{}, core.NewValidationError("custom_credentials_method", "", "custom_credentials_method is required")
	}
	m, err := p.Func(ctx)
	if err != nil {
		if core.KindOf(err) == core.KindUnknown {
			err = &core.Error{Kind: core.KindCredential, Param: "custom_credentials_method", Err: err,
				Message: "custom_credentials_method failed"}
		}
		return core.Credentials{}, err
	}
	clock := p.Clock
	if clock == nil {
		clock = core.SystemClock{}
	}
	return CredentialsFromMap(m, clock.Now())
}

// CredentialsFromMap builds core.Credentials from the custom getter's result keys
// access_key, secret_key, token and expiry_time, as boto3-refresh-session's
// custom method defines them, and validates them at now.
func CredentialsFromMap(m map[string]string, now time.Time) (core.Credentials, error) {
	for _, k := range [...]string{"access_key", "secret_key", "token", "expiry_time"} {
		if _, ok := m[k]; !ok {
			return core.Credentials{}, core.NewCredentialError(k, nil, "credentials are missing %s", k)
		}
	}
	exp, err := core.ParseExpiry(m["expiry_time"])
	if err != nil {
		return core.Credentials{}, err
	}
	c := core.Credentials{AccessKeyID: m["access_key"], SecretAccessKey: m["secret_key"], SessionToken: m["token"], Expires: exp}
	return c, c.Validate(now)
}
