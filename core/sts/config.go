package sts

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"
)

// DefaultRoleSessionName is the RoleSessionName used when none is given,
// as in boto3-refresh-session.
const DefaultRoleSessionName = "boto3-refresh-session"

// The AssumeRole DurationSeconds bounds (seconds).
const (
	MinDurationSeconds = 900
	MaxDurationSeconds = 43200
)

// AssumeRoleParams are the AssumeRole request parameters, in their AWS
// names (the keys of assume_role_kwargs, decoded by core.DecodeStrict). Optional parameters are nil or
// empty when unset; an explicitly empty string is refused, as AWS does.
type AssumeRoleParams struct {
	// RoleArn is the role to assume (required, 20-2048 characters).
	RoleArn string `json:"RoleArn"`
	// RoleSessionName names the role session (2-64 of [\w+=,.@-]);
	// DefaultRoleSessionName when nil.
	RoleSessionName *string `json:"RoleSessionName"`
	// PolicyArns are managed session policies (at most 10).
	PolicyArns []PolicyArn `json:"PolicyArns"`
	// Policy is an inline session policy in JSON (1-2048 characters).
	Policy *string `json:"Policy"`
	// DurationSeconds is the session lifetime, 900-43200 seconds.
	DurationSeconds *int32 `json:"DurationSeconds"`
	// ExternalId is the external id the role's trust policy asks for
	// (2-1224 of [\w+=,.@:/-]).
	ExternalId *string `json:"ExternalId"`
	// SerialNumber is the MFA device's serial number or ARN (9-256 of
	// [\w+=/:,.@-]). Setting it requires a token source.
	SerialNumber *string `json:"SerialNumber"`
	// TokenCode is a static MFA code (6 digits). A token provider, when
	// there is one, wins over it.
	TokenCode *string `json:"TokenCode"`
	// Tags are session tags (at most 50).
	Tags []Tag `json:"Tags"`
	// TransitiveTagKeys are the tag keys passed on to chained roles (at
	// most 50).
	TransitiveTagKeys []string `json:"TransitiveTagKeys"`
	// SourceIdentity is the source identity (2-64 of [\w+=,.@-]).
	SourceIdentity *string `json:"SourceIdentity"`
	// ProvidedContexts are trusted context assertions (at most 5).
	ProvidedContexts []ProvidedContext `json:"ProvidedContexts"`
}

// PolicyArn is one managed session policy: {"arn": "..."} in JSON, as in
// boto3.
type PolicyArn struct {
	Arn string `json:"arn"`
}

// Tag is one session tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// ProvidedContext is one trusted context assertion.
type ProvidedContext struct {
	ProviderArn      string `json:"ProviderArn"`
	ContextAssertion string `json:"ContextAssertion"`
}

// ClientConfig configures the STS client (the keys of
// sts_client_kwargs). The zero value is the default: the region from
// AWS_REGION / AWS_DEFAULT_REGION (else the default config's, else
// us-east-1), the regional AWS endpoint over TLS, botocore's 60 s connect
// and read timeouts and the SDK's standard retries.
type ClientConfig struct {
	// RegionName is the region of the STS endpoint.
	RegionName string
	// EndpointURL replaces the AWS endpoint (http or https URL). When
	// empty, AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL are honoured as
	// botocore does.
	EndpointURL string
	// UseSSL false selects http for the AWS endpoint; ignored when an
	// endpoint URL is given (as in botocore). nil means true.
	UseSSL *bool
	// Verify false disables TLS certificate verification (botocore's
	// verify=False); nil or true verifies.
	Verify *bool
	// CABundle is the path of a PEM CA bundle to verify with instead of the
	// system roots (botocore's verify="path").
	CABundle string
	// AccessKeyID, SecretAccessKey and SessionToken are explicit source
	// credentials; they win over the host's hook and the default chain.
	AccessKeyID, SecretAccessKey, SessionToken string
	// AccountID is accepted for compatibility with boto3's client
	// parameters (12 digits); it does not change STS endpoints.
	AccountID string
	// Retries, timeouts and proxies: the parts of botocore's Config that
	// matter here.
	Config Config
}

