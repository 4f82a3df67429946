// Package iot is the "iot" method: credentials from the AWS IoT
// credentials endpoint, fetched over mutual TLS with an X.509 certificate
// whose private key is in memory (PEM) or on a PKCS#11 token (pkcs11.go;
// without cgo, pkcs11_nocgo.go refuses it). Importing it (for its side
// effect, as a database/sql driver) registers the method with
// core.NewSessionFromJSON.
package iot

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"
)

// The limits of the IoT credentials provider.
const (
	// DefaultTimeout bounds one request to the IoT credentials endpoint.
	DefaultTimeout = 10 * time.Second
	// MinDuration and MaxDuration bound duration_seconds, as AWS IoT
	// bounds a role alias's credential duration.
	MinDuration = 900
	MaxDuration = 43200

	maxIoTTimeout = time.Hour
	maxPEMLen     = 1 << 20 // a certificate chain, key or CA bundle
	maxIoTBody    = 1 << 20 // the endpoint's answer
)

// PEMSource is PEM-encoded material (a certificate chain, a private key or
// a CA bundle) given either in memory (Data) or as a file path (Path); set
// at most one. Material given in memory stays in memory: it is never
// written to a file.
type PEMSource struct {
	// Path is a file holding the PEM; a leading "~/" is the home directory.
	Path string
	// Data is the PEM itself.
	Data []byte
}

// String describes the source without its content, which may be a key.
func (p PEMSource) String() string {
	switch {
	case len(p.Data) > 0:
		return fmt.Sprintf("PEMSource{Data: %d bytes}", len(p.Data))
	case p.Path != "":
		return fmt.Sprintf("PEMSource{Path: %d bytes}", len(p.Path)) // a misplaced key is not a path
	}
	return "PEMSource{}"
}

// GoString masks the content for %#v as String does.
func (p PEMSource) GoString() string { return p.String() }

// IsZero reports whether neither Path nor Data is set.
func (p PEMSource) IsZero() bool { return p.Path == "" && len(p.Data) == 0 }

// pemFromConfig reads a JSON config value: a string holding "-----BEGIN"
// anywhere is PEM (from there on, so that a byte order mark, a quote or an
// openssl "Bag Attributes" header before it does not turn the key into a
// "path"), anything else a path.
func pemFromConfig(s string) PEMSource {
	if i := strings.Index(s, "-----BEGIN"); i >= 0 {
		return PEMSource{Data: []byte(s[i:])}
	}
	return PEMSource{Path: s}
}

// read returns the PEM bytes, reading the file when a path is given. Errors
// name param and never contain the content.
func (p PEMSource) read(param string) ([]byte, error) {
	if p.Path != "" && len(p.Data) > 0 {
		return nil, core.NewValidationError(param, "", "%s: set a path or PEM data, not both", param)
	}
	if len(p.Data) > 0 {
		if len(p.Data) > maxPEMLen {
			return nil, core.NewValidationError(param, "", "%s is %d bytes, more than the %d allowed", param, len(p.Data), maxPEMLen)
		}
		return p.Data, nil
	}
	path := p.Path
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	// The path is never shown: a value that is not a path (a key's bare
	// base64 body, say) would otherwise end up in the error.
	f, err := os.Open(path)
	if err != nil {
		return nil, &core.Error{Kind: core.KindValidation, Param: param, Err: safetext.UnwrapPathError(err),
			Message: fmt.Sprintf("%s: cannot read it as a file (expected PEM data or the path of a PEM file)", param)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMLen+1))
	switch {
	case err != nil:
		return nil, &core.Error{Kind: core.KindValidation, Param: param, Err: safetext.UnwrapPathError(err),
			Message: fmt.Sprintf("%s: cannot read the file", param)}
	case len(b) > maxPEMLen:
		return nil, core.NewValidationError(param, "", "%s: the file is more than the %d bytes allowed", param, maxPEMLen)
	}
	return b, nil
}

// PKCS11Options selects a private key held by a PKCS#11 token (an HSM, a
// TPM, a smart card) in place of a private key in memory. The keys mirror
// boto3-refresh-session's pkcs11 dict.
type PKCS11Options struct {
	// Lib is the path of the PKCS#11 module (pkcs11_lib). Required.
	Lib string
	// UserPIN logs into the token as the user (user_pin). Empty skips the
	// login, for tokens with a protected authentication path.
	UserPIN string
	// SlotID selects the token by slot (slot_id).
	SlotID *uint
	// TokenLabel selects the token by label (token_label). With neither
	// SlotID nor TokenLabel the token must be the only initialized one.
	TokenLabel string
	// PrivateKeyLabel selects the private key by label
	// (private_key_label). Empty requires the token to hold exactly one
	// private key.
	PrivateKeyLabel string
}

