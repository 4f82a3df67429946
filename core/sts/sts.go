// Package sts is the "sts" method: credentials from STS AssumeRole
// (aws-sdk-go-v2 service/sts), with MFA by callback, static code or
// command (mfa.go), STS clients and assumed-role credentials shared
// process-wide (cache.go), and the JSON config of the method (config.go).
// Importing it (for its side effect, as a database/sql driver) registers
// the method with core.NewSessionFromJSON.
package sts

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

// The STS client defaults. botocore waits 60 s to connect and 60 s per
// read, so a stalled STS holds a mandatory-window read for 3 x 60 s; gobrs
// fails it within DefaultCallTimeout instead: 5 s to connect (and for
// the TLS handshake), 7 s per read, the SDK's 3 attempts (backoff under
// 2 s + 4 s), at most 3 x 7 + 6 = 27 s for a stall, and the whole call
// bounded by DefaultCallTimeout whatever stalls. sts_client_kwargs
// (connect_timeout, read_timeout, retries) changes them; setting any of
// them lifts the overall bound.
const (
	defaultSTSRegion         = "us-east-1"
	defaultSTSConnectTimeout = 5 * time.Second
	defaultSTSReadTimeout    = 7 * time.Second
)

// DefaultCallTimeout bounds one AssumeRole call, retries included, when
// sts_client_kwargs sets neither timeouts nor retries.
const DefaultCallTimeout = 30 * time.Second

func init() {
	core.RegisterMethod("sts", func(raw map[string]json.RawMessage, hooks core.Hooks) (core.Provider, error) {
		o, err := decodeSTSConfig(raw, hooks.Warn)
		if err != nil {
			return nil, err
		}
		o.SourceCredentials = hooks.SourceCredentials
		o.MFAToken = hooks.MFAToken
		p, err := NewProvider(o)
		if err != nil {
			return nil, err
		}
		if p.ignoredToken && hooks.Warn != nil {
			hooks.Warn(core.Warning{Param: "assume_role_kwargs.TokenCode", Message: "'TokenCode' provided in " +
				"'assume_role_kwargs' will be ignored and overridden by 'mfa_token_provider' on each refresh."})
		}
		return p, nil
	})
}

// Options configures a Provider. It mirrors the sts method's JSON
// config: assume_role_kwargs, sts_client_kwargs, mfa_token_provider (a
// command, or the MFAToken hook) and mfa_token_provider_kwargs.
type Options struct {
	// AssumeRole are the AssumeRole parameters; RoleArn is required.
	AssumeRole AssumeRoleParams

	// Client configures the STS client.
	Client ClientConfig

	// MFACommand, when not nil, is the command (program and arguments, run
	// without a shell) that prints a fresh MFA token code at each refresh.
	MFACommand []string

	// MFACommandOptions configure MFACommand.
	MFACommandOptions MFACommandOptions

	// MFAToken returns a fresh MFA token code at each refresh. It is used
	// when AssumeRole.SerialNumber is set and MFACommand is not.
	MFAToken func(ctx context.Context) (string, error)

	// SourceCredentials returns the credentials that sign AssumeRole (keys
	// access_key, secret_key and optionally token). It is asked at every
	// refresh, so refreshable source credentials stay valid. An empty map
	// means "none": the default chain is used. Explicit keys in Client win
	// over it.
	SourceCredentials func(ctx context.Context) (map[string]string, error)

	mfaOptionsSet bool // mfa_token_provider_kwargs held keys (JSON config)
}

// Provider assumes an IAM role with STS AssumeRole. It implements
// Provider, Identifier (GetCallerIdentity with the assumed credentials)
// and OptionsReceiver.
//
// STS clients are shared process-wide by client settings, and without MFA
// the assumed credentials are shared by every provider making the same
// call with the same source credentials, with one call in flight per
// identity (see docs/sts.md). With MFA nothing is shared: every refresh
// asks for a fresh token.
type Provider struct {
	input        awssts.AssumeRoleInput // template, without TokenCode
	paramsDigest [32]byte
	settings     clientSettings
	explicit     *aws.Credentials
	sourceHook   func(ctx context.Context) (map[string]string, error)
	mfa          mfaTokenFunc
	staticToken  string
	ignoredToken bool // TokenCode given with a token provider: warn once

	mu     sync.Mutex
	client *stsClient
	opts   core.Options
	warned bool
	last   string // access key of the shared credentials last handed out
}

