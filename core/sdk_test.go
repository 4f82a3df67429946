package core_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/core/custom"
)

const callerIdentityXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/%s</Arn>
    <UserId>AIDATESTUSER</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`

// stsServer answers GetCallerIdentity on loopback after checking that the
// request is signed with the access key and token of the session's current
// credentials; it echoes the access key id in the ARN.
func stsServer(t *testing.T, want func() (akid, token string)) (*httptest.Server, *atomic.Int64) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		akid, token := want()
		auth := r.Header.Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+akid+"/") {
			t.Errorf("Authorization %q does not carry access key id %s", auth, akid)
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if got := r.Header.Get("X-Amz-Security-Token"); got != token {
			t.Errorf("X-Amz-Security-Token is not the session token")
			http.Error(w, "bad token", http.StatusForbidden)
			return
		}
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "GetCallerIdentity" {
			t.Errorf("unexpected request %v (%v)", r.Form, err)
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, callerIdentityXML, akid)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// The Session is the Credentials of an aws.Config for a real SDK client,
// which signs with the refreshed credentials once the mandatory window opens.
func TestSessionAsSDKCredentialsProvider(t *testing.T) {
	ctx := context.Background()
	clock := core.NewFakeClock(time.Now())
	var mu sync.Mutex
	var current map[string]string
	var fail atomic.Bool
	calls := 0
	getter := func(context.Context) (map[string]string, error) {
		if fail.Load() {
			return nil, errors.New("source unavailable")
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		current = map[string]string{
			"access_key":  fmt.Sprintf("AKIDSDKTEST%05d", calls),
			"secret_key":  fmt.Sprintf("sdk-secret-%d", calls),
			"token":       fmt.Sprintf("sdk-token-%d", calls),
			"expiry_time": clock.Now().Add(time.Hour).Format(time.RFC3339),
		}
		return current, nil
	}
	want := func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return current["access_key"], current["token"]
	}
	srv, requests := stsServer(t, want)

	provider := &custom.Provider{Func: getter, Clock: clock}
	s, err := core.NewSession(provider, func(o *core.Options) {
		o.DeferRefresh, o.Clock, o.Logger = false, clock, slog.New(slog.DiscardHandler)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	cfg := aws.Config{Region: "us-east-1", Credentials: s, HTTPClient: srv.Client(), RetryMaxAttempts: 1}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	for i, step := range []struct {
		advance time.Duration
		akid    string
	}{
		{0, "AKIDSDKTEST00001"},
		{30 * time.Minute, "AKIDSDKTEST00001"},
		{21 * time.Minute, "AKIDSDKTEST00002"}, // mandatory window: refreshed
		{time.Minute, "AKIDSDKTEST00002"},
	} {
		clock.Advance(step.advance)
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("step %d: GetCallerIdentity: %v", i, err)
		}
		if got := aws.ToString(out.Arn); !strings.HasSuffix(got, "/"+step.akid) {
			t.Fatalf("step %d: signed as %s, want %s", i, got, step.akid)
		}
	}
	if requests.Load() != 4 {
		t.Fatalf("server saw %d requests, want 4", requests.Load())
	}

	// A failed mandatory refresh fails the SDK call with the gobrs error.
	fail.Store(true)
	clock.Advance(time.Hour)
	_, err = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if core.KindOf(err) != core.KindCredential || !errors.Is(err, core.ErrCredential) {
		t.Fatalf("SDK call with failing credentials: %v, want a gobrs credential error in the chain", err)
	}
	if requests.Load() != 4 {
		t.Fatalf("a request was sent without credentials")
	}
}