// Config is the subset of botocore's Config the STS client honours.
type Config struct {
	// Retries configures retries of throttling, 5xx and transient
	// connection errors.
	Retries RetryConfig
	// ConnectTimeout bounds connecting and the TLS handshake (default 5 s;
	// botocore: 60 s).
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for each read of the response (default
	// 7 s; botocore: 60 s).
	ReadTimeout time.Duration
	// Proxies maps "http" and "https" to proxy URLs, as botocore's proxies.
	// When empty, the HTTP(S)_PROXY / NO_PROXY environment applies.
	Proxies map[string]string
	// UserAgentExtra is appended to the User-Agent (user_agent_extra).
	UserAgentExtra string
	// UserAgentAppID is the application id in the User-Agent
	// (user_agent_appid).
	UserAgentAppID string
	// MaxPoolConnections is how many idle connections are kept
	// (max_pool_connections; 0: botocore's 10).
	MaxPoolConnections int
	// UseFIPSEndpoint and UseDualStackEndpoint pick the FIPS and dual-stack
	// AWS endpoints (use_fips_endpoint, use_dualstack_endpoint).
	UseFIPSEndpoint, UseDualStackEndpoint bool
}

// RetryConfig is botocore's retries dict.
type RetryConfig struct {
	// MaxAttempts is the number of retries after the first attempt
	// (botocore's max_attempts); nil means the SDK default.
	MaxAttempts *int
	// TotalMaxAttempts is the total number of attempts, first included
	// (botocore's total_max_attempts); it wins over MaxAttempts.
	TotalMaxAttempts *int
	// Mode is "standard" (default), "adaptive" or "legacy" (run as
	// standard).
	Mode string
}

// MFACommandOptions are mfa_token_provider_kwargs: the subprocess.run
// keyword arguments gobrs supports for a token command.
type MFACommandOptions struct {
	// Timeout bounds the command (default DefaultMFACommandTimeout).
	Timeout time.Duration
	// Dir is the working directory (subprocess's cwd).
	Dir string
	// Env, when not nil, is the command's whole environment
	// ("KEY=value" entries), as subprocess's env.
	Env []string
	// Input is written to the command's standard input.
	Input string
	// StartNewSession runs the command in a new session (setsid), as
	// subprocess's start_new_session.
	StartNewSession bool
}

// Limits of the configuration values that AWS or botocore leave open.
const (
	maxTimeoutSeconds = 86400
	maxRetryAttempts  = 100
)

var (
	// arnChars is AWS's arnType / policy text alphabet: tab, LF, CR and
	// printable characters (Go strings cannot hold the surrogates AWS
	// excludes).
	arnCharsRe     = regexp.MustCompile(`^[\t\n\r\x{20}-\x{7E}\x{85}\x{A0}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]*$`)
	policyCharsRe  = regexp.MustCompile(`^[\t\n\r\x{20}-\x{FF}]*$`)
	sessionNameRe  = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDRe   = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	serialNumberRe = regexp.MustCompile(`^[\w+=/:,.@-]*$`)
	tokenCodeRe    = regexp.MustCompile(`^[0-9]{6}$`)
	tagKeyRe       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	regionRe       = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	accountIDRe    = regexp.MustCompile(`^[0-9]{12}$`)
)

// strRule is the length and alphabet AWS sets for one string parameter.
type strRule struct {
	min, max int
	re       *regexp.Regexp
	alphabet string // the alphabet as the error names it
	secret   bool   // never echo the value
}

var (
	ruleRoleArn     = strRule{20, 2048, arnCharsRe, "printable characters", false}
	ruleSessionName = strRule{2, 64, sessionNameRe, `letters, digits and +=,.@_-`, false}
	rulePolicy      = strRule{1, 2048, policyCharsRe, "printable Latin-1 characters", true}
	ruleExternalID  = strRule{2, 1224, externalIDRe, `letters, digits and +=,.@:/_-`, true}
	ruleSerial      = strRule{9, 256, serialNumberRe, `letters, digits and +=/:,.@_-`, false}
	ruleTokenCode   = strRule{6, 6, tokenCodeRe, "digits (a 6-digit code)", true}
	ruleTagKey      = strRule{1, 128, tagKeyRe, `letters, digits, spaces and _.:/=+-@`, false}
	ruleTagValue    = strRule{0, 256, tagKeyRe, `letters, digits, spaces and _.:/=+-@`, true}
	ruleSourceID    = strRule{2, 64, sessionNameRe, `letters, digits and +=,.@_-`, false}
	ruleContextArn  = strRule{20, 2048, arnCharsRe, "printable characters", false}
	ruleAssertion   = strRule{4, 2048, nil, "", true}
)

// check validates v against r; errors name param and echo the value only
// when it is not secret.
func (r strRule) check(param, v string) error {
	shown := ""
	if !r.secret {
		shown = safetext.Cut(v, 64)
	}
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		return refusedBySTS(core.NewValidationError(param, "", "%s is not valid UTF-8", param))
	case n < r.min || n > r.max:
		var err *core.Error
		if r.min == r.max {
			err = core.NewValidationError(param, shown, "%s must be exactly %d characters long, not %d", param, r.min, n)
		} else {
			err = core.NewValidationError(param, shown, "%s must be %d to %d characters long, not %d", param, r.min, r.max, n)
		}
		if n < r.min {
			return refusedByBotocore(err)
		}
		return refusedBySTS(err)
	case r.re != nil && !r.re.MatchString(v):
		return refusedBySTS(core.NewValidationError(param, shown, "%s may only contain %s", param, r.alphabet))
	}
	return nil
}

