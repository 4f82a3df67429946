package iot

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// iotServer is a local mutual-TLS IoT credentials endpoint on 127.0.0.1.
type iotServer struct {
	*httptest.Server
	ca     *testutil.CA // issues the server and the trusted client certificates
	device testutil.Device

	mu       sync.Mutex
	requests []*http.Request
	handler  http.HandlerFunc // overrides the default answer when set
	expiry   func() time.Time // the expiration handed out
	n        int
}

const testRoleAlias = "my-role_alias=1"

// newIoTServer starts the server; mods adjust its TLS config first.
func newIoTServer(t *testing.T, mods ...func(*tls.Config)) *iotServer {
	t.Helper()
	s := &iotServer{ca: testutil.NewCA(t, "test CA")}
	s.device = testutil.NewDevice(t, s.ca, "thing-1")
	s.expiry = func() time.Time { return time.Now().Add(time.Hour) }
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.TLS = testutil.ServerTLS(t, s.ca)
	for _, m := range mods {
		m(s.TLS)
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some cases
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *iotServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	s.n++
	n, h, exp := s.n, s.handler, s.expiry()
	s.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/role-aliases/"+testRoleAlias+"/credentials" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"no such role alias: %s %s"}`, r.Method, r.URL.Path)
		return
	}
	if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != r.Header.Get("x-amzn-iot-thingname") {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Access Denied"}`)
		return
	}
	fmt.Fprintf(w, `{"credentials":{"accessKeyId":"ASIAIOTTEST%05d","secretAccessKey":"iot-secret-%d","sessionToken":"iot-token-%d","expiration":%q}}`,
		n, n, n, exp.UTC().Format(time.RFC3339))
}

func (s *iotServer) endpoint() string { return s.Listener.Addr().String() }

func (s *iotServer) setHandler(h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

func (s *iotServer) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("the server got no request")
	}
	return s.requests[len(s.requests)-1]
}

// options returns working provider options for s with PEM in memory.
func (s *iotServer) options() Options {
	return Options{
		Endpoint:    s.endpoint(),
		RoleAlias:   testRoleAlias,
		ThingName:   "thing-1",
		Certificate: PEMSource{Data: s.device.Cert},
		PrivateKey:  PEMSource{Data: s.device.Key},
		CA:          PEMSource{Data: s.ca.PEM},
	}
}

