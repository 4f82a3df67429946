package core

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	stdjson "encoding/json"

	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"
)

// Hooks are what the host program (C callback, Python) supplies to a
// method's provider. Any of them may be nil.
type Hooks struct {
	// Credentials returns the custom method's credentials, or the source
	// credentials of the sts method, as string key/value pairs.
	Credentials func(ctx context.Context) (map[string]string, error)
	// SourceCredentials returns the credentials the sts method signs
	// AssumeRole with (keys access_key, secret_key, token).
	SourceCredentials func(ctx context.Context) (map[string]string, error)
	// MFAToken returns an MFA token code for the sts method.
	MFAToken func(ctx context.Context) (string, error)
	// Warn receives what a method's config decoding does otherwise than
	// asked (see Warning). NewSessionFromJSON also keeps every warning in
	// the Session (Session.Warnings).
	Warn func(Warning)
}

// MethodBuilder builds a method's Provider from the method's JSON keys
// (every key but the common ones) and the host's hooks.
type MethodBuilder func(raw map[string]json.RawMessage, hooks Hooks) (Provider, error)

var methods = map[string]MethodBuilder{}

// RegisterMethod makes a method available to NewSessionFromJSON. It is
// called from init functions; registering a name twice panics.
func RegisterMethod(name string, b MethodBuilder) {
	if _, dup := methods[name]; dup {
		panic("gobrs: method registered twice: " + name)
	}
	methods[name] = b
}

// Methods returns the registered method names, sorted.
func Methods() []string {
	names := make([]string, 0, len(methods))
	for n := range methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// commonConfig is the JSON config's keys that every method accepts; its
// methods hold their rules.
type commonConfig struct {
	Method            *string  `json:"method"`
	DeferRefresh      *bool    `json:"defer_refresh"`
	AdvisoryTimeout   *Seconds `json:"advisory_timeout"`
	MandatoryTimeout  *Seconds `json:"mandatory_timeout"`
	BackgroundRefresh *bool    `json:"background_refresh" schema:"nonull"`
	RefreshTimeout    *Seconds `json:"refresh_timeout"`
}

// maxWindowSeconds bounds advisory_timeout, mandatory_timeout and
// refresh_timeout.
const maxWindowSeconds = 1e7

// validate checks the ranges: the windows from 0, refresh_timeout from
// 0.001, all to maxWindowSeconds.
func (c *commonConfig) validate() error {
	for _, t := range []struct {
		name string
		v    *Seconds
	}{{"advisory_timeout", c.AdvisoryTimeout}, {"mandatory_timeout", c.MandatoryTimeout}} {
		if t.v != nil && !t.v.In(0, maxWindowSeconds) {
			return NewValidationError(t.name, t.v.String(), "%s must be between 0 and 10000000 seconds", t.name)
		}
	}
	if t := c.RefreshTimeout; t != nil && !t.In(0.001, maxWindowSeconds) {
		return NewValidationError("refresh_timeout", t.String(), "refresh_timeout must be between 0.001 and 10000000 seconds, or null for none")
	}
	return nil
}

// method returns the method the config names ("custom" by default).
func (c *commonConfig) method() string {
	if c.Method == nil {
		return "custom"
	}
	return *c.Method
}

// apply sets the options the config names. A mandatory_timeout beyond the
// advisory one is read as botocore reads it: no refresh before the advisory
// window, and that refresh is mandatory (so advisory_timeout=300 alone, or
// mandatory_timeout=1200 alone, work as in boto3-refresh-session).
func (c *commonConfig) apply(o *Options) {
	if c.DeferRefresh != nil {
		o.DeferRefresh = *c.DeferRefresh
	}
	if c.BackgroundRefresh != nil {
		o.BackgroundRefresh = *c.BackgroundRefresh
	}
	if c.AdvisoryTimeout != nil {
		o.AdvisoryTimeout = c.AdvisoryTimeout.Duration()
	}
	if c.MandatoryTimeout != nil {
		o.MandatoryTimeout = c.MandatoryTimeout.Duration()
	}
	if c.RefreshTimeout != nil {
		o.RefreshTimeout = c.RefreshTimeout.Duration()
	}
	if (c.AdvisoryTimeout != nil || c.MandatoryTimeout != nil) && o.MandatoryTimeout > o.AdvisoryTimeout {
		o.MandatoryTimeout = o.AdvisoryTimeout
	}
}

// maxConfigLen bounds a JSON config (PEM material included).
const maxConfigLen = 4 << 20

// NewSessionFromJSON opens a Session from the JSON config described in
// include/brs.h. Unknown keys, wrong types and bad values are
// KindValidation errors naming the key.
func NewSessionFromJSON(config []byte, hooks Hooks, optFns ...func(*Options)) (*Session, error) {
	if len(config) > maxConfigLen {
		return nil, NewValidationError("config", "", "config is %d bytes, more than the %d allowed", len(config), maxConfigLen)
	}
	raw := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(config)) == 0 {
		return nil, NewValidationError("config", "", "config is empty; pass a JSON object ({} for the defaults)")
	}
	if err := json.Unmarshal(config, &raw); err != nil || raw == nil {
		return nil, jsonError("config", err)
	}
	if err := noDuplicateKeys(config); err != nil {
		return nil, err
	}
	// the common keys are decoded here; the rest are the method's
	var common commonConfig
	own := map[string]json.RawMessage{}
	for _, k := range commonConfigKeys() {
		if v, ok := raw[k]; ok {
			own[k] = v
			delete(raw, k)
		}
	}
	if err := DecodeObject("", own, &common); err != nil {
		return nil, err
	}
	method := common.method()
	build, ok := methods[method]
	if !ok {
		shown := safetext.Cut(method, 64)
		if len(methods) == 0 {
			return nil, NewValidationError("method", shown, "method %s is not registered: no method is (import the method packages, "+
				"as github.com/gobrs/gobrs/core/custom, for their side effect)", safetext.Quote(shown))
		}
		return nil, NewValidationError("method", shown, "method %s is not one of %s", safetext.Quote(shown), strings.Join(Methods(), ", "))
	}
	if err := common.validate(); err != nil {
		return nil, err
	}
	var warnings []Warning
	warn := hooks.Warn
	hooks.Warn = func(w Warning) {
		warnings = append(warnings, w)
		if warn != nil {
			warn(w)
		}
	}
	provider, err := build(raw, hooks)
	if err != nil {
		return nil, err
	}
	s, err := NewSession(provider, append([]func(*Options){common.apply}, optFns...)...)
	if err != nil {
		if c, ok := provider.(Closer); ok {
			c.Close()
		}
		return nil, err
	}
	s.warnings = warnings
	return s, nil
}