// refusedByBotocore marks a parameter that botocore's own validation
// refuses (a length or value under the API's minimum, a wrong type): hosts
// raise it as botocore's ParamValidationError too.
func refusedByBotocore(e *core.Error) *core.Error {
	e.Details = map[string]any{"botocore": "ParamValidationError"}
	return e
}

// refusedBySTS marks a parameter that botocore lets through and STS
// refuses (over a maximum, outside the alphabet): hosts raise it as the
// ClientError STS's answer would make, code ValidationError, HTTP 400.
func refusedBySTS(e *core.Error) *core.Error {
	e.Details = map[string]any{"botocore": "ClientError", "operation": "AssumeRole", "error_code": "ValidationError", "http_status": 400}
	return e
}

func checkOptional(r strRule, param string, v *string) error {
	if v == nil {
		return nil
	}
	return r.check(param, *v)
}

// Validate checks every parameter against the AWS AssumeRole limits.
// Errors are KindValidation naming "assume_role_kwargs.<Name>" (with an
// index for list items); secret values (TokenCode, ExternalId, Policy, tag
// values) are never echoed.
func (p *AssumeRoleParams) Validate() error {
	const pre = "assume_role_kwargs."
	if p.RoleArn == "" {
		return core.NewValidationError(pre+"RoleArn", "", "%sRoleArn is required", pre)
	}
	if err := ruleRoleArn.check(pre+"RoleArn", p.RoleArn); err != nil {
		return err
	}
	for _, f := range []struct {
		r    strRule
		name string
		v    *string
	}{
		{ruleSessionName, "RoleSessionName", p.RoleSessionName},
		{rulePolicy, "Policy", p.Policy},
		{ruleExternalID, "ExternalId", p.ExternalId},
		{ruleSerial, "SerialNumber", p.SerialNumber},
		{ruleTokenCode, "TokenCode", p.TokenCode},
		{ruleSourceID, "SourceIdentity", p.SourceIdentity},
	} {
		if err := checkOptional(f.r, pre+f.name, f.v); err != nil {
			return err
		}
	}
	if d := p.DurationSeconds; d != nil && (*d < MinDurationSeconds || *d > MaxDurationSeconds) {
		err := core.NewValidationError(pre+"DurationSeconds", fmt.Sprint(*d), "%sDurationSeconds must be between %d and %d seconds, not %d",
			pre, MinDurationSeconds, MaxDurationSeconds, *d)
		if *d < MinDurationSeconds {
			return refusedByBotocore(err)
		}
		return refusedBySTS(err)
	}
	if err := maxItems(pre+"PolicyArns", len(p.PolicyArns), 10); err != nil {
		return err
	}
	for i, a := range p.PolicyArns {
		if err := ruleRoleArn.check(fmt.Sprintf("%sPolicyArns[%d].arn", pre, i), a.Arn); err != nil {
			return err
		}
	}
	if err := maxItems(pre+"Tags", len(p.Tags), 50); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, t := range p.Tags {
		if err := ruleTagKey.check(fmt.Sprintf("%sTags[%d].Key", pre, i), t.Key); err != nil {
			return err
		}
		if err := ruleTagValue.check(fmt.Sprintf("%sTags[%d].Value", pre, i), t.Value); err != nil {
			return err
		}
		// Tag keys are case-insensitive in IAM: AWS refuses duplicates.
		k := strings.ToLower(t.Key)
		if seen[k] {
			return refusedBySTS(core.NewValidationError(fmt.Sprintf("%sTags[%d].Key", pre, i), t.Key, "%sTags has the key %s twice", pre, safetext.Quote(t.Key)))
		}
		seen[k] = true
	}
	if err := maxItems(pre+"TransitiveTagKeys", len(p.TransitiveTagKeys), 50); err != nil {
		return err
	}
	for i, k := range p.TransitiveTagKeys {
		if err := ruleTagKey.check(fmt.Sprintf("%sTransitiveTagKeys[%d]", pre, i), k); err != nil {
			return err
		}
	}
	if err := maxItems(pre+"ProvidedContexts", len(p.ProvidedContexts), 5); err != nil {
		return err
	}
	for i, c := range p.ProvidedContexts {
		if err := ruleContextArn.check(fmt.Sprintf("%sProvidedContexts[%d].ProviderArn", pre, i), c.ProviderArn); err != nil {
			return err
		}
		if err := ruleAssertion.check(fmt.Sprintf("%sProvidedContexts[%d].ContextAssertion", pre, i), c.ContextAssertion); err != nil {
			return err
		}
	}
	return nil
}