// newTestIoTProvider builds a provider from opts, closed when the test ends.
func newTestIoTProvider(t *testing.T, opts Options) *Provider {
	t.Helper()
	p, err := NewProvider(opts)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mustRetrieve fetches once with a new provider for opts.
func mustRetrieve(t *testing.T, opts Options) core.Credentials {
	t.Helper()
	c, err := newTestIoTProvider(t, opts).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	return c
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantError checks err is an *Error of kind naming param, whose text has
// every want and none of the secrets.
func wantError(t *testing.T, err error, kind core.Kind, param string, want []string, secrets ...[]byte) *core.Error {
	t.Helper()
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error of kind %v", err, err, kind)
	}
	t.Logf("%v error: %v", e.Kind, err)
	if e.Kind != kind || e.Param != param {
		t.Fatalf("error kind/param = %v/%q, want %v/%q: %v", e.Kind, e.Param, kind, param, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for _, s := range secrets {
		for _, line := range strings.Split(string(s), "\n") {
			if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error()+e.Value, line) {
				t.Errorf("error %q leaks secret material", err)
			}
		}
	}
	return e
}

func TestIoTProviderFetch(t *testing.T) {
	s := newIoTServer(t)
	certPath := writeTemp(t, "cert.pem", s.device.Cert)
	keyPath := writeTemp(t, "key.pem", s.device.Key)
	caPath := writeTemp(t, "ca.pem", s.ca.PEM)
	other := testutil.NewCA(t, "other CA")
	stranger := testutil.NewDevice(t, other, "thing-1")

	tests := []struct {
		name   string
		mod    func(*Options)
		kind   core.Kind // 0 (KindUnknown) means success
		param  string    // of the error
		substr string    // in the error text
	}{
		{name: "PEM bytes", mod: func(*Options) {}},
		{name: "file paths", mod: func(o *Options) {
			o.Certificate, o.PrivateKey, o.CA = PEMSource{Path: certPath}, PEMSource{Path: keyPath}, PEMSource{Path: caPath}
		}},
		{name: "verify_peer false without ca", mod: func(o *Options) { o.CA, o.InsecureSkipVerify = PEMSource{}, true }},
		{name: "verify_peer false with wrong ca", mod: func(o *Options) { o.CA, o.InsecureSkipVerify = PEMSource{Data: other.PEM}, true }},
		{name: "no ca: system roots do not trust the server", mod: func(o *Options) { o.CA = PEMSource{} },
			kind: core.KindConnection, param: "endpoint", substr: "certificate"},
		{name: "wrong ca", mod: func(o *Options) { o.CA = PEMSource{Data: other.PEM} },
			kind: core.KindConnection, param: "endpoint", substr: "certificate"},
		{name: "client certificate from another CA", mod: func(o *Options) {
			o.Certificate, o.PrivateKey = PEMSource{Data: stranger.Cert}, PEMSource{Data: stranger.Key}
		}, kind: core.KindConnection, param: "endpoint", substr: s.endpoint()},
		{name: "thing name the certificate does not hold", mod: func(o *Options) { o.ThingName = "thing-2" },
			kind: core.KindRequest, substr: "Access Denied"},
		{name: "unknown role alias", mod: func(o *Options) { o.RoleAlias = "nope" },
			kind: core.KindRequest, substr: "no such role alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := s.options()
			tt.mod(&opts)
			c, err := newTestIoTProvider(t, opts).Retrieve(context.Background())
			if tt.kind == core.KindUnknown {
				if err != nil {
					t.Fatalf("Retrieve: %v", err)
				}
				if !strings.HasPrefix(c.AccessKeyID, "ASIAIOTTEST") || !strings.HasPrefix(c.SecretAccessKey, "iot-secret-") ||
					!strings.HasPrefix(c.SessionToken, "iot-token-") || c.Expires.Before(time.Now()) {
					t.Fatalf("credentials = %v", c)
				}
				r := s.lastRequest(t)
				if got := r.Header.Get("x-amzn-iot-thingname"); got != "thing-1" {
					t.Errorf("x-amzn-iot-thingname = %q", got)
				}
				if _, ok := r.Header["X-Amzn-Iot-Credential-Duration-Seconds"]; ok {
					t.Errorf("duration header sent without duration_seconds")
				}
				return
			}
			e := wantError(t, err, tt.kind, tt.param, []string{tt.substr}, s.device.Key, stranger.Key)
			if tt.kind == core.KindRequest && e.StatusCode == 0 {
				t.Errorf("StatusCode not set: %v", err)
			}
		})
	}
}

func TestIoTProviderAnswers(t *testing.T) {
	s := newIoTServer(t)
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	full := map[string]string{"accessKeyId": "ASIAIOTTEST00001", "secretAccessKey": "answer-secret", "sessionToken": "answer-token", "expiration": exp}
	without := func(field string) string {
		m := map[string]string{}
		for k, v := range full {
			if k != field {
				m[k] = v
			}
		}
		b, _ := json.Marshal(map[string]any{"credentials": m})
		return string(b)
	}
	tests := []struct {
		name   string
		status int
		body   string
		kind   core.Kind
		param  string
		substr string
	}{
		{"403 with a JSON message", 403, `{"message":"Access Denied"}`, core.KindRequest, "", "HTTP 403: Access Denied"},
		{"404 with a JSON message", 404, `{"message":"Role alias does not exist"}`, core.KindRequest, "", "Role alias does not exist"},
		{"500 with a text body", 500, "internal\x00 failure\n", core.KindRequest, "", "HTTP 500: internal failure"},
		{"503 with no body", 503, "", core.KindRequest, "", "Service Unavailable"},
		{"malformed body", 200, `{"credentials": {"accessKeyId": `, core.KindCredential, "credentials", "not the expected JSON"},
		{"not an object", 200, `[1, 2]`, core.KindCredential, "credentials", "not the expected JSON"},
		{"no credentials object", 200, `{"message":"ok"}`, core.KindCredential, "credentials", "no credentials"},
		{"missing accessKeyId", 200, without("accessKeyId"), core.KindCredential, "credentials.accessKeyId", "accessKeyId"},
		{"missing secretAccessKey", 200, without("secretAccessKey"), core.KindCredential, "credentials.secretAccessKey", "secretAccessKey"},
		{"missing sessionToken", 200, without("sessionToken"), core.KindCredential, "credentials.sessionToken", "sessionToken"},
		{"missing expiration", 200, without("expiration"), core.KindCredential, "credentials.expiration", "expiration"},
		{"bad expiration", 200, strings.Replace(without(""), exp, "tomorrow", 1), core.KindCredential, "credentials.expiration", "tomorrow"},
		{"wrong field type", 200, `{"credentials":{"accessKeyId":1}}`, core.KindCredential, "credentials", "not the expected JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.setHandler(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := newTestIoTProvider(t, s.options()).Retrieve(context.Background())
			e := wantError(t, err, tt.kind, tt.param, []string{tt.substr}, []byte("answer-secret\nanswer-token"))
			if tt.kind == core.KindRequest && e.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", e.StatusCode, tt.status)
			}
		})
	}
}

