package sts

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
)

// startMoto starts "$MOTO_PYTHON -m moto.server" on a free 127.0.0.1 port,
// waits until it answers and stops it (by PID) when the test ends. It
// skips the test when MOTO_PYTHON is unset; `make test` sets it.
func startMoto(t *testing.T) string {
	t.Helper()
	py := os.Getenv("MOTO_PYTHON")
	if py == "" {
		t.Skip("MOTO_PYTHON is unset: set it to a python with moto[server] installed (make test does)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto with MOTO_PYTHON=%s: %v", py, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		select {
		case <-exited:
			t.Fatalf("moto exited before answering: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto did not answer on %s within 60 s", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSTSAgainstMoto runs the sts method against a real moto server:
// AssumeRole with every parameter moto accepts, GetCallerIdentity with the
// assumed credentials, and an MFA command.
func TestSTSAgainstMoto(t *testing.T) {
	endpoint := startMoto(t)
	dir := t.TempDir()
	tok := script(t, dir, "token.sh", "echo 246810")
	assume := map[string]any{
		"RoleSessionName": "gobrs-moto", "DurationSeconds": 1800, "ExternalId": "ext-123",
		"Tags": []any{map[string]any{"Key": "team", "Value": "blue"}}, "SourceIdentity": "alice",
		"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	}
	s := newSTSSession(t, stsConfig(endpoint, assume, map[string]any{"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}, nil), core.Hooks{})
	c, err := s.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID == "" || c.AccessKeyID == "testing" || c.SessionToken == "" {
		t.Fatalf("moto returned no assumed credentials: %v", c)
	}
	if d := time.Until(c.Expires); d < 25*time.Minute || d > 35*time.Minute {
		t.Fatalf("DurationSeconds 1800 not honoured: expires in %s", d)
	}
	id, err := s.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id["Arn"] != "arn:aws:sts::123456789012:assumed-role/demo/gobrs-moto" || id["Account"] != "123456789012" {
		t.Fatalf("identity %v is not the assumed role", id)
	}
	if uid, _ := id["UserId"].(string); !strings.HasSuffix(uid, ":gobrs-moto") {
		t.Fatalf("UserId %q is not the assumed-role session", uid)
	}

	mfa := newSTSSession(t, stsConfig(endpoint, map[string]any{"RoleSessionName": "gobrs-mfa", "SerialNumber": testSerial},
		map[string]any{"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
		map[string]any{"mfa_token_provider": []string{tok}}), core.Hooks{})
	id, err = mfa.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if id["Arn"] != "arn:aws:sts::123456789012:assumed-role/demo/gobrs-mfa" {
		t.Fatalf("MFA session identity %v", id)
	}
}