var (
	_ core.Provider        = (*Provider)(nil)
	_ core.Identifier      = (*Provider)(nil)
	_ core.OptionsReceiver = (*Provider)(nil)
)

// NewProvider validates o and returns a provider. It is cheap: it makes
// no network call, reuses a cached STS client and loads the default AWS
// config only when neither explicit keys nor a source hook are given and
// the region is not known otherwise (and then only once per process, at
// the first refresh).
//
// Errors: KindValidation for a bad parameter (naming it), KindConfiguration
// for parameters that cannot work together (SerialNumber without a token
// source, TokenCode without SerialNumber, an empty MFA command, a token
// command without SerialNumber, partial explicit keys).
func NewProvider(o Options) (*Provider, error) {
	ar := &o.AssumeRole
	if err := ar.Validate(); err != nil {
		return nil, err
	}
	if err := o.Client.Validate(); err != nil {
		return nil, err
	}
	p := &Provider{sourceHook: o.SourceCredentials}
	if err := p.configureMFA(&o); err != nil {
		return nil, err
	}
	p.input = assumeRoleInput(ar)
	p.paramsDigest = digestParams(ar)
	if c := o.Client; c.AccessKeyID != "" {
		p.explicit = &aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "sts_client_kwargs"}
	}
	p.settings = resolveClientSettings(&o.Client)
	if p.settings.region == "" && (p.explicit != nil || p.sourceHook != nil) {
		p.settings.region = defaultSTSRegion
	}
	// Without a region the client waits for the default config's region,
	// at first use (stsClient).
	if p.settings.region != "" {
		c, err := sharedSTSClient(&p.settings)
		if err != nil {
			return nil, err
		}
		p.client = c
	}
	p.opts = core.DefaultOptions()
	return p, nil
}

// configureMFA picks the token source and checks the anchor's rules.
func (p *Provider) configureMFA(o *Options) error {
	ar := &o.AssumeRole
	const pre = "assume_role_kwargs."
	if o.MFACommand != nil {
		if len(o.MFACommand) == 0 || o.MFACommand[0] == "" {
			return core.NewConfigurationError("mfa_token_provider", "the mfa_token_provider command is empty")
		}
		if ar.SerialNumber == nil {
			return core.NewConfigurationError(pre+"SerialNumber", "%sSerialNumber must be set when mfa_token_provider is given", pre)
		}
	} else if o.mfaOptionsSet {
		return core.NewConfigurationError("mfa_token_provider_kwargs", "mfa_token_provider_kwargs is given without an mfa_token_provider command")
	}
	if ar.SerialNumber == nil {
		if ar.TokenCode != nil {
			return core.NewConfigurationError(pre+"SerialNumber", "%sTokenCode is set without %sSerialNumber", pre, pre)
		}
		return nil
	}
	switch {
	case o.MFACommand != nil:
		p.mfa = commandToken(append([]string(nil), o.MFACommand...), o.MFACommandOptions)
	case o.MFAToken != nil:
		p.mfa = hookToken(o.MFAToken)
	case ar.TokenCode != nil:
		p.staticToken = *ar.TokenCode
		return nil
	default:
		return core.NewConfigurationError(pre+"SerialNumber",
			"%sSerialNumber needs a token source: an mfa_token_provider or %sTokenCode", pre, pre)
	}
	p.ignoredToken = ar.TokenCode != nil
	return nil
}