func TestIoTProviderHeadersAndTimeout(t *testing.T) {
	s := newIoTServer(t)

	t.Run("duration_seconds header", func(t *testing.T) {
		opts := s.options()
		opts.DurationSeconds = 3600
		opts.ThingName = ""
		s.setHandler(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"credentials":{"accessKeyId":"AKID","secretAccessKey":"s","sessionToken":"t","expiration":%q}}`,
				time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		})
		mustRetrieve(t, opts)
		r := s.lastRequest(t)
		if got := r.Header.Get("x-amzn-iot-credential-duration-seconds"); got != "3600" {
			t.Errorf("x-amzn-iot-credential-duration-seconds = %q, want 3600", got)
		}
		if _, ok := r.Header["X-Amzn-Iot-Thingname"]; ok {
			t.Errorf("thing name header sent without thing_name")
		}
	})

	t.Run("slow server past the timeout", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		s.setHandler(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		opts := s.options()
		opts.Timeout = 200 * time.Millisecond
		_, err := newTestIoTProvider(t, opts).Retrieve(context.Background())
		wantError(t, err, core.KindConnection, "endpoint", []string{"timed out", s.endpoint()})
	})

	t.Run("nothing listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		opts := s.options()
		opts.Endpoint = addr
		_, err = newTestIoTProvider(t, opts).Retrieve(context.Background())
		wantError(t, err, core.KindConnection, "endpoint", []string{addr})
	})
}

func TestIoTSessionRefreshesAcrossExpiry(t *testing.T) {
	s := newIoTServer(t)
	clock := core.NewFakeClock(time.Now())
	s.mu.Lock()
	s.expiry = func() time.Time { return clock.Now().Add(time.Hour) }
	s.mu.Unlock()
	p, err := NewProvider(s.options())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := core.NewSession(p, func(o *core.Options) { o.Clock = clock; o.Logger = slog.New(slog.DiscardHandler) })
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := context.Background()
	first, err := sess.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := sess.Credentials(ctx)
	if again != first || sess.Stats().Fetches != 1 {
		t.Fatalf("second read fetched again: %v, %+v", again, sess.Stats())
	}
	clock.Advance(55 * time.Minute) // into the mandatory window
	second, err := sess.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessKeyID == first.AccessKeyID || !second.Expires.After(first.Expires) {
		t.Fatalf("not refreshed: %v then %v", first, second)
	}
	clock.Advance(2 * time.Hour) // past expiry
	third, err := sess.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if third.AccessKeyID == second.AccessKeyID || sess.Stats().Fetches != 3 {
		t.Fatalf("not refreshed after expiry: %v, %+v", third, sess.Stats())
	}
	id, err := sess.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"method": "iot", "thing_name": "thing-1", "role_alias": testRoleAlias, "endpoint": s.endpoint()}
	if fmt.Sprint(id) != fmt.Sprint(want) {
		t.Errorf("Identity = %v, want %v", id, want)
	}
}

func TestIoTEndpoint(t *testing.T) {
	tests := []struct {
		in, want  string
		rewritten bool
		bad       string // substring of the error, "" for success
	}{
		{in: "abc123.credentials.iot.us-east-1.amazonaws.com", want: "abc123.credentials.iot.us-east-1.amazonaws.com"},
		{in: "abc123.credentials.iot.cn-north-1.amazonaws.com.cn:443", want: "abc123.credentials.iot.cn-north-1.amazonaws.com.cn:443"},
		{in: "abc123-ats.iot.us-east-1.amazonaws.com", want: "abc123.credentials.iot.us-east-1.amazonaws.com", rewritten: true},
		{in: "127.0.0.1:8443", want: "127.0.0.1:8443"},
		{in: "127.9.8.7:1", want: "127.9.8.7:1"},
		{in: "localhost:8443", want: "localhost:8443"},
		{in: "[::1]:8443", want: "[::1]:8443"},
		{in: "", bad: "required"},
		{in: "127.0.0.1", bad: "explicit port"},
		{in: "localhost", bad: "explicit port"},
		{in: "10.0.0.1:8443", bad: "invalid IoT endpoint"},
		{in: "example.com", bad: "invalid IoT endpoint"},
		{in: "abc.iot.us-east-1.amazonaws.com", bad: "invalid IoT endpoint"},
		{in: "https://abc.credentials.iot.us-east-1.amazonaws.com", bad: "without scheme"},
		{in: "abc.credentials.iot.us-east-1.amazonaws.com/path", bad: "without scheme"},
		{in: "user@abc.credentials.iot.us-east-1.amazonaws.com", bad: "without scheme"},
		{in: "abc.credentials.iot.us-east-1.amazonaws.com:0", bad: "port"},
		{in: "abc.credentials.iot.us-east-1.amazonaws.com:99999", bad: "port"},
		{in: "abc.credentials.iot.us-east-1.amazonaws.com:x", bad: "port"},
		{in: "::1", bad: "not a host name"},
		{in: "abc_.credentials.iot.x", bad: "not a valid host name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, rewritten, err := parseIoTEndpoint(tt.in)
			if tt.bad != "" {
				wantError(t, err, core.KindValidation, "endpoint", []string{tt.bad})
				return
			}
			if err != nil || got != tt.want || rewritten != tt.rewritten {
				t.Fatalf("parseIoTEndpoint(%q) = %q, %v, %v; want %q, %v", tt.in, got, rewritten, err, tt.want, tt.rewritten)
			}
		})
	}

	t.Run("rewrite is logged with the prefix masked", func(t *testing.T) {
		s := newIoTServer(t)
		var logs bytes.Buffer
		opts := s.options()
		opts.Endpoint = "a1b2c3-ats.iot.eu-west-1.amazonaws.com"
		opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		p := newTestIoTProvider(t, opts)
		if p.Endpoint() != "a1b2c3.credentials.iot.eu-west-1.amazonaws.com" {
			t.Errorf("Endpoint() = %q", p.Endpoint())
		}
		out := logs.String()
		if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "data endpoint") ||
			!strings.Contains(out, "***.credentials.iot.eu-west-1.amazonaws.com") || strings.Contains(out, "a1b2c3") {
			t.Errorf("log = %q", out)
		}
	})
}

func TestIoTOptionsValidation(t *testing.T) {
	s := newIoTServer(t)
	other := testutil.NewDevice(t, s.ca, "thing-1")
	ecKey, err := x509.ParsePKCS8PrivateKey(pemDecode(t, s.device.Key))
	if err != nil {
		t.Fatal(err)
	}
	sec1, _ := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	keyOnly := s.device.Key
	tests := []struct {
		name  string
		mod   func(*Options)
		kind  core.Kind
		param string
		want  string
	}{
		{"role alias required", func(o *Options) { o.RoleAlias = "" }, core.KindValidation, "role_alias", "role_alias"},
		{"role alias with a slash", func(o *Options) { o.RoleAlias = "a/../b" }, core.KindValidation, "role_alias", "role_alias"},
		{"thing name with a space", func(o *Options) { o.ThingName = "my thing" }, core.KindValidation, "thing_name", "thing_name"},
		{"duration too short", func(o *Options) { o.DurationSeconds = 899 }, core.KindValidation, "duration_seconds", "900 and 43200"},
		{"duration too long", func(o *Options) { o.DurationSeconds = 43201 }, core.KindValidation, "duration_seconds", "900 and 43200"},
		{"negative timeout", func(o *Options) { o.Timeout = -time.Second }, core.KindValidation, "timeout", "timeout"},
		{"certificate required", func(o *Options) { o.Certificate = PEMSource{} }, core.KindValidation, "certificate", "required"},
		{"no key", func(o *Options) { o.PrivateKey = PEMSource{} }, core.KindConfiguration, "private_key/pkcs11", "either"},
		{"key and pkcs11", func(o *Options) { o.PKCS11 = &PKCS11Options{Lib: "/nope"} }, core.KindConfiguration, "private_key/pkcs11", "only one"},
		{"certificate is not PEM", func(o *Options) { o.Certificate = PEMSource{Data: []byte("hello")} }, core.KindValidation, "certificate", "no PEM CERTIFICATE"},
		{"certificate is a key", func(o *Options) { o.Certificate = PEMSource{Data: keyOnly} }, core.KindValidation, "certificate", "no PEM CERTIFICATE"},
		{"certificate DER is garbage", func(o *Options) { o.Certificate = PEMSource{Data: testutil.PEMBlock("CERTIFICATE", []byte{1, 2, 3})} }, core.KindValidation, "certificate", "not a valid X.509"},
		{"certificate file missing", func(o *Options) { o.Certificate = PEMSource{Path: "/nonexistent/cert.pem"} }, core.KindValidation, "certificate", "cannot read"},
		{"certificate path and data", func(o *Options) { o.Certificate.Path = "/x" }, core.KindValidation, "certificate", "not both"},
		{"key is a certificate", func(o *Options) { o.PrivateKey = PEMSource{Data: s.device.Cert} }, core.KindValidation, "private_key", "no PEM PRIVATE KEY"},
		{"key DER is garbage", func(o *Options) {
			o.PrivateKey = PEMSource{Data: testutil.PEMBlock("PRIVATE KEY", []byte("not a key at all"))}
		}, core.KindValidation, "private_key", "not a valid"},
		{"encrypted key", func(o *Options) {
			o.PrivateKey = PEMSource{Data: testutil.PEMBlock("ENCRYPTED PRIVATE KEY", []byte{1})}
		}, core.KindValidation, "private_key", "encrypted"},
		{"key of another certificate", func(o *Options) { o.PrivateKey = PEMSource{Data: other.Key} }, core.KindValidation, "private_key", "does not match"},
		{"key file missing", func(o *Options) { o.PrivateKey = PEMSource{Path: "/nonexistent/key.pem"} }, core.KindValidation, "private_key", "cannot read"},
		{"ca is not PEM", func(o *Options) { o.CA = PEMSource{Data: []byte("nope")} }, core.KindValidation, "ca", "no valid PEM"},
		{"ca file missing", func(o *Options) { o.CA = PEMSource{Path: "/nonexistent/ca.pem"} }, core.KindValidation, "ca", "cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := s.options()
			tt.mod(&opts)
			p, err := NewProvider(opts)
			if err == nil {
				p.Close()
			}
			wantError(t, err, tt.kind, tt.param, []string{tt.want}, s.device.Key, other.Key, []byte("1234"))
		})
	}

	t.Run("SEC 1 key accepted", func(t *testing.T) {
		opts := s.options()
		opts.PrivateKey = PEMSource{Data: testutil.PEMBlock("EC PRIVATE KEY", sec1)}
		mustRetrieve(t, opts)
	})

	t.Run("String masks material", func(t *testing.T) {
		opts := s.options()
		slot := uint(3)
		opts.PKCS11 = &PKCS11Options{Lib: "/lib.so", UserPIN: "pin-9876", SlotID: &slot}
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(f, opts)
			if strings.Contains(out, "pin-9876") || strings.Contains(out, "PRIVATE KEY") {
				t.Errorf("%s of Options leaks: %s", f, out)
			}
		}
	})
}

// TestIoTKeyShapesNeverInErrors gives the key, certificate and CA in the
// shapes a user may paste them (behind a byte order mark, a quote or an
// openssl "Bag Attributes" header, or the bare base64 body): PEM behind a
// prefix is recognised and works, and no shape ever gets the value into an
// error.
func TestIoTKeyShapesNeverInErrors(t *testing.T) {
	s := newIoTServer(t)
	logger := func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) }
	material := map[string][]byte{"private_key": s.device.Key, "certificate": s.device.Cert, "ca": s.ca.PEM}
	body := func(pem []byte) string { // the base64 lines, joined or not
		lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
		return strings.Join(lines[1:len(lines)-1], "\n")
	}
	shapes := []struct {
		name string
		wrap func([]byte) string
		ok   bool // PEM recognised: the session works
	}{
		{"byte order mark", func(b []byte) string { return "\ufeff" + string(b) }, true},
		{"double quote", func(b []byte) string { return `"` + string(b) + `"` }, true},
		{"single quote", func(b []byte) string { return "'" + string(b) }, true},
		{"Bag Attributes", func(b []byte) string {
			return "Bag Attributes\n    localKeyID: 01 02 03\n    friendlyName: device\nsubject=/CN=device\n" + string(b)
		}, true},
		{"bare base64 body", func(b []byte) string { return body(b) }, false},
		{"bare base64 body on one line", func(b []byte) string { return strings.ReplaceAll(body(b), "\n", "") }, false},
		{"first 64 characters of the body", func(b []byte) string { return body(b)[:64] }, false},
	}
	for param, pem := range material {
		for _, sh := range shapes {
			t.Run(param+"/"+sh.name, func(t *testing.T) {
				m := map[string]any{
					"method": "iot", "endpoint": s.endpoint(), "role_alias": testRoleAlias, "thing_name": "thing-1",
					"certificate": string(s.device.Cert), "private_key": string(s.device.Key), "ca": string(s.ca.PEM),
					"defer_refresh": false,
				}
				m[param] = sh.wrap(pem)
				raw, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				sess, err := core.NewSessionFromJSON(raw, core.Hooks{}, logger)
				if sh.ok {
					if err != nil {
						t.Fatalf("PEM behind a prefix not recognised: %v", err)
					}
					sess.Close()
					return
				}
				if err == nil {
					sess.Close()
					t.Fatal("a bare base64 body was accepted")
				}
				e := wantError(t, err, core.KindValidation, param, []string{param}, pem)
				if text := err.Error() + e.Value; strings.Contains(text, body(pem)[:16]) {
					t.Errorf("error shows the value: %q", text)
				}
			})
		}
	}
}

func pemDecode(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM")
	}
	return block.Bytes
}

func TestIoTFromJSON(t *testing.T) {
	s := newIoTServer(t)
	certPath := writeTemp(t, "cert.pem", s.device.Cert)
	keyPath := writeTemp(t, "key.pem", s.device.Key)
	logger := func(o *core.Options) { o.Logger = slog.New(slog.DiscardHandler) }
	config := func(extra map[string]any) []byte {
		m := map[string]any{
			"method": "iot", "endpoint": s.endpoint(), "role_alias": testRoleAlias, "thing_name": "thing-1",
			"certificate": string(s.device.Cert), "private_key": string(s.device.Key), "ca": string(s.ca.PEM),
			"timeout": 5, "duration_seconds": 900, "verify_peer": true, "defer_refresh": false,
		}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	for _, tt := range []struct {
		name  string
		extra map[string]any
	}{
		{"PEM strings", nil},
		{"paths", map[string]any{"certificate": certPath, "private_key": keyPath}},
		{"PEM with leading white space", map[string]any{"certificate": "\n  " + string(s.device.Cert)}},
		{"verify_peer false", map[string]any{"ca": nil, "verify_peer": false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := core.NewSessionFromJSON(config(tt.extra), core.Hooks{}, logger)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			c, err := sess.Credentials(context.Background())
			if err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIAIOTTEST") {
				t.Fatalf("Credentials = %v, %v", c, err)
			}
			r := s.lastRequest(t)
			if r.Header.Get("x-amzn-iot-credential-duration-seconds") != "900" {
				t.Errorf("duration header = %q", r.Header.Get("x-amzn-iot-credential-duration-seconds"))
			}
		})
	}

	for _, tt := range []struct {
		name  string
		extra map[string]any
		kind  core.Kind
		param string
	}{
		{"unknown key", map[string]any{"region": "x"}, core.KindValidation, "region"},
		{"endpoint missing", map[string]any{"endpoint": nil}, core.KindValidation, "endpoint"},
		{"endpoint not a string", map[string]any{"endpoint": 5}, core.KindValidation, "endpoint"},
		{"bad endpoint", map[string]any{"endpoint": "example.com"}, core.KindValidation, "endpoint"},
		{"role_alias missing", map[string]any{"role_alias": nil}, core.KindValidation, "role_alias"},
		{"certificate missing", map[string]any{"certificate": nil}, core.KindValidation, "certificate"},
		{"certificate empty", map[string]any{"certificate": ""}, core.KindValidation, "certificate"},
		{"certificate path missing", map[string]any{"certificate": "/nonexistent.pem"}, core.KindValidation, "certificate"},
		{"private_key empty", map[string]any{"private_key": ""}, core.KindValidation, "private_key"},
		{"private_key not a string", map[string]any{"private_key": []int{1}}, core.KindValidation, "private_key"},
		{"no key", map[string]any{"private_key": nil}, core.KindConfiguration, "private_key/pkcs11"},
		{"key and pkcs11", map[string]any{"pkcs11": map[string]any{"pkcs11_lib": "/x.so"}}, core.KindConfiguration, "private_key/pkcs11"},
		{"pkcs11 without lib", map[string]any{"private_key": nil, "pkcs11": map[string]any{"user_pin": "1234"}}, core.KindValidation, "pkcs11.pkcs11_lib"},
		{"pkcs11 unknown key", map[string]any{"private_key": nil, "pkcs11": map[string]any{"pkcs11_lib": "/x.so", "pin": "1"}}, core.KindValidation, "pkcs11.pin"},
		{"pkcs11 negative slot", map[string]any{"private_key": nil, "pkcs11": map[string]any{"pkcs11_lib": "/x.so", "slot_id": -1}}, core.KindValidation, "pkcs11.slot_id"},
		{"pkcs11 slot not a number", map[string]any{"private_key": nil, "pkcs11": map[string]any{"pkcs11_lib": "/x.so", "slot_id": "1"}}, core.KindValidation, "pkcs11.slot_id"},
		{"pkcs11 not an object", map[string]any{"private_key": nil, "pkcs11": "x"}, core.KindValidation, "pkcs11"},
		{"verify_peer not a bool", map[string]any{"verify_peer": "yes"}, core.KindValidation, "verify_peer"},
		{"timeout zero", map[string]any{"timeout": 0}, core.KindValidation, "timeout"},
		{"timeout too long", map[string]any{"timeout": 7200}, core.KindValidation, "timeout"},
		{"timeout not a number", map[string]any{"timeout": "10"}, core.KindValidation, "timeout"},
		{"duration fractional", map[string]any{"duration_seconds": 1000.5}, core.KindValidation, "duration_seconds"},
		{"duration too long", map[string]any{"duration_seconds": 50000}, core.KindValidation, "duration_seconds"},
		{"thing_name not a string", map[string]any{"thing_name": 1}, core.KindValidation, "thing_name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := core.NewSessionFromJSON(config(tt.extra), core.Hooks{}, logger)
			if err == nil {
				sess.Close()
			}
			wantError(t, err, tt.kind, tt.param, nil, s.device.Key)
		})
	}

	t.Run("403 through the session", func(t *testing.T) {
		sess, err := core.NewSessionFromJSON(config(map[string]any{"thing_name": "thing-9", "defer_refresh": true}), core.Hooks{}, logger)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		_, err = sess.Credentials(context.Background())
		e := wantError(t, err, core.KindRequest, "", []string{"Access Denied"})
		if e.StatusCode != 403 {
			t.Errorf("StatusCode = %d", e.StatusCode)
		}
	})
}

func FuzzIoTResponse(f *testing.F) {
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	f.Add(200, []byte(`{"credentials":{"accessKeyId":"AKID","secretAccessKey":"s","sessionToken":"t","expiration":"`+exp+`"}}`))
	f.Add(403, []byte(`{"message":"Access Denied"}`))
	f.Add(200, []byte(`{"credentials":null}`))
	f.Add(200, []byte(`{"credentials":{"accessKeyId":"\u0000"}}`))
	f.Add(500, []byte("\xff\xfe<html>"))
	f.Add(200, []byte(`{"credentials":{"expiration":1e400}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		c, err := parseIoTResponse(status, body)
		if err != nil {
			var e *core.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, not *core.Error", err, err)
			}
			if e.Kind == core.KindUnknown || !utf8Valid(err.Error()) {
				t.Fatalf("bad error: %v", err)
			}
			return
		}
		if status != 200 || c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || c.Expires.IsZero() {
			t.Fatalf("accepted incomplete credentials from status %d: %v", status, c)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