// String renders the options with the PIN masked.
func (o PKCS11Options) String() string {
	slot := "nil"
	if o.SlotID != nil {
		slot = strconv.FormatUint(uint64(*o.SlotID), 10)
	}
	return fmt.Sprintf("PKCS11Options{Lib: %q, UserPIN: %s, SlotID: %s, TokenLabel: %q, PrivateKeyLabel: %q}",
		o.Lib, safetext.Mask(o.UserPIN), slot, o.TokenLabel, o.PrivateKeyLabel)
}

// GoString masks the PIN for %#v as String does.
func (o PKCS11Options) GoString() string { return o.String() }

// Options configures a Provider.
type Options struct {
	// Endpoint is the IoT credentials endpoint, a host name with an
	// optional port and no scheme: "<id>.credentials.iot.<region>.amazonaws.com".
	// A data endpoint ("<id>-ats.iot.<region>.amazonaws.com") is rewritten
	// to the credentials endpoint with a logged warning. A loopback host
	// with an explicit port ("127.0.0.1:8443", "localhost:8443",
	// "[::1]:8443") is accepted as is, for local test servers. Anything
	// else is a validation error.
	Endpoint string
	// RoleAlias is the IoT role alias whose role's credentials are asked for.
	RoleAlias string
	// ThingName, when set, is sent as x-amzn-iot-thingname.
	ThingName string
	// Certificate is the device certificate (chain), leaf first.
	Certificate PEMSource
	// PrivateKey is the certificate's private key (PKCS#8, PKCS#1 or
	// SEC 1 PEM, unencrypted). Exactly one of PrivateKey and PKCS11.
	PrivateKey PEMSource
	// PKCS11 selects the private key on a PKCS#11 token instead.
	PKCS11 *PKCS11Options
	// CA, when set, replaces the system roots for verifying the endpoint.
	CA PEMSource
	// InsecureSkipVerify turns off verification of the endpoint's
	// certificate (verify_peer false). For tests only.
	InsecureSkipVerify bool
	// Timeout bounds one request, connection and TLS handshake included
	// (default DefaultTimeout).
	Timeout time.Duration
	// DurationSeconds, when not zero, is sent as
	// x-amzn-iot-credential-duration-seconds (900 to 43200; the role
	// alias's own limit still applies).
	DurationSeconds int
	// Logger receives the endpoint rewrite warning (default slog.Default()).
	Logger *slog.Logger
}

// Provider fetches credentials from the AWS IoT Core credentials
// provider: an HTTPS GET of /role-aliases/<alias>/credentials over mutual
// TLS with the device certificate. It implements Provider, Identifier and
// Closer, and is safe for concurrent use.
type Provider struct {
	endpoint  string // host[:port], after any rewrite
	roleAlias string
	thingName string
	duration  int
	url       string
	client    *http.Client
	closeKey  func() error // releases a PKCS#11 key, or nil
}

var (
	_ core.Provider   = (*Provider)(nil)
	_ core.Identifier = (*Provider)(nil)
	_ core.Closer     = (*Provider)(nil)
)

var (
	roleAliasRE = regexp.MustCompile(`^[\w=,@-]{1,128}$`)
	thingNameRE = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)
	hostRE      = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
)

