// Package processcreds runs a credential_process-style command and reads
// the credentials it prints, as the AWS SDKs do for the credential_process
// setting of ~/.aws/config (aws-sdk-go-v2 credentials/processcreds), but
// without a shell: the command is an argument list.
//
// The command prints one JSON object on its standard output:
//
//	{"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//	 "SessionToken": "...", "Expiration": "2026-01-02T03:04:05Z"}
//
// gobrs serves temporary credentials, so SessionToken and Expiration are
// required. The command's standard error is passed through to this
// process's (as the AWS CLI does); its standard output is read up to
// MaxOutput bytes and never quoted in an error; it is killed, with its
// process group, after Options.Timeout.
//
// This package is a provider, as aws-sdk-go-v2's credentials/processcreds
// is: it knows no session config. The config key credential_process of
// method "custom" (a string or an array of strings, in place of a
// callback) is core/custom's, which builds a Provider with New.
package processcreds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/command"
	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"
)

// Param is the config key (and the error parameter) of the command.
const Param = "credential_process"

// DefaultTimeout bounds a command that sets no timeout (the AWS SDKs use
// one minute too).
const DefaultTimeout = time.Minute

// MaxOutput bounds how much of the command's standard output is read.
const MaxOutput = command.DefaultMaxOutput

// Options configure a Provider.
type Options struct {
	// Timeout bounds one run of the command; DefaultTimeout when zero.
	Timeout time.Duration
	// Stderr receives the command's standard error; os.Stderr when nil.
	Stderr io.Writer
	// Clock is the time source for the expiry check; core.SystemClock{}
	// when nil.
	Clock core.Clock
}

// Provider runs the command once per Retrieve. It implements
// core.Provider.
type Provider struct {
	argv []string
	opts Options
}

// output is the command's answer: decoding it is the schema.
type output struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// New returns a Provider that runs argv (argv[0] is looked up in PATH).
// An empty argv or an empty argv[0] is a KindValidation error naming
// credential_process.
func New(argv []string, optFns ...func(*Options)) (*Provider, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, &core.Error{Kind: core.KindValidation, Param: Param,
			Message: "credential_process must name a command (a non-empty string or array of strings)"}
	}
	for _, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, &core.Error{Kind: core.KindValidation, Param: Param,
				Message: "credential_process arguments must not contain a NUL character"}
		}
	}
	p := &Provider{argv: append([]string(nil), argv...)}
	for _, fn := range optFns {
		fn(&p.opts)
	}
	if p.opts.Timeout <= 0 {
		p.opts.Timeout = DefaultTimeout
	}
	if p.opts.Stderr == nil {
		p.opts.Stderr = os.Stderr
	}
	if p.opts.Clock == nil {
		p.opts.Clock = core.SystemClock{}
	}
	return p, nil
}

// Retrieve runs the command and returns the credentials it printed.
// Expiration is read as core.ParseExpiry reads a custom getter's
// expiry_time, and the credentials are checked as a custom getter's are
// (errors naming access_key, secret_key, token or expiry_time).
func (p *Provider) Retrieve(ctx context.Context) (core.Credentials, error) {
	o, err := p.run(ctx)
	if err != nil {
		return core.Credentials{}, err
	}
	exp, err := core.ParseExpiry(o.Expiration)
	if err != nil {
		return core.Credentials{}, err
	}
	c := core.Credentials{AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey, SessionToken: o.SessionToken, Expires: exp}
	return c, c.Validate(p.opts.Clock.Now())
}

// run runs the command and decodes what it printed. Errors are
// KindCredential naming credential_process; they name the program and
// never quote its output.
func (p *Provider) run(ctx context.Context) (output, error) {
	prog := safetext.Quote(safetext.Cut(p.argv[0], 128))
	fail := func(format string, args ...any) error {
		return &core.Error{Kind: core.KindCredential, Param: Param, Value: safetext.Cut(p.argv[0], 128),
			Message: fmt.Sprintf("credential_process "+format, args...)}
	}
	r := command.Run(ctx, p.argv, command.Options{Timeout: p.opts.Timeout, MaxOutput: MaxOutput, Stderr: p.opts.Stderr})
	switch r.Status {
	case command.OK:
	case command.TimedOut:
		return output{}, fail("command %s timed out after %s", prog, p.opts.Timeout)
	case command.Cancelled:
		return output{}, &core.Error{Kind: core.KindCredential, Param: Param, Err: r.Err,
			Message: fmt.Sprintf("credential_process command %s was cancelled", prog)}
	case command.NotFound:
		return output{}, fail("command %s was not found", prog)
	case command.PermissionDenied:
		return output{}, fail("command %s: permission denied", prog)
	case command.Exited:
		return output{}, fail("command %s failed with exit status %d", prog, r.ExitCode)
	case command.Overflow:
		return output{}, fail("command %s printed more than %d bytes", prog, MaxOutput)
	default:
		return output{}, fail("command %s could not run: %v", prog, r.Err)
	}
	var o output
	dec := json.NewDecoder(bytes.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		// The output may hold secrets: say what is wrong, never quote it.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return output{}, fail("command %s printed %s with the wrong type (want %s)", prog, te.Field, te.Type)
		}
		if strings.Contains(err.Error(), "unknown field") {
			return output{}, fail("command %s printed an unknown key (known: Version, AccessKeyId, SecretAccessKey, SessionToken, Expiration)", prog)
		}
		return output{}, fail("command %s did not print a JSON object", prog)
	}
	if o.Version != 1 {
		return output{}, fail("command %s printed Version %d; only Version 1 is supported", prog, o.Version)
	}
	for _, f := range [...]struct{ name, v string }{
		{"AccessKeyId", o.AccessKeyID}, {"SecretAccessKey", o.SecretAccessKey},
		{"SessionToken", o.SessionToken}, {"Expiration", o.Expiration},
	} {
		if f.v == "" {
			return output{}, fail("command %s printed no %s (gobrs serves temporary credentials: SessionToken and Expiration are required)", prog, f.name)
		}
	}
	return o, nil
}