func maxItems(param string, n, max int) error {
	if n > max {
		return refusedBySTS(core.NewValidationError(param, "", "%s may hold at most %d items, not %d", param, max, n))
	}
	return nil
}

// sessionName returns RoleSessionName or its default.
func (p *AssumeRoleParams) sessionName() string {
	if p.RoleSessionName != nil {
		return *p.RoleSessionName
	}
	return DefaultRoleSessionName
}

// Validate checks the client settings. Errors are KindValidation naming
// "sts_client_kwargs.<key>" (KindConfiguration for incomplete explicit
// keys) and never echo a key, a secret or a proxy password.
func (c *ClientConfig) Validate() error {
	const pre = "sts_client_kwargs."
	if c.RegionName != "" && !regionRe.MatchString(c.RegionName) {
		return core.NewValidationError(pre+"region_name", safetext.Cut(c.RegionName, 64), "%sregion_name %s is not a valid region name", pre, safetext.Quote(safetext.Cut(c.RegionName, 64)))
	}
	if c.EndpointURL != "" {
		if err := checkURL(pre+"endpoint_url", c.EndpointURL, "http", "https"); err != nil {
			return err
		}
	}
	if strings.ContainsRune(c.CABundle, 0) {
		return core.NewValidationError(pre+"verify", "", "%sverify must be a boolean or the path of a CA bundle", pre)
	}
	if c.CABundle != "" && c.Verify != nil && !*c.Verify {
		return core.NewConfigurationError(pre+"verify", "%sverify cannot both disable verification and name a CA bundle", pre)
	}
	for _, f := range []struct{ name, v string }{
		{"aws_access_key_id", c.AccessKeyID}, {"aws_secret_access_key", c.SecretAccessKey}, {"aws_session_token", c.SessionToken},
	} {
		if f.v == "" {
			continue
		}
		if len(f.v) > core.MaxFieldLen || !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return core.NewValidationError(pre+f.name, "", "%s%s must be printable UTF-8 of at most %d bytes", pre, f.name, core.MaxFieldLen)
		}
	}
	switch {
	case c.AccessKeyID != "" && c.SecretAccessKey == "":
		return core.NewConfigurationError(pre+"aws_secret_access_key", "%saws_access_key_id is set but aws_secret_access_key is missing", pre)
	case c.AccessKeyID == "" && c.SecretAccessKey != "":
		return core.NewConfigurationError(pre+"aws_access_key_id", "%saws_secret_access_key is set but aws_access_key_id is missing", pre)
	case c.SessionToken != "" && c.AccessKeyID == "":
		return core.NewConfigurationError(pre+"aws_access_key_id", "%saws_session_token needs aws_access_key_id and aws_secret_access_key", pre)
	}
	if c.AccountID != "" && !accountIDRe.MatchString(c.AccountID) {
		return core.NewValidationError(pre+"aws_account_id", safetext.Cut(c.AccountID, 64), "%saws_account_id must be 12 digits", pre)
	}
	return c.Config.validate(pre + "config.")
}