// NewProvider checks the options, loads the certificate and key (or
// opens the PKCS#11 key) and returns a provider ready to fetch. Errors are
// KindValidation naming the option in its config name (endpoint,
// certificate, private_key, ca, pkcs11.user_pin, ...) or KindConfiguration
// for options that cannot go together.
func NewProvider(opts Options) (*Provider, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	endpoint, rewritten, err := parseIoTEndpoint(opts.Endpoint)
	if err != nil {
		return nil, err
	}
	if rewritten {
		logger.Warn("gobrs: the IoT endpoint given is a data endpoint, not the credentials endpoint; using the credentials endpoint",
			"from", maskEndpoint(opts.Endpoint), "to", maskEndpoint(endpoint))
	}
	switch {
	case !roleAliasRE.MatchString(opts.RoleAlias):
		return nil, core.NewValidationError("role_alias", safetext.Cut(opts.RoleAlias, 128),
			"role_alias must be 1 to 128 characters of letters, digits and _=,@-")
	case opts.ThingName != "" && !thingNameRE.MatchString(opts.ThingName):
		return nil, core.NewValidationError("thing_name", safetext.Cut(opts.ThingName, 128),
			"thing_name must be 1 to 128 characters of letters, digits and :_-")
	case opts.DurationSeconds != 0 && (opts.DurationSeconds < MinDuration || opts.DurationSeconds > MaxDuration):
		return nil, core.NewValidationError("duration_seconds", strconv.Itoa(opts.DurationSeconds),
			"duration_seconds must be between %d and %d", MinDuration, MaxDuration)
	case opts.Timeout < 0 || opts.Timeout > maxIoTTimeout:
		return nil, core.NewValidationError("timeout", fmt.Sprint(opts.Timeout.Seconds()),
			"timeout must be more than 0 and at most %g seconds", maxIoTTimeout.Seconds())
	case opts.Certificate.IsZero():
		return nil, core.NewValidationError("certificate", "", "certificate is required")
	case opts.PrivateKey.IsZero() && opts.PKCS11 == nil:
		return nil, core.NewConfigurationError("private_key/pkcs11", "either private_key or pkcs11 must be provided")
	case !opts.PrivateKey.IsZero() && opts.PKCS11 != nil:
		return nil, core.NewConfigurationError("private_key/pkcs11", "only one of private_key or pkcs11 can be provided")
	case opts.PKCS11 != nil && opts.PKCS11.Lib == "":
		return nil, core.NewValidationError("pkcs11.pkcs11_lib", "", "pkcs11.pkcs11_lib (the PKCS#11 module's path) is required")
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}

	certPEM, err := opts.Certificate.read("certificate")
	if err != nil {
		return nil, err
	}
	cert, err := parseCertificateChain(certPEM)
	if err != nil {
		return nil, err
	}
	var roots *x509.CertPool
	if !opts.CA.IsZero() {
		caPEM, err := opts.CA.read("ca")
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(caPEM) {
			return nil, core.NewValidationError("ca", "", "ca contains no valid PEM certificate")
		}
	}
	var closeKey func() error
	if opts.PKCS11 != nil {
		key, err := openPKCS11Key(*opts.PKCS11, cert.Leaf.PublicKey)
		if err != nil {
			return nil, err
		}
		cert.PrivateKey, closeKey = key, key.Close
	} else {
		keyPEM, err := opts.PrivateKey.read("private_key")
		if err != nil {
			return nil, err
		}
		if cert.PrivateKey, err = parsePrivateKey(keyPEM, cert.Leaf.PublicKey); err != nil {
			return nil, err
		}
	}

	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		host = endpoint
	}
	tr := &http.Transport{
		Proxy:       nil, // the endpoint is dialled directly, as the AWS CRT does
		DialContext: (&net.Dialer{Timeout: timeout}).DialContext,
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			ServerName: host,
			RootCAs:    roots,
			// Always present the device certificate, whatever CA names
			// the server lists.
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
			InsecureSkipVerify:   opts.InsecureSkipVerify,
		},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          1,
		IdleConnTimeout:       90 * time.Second,
	}
	return &Provider{
		endpoint:  endpoint,
		roleAlias: opts.RoleAlias,
		thingName: opts.ThingName,
		duration:  opts.DurationSeconds,
		url:       "https://" + endpoint + "/role-aliases/" + url.PathEscape(opts.RoleAlias) + "/credentials",
		client: &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		closeKey: closeKey,
	}, nil
}

// Endpoint returns the host[:port] the provider calls, after any rewrite.
func (p *Provider) Endpoint() string { return p.endpoint }

// Retrieve fetches one set of credentials. A connection, TLS or timeout
// failure is KindConnection naming the endpoint; an HTTP error status is
// KindRequest with StatusCode and the service's message; a 200 answer
// without usable credentials is KindCredential naming the field.
func (p *Provider) Retrieve(ctx context.Context) (core.Credentials, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return core.Credentials{}, p.connError(err)
	}
	if p.thingName != "" {
		req.Header.Set("x-amzn-iot-thingname", p.thingName)
	}
	if p.duration != 0 {
		req.Header.Set("x-amzn-iot-credential-duration-seconds", strconv.Itoa(p.duration))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return core.Credentials{}, p.connError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIoTBody+1))
	if err != nil {
		return core.Credentials{}, p.connError(err)
	}
	if len(body) > maxIoTBody {
		return core.Credentials{}, &core.Error{Kind: core.KindCredential, Param: "endpoint", Value: p.endpoint,
			Message: fmt.Sprintf("the IoT credentials endpoint answered with more than %d bytes", maxIoTBody)}
	}
	return parseIoTResponse(resp.StatusCode, body)
}

