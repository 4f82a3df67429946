// Package custom is the "custom" method: credentials from a getter the
// host program supplies (a Go func, or the C layer's callback), as
// boto3-refresh-session's custom method defines them, or, in place of a
// getter, from a credential_process command (core/processcreds).
// Importing it (for its side effect, as a database/sql driver) registers
// the method with core.NewSessionFromJSON.
package custom

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/core/processcreds"
	"github.com/gobrs/gobrs/internal/command"
	json "github.com/goccy/go-json"
)

func init() { core.RegisterMethod("custom", build) }

// config is the custom method's JSON config beside the keys every method
// takes: decoding it (core.DecodeObject) and its provider method hold
// every rule of the method's parameters.
type config struct {
	// CredentialProcess is a command printing credential_process JSON,
	// run in place of a credentials callback: a command line or an array
	// of arguments (commandLine).
	CredentialProcess *commandLine `json:"credential_process"`
}

// build is the method's core.MethodBuilder.
func build(raw map[string]json.RawMessage, hooks core.Hooks) (core.Provider, error) {
	// An unknown key is reported before decoding, with the list of known
	// keys the method has always shown, without credential_process (as
	// core leaves refresh_timeout out: tests/c/test_promises.c pins it).
	rest := maps.Clone(raw)
	delete(rest, processcreds.Param)
	if err := core.NoUnknownKeys(rest); err != nil {
		return nil, err
	}
	var c config
	if err := core.DecodeObject("", raw, &c); err != nil {
		return nil, err
	}
	return c.provider(hooks)
}

// provider returns the method's Provider: the credential_process command
// or the host's callback, exactly one of which must be given.
func (c *config) provider(hooks core.Hooks) (core.Provider, error) {
	switch {
	case c.CredentialProcess != nil && hooks.Credentials != nil:
		return nil, core.NewConfigurationError(processcreds.Param, "credential_process and a credentials callback cannot both be given; pass one")
	case c.CredentialProcess != nil:
		p, err := processcreds.New(*c.CredentialProcess)
		if err != nil {
			return nil, err
		}
		return p, nil
	case hooks.Credentials == nil:
		return nil, core.NewValidationError("custom_credentials_method", "", "the custom method requires a credentials callback (custom_credentials_method)")
	}
	return NewProvider(hooks.Credentials), nil
}

// commandLine is credential_process: a command line, split as a POSIX
// shell quotes it but without a shell (command.Split, the rules of the
// sts method's mfa_token_provider), or an array of arguments. Which
// arguments make a command is processcreds.New's rule.
type commandLine []string

// DecodeParam decodes a command line or an array of arguments
// (command.FromJSON). Errors are validation errors naming param; they
// never echo the command.
func (c *commandLine) DecodeParam(param string, raw []byte) error {
	argv, err := command.FromJSON(raw)
	switch {
	case errors.Is(err, command.ErrNotCommand):
		return core.NewValidationError(param, "", "%s must be a string or an array of strings", param)
	case err != nil:
		return core.NewValidationError(param, "", "the %s command has %v (check its quoting)", param, err)
	}
	*c = argv
	return nil
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