// NoUnknownKeys returns a validation error naming the first (sorted) key
// of raw that is not in known.
func NoUnknownKeys(raw map[string]json.RawMessage, known ...string) error {
	for _, k := range sortedKeys(raw) {
		if !slices.Contains(known, k) {
			return unknownKey("", k, known)
		}
	}
	return nil
}

// member names key k inside param.
func member(param, k string) string {
	if param == "" {
		return k
	}
	return param + "." + k
}

// commonConfigKeys returns the top-level keys every method accepts
// (commonConfig's). Computed at first use, not at init: reflection that
// deep in the runtime's init trips memcheck (make test-c).
var commonConfigKeys = sync.OnceValue(func() []string { return KnownKeys(&commonConfig{}) })

// commonKeys are those an unknown-key error lists: refresh_timeout,
// gobrs's own addition, has never been listed there (the C ABI's message
// is pinned by tests/c/test_promises.c).
var commonKeys = []string{"advisory_timeout", "background_refresh", "defer_refresh", "mandatory_timeout", "method"}

// unknownKey is the error for key k, not one of known, in param. At the top
// level the keys every method accepts are listed with the method's own.
func unknownKey(param, k string, known []string) error {
	if param == "" {
		known = append(slices.Clone(known), commonKeys...)
		slices.Sort(known)
		known = slices.Compact(known)
	}
	name := member(param, safetext.Cut(k, 64))
	if k == "" && param == "" {
		name = "config" // an empty key: name the config it is in
	}
	where := "the config"
	if param != "" {
		where = param
	}
	return NewValidationError(name, "", "unknown key %s in %s (known keys: %s)", safetext.Quote(safetext.Cut(k, 64)), where, strings.Join(known, ", "))
}

// noDuplicateKeys returns a validation error naming the first key that
// appears twice in one object of the JSON document config (already known
// to be valid JSON): the parser would keep the last one silently.
func noDuplicateKeys(config []byte) error {
	dec := stdjson.NewDecoder(bytes.NewReader(config))
	// container is an object or array being read; a member's path is
	// "outer.key" (array elements share their array's path).
	type container struct {
		path     string
		seen     map[string]bool // nil for an array
		key      string          // the member being read, when inMember
		inMember bool
	}
	var stack []*container // innermost last
	top := func() *container {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	valuePath := func() string { // the path of the value about to be read
		c := top()
		switch {
		case c == nil:
			return ""
		case c.seen == nil:
			return c.path
		}
		return member(c.path, c.key)
	}
	valueDone := func() {
		if c := top(); c != nil {
			c.inMember = false
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF; anything else the parser has refused already
		}
		c := top()
		if k, ok := tok.(string); ok && c != nil && c.seen != nil && !c.inMember {
			if c.seen[k] {
				where := "the config"
				if c.path != "" {
					where = c.path
				}
				name := member(c.path, safetext.Cut(k, 64))
				if k == "" { // an empty key: name the object it is in
					name = c.path
					if name == "" {
						name = "config"
					}
				}
				return NewValidationError(name, "", "key %s appears twice in %s; give each key once", safetext.Quote(safetext.Cut(k, 64)), where)
			}
			c.seen[k] = true
			c.key, c.inMember = k, true
			continue
		}
		switch tok {
		case stdjson.Delim('{'):
			stack = append(stack, &container{path: valuePath(), seen: map[string]bool{}})
		case stdjson.Delim('['):
			stack = append(stack, &container{path: valuePath()})
		case stdjson.Delim('}'), stdjson.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DecodeJSON decodes one JSON value into v, strictly (unknown object keys
// are refused), with errors naming param (and the nested field).
func DecodeJSON(param string, raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(param, err)
	}
	return nil
}

// jsonError turns a decoding error into a validation error naming the
// parameter, without echoing values (they may be secrets).
func jsonError(param string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		name := param
		if te.Field != "" {
			name = param + "." + te.Field
		}
		want := jsonTypeName(te.Type)
		if want == "a number" && strings.HasPrefix(te.Value, "number") {
			return NewValidationError(name, "", "%s is out of range", name)
		}
		return wrongType(NewValidationError(name, "", "%s must be %s, not a JSON %s", name, want, te.Value))
	}
	msg := "malformed JSON"
	if err != nil {
		msg = err.Error()
		if i := strings.Index(msg, "unknown field"); i >= 0 {
			field := strings.Trim(msg[i+len("unknown field"):], " \"")
			return NewValidationError(param+"."+field, "", "unknown key %s in %s", safetext.Quote(field), param)
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
	} else {
		msg = "config must be a JSON object"
	}
	return NewValidationError(param, "", "%s is not valid: %s", param, msg)
}

// jsonTypeName names the JSON type that decodes into t.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