func (c *Config) validate(pre string) error {
	for _, t := range []struct {
		name string
		d    time.Duration
	}{{"connect_timeout", c.ConnectTimeout}, {"read_timeout", c.ReadTimeout}} {
		if t.d < 0 || t.d > maxTimeoutSeconds*time.Second {
			return core.NewValidationError(pre+t.name, fmt.Sprint(t.d.Seconds()), "%s%s must be more than 0 and at most %d seconds", pre, t.name, maxTimeoutSeconds)
		}
	}
	r := c.Retries
	if r.MaxAttempts != nil && (*r.MaxAttempts < 0 || *r.MaxAttempts >= maxRetryAttempts) {
		return core.NewValidationError(pre+"retries.max_attempts", fmt.Sprint(*r.MaxAttempts), "%sretries.max_attempts must be between 0 and %d", pre, maxRetryAttempts-1)
	}
	if r.TotalMaxAttempts != nil && (*r.TotalMaxAttempts < 1 || *r.TotalMaxAttempts > maxRetryAttempts) {
		return core.NewValidationError(pre+"retries.total_max_attempts", fmt.Sprint(*r.TotalMaxAttempts), "%sretries.total_max_attempts must be between 1 and %d", pre, maxRetryAttempts)
	}
	switch r.Mode {
	case "", "standard", "adaptive", "legacy":
	default:
		return core.NewValidationError(pre+"retries.mode", safetext.Cut(r.Mode, 32), `%sretries.mode must be "standard", "adaptive" or "legacy", not %s`, pre, safetext.Quote(safetext.Cut(r.Mode, 32)))
	}
	for _, f := range []struct{ name, v string }{{"user_agent_extra", c.UserAgentExtra}, {"user_agent_appid", c.UserAgentAppID}} {
		if len(f.v) > 256 || strings.ContainsAny(f.v, "\x00\r\n") || !utf8.ValidString(f.v) {
			return core.NewValidationError(pre+f.name, "", "%s%s must be one line of at most 256 bytes", pre, f.name)
		}
	}
	for k, v := range c.Proxies {
		if k != "http" && k != "https" {
			return core.NewValidationError(pre+"proxies", safetext.Cut(k, 64), `%sproxies keys must be "http" or "https", not %s`, pre, safetext.Quote(safetext.Cut(k, 64)))
		}
		if err := checkURL(pre+"proxies."+k, v, "http", "https", "socks5"); err != nil {
			return err
		}
	}
	return nil
}

// checkURL validates an absolute URL with one of schemes. The value is
// echoed with any password redacted.
func checkURL(param, v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return core.NewValidationError(param, "", "%s is not an absolute URL", param)
	}
	shown := safetext.Cut(u.Redacted(), 128)
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return core.NewValidationError(param, shown, "%s must use %s, not %s", param, strings.Join(schemes, " or "), safetext.Quote(u.Scheme))
}

// ---- JSON ----------------------------------------------------------------

// methodConfig is the JSON config of method "sts" (include/brs.h, docs/sts.md):
// one field per key, decoded by core.DecodeObject (exact keys, nulls are
// "not given"); options holds the rules that join keys.
type methodConfig struct {
	AssumeRole *assumeRoleJSON `json:"assume_role_kwargs"`
	Client     *clientJSON     `json:"sts_client_kwargs"`
	MFACommand *mfaCommandJSON `json:"mfa_token_provider"`
	MFAOptions *mfaOptionsJSON `json:"mfa_token_provider_kwargs"`
}

// parseSTSConfig turns the sts method's JSON keys into Options.
func parseSTSConfig(raw map[string]json.RawMessage) (Options, error) {
	return decodeSTSConfig(raw, nil)
}

// decodeSTSConfig is parseSTSConfig telling warn (when not nil) what is
// done otherwise than asked.
func decodeSTSConfig(raw map[string]json.RawMessage, warn func(core.Warning)) (Options, error) {
	var c methodConfig
	if err := core.DecodeObject("", raw, &c); err != nil {
		return Options{}, err
	}
	return c.options(warn)
}

// options checks what joins keys and returns the Options.
func (c *methodConfig) options(warn func(core.Warning)) (Options, error) {
	var o Options
	if c.AssumeRole == nil {
		return o, core.NewValidationError("assume_role_kwargs", "", "assume_role_kwargs is required (it holds at least RoleArn)")
	}
	o.AssumeRole = c.AssumeRole.AssumeRoleParams
	if c.Client != nil {
		cc, err := c.Client.config(warn)
		if err != nil {
			return o, err
		}
		o.Client = cc
	}
	if c.MFACommand != nil {
		o.MFACommand = c.MFACommand.argv
	}
	if c.MFAOptions != nil {
		o.MFACommandOptions, o.mfaOptionsSet = c.MFAOptions.options, c.MFAOptions.set
	}
	return o, nil
}

// assumeRoleJSON is assume_role_kwargs. A key or a value that botocore
// itself refuses (unknown, of the wrong type) is marked so
// (refusedByBotocore); the limits are AssumeRoleParams.Validate's.
type assumeRoleJSON struct{ AssumeRoleParams }

// DecodeParam decodes assume_role_kwargs strictly.
func (a *assumeRoleJSON) DecodeParam(param string, raw []byte) error {
	err := core.DecodeStrict(param, raw, &a.AssumeRoleParams)
	var e *core.Error
	if errors.As(err, &e) && e.Kind == core.KindValidation && (e.Details == nil || core.IsWrongType(e)) {
		refusedByBotocore(e)
	}
	return err
}

// clientJSON is sts_client_kwargs: the keyword arguments of boto3's
// client("sts", ...) that gobrs takes.
type clientJSON struct {
	ServiceName     string         `json:"service_name"`
	APIVersion      string         `json:"api_version"`
	RegionName      string         `json:"region_name"`
	EndpointURL     string         `json:"endpoint_url"`
	UseSSL          *bool          `json:"use_ssl"`
	Verify          *verifyJSON    `json:"verify"`
	AccessKeyID     string         `json:"aws_access_key_id"`
	SecretAccessKey string         `json:"aws_secret_access_key"`
	SessionToken    string         `json:"aws_session_token"`
	AccountID       string         `json:"aws_account_id"`
	Config          *configMembers `json:"config"`
	BotocoreConfig  bool           `json:"botocore_config"`
}

// configMembers is sts_client_kwargs.config before it is read (see
// clientJSON.readConfig).
type configMembers map[string]json.RawMessage

// DecodeParam keeps the members of the config object.
func (m *configMembers) DecodeParam(param string, raw []byte) error {
	obj, err := core.Members(param, raw)
	*m = obj
	return err
}

// verifyJSON is botocore's verify: a boolean or the path of a CA bundle.
type verifyJSON struct {
	verify   *bool
	caBundle string
}

// DecodeParam decodes verify.
func (v *verifyJSON) DecodeParam(param string, raw []byte) error {
	var b bool
	var s string
	if core.DecodeJSON(param, raw, &b) == nil {
		v.verify = &b
	} else if core.DecodeJSON(param, raw, &s) == nil && s != "" {
		v.caBundle = s
	} else {
		return core.NewValidationError(param, "", "%s must be a boolean or the path of a CA bundle", param)
	}
	return nil
}

// botocoreConfigJSON is the part of botocore's Config the STS client
// honours (sts_client_kwargs.config).
type botocoreConfigJSON struct {
	Retries              *retriesJSON      `json:"retries"`
	ConnectTimeout       *core.Seconds     `json:"connect_timeout"`
	ReadTimeout          *core.Seconds     `json:"read_timeout"`
	Proxies              map[string]string `json:"proxies"`
	UserAgentExtra       string            `json:"user_agent_extra"`
	UserAgentAppID       string            `json:"user_agent_appid"`
	MaxPoolConnections   *core.Whole       `json:"max_pool_connections"`
	UseFIPSEndpoint      bool              `json:"use_fips_endpoint"`
	UseDualStackEndpoint bool              `json:"use_dualstack_endpoint"`
	SignatureVersion     string            `json:"signature_version"`
}

// retriesJSON is botocore's retries dict.
type retriesJSON struct {
	MaxAttempts      *core.Whole `json:"max_attempts"`
	TotalMaxAttempts *core.Whole `json:"total_max_attempts"`
	Mode             string      `json:"mode"`
}

// readConfig decodes sts_client_kwargs.config into b. With
// botocore_config true (a host that made the config from a botocore Config,
// as Python does; botocore has vetted the names), an option the STS client
// does not honour, or a signature_version other than v4, is accepted, left
// without effect and named in one warning; otherwise every key must be
// one of b's.
func (j *clientJSON) readConfig(b *botocoreConfigJSON, warn func(core.Warning)) error {
	const param = "sts_client_kwargs.config"
	members := map[string]json.RawMessage(*j.Config)
	if j.BotocoreConfig {
		known := core.KnownKeys(b)
		honoured := map[string]json.RawMessage{}
		var ignored []string
		for _, k := range slices.Sorted(maps.Keys(members)) {
			v := members[k]
			if k == "signature_version" {
				if s := strings.TrimSpace(string(v)); s != `"v4"` && s != `"sigv4"` {
					ignored = append(ignored, k)
					continue
				}
				v = json.RawMessage(`"v4"`)
			}
			if slices.Contains(known, k) {
				honoured[k] = v
			} else {
				ignored = append(ignored, safetext.Cut(k, 64))
			}
		}
		members = honoured
		if len(ignored) > 0 && warn != nil {
			warn(core.Warning{Param: param, Message: "these botocore Config options of sts_client_kwargs have no effect " +
				"on gobrs's STS client: " + strings.Join(ignored, ", ") + " (see docs/compat.md)"})
		}
	}
	return core.DecodeObject(param, members, b)
}

// config checks the keys that have no ClientConfig field and the JSON
// spellings (seconds, whole numbers), and returns the ClientConfig (whose
// Validate checks the rest).
func (j *clientJSON) config(warn func(core.Warning)) (ClientConfig, error) {
	const param = "sts_client_kwargs"
	c := ClientConfig{RegionName: j.RegionName, EndpointURL: j.EndpointURL, UseSSL: j.UseSSL,
		AccessKeyID: j.AccessKeyID, SecretAccessKey: j.SecretAccessKey, SessionToken: j.SessionToken, AccountID: j.AccountID}
	if j.ServiceName != "" && j.ServiceName != "sts" {
		return c, core.NewValidationError(param+".service_name", safetext.Cut(j.ServiceName, 64), `%s.service_name must be "sts"`, param)
	}
	if j.APIVersion != "" && j.APIVersion != "2011-06-15" {
		return c, core.NewValidationError(param+".api_version", safetext.Cut(j.APIVersion, 64), `%s.api_version must be "2011-06-15", the only STS API version`, param)
	}
	if j.Verify != nil {
		c.Verify, c.CABundle = j.Verify.verify, j.Verify.caBundle
	}
	if j.Config == nil {
		return c, nil
	}
	b := &botocoreConfigJSON{}
	if err := j.readConfig(b, warn); err != nil {
		return c, err
	}
	c.Config = Config{Proxies: b.Proxies, UserAgentExtra: b.UserAgentExtra, UserAgentAppID: b.UserAgentAppID,
		UseFIPSEndpoint: b.UseFIPSEndpoint, UseDualStackEndpoint: b.UseDualStackEndpoint}
	if b.SignatureVersion != "" && b.SignatureVersion != "v4" {
		return c, core.NewValidationError(param+".config.signature_version", safetext.Cut(b.SignatureVersion, 32), `%s.config.signature_version must be "v4", the signature STS takes`, param)
	}
	if n := b.MaxPoolConnections; n != nil {
		if err := n.Check(param+".config.max_pool_connections", 1, 10000); err != nil {
			return c, err
		}
		c.Config.MaxPoolConnections = int(*n)
	}
	for _, t := range []struct {
		name string
		v    *core.Seconds
		d    *time.Duration
	}{{"connect_timeout", b.ConnectTimeout, &c.Config.ConnectTimeout}, {"read_timeout", b.ReadTimeout, &c.Config.ReadTimeout}} {
		if t.v == nil {
			continue
		}
		if !t.v.In(math.SmallestNonzeroFloat64, maxTimeoutSeconds) {
			return c, core.NewValidationError(param+".config."+t.name, t.v.String(), "%s.config.%s must be more than 0 and at most %d seconds, not %v",
				param, t.name, maxTimeoutSeconds, float64(*t.v))
		}
		*t.d = t.v.Duration()
	}
	if r := b.Retries; r != nil {
		c.Config.Retries.Mode = r.Mode
		for _, a := range []struct {
			name   string
			v      *core.Whole
			lo, hi int64
			dst    **int
		}{
			{"max_attempts", r.MaxAttempts, 0, maxRetryAttempts - 1, &c.Config.Retries.MaxAttempts},
			{"total_max_attempts", r.TotalMaxAttempts, 1, maxRetryAttempts, &c.Config.Retries.TotalMaxAttempts},
		} {
			if a.v == nil {
				continue
			}
			if err := a.v.Check(param+".config.retries."+a.name, a.lo, a.hi); err != nil {
				return c, err
			}
			n := int(*a.v)
			*a.dst = &n
		}
	}
	return c, nil
}