// resolveClientSettings fills the defaults: endpoint and region from the
// environment as botocore does, gobrs's own timeouts (see
// defaultSTSConnectTimeout).
func resolveClientSettings(c *ClientConfig) clientSettings {
	s := clientSettings{
		region:   c.RegionName,
		endpoint: c.EndpointURL,
		insecure: c.Verify != nil && !*c.Verify,
		caBundle: c.CABundle,
		proxies:  c.Config.Proxies,
		adaptive: c.Config.Retries.Mode == "adaptive",
		connect:  c.Config.ConnectTimeout,
		read:     c.Config.ReadTimeout,
		agent:    c.Config.UserAgentExtra,
		appID:    c.Config.UserAgentAppID,
		pool:     c.Config.MaxPoolConnections,
		fips:     c.Config.UseFIPSEndpoint,
		dual:     c.Config.UseDualStackEndpoint,
	}
	if s.endpoint == "" && !strings.EqualFold(os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		s.endpoint = os.Getenv("AWS_ENDPOINT_URL_STS")
		if s.endpoint == "" {
			s.endpoint = os.Getenv("AWS_ENDPOINT_URL")
		}
	}
	s.plainHTTP = s.endpoint == "" && c.UseSSL != nil && !*c.UseSSL
	if s.region == "" {
		s.region = os.Getenv("AWS_REGION")
	}
	if s.region == "" {
		s.region = os.Getenv("AWS_DEFAULT_REGION")
	}
	r := c.Config.Retries
	if s.connect == 0 && s.read == 0 && r.MaxAttempts == nil && r.TotalMaxAttempts == nil {
		s.callTimeout = DefaultCallTimeout
	}
	if s.connect == 0 {
		s.connect = defaultSTSConnectTimeout
	}
	if s.read == 0 {
		s.read = defaultSTSReadTimeout
	}
	switch r := c.Config.Retries; {
	case r.TotalMaxAttempts != nil:
		s.attempts = *r.TotalMaxAttempts
	case r.MaxAttempts != nil:
		s.attempts = *r.MaxAttempts + 1
	}
	return s
}

// assumeRoleInput builds the request template.
func assumeRoleInput(ar *AssumeRoleParams) awssts.AssumeRoleInput {
	in := awssts.AssumeRoleInput{
		RoleArn:           aws.String(ar.RoleArn),
		RoleSessionName:   aws.String(ar.sessionName()),
		Policy:            ar.Policy,
		DurationSeconds:   ar.DurationSeconds,
		ExternalId:        ar.ExternalId,
		SerialNumber:      ar.SerialNumber,
		SourceIdentity:    ar.SourceIdentity,
		TransitiveTagKeys: ar.TransitiveTagKeys,
	}
	for _, a := range ar.PolicyArns {
		in.PolicyArns = append(in.PolicyArns, types.PolicyDescriptorType{Arn: aws.String(a.Arn)})
	}
	for _, t := range ar.Tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	for _, c := range ar.ProvidedContexts {
		in.ProvidedContexts = append(in.ProvidedContexts, types.ProvidedContext{ProviderArn: aws.String(c.ProviderArn), ContextAssertion: aws.String(c.ContextAssertion)})
	}
	return in
}

// digestParams digests the parameters that make up an AssumeRole identity
// (everything but the MFA fields, which disable sharing).
func digestParams(ar *AssumeRoleParams) [32]byte {
	b, _ := json.Marshal(struct {
		A *AssumeRoleParams
		S string
	}{&AssumeRoleParams{
		RoleArn: ar.RoleArn, PolicyArns: ar.PolicyArns, Policy: ar.Policy, DurationSeconds: ar.DurationSeconds,
		ExternalId: ar.ExternalId, Tags: ar.Tags, TransitiveTagKeys: ar.TransitiveTagKeys,
		SourceIdentity: ar.SourceIdentity, ProvidedContexts: ar.ProvidedContexts,
	}, ar.sessionName()})
	return sha256.Sum256(b)
}

// ReceiveOptions implements OptionsReceiver: the provider uses the
// session's clock, logger and windows (a shared credential is handed out
// only while it is not yet inside the session's advisory window).
func (p *Provider) ReceiveOptions(o core.Options) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opts = o
}

func (p *Provider) options() core.Options {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ignoredToken && !p.warned {
		p.warned = true
		p.opts.Logger.Warn("gobrs: assume_role_kwargs.TokenCode is ignored: the MFA token provider supplies a fresh code at each refresh")
	}
	return p.opts
}

// defaultAWSConfig loads the AWS SDK for Go default config once per
// process, when a provider first needs it.
var defaultAWSConfig = sync.OnceValues(func() (aws.Config, error) {
	return config.LoadDefaultConfig(context.Background())
})

// stsClient returns the provider's client, resolving a lazy region.
func (p *Provider) stsClient() (*stsClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	s := p.settings
	if cfg, err := defaultAWSConfig(); err == nil && cfg.Region != "" {
		s.region = cfg.Region
	} else {
		s.region = defaultSTSRegion
	}
	c, err := sharedSTSClient(&s)
	if err != nil {
		return nil, err
	}
	p.client = c
	return c, nil
}