// connError wraps a transport failure as KindConnection naming the endpoint.
func (p *Provider) connError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	what := "could not complete the mutual TLS request to"
	var details map[string]any
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		what = "timed out calling"
		details = map[string]any{"connection": "timeout"}
	}
	return &core.Error{Kind: core.KindConnection, Param: "endpoint", Value: p.endpoint, Err: err, Details: details,
		Message: fmt.Sprintf("%s the IoT credentials endpoint %s", what, safetext.Quote(p.endpoint))}
}

// Identity returns what the provider knows of the identity: the method,
// the thing name (nil when not set), the role alias and the endpoint. The
// IoT credentials endpoint has no identity call; callers who want the
// assumed role's ARN call STS GetCallerIdentity with the credentials.
func (p *Provider) Identity(_ context.Context, _ core.Credentials) (map[string]any, error) {
	var thing any
	if p.thingName != "" {
		thing = p.thingName
	}
	return map[string]any{"method": "iot", "thing_name": thing, "role_alias": p.roleAlias, "endpoint": p.endpoint}, nil
}

// Close drops idle connections and releases a PKCS#11 key.
func (p *Provider) Close() error {
	p.client.CloseIdleConnections()
	if p.closeKey != nil {
		return p.closeKey() // safe to call twice
	}
	return nil
}

// iotAnswer is the body the IoT credentials endpoint answers with.
type iotAnswer struct {
	Credentials *struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		Expiration      string `json:"expiration"`
	} `json:"credentials"`
	Message string `json:"message"`
}

// parseIoTResponse turns the endpoint's answer into Credentials. Every
// error is an *Error; none contains a secret from the body.
func parseIoTResponse(status int, body []byte) (core.Credentials, error) {
	var a iotAnswer
	jsonErr := json.Unmarshal(body, &a)
	if status != http.StatusOK {
		// A JSON answer shows only its message: the rest of it may hold
		// credentials. Another body (a proxy's page, say) is shown cut short.
		msg := a.Message
		if jsonErr != nil {
			msg = string(body)
		}
		msg = cleanMessage(msg)
		if msg == "" {
			msg = http.StatusText(status)
		}
		return core.Credentials{}, &core.Error{Kind: core.KindRequest, StatusCode: status,
			Message: fmt.Sprintf("the IoT credentials endpoint answered HTTP %d: %s", status, msg)}
	}
	if jsonErr != nil {
		return core.Credentials{}, core.NewCredentialError("credentials", nil, "the IoT credentials endpoint answered HTTP 200 with a body that is not the expected JSON")
	}
	if a.Credentials == nil {
		return core.Credentials{}, core.NewCredentialError("credentials", nil, "the IoT credentials endpoint's answer has no credentials object")
	}
	c := a.Credentials
	for _, f := range [...]struct{ name, v string }{
		{"credentials.accessKeyId", c.AccessKeyID}, {"credentials.secretAccessKey", c.SecretAccessKey},
		{"credentials.sessionToken", c.SessionToken}, {"credentials.expiration", c.Expiration},
	} {
		if err := core.ValidateField(f.name, f.v); err != nil {
			return core.Credentials{}, err
		}
	}
	exp, err := core.ParseExpiry(c.Expiration)
	if err != nil {
		v := safetext.Cut(c.Expiration, 128)
		return core.Credentials{}, &core.Error{Kind: core.KindCredential, Param: "credentials.expiration", Value: v,
			Message: fmt.Sprintf("credentials.expiration %s is not an ISO 8601 timestamp", safetext.Quote(v))}
	}
	return core.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expires: exp}, nil
}

// cleanMessage makes a service message safe to show: valid UTF-8, no
// control characters, at most 256 bytes.
func cleanMessage(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "") + "..."
	}
	return s
}

// parseIoTEndpoint checks an endpoint and returns the host[:port] to call
// and whether it was rewritten from a data endpoint.
func parseIoTEndpoint(endpoint string) (string, bool, error) {
	bad := func(format string, args ...any) (string, bool, error) {
		return "", false, core.NewValidationError("endpoint", safetext.Cut(endpoint, 128), format, args...)
	}
	if endpoint == "" {
		return bad("endpoint is required")
	}
	if strings.Contains(endpoint, "://") || strings.ContainsAny(endpoint, "/?#@ ") {
		return bad("endpoint must be a host name with an optional port, without scheme or path, e.g. '<id>.credentials.iot.<region>.amazonaws.com'")
	}
	host, port := endpoint, ""
	if h, p, err := net.SplitHostPort(endpoint); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return bad("endpoint port %s is not a number between 1 and 65535", safetext.Quote(p))
		}
		host, port = h, p
	} else if strings.Contains(endpoint, ":") {
		return bad("endpoint %s is not a host name with an optional port", safetext.Quote(safetext.Cut(endpoint, 128)))
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		if port == "" {
			return bad("a loopback endpoint (a local test server) needs an explicit port, e.g. '127.0.0.1:8443'")
		}
		return endpoint, false, nil
	}
	if !hostRE.MatchString(host) {
		return bad("endpoint host %s is not a valid host name", safetext.Quote(safetext.Cut(host, 128)))
	}
	switch {
	case strings.Contains(host, ".credentials.iot."):
		return endpoint, false, nil
	case strings.Contains(host, "-ats.iot."):
		return strings.Replace(endpoint, "-ats.iot.", ".credentials.iot.", 1), true, nil
	}
	return bad("invalid IoT endpoint for the credentials provider: expected '<id>.credentials.iot.<region>.amazonaws.com'")
}

// maskEndpoint hides the account-specific prefix of an endpoint in logs.
func maskEndpoint(e string) string {
	if i := strings.IndexAny(e, ".-"); i > 0 {
		return "***" + e[i:]
	}
	return e
}

// parseCertificateChain parses every CERTIFICATE block, leaf first.
func parseCertificateChain(data []byte) (tls.Certificate, error) {
	var cert tls.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return tls.Certificate{}, &core.Error{Kind: core.KindValidation, Param: "certificate", Err: err,
				Message: "certificate is not a valid X.509 certificate"}
		}
		if cert.Leaf == nil {
			cert.Leaf = c
		}
		cert.Certificate = append(cert.Certificate, block.Bytes)
	}
	if cert.Leaf == nil {
		return tls.Certificate{}, core.NewValidationError("certificate", "", "certificate contains no PEM CERTIFICATE block")
	}
	switch cert.Leaf.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return tls.Certificate{}, core.NewValidationError("certificate", "", "certificate has an unsupported public key type %T", cert.Leaf.PublicKey)
	}
	return cert, nil
}

// parsePrivateKey parses the first private key block (PKCS#8, PKCS#1 or
// SEC 1) and checks that it matches pub. Error messages are written here,
// not passed through, so that nothing of the key can appear in them.
func parsePrivateKey(data []byte, pub crypto.PublicKey) (crypto.Signer, error) {
	var block *pem.Block
	for rest := data; ; {
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, core.NewValidationError("private_key", "", "private_key contains no PEM PRIVATE KEY block")
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			break
		}
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, core.NewValidationError("private_key", "", "private_key is encrypted; give an unencrypted key or use pkcs11")
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			key, err = x509.ParseECPrivateKey(block.Bytes)
		}
	}
	signer, ok := key.(crypto.Signer)
	if err != nil || !ok {
		return nil, core.NewValidationError("private_key", "", "private_key is not a valid PKCS#8, PKCS#1 or SEC 1 private key")
	}
	if eq, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
		return nil, core.NewValidationError("private_key", "", "private_key does not match the certificate's public key")
	}
	return signer, nil
}

// config is the JSON config of method "iot" (include/brs.h,
// docs/iot.md): one field per key, decoded by core.DecodeObject (exact
// keys, nulls are "not given"). Its options method holds the rules.
// certificate, private_key and ca are PEM when they hold "-----BEGIN",
// else file paths.
type config struct {
	Endpoint        *string       `json:"endpoint"`
	RoleAlias       *string       `json:"role_alias"`
	Certificate     *string       `json:"certificate"`
	ThingName       string        `json:"thing_name"`
	PrivateKey      *string       `json:"private_key"`
	PKCS11          *pkcs11Config `json:"pkcs11"`
	CA              *string       `json:"ca"`
	VerifyPeer      *bool         `json:"verify_peer"`
	Timeout         *core.Seconds `json:"timeout"`
	DurationSeconds *core.Whole   `json:"duration_seconds"`
}

// pkcs11Config is the "pkcs11" object of the config. Its keys are exact
// too: {"PKCS11_LIB": ...} is an unknown key.
type pkcs11Config struct {
	Lib             string      `json:"pkcs11_lib"`
	UserPIN         string      `json:"user_pin"`
	SlotID          *core.Whole `json:"slot_id"`
	TokenLabel      string      `json:"token_label"`
	PrivateKeyLabel string      `json:"private_key_label"`
}

func init() {
	core.RegisterMethod("iot", func(raw map[string]json.RawMessage, hooks core.Hooks) (core.Provider, error) {
		var c config
		if err := core.DecodeObject("", raw, &c); err != nil {
			return nil, err
		}
		opts, err := c.options(hooks.Warn)
		if err != nil {
			return nil, err
		}
		return NewProvider(opts)
	})
}

// options checks the config and turns it into Options. A data endpoint is
// rewritten to the credentials endpoint and reported to warn (when not
// nil). Errors name the key.
func (c *config) options(warn func(core.Warning)) (Options, error) {
	for _, req := range [...]struct {
		name string
		v    *string
	}{{"endpoint", c.Endpoint}, {"role_alias", c.RoleAlias}, {"certificate", c.Certificate}} {
		if req.v == nil || *req.v == "" {
			return Options{}, core.NewValidationError(req.name, "", "%s is required for method iot", req.name)
		}
	}
	endpoint, rewritten, err := parseIoTEndpoint(*c.Endpoint)
	if err != nil {
		return Options{}, err
	}
	if rewritten && warn != nil {
		warn(core.Warning{Param: "endpoint", Value: endpoint, Message: fmt.Sprintf("The 'endpoint' parameter you provided "+
			"represents the data endpoint for IoT not the credentials endpoint! The endpoint you provided was "+
			"therefore modified from '%s' -> '%s'", maskEndpoint(*c.Endpoint), maskEndpoint(endpoint))})
	}
	opts := Options{Endpoint: endpoint, RoleAlias: *c.RoleAlias, ThingName: c.ThingName, Certificate: pemFromConfig(*c.Certificate)}
	for _, s := range [...]struct {
		name string
		v    *string
		dst  *PEMSource
	}{{"private_key", c.PrivateKey, &opts.PrivateKey}, {"ca", c.CA, &opts.CA}} {
		if s.v == nil {
			continue
		}
		if *s.v == "" {
			return Options{}, core.NewValidationError(s.name, "", "%s must not be empty (omit it or use null)", s.name)
		}
		*s.dst = pemFromConfig(*s.v)
	}
	if c.VerifyPeer != nil {
		opts.InsecureSkipVerify = !*c.VerifyPeer
	}
	if t := c.Timeout; t != nil {
		if !t.In(math.SmallestNonzeroFloat64, maxIoTTimeout.Seconds()) {
			return Options{}, core.NewValidationError("timeout", t.String(), "timeout must be more than 0 and at most %g seconds", maxIoTTimeout.Seconds())
		}
		opts.Timeout = t.Duration()
	}
	if d := c.DurationSeconds; d != nil {
		if *d < MinDuration || *d > MaxDuration {
			return Options{}, core.NewValidationError("duration_seconds", fmt.Sprint(int64(*d)),
				"duration_seconds must be a whole number between %d and %d", MinDuration, MaxDuration)
		}
		opts.DurationSeconds = int(*d)
	}
	if p := c.PKCS11; p != nil {
		o := PKCS11Options{Lib: p.Lib, UserPIN: p.UserPIN, TokenLabel: p.TokenLabel, PrivateKeyLabel: p.PrivateKeyLabel}
		if s := p.SlotID; s != nil {
			if *s < 0 || *s > math.MaxUint32 {
				return Options{}, core.NewValidationError("pkcs11.slot_id", fmt.Sprint(int64(*s)), "pkcs11.slot_id must be a whole number >= 0")
			}
			id := uint(*s)
			o.SlotID = &id
		}
		opts.PKCS11 = &o
	}
	return opts, nil
}