// mfaCommandJSON is mfa_token_provider: a command string (split
// shell-like, without a shell) or an array of strings.
type mfaCommandJSON struct{ argv []string }

// DecodeParam decodes the command (decodeMFACommand).
func (m *mfaCommandJSON) DecodeParam(param string, raw []byte) (err error) {
	m.argv, err = decodeMFACommand(param, raw)
	return err
}

// mfaKwargsRefused are the subprocess.run arguments refused for security
// whatever their value (the output is read by gobrs)...
var mfaKwargsRefused = map[string]bool{"stdout": true, "stderr": true}

// ...and those refused when set to anything but a false value (JSON null,
// false, 0, ""), as boto3-refresh-session refuses them: no shell, ever.
var mfaKwargsRefusedIfSet = map[string]bool{"shell": true, "executable": true, "preexec_fn": true}

// mfaKwargsIgnored are the other arguments of subprocess.run and
// subprocess.Popen that boto3-refresh-session accepts: gobrs accepts them
// and leaves them without effect (the output is always read as text with a
// timeout, descriptors are never inherited, Windows-only ones do not
// apply). docs/compat.md lists them.
var mfaKwargsIgnored = []string{
	"args", "bufsize", "capture_output", "check", "close_fds", "creationflags", "encoding", "errors",
	"extra_groups", "group", "pass_fds", "pipesize", "process_group", "restore_signals", "startupinfo",
	"stdin", "text", "umask", "universal_newlines", "user",
}

// mfaOptionsJSON is mfa_token_provider_kwargs: the keyword arguments of
// subprocess.run that boto3-refresh-session takes; a refused or unknown
// key is a configuration error, as there. The honoured ones are
// mfaHonoured's.
type mfaOptionsJSON struct {
	options MFACommandOptions
	set     bool // it held a key
}

// mfaHonoured are the subprocess.run arguments gobrs honours.
type mfaHonoured struct {
	Timeout         *core.Seconds     `json:"timeout"`
	Cwd             string            `json:"cwd"`
	Env             map[string]string `json:"env"`
	Input           string            `json:"input"`
	StartNewSession bool              `json:"start_new_session"`
}

// DecodeParam decodes mfa_token_provider_kwargs.
func (m *mfaOptionsJSON) DecodeParam(param string, raw []byte) error {
	obj, err := core.Members(param, raw)
	if err != nil {
		return err
	}
	honoured := map[string]json.RawMessage{}
	known := core.KnownKeys(&mfaHonoured{})
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		v := strings.TrimSpace(string(obj[k]))
		set := v != "null" && v != "false" && v != "0" && v != `""`
		switch {
		case mfaKwargsRefused[k] || (mfaKwargsRefusedIfSet[k] && set):
			return core.NewConfigurationError(param+"."+k, "%s.%s is not allowed: the MFA token command runs without a shell and its output is read by gobrs", param, k)
		case slices.Contains(known, k):
			honoured[k] = obj[k]
		case mfaKwargsRefusedIfSet[k] || slices.Contains(mfaKwargsIgnored, k):
		default:
			return core.NewConfigurationError(param+"."+safetext.Cut(k, 64), "%q is not a keyword argument of subprocess.run", safetext.Cut(k, 64))
		}
	}
	var h mfaHonoured
	if err := core.DecodeObject(param, honoured, &h); err != nil {
		return err
	}
	o := MFACommandOptions{Dir: h.Cwd, Input: h.Input, StartNewSession: h.StartNewSession}
	if t := h.Timeout; t != nil {
		if !t.In(math.SmallestNonzeroFloat64, maxTimeoutSeconds) {
			return core.NewValidationError(param+".timeout", t.String(), "%s.timeout must be more than 0 and at most %d seconds, not %v", param, maxTimeoutSeconds, float64(*t))
		}
		o.Timeout = t.Duration()
	}
	if h.Env != nil {
		o.Env = make([]string, 0, len(h.Env))
		for k, v := range h.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
				return core.NewValidationError(param+".env", safetext.Cut(k, 64), "%s.env has an invalid entry %s (keys must be non-empty without '=' or NUL, values without NUL)", param, safetext.Quote(safetext.Cut(k, 64)))
			}
			o.Env = append(o.Env, k+"="+v)
		}
		sort.Strings(o.Env)
	}
	m.options, m.set = o, len(obj) > 0
	return nil
}
