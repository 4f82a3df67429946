// Package processcreds runs a credential_process-style command and reads
// the credentials it prints, as the AWS SDKs do for the credential_process
// setting of ~/.aws/config (aws-sdk-go-v2 credentials/processcreds), but
// without a shell: the command is an argument list, or a string split by
// core.SplitCommand's rules (quotes and backslashes, nothing expanded).
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
// In a session config, method "custom" takes the key "credential_process"
// (a string or an array of strings) in place of a callback: see FromConfig.
package processcreds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// Param is the config key (and the error parameter) of the command.
const Param = "credential_process"

// DefaultTimeout bounds a command that sets no timeout (the AWS SDKs use
// one minute too).
const DefaultTimeout = time.Minute

// MaxOutput bounds how much of the command's standard output is read.
const MaxOutput = 64 << 10

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

// Parse reads the JSON value of credential_process: a command line
// (split without a shell by core.SplitCommand's rules) or an array of
// arguments.
func Parse(raw json.RawMessage) ([]string, error) {
	var line string
	if err := json.Unmarshal(raw, &line); err == nil {
		argv, err := splitCommand(line)
		if err != nil {
			var e *core.Error
			if errors.As(err, &e) {
				return nil, &core.Error{Kind: core.KindValidation, Param: Param,
					Message: strings.ReplaceAll(e.Message, "mfa_token_provider", Param)}
			}
			return nil, err
		}
		return argv, nil
	}
	var argv []string
	if err := json.Unmarshal(raw, &argv); err != nil {
		return nil, &core.Error{Kind: core.KindValidation, Param: Param,
			Message: "credential_process must be a string or an array of strings"}
	}
	return argv, nil
}

// Retrieve runs the command and returns the credentials it printed.
func (p *Provider) Retrieve(ctx context.Context) (core.Credentials, error) {
	m, err := p.Map(ctx)
	if err != nil {
		return core.Credentials{}, err
	}
	return credentialsFromMap(m, p.opts.Clock.Now())
}

// Map runs the command and returns its credentials as the custom method's
// keys (access_key, secret_key, token, expiry_time): it is the
// core.Hooks.Credentials of a custom session.
func (p *Provider) Map(ctx context.Context) (map[string]string, error) {
	prog := quoteText(cutText(p.argv[0], 128))
	fail := func(format string, args ...any) error {
		return &core.Error{Kind: core.KindCredential, Param: Param, Value: cutText(p.argv[0], 128),
			Message: fmt.Sprintf("credential_process "+format, args...)}
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	out := &limitedBuffer{max: MaxOutput}
	cmd.Stdout = out
	cmd.Stderr = p.opts.Stderr
	cmd.WaitDelay = time.Second
	ownProcessGroup(cmd)
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fail("command %s timed out after %s", prog, p.opts.Timeout)
	case ctx.Err() != nil:
		return nil, &core.Error{Kind: core.KindCredential, Param: Param, Err: ctx.Err(),
			Message: fmt.Sprintf("credential_process command %s was cancelled", prog)}
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		return nil, fail("command %s was not found", prog)
	case errors.Is(err, fs.ErrPermission):
		return nil, fail("command %s: permission denied", prog)
	case errors.As(err, &exitErr):
		return nil, fail("command %s failed with exit status %d", prog, exitErr.ExitCode())
	case err != nil:
		return nil, fail("command %s could not run: %v", prog, err)
	case out.over:
		return nil, fail("command %s printed more than %d bytes", prog, MaxOutput)
	}
	var o output
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		// The output may hold secrets: say what is wrong, never quote it.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fail("command %s printed %s with the wrong type (want %s)", prog, te.Field, te.Type)
		}
		if strings.Contains(err.Error(), "unknown field") {
			return nil, fail("command %s printed an unknown key (known: Version, AccessKeyId, SecretAccessKey, SessionToken, Expiration)", prog)
		}
		return nil, fail("command %s did not print a JSON object", prog)
	}
	if o.Version != 1 {
		return nil, fail("command %s printed Version %d; only Version 1 is supported", prog, o.Version)
	}
	for _, f := range [...]struct{ name, v string }{
		{"AccessKeyId", o.AccessKeyID}, {"SecretAccessKey", o.SecretAccessKey},
		{"SessionToken", o.SessionToken}, {"Expiration", o.Expiration},
	} {
		if f.v == "" {
			return nil, fail("command %s printed no %s (gobrs serves temporary credentials: SessionToken and Expiration are required)", prog, f.name)
		}
	}
	return map[string]string{"access_key": o.AccessKeyID, "secret_key": o.SecretAccessKey,
		"token": o.SessionToken, "expiry_time": o.Expiration}, nil
}

// FromConfig prepares a session config that may hold credential_process:
// when config is a JSON object whose method is "custom" (or absent) and
// that has the key credential_process, it returns the config without that
// key and hooks whose Credentials runs the command. A callback
// (hooks.Credentials already set) together with credential_process is a
// KindConfiguration error. Any other config is returned unchanged, as are
// configs that are not JSON objects (core.NewSessionFromJSON reports
// those).
func FromConfig(config []byte, hooks core.Hooks) ([]byte, core.Hooks, error) {
	if !bytes.Contains(config, []byte(`"`+Param+`"`)) {
		return config, hooks, nil
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(config, &raw); err != nil || raw == nil {
		return config, hooks, nil
	}
	cp, ok := raw[Param]
	if !ok {
		return config, hooks, nil
	}
	if m, ok := raw["method"]; ok {
		var method string
		if json.Unmarshal(m, &method) != nil || method != "custom" {
			return config, hooks, nil // the method refuses the key itself
		}
	}
	if err := noDuplicateTopKeys(config); err != nil {
		return nil, hooks, err
	}
	if hooks.Credentials != nil {
		return nil, hooks, &core.Error{Kind: core.KindConfiguration, Param: Param,
			Message: "credential_process and a credentials callback cannot both be given; pass one"}
	}
	argv, err := Parse(cp)
	if err != nil {
		return nil, hooks, err
	}
	p, err := New(argv)
	if err != nil {
		return nil, hooks, err
	}
	delete(raw, Param)
	rest, err := json.Marshal(raw)
	if err != nil {
		return nil, hooks, fmt.Errorf("processcreds: re-encode the config: %w", err)
	}
	hooks.Credentials = p.Map
	return rest, hooks, nil
}

// noDuplicateTopKeys refuses a key given twice at the top level of config
// (re-encoding would keep one silently; nested objects are passed on
// verbatim and checked by core.NewSessionFromJSON).
func noDuplicateTopKeys(config []byte) error {
	var obj map[string]json.RawMessage
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(config))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return json.Unmarshal(config, &obj)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := tok.(string)
		if seen[k] {
			return &core.Error{Kind: core.KindValidation, Param: cutText(k, 64),
				Message: fmt.Sprintf("key %s appears twice in the config; give each key once", quoteText(cutText(k, 64)))}
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// limitedBuffer keeps the first max bytes written and notes an overflow.
// The buffer is a field, not embedded: an embedded bytes.Buffer would lend
// its ReadFrom to io.Copy, which would then bypass Write and its bound.
type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

// Write implements io.Writer, never failing, so that the command is not
// killed by a broken pipe.
func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if len(p) > room {
		b.over = true
	}
	if room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Bytes returns what was kept.
func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }
