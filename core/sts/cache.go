package sts

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	"github.com/elastic/go-freelru"
	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
	"github.com/gobrs/gobrs/internal/singleflight"
)

// The bounds of the two process-wide caches the sts method keeps.
const (
	// ClientCacheSize bounds the STS clients shared between sessions
	// with the same client settings (region, endpoint, TLS, proxies,
	// retries, timeouts). The least recently used client is dropped first.
	ClientCacheSize = 64

	// AssumedRoleCacheSize bounds the assumed-role credentials shared
	// between sessions that make the same AssumeRole call with the same
	// source credentials. The least recently used entry is dropped first.
	AssumedRoleCacheSize = 1024
)

var hashSeed = maphash.MakeSeed()

// stsClients holds *stsClient by clientSettings.key().
var stsClients = mustSyncedLRU[string, *stsClient](ClientCacheSize, func(k string) uint32 {
	return uint32(maphash.String(hashSeed, k))
})

// assumedRoles holds *sharedCreds by the SHA-256 of the AssumeRole identity.
var assumedRoles = mustSyncedLRU[[32]byte, *sharedCreds](AssumedRoleCacheSize, func(k [32]byte) uint32 {
	return binary.LittleEndian.Uint32(k[:4])
})

// cacheMu makes get-or-add atomic on both caches (hits take only the LRU's
// own lock).
var cacheMu sync.Mutex

func mustSyncedLRU[K comparable, V any](size uint32, hash freelru.HashKeyCallback[K]) *freelru.SyncedLRU[K, V] {
	lru, err := freelru.NewSynced[K, V](size, hash)
	if err != nil {
		panic("gobrs: " + err.Error())
	}
	return lru
}

// getOrAdd returns the cached value for key, or stores and returns make().
func getOrAdd[K comparable, V any](lru *freelru.SyncedLRU[K, V], key K, make func() (V, error)) (V, error) {
	if v, ok := lru.Get(key); ok {
		return v, nil
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if v, ok := lru.Get(key); ok {
		return v, nil
	}
	v, err := make()
	if err != nil {
		return v, err
	}
	lru.Add(key, v)
	return v, nil
}

// ---- STS clients ---------------------------------------------------------

// clientSettings are the resolved settings of one STS client.
type clientSettings struct {
	region, endpoint string
	plainHTTP        bool // use_ssl false on the AWS endpoint
	insecure         bool
	caBundle         string
	proxies          map[string]string
	adaptive         bool
	attempts         int // 0: the SDK default
	connect, read    time.Duration
	callTimeout      time.Duration // bounds a whole call, retries included; 0: none (not part of the key)
	agent, appID     string        // user_agent_extra, user_agent_appid
	pool             int           // idle connections kept; 0: botocore's 10
	fips, dual       bool          // FIPS, dual-stack endpoints
}

// key renders the settings canonically; it is the client cache key.
func (s *clientSettings) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %t %t %q %t %d %d %d %q %q %d %t %t", s.region, s.endpoint, s.plainHTTP, s.insecure, s.caBundle, s.adaptive,
		s.attempts, s.connect, s.read, s.agent, s.appID, s.pool, s.fips, s.dual)
	keys := make([]string, 0, len(s.proxies))
	for k := range s.proxies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %q=%q", k, s.proxies[k])
	}
	return b.String()
}

// stsClient is one shared STS client.
type stsClient struct {
	api      *awssts.Client
	key      string
	endpoint string // for messages: the endpoint URL, or "STS <region>"
}

// botocorePoolSize is botocore's default max_pool_connections.
const botocorePoolSize = 10

// stsRetryBackoff replaces the retryer's backoff when not nil (tests).
var stsRetryBackoff retry.BackoffDelayer

// sharedSTSClient returns the cached client for s, building it on a miss.
func sharedSTSClient(s *clientSettings) (*stsClient, error) {
	key := s.key()
	return getOrAdd(stsClients, key, func() (*stsClient, error) { return newSTSClient(s, key) })
}