// sourceCredentials resolves the credentials that sign the STS calls:
// explicit keys, else the host's hook, else the default chain.
func (p *Provider) sourceCredentials(ctx context.Context) (aws.Credentials, error) {
	if p.explicit != nil {
		return *p.explicit, nil
	}
	if p.sourceHook != nil {
		m, err := p.sourceHook(ctx)
		if err != nil {
			if core.KindOf(err) == core.KindUnknown {
				err = &core.Error{Kind: core.KindCredential, Param: "source_credentials", Err: err, Message: "the source credentials provider failed"}
			}
			return aws.Credentials{}, err
		}
		if len(m) > 0 {
			for _, k := range [...]string{"access_key", "secret_key", "token"} {
				if k == "token" && m[k] == "" {
					continue // the token is optional
				}
				if err := core.ValidateField(k, m[k]); err != nil {
					e := err.(*core.Error)
					e.Param, e.Message = "source_credentials."+k, "source credentials: "+e.Message
					return aws.Credentials{}, e
				}
			}
			return aws.Credentials{AccessKeyID: m["access_key"], SecretAccessKey: m["secret_key"], SessionToken: m["token"], Source: "host"}, nil
		}
	}
	cfg, err := defaultAWSConfig()
	if err == nil && cfg.Credentials == nil {
		err = errors.New("no credential provider configured")
	}
	var c aws.Credentials
	if err == nil {
		c, err = cfg.Credentials.Retrieve(ctx)
	}
	if err != nil {
		return aws.Credentials{}, &core.Error{Kind: core.KindCredential, Param: "source_credentials", Err: err,
			Message: "no source credentials for AssumeRole: the AWS SDK default chain found none"}
	}
	return c, nil
}

// Retrieve calls AssumeRole (or reuses the shared result of an identical
// call) and returns the assumed-role credentials.
func (p *Provider) Retrieve(ctx context.Context) (core.Credentials, error) {
	opts := p.options()
	client, err := p.stsClient()
	if err != nil {
		return core.Credentials{}, err
	}
	src, err := p.sourceCredentials(ctx)
	if err != nil {
		return core.Credentials{}, err
	}
	switch {
	case p.mfa != nil:
		code, err := p.mfa(ctx)
		if err != nil {
			return core.Credentials{}, err
		}
		return p.assumeRole(ctx, client, src, code)
	case p.staticToken != "":
		return p.assumeRole(ctx, client, src, p.staticToken)
	}
	key := assumeKey(client.key, p.paramsDigest, src)
	e, _ := getOrAdd(assumedRoles, key, func() (*sharedCreds, error) { return &sharedCreds{}, nil })
	p.mu.Lock()
	last := p.last
	p.mu.Unlock()
	// Shared credentials are fresh for this session when they are not in
	// its advisory window, and are not the very ones it is asking to
	// replace (a forced refresh, or windows that differ slightly).
	fresh := func(c core.Credentials, lifetime time.Duration) bool {
		adv, _ := opts.Windows(lifetime)
		return c.AccessKeyID != last && opts.Clock.Now().Before(c.Expires.Add(-adv))
	}
	c, err := e.get(ctx, opts.Clock, fresh, func(ctx context.Context) (core.Credentials, error) {
		return p.assumeRole(ctx, client, src, "")
	})
	if err == nil {
		p.mu.Lock()
		p.last = c.AccessKeyID
		p.mu.Unlock()
	}
	return c, err
}

// assumeRole makes one AssumeRole call signed with src.
func (p *Provider) assumeRole(ctx context.Context, client *stsClient, src aws.Credentials, code string) (core.Credentials, error) {
	in := p.input
	if code != "" {
		in.TokenCode = aws.String(code)
	}
	if p.settings.callTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.settings.callTimeout)
		defer cancel()
	}
	out, err := client.api.AssumeRole(ctx, &in, signWith(src))
	if err != nil {
		return core.Credentials{}, stsError("AssumeRole", client, err)
	}
	if out.Credentials == nil {
		return core.Credentials{}, core.NewCredentialError("Credentials", nil, "the AssumeRole response holds no Credentials")
	}
	c := out.Credentials
	return core.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), Expires: aws.ToTime(c.Expiration).UTC()}, nil
}

// Identity implements Identifier: GetCallerIdentity signed with the
// assumed credentials, as {"UserId", "Account", "Arn"}.
func (p *Provider) Identity(ctx context.Context, creds core.Credentials) (map[string]any, error) {
	client, err := p.stsClient()
	if err != nil {
		return nil, err
	}
	out, err := client.api.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{},
		signWith(aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}))
	if err != nil {
		return nil, stsError("GetCallerIdentity", client, err)
	}
	return map[string]any{"UserId": aws.ToString(out.UserId), "Account": aws.ToString(out.Account), "Arn": aws.ToString(out.Arn)}, nil
}

// signWith makes one call sign with c.
func signWith(c aws.Credentials) func(*awssts.Options) {
	return func(o *awssts.Options) { o.Credentials = staticCredentials(c) }
}

// staticCredentials is an aws.CredentialsProvider returning fixed values.
type staticCredentials aws.Credentials

// Retrieve implements aws.CredentialsProvider.
func (s staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(s), nil
}

// stsError maps an SDK error: a service error is KindRequest with its HTTP
// status and AWS code; no answer or a partial one (refused, reset, timed
// out, TLS, cut off mid-body) is KindConnection; a complete answer that
// cannot be read is KindCredential. The texts come from the SDK and the
// service and hold no secret of ours. Details carry what botocore's
// exceptions hold (operation, error message, endpoint, the kind of
// connection failure), so that hosts raise the same classes.
func stsError(op string, c *stsClient, err error) error {
	status := 0
	details := map[string]any{"operation": op}
	var exhausted *retry.MaxAttemptsError
	if errors.As(err, &exhausted) {
		details["attempts"] = exhausted.Attempt
		op = fmt.Sprintf("%s (%d attempts)", op, exhausted.Attempt)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		details["request_id"] = re.ServiceRequestID()
	}
	var api smithy.APIError
	switch {
	case errors.As(err, &api):
		details["error_message"] = api.ErrorMessage()
		return &core.Error{Kind: core.KindRequest, StatusCode: status, Code: api.ErrorCode(), Err: api, Details: details,
			Message: fmt.Sprintf("STS %s failed (HTTP %d)", op, status)}
	case status >= 300:
		return &core.Error{Kind: core.KindRequest, StatusCode: status, Err: err, Details: details, Message: fmt.Sprintf("STS %s failed (HTTP %d)", op, status)}
	case isConnectionError(err):
		details["connection"] = connectionFailure(err)
		details["endpoint"] = c.endpoint
		return &core.Error{Kind: core.KindConnection, Err: err, Details: details, Message: fmt.Sprintf("STS %s could not get an answer from %s", op, c.endpoint)}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return &core.Error{Kind: core.KindCredential, StatusCode: status, Err: err, Message: fmt.Sprintf("STS %s returned a response that cannot be read", op)}
	}
	return &core.Error{Kind: core.KindCredential, Err: err, Message: fmt.Sprintf("STS %s failed", op)}
}

// connectionFailure names a failure to get an answer as botocore sorts
// them: "connect_timeout" (ConnectTimeoutError), "read_timeout"
// (ReadTimeoutError), "closed" (ConnectionClosedError: the connection
// dropped before an answer), "tls" (SSLError) or "endpoint"
// (EndpointConnectionError: refused, unreachable, unknown host).
func connectionFailure(err error) string {
	var op *net.OpError
	dial := errors.As(err, &op) && op.Op == "dial"
	var ne net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	var tlsErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case dial && timeout:
		return "connect_timeout"
	case dial:
		return "endpoint"
	case timeout:
		return "read_timeout"
	case errors.As(err, &tlsErr) || errors.As(err, &recErr):
		return "tls"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return "closed"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "endpoint"
	}
	return "closed"
}

func isConnectionError(err error) bool {
	var ne net.Error
	var send interface{ ConnectionError() bool }
	return errors.As(err, &send) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || isTruncated(err)
}

// isTruncated reports whether err is an answer cut off before its end (the
// connection closed mid-body): a transport failure, not a bad answer.
func isTruncated(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF)
}