// newSTSClient builds an STS client, cached under key, without loading any
// shared config.
func newSTSClient(s *clientSettings, key string) (*stsClient, error) {
	var tlsConf func(*tls.Config)
	switch {
	case s.insecure:
		tlsConf = func(c *tls.Config) { c.InsecureSkipVerify = true }
	case s.caBundle != "":
		pem, err := os.ReadFile(s.caBundle)
		if err != nil {
			// the path is in Value, cut short; the wrapped error drops it
			return nil, &core.Error{Kind: core.KindValidation, Param: "sts_client_kwargs.verify", Value: safetext.Cut(s.caBundle, 128), Err: safetext.UnwrapPathError(err),
				Message: "sts_client_kwargs.verify names a CA bundle that cannot be read"}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, core.NewValidationError("sts_client_kwargs.verify", safetext.Cut(s.caBundle, 128), "sts_client_kwargs.verify names a file without any PEM certificate")
		}
		tlsConf = func(c *tls.Config) { c.RootCAs = pool }
	}
	proxies := map[string]*url.URL{}
	for k, v := range s.proxies {
		u, err := url.Parse(v)
		if err != nil {
			return nil, core.NewValidationError("sts_client_kwargs.config.proxies."+k, "", "sts_client_kwargs.config.proxies.%s is not a URL", k)
		}
		proxies[k] = u
	}
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = s.connect }).
		WithReadTimeout(s.read).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = s.connect
			t.MaxIdleConnsPerHost = botocorePoolSize
			if s.pool > 0 {
				t.MaxIdleConnsPerHost = s.pool
			}
			if tlsConf != nil {
				if t.TLSClientConfig == nil {
					t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				}
				tlsConf(t.TLSClientConfig)
			}
			if len(proxies) > 0 {
				t.Proxy = func(r *http.Request) (*url.URL, error) { return proxies[r.URL.Scheme], nil }
			}
		})
	stdOpts := func(o *retry.StandardOptions) {
		if s.attempts > 0 {
			o.MaxAttempts = s.attempts
		}
		// An answer cut off mid-body is a transport failure: retried like a
		// reset (the SDK's own rules see a deserialization error).
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if isTruncated(err) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
		if stsRetryBackoff != nil {
			o.Backoff = stsRetryBackoff
		}
	}
	var retryer aws.Retryer = retry.NewStandard(stdOpts)
	if s.adaptive {
		retryer = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, stdOpts)
		})
	}
	opts := awssts.Options{Region: s.region, HTTPClient: httpClient, Retryer: retryer, AppID: s.appID}
	if s.agent != "" {
		opts.APIOptions = append(opts.APIOptions, awsmiddleware.AddUserAgentKey(s.agent))
	}
	if s.fips {
		opts.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
	}
	if s.dual {
		opts.EndpointOptions.UseDualStackEndpoint = aws.DualStackEndpointStateEnabled
	}
	c := &stsClient{key: key, endpoint: "the STS endpoint of " + s.region}
	switch {
	case s.endpoint != "":
		opts.BaseEndpoint = aws.String(s.endpoint)
		c.endpoint = s.endpoint
	case s.plainHTTP:
		opts.EndpointResolverV2 = plainHTTPResolver{awssts.NewDefaultEndpointResolverV2()}
	}
	c.api = awssts.New(opts)
	return c, nil
}

// plainHTTPResolver resolves the AWS endpoint and switches it to http
// (botocore's use_ssl=False).
type plainHTTPResolver struct{ awssts.EndpointResolverV2 }

// ResolveEndpoint implements awssts.EndpointResolverV2.
func (r plainHTTPResolver) ResolveEndpoint(ctx context.Context, p awssts.EndpointParameters) (smithyendpoints.Endpoint, error) {
	ep, err := r.EndpointResolverV2.ResolveEndpoint(ctx, p)
	if err == nil {
		ep.URI.Scheme = "http"
	}
	return ep, err
}

// ---- shared assumed-role credentials -------------------------------------

// sharedCreds is one AssumeRole identity's credentials, shared by every
// session that makes that call, with a single call in flight at a time.
type sharedCreds struct {
	mu       sync.Mutex
	creds    core.Credentials
	lifetime time.Duration                        // Expires minus the time they were received
	calls    singleflight.Group[core.Credentials] // guarded by mu
}

// assumeKey digests everything that makes two AssumeRole calls equal:
// the client (endpoint, region...), the request and the source
// credentials. Only the digest is kept, never the secrets.
func assumeKey(clientKey string, paramsDigest [32]byte, src aws.Credentials) [32]byte {
	h := sha256.New()
	for _, s := range []string{clientKey, string(paramsDigest[:]), src.AccessKeyID, src.SecretAccessKey, src.SessionToken} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the shared credentials when fresh(creds, lifetime) holds;
// otherwise it joins the call in flight or starts one. The call runs on
// its own goroutine, detached from ctx's cancellation, so that one session
// closing does not fail the others waiting on it; each caller stops
// waiting when its own ctx ends.
func (e *sharedCreds) get(ctx context.Context, clock core.Clock, fresh func(core.Credentials, time.Duration) bool,
	fetch func(context.Context) (core.Credentials, error)) (core.Credentials, error) {
	e.mu.Lock()
	if !e.creds.Expires.IsZero() && fresh(e.creds, e.lifetime) {
		c := e.creds
		e.mu.Unlock()
		return c, nil
	}
	call := e.calls.Join(func() *singleflight.Flight[core.Credentials] {
		call := e.calls.Begin()
		go e.run(context.WithoutCancel(ctx), call, clock, fetch)
		return call
	})
	e.mu.Unlock()
	select {
	case <-call.Done():
		return call.Result()
	case <-ctx.Done():
		return core.Credentials{}, &core.Error{Kind: core.KindCredential, Err: ctx.Err(), Message: "gave up waiting for a shared AssumeRole call"}
	}
}

// run makes the AssumeRole call of flight call and keeps its credentials
// when they are valid.
func (e *sharedCreds) run(ctx context.Context, call *singleflight.Flight[core.Credentials], clock core.Clock,
	fetch func(context.Context) (core.Credentials, error)) {
	creds, err := singleflight.Call(func() (core.Credentials, error) { return fetch(ctx) }, func(r any) error {
		return &core.Error{Kind: core.KindCredential, Message: fmt.Sprintf("the AssumeRole call panicked: %T", r)}
	})
	now := clock.Now()
	if err == nil {
		err = creds.Validate(now)
	}
	e.mu.Lock()
	e.calls.End(call)
	if err == nil {
		e.creds, e.lifetime = creds, creds.Expires.Sub(now)
	}
	e.mu.Unlock()
	call.Finish(creds, err)
}
