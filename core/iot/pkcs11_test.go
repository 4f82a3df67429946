//go:build cgo

package iot

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/testutil"
	json "github.com/goccy/go-json"
)

// softHSM is a SoftHSM2 token made for one test, in a temporary directory.
type softHSM struct {
	module string // the PKCS#11 module
	label  string // the token's label
	pin    string
	run    func(args ...string)
}

const softHSMInstall = "install softhsm2 (Debian/Ubuntu: apt-get install -y softhsm2; .ci/run does it) or set GOBRS_SOFTHSM2_MODULE"

// newSoftHSM creates a token with its own SOFTHSM2_CONF. It fails, never
// skips, when SoftHSM2 is missing.
func newSoftHSM(t *testing.T) *softHSM {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("softhsm2-util not found: %s", softHSMInstall)
	}
	module := os.Getenv("GOBRS_SOFTHSM2_MODULE")
	if module == "" {
		for _, c := range []string{
			"/usr/lib/softhsm/libsofthsm2.so",
			"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
			"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
			"/usr/lib64/pkcs11/libsofthsm2.so",
			"/usr/local/lib/softhsm/libsofthsm2.so",
		} {
			if _, err := os.Stat(c); err == nil {
				module = c
				break
			}
		}
	}
	if _, err := os.Stat(module); module == "" || err != nil {
		t.Fatalf("the SoftHSM2 PKCS#11 module (libsofthsm2.so) was not found: %s", softHSMInstall)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	h := &softHSM{module: module, label: "gobrs-test", pin: "4321"}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(util, args...).CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util %s: %v\n%s", args[0], err, out)
		}
	}
	run("--init-token", "--free", "--label", h.label, "--pin", h.pin, "--so-pin", "87654321")
	h.run = run
	return h
}

// importKey writes k as PKCS#8 and imports it into the token.
func (h *softHSM) importKey(t *testing.T, k crypto.Signer, label, id string) {
	t.Helper()
	path := writeTemp(t, label+".pem", testutil.KeyPEM(t, k))
	h.run("--import", path, "--token", h.label, "--label", label, "--id", id, "--pin", h.pin)
	os.Remove(path)
}

func TestPKCS11SoftHSM(t *testing.T) {
	hsm := newSoftHSM(t)
	s := newIoTServer(t)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey := testutil.NewECKey(t)
	hsm.importKey(t, rsaKey, "rsa-key", "01")
	hsm.importKey(t, ecKey, "ec-key", "02")
	rsaCert := s.ca.Issue(t, "thing-1", rsaKey.Public(), false)
	ecCert := s.ca.Issue(t, "thing-1", ecKey.Public(), false)
	otherRSA, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	otherCert := s.ca.Issue(t, "thing-1", otherRSA.Public(), false)

	opts := func(cert []byte, p PKCS11Options) Options {
		o := s.options()
		o.Certificate, o.PrivateKey, o.PKCS11 = PEMSource{Data: cert}, PEMSource{}, &p
		return o
	}
	p11 := func(label string) PKCS11Options {
		return PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, TokenLabel: hsm.label, PrivateKeyLabel: label}
	}

	t.Run("mutual TLS fetch", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			pub   crypto.PublicKey
			label string
			tls   uint16
		}{
			{"RSA TLS 1.3", rsaKey.Public(), "rsa-key", tls.VersionTLS13},
			{"RSA TLS 1.2", rsaKey.Public(), "rsa-key", tls.VersionTLS12},
			{"ECDSA TLS 1.3", ecKey.Public(), "ec-key", tls.VersionTLS13},
			{"ECDSA TLS 1.2", ecKey.Public(), "ec-key", tls.VersionTLS12},
		} {
			t.Run(tt.name, func(t *testing.T) {
				srv := newIoTServer(t, func(c *tls.Config) { c.MaxVersion = tt.tls })
				o := srv.options()
				o.Certificate = PEMSource{Data: srv.ca.Issue(t, "thing-1", tt.pub, false)}
				o.PrivateKey, o.PKCS11 = PEMSource{}, &PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, TokenLabel: hsm.label, PrivateKeyLabel: tt.label}
				c := mustRetrieve(t, o)
				if !strings.HasPrefix(c.AccessKeyID, "ASIAIOTTEST") {
					t.Fatalf("credentials = %v", c)
				}
				r := srv.lastRequest(t)
				if r.TLS.Version != tt.tls {
					t.Errorf("TLS version = %x, want %x", r.TLS.Version, tt.tls)
				}
				if !r.TLS.PeerCertificates[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.pub) {
					t.Errorf("the server saw another client key")
				}
			})
		}
	})

	t.Run("signatures verify", func(t *testing.T) {
		k, err := openPKCS11Key(p11("rsa-key"), rsaKey.Public())
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		d256 := sha256.Sum256([]byte("hello"))
		d384 := sha512.Sum384([]byte("hello"))
		for _, tt := range []struct {
			name   string
			digest []byte
			opts   crypto.SignerOpts
		}{
			{"PKCS#1 v1.5 SHA-256", d256[:], crypto.SHA256},
			{"PKCS#1 v1.5 SHA-384", d384[:], crypto.SHA384},
			{"PSS SHA-256 salt = hash", d256[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
			{"PSS SHA-384 salt auto", d384[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA384}},
		} {
			sig, err := k.Sign(rand.Reader, tt.digest, tt.opts)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if pss, ok := tt.opts.(*rsa.PSSOptions); ok {
				err = rsa.VerifyPSS(&rsaKey.PublicKey, pss.Hash, tt.digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
			} else {
				err = rsa.VerifyPKCS1v15(&rsaKey.PublicKey, tt.opts.HashFunc(), tt.digest, sig)
			}
			if err != nil {
				t.Errorf("%s: signature does not verify: %v", tt.name, err)
			}
		}
		if _, err := k.Sign(rand.Reader, d256[:10], crypto.SHA256); err == nil {
			t.Error("a digest of the wrong length was signed")
		}

		ek, err := openPKCS11Key(p11("ec-key"), ecKey.Public())
		if err != nil {
			t.Fatal(err)
		}
		defer ek.Close()
		sig, err := ek.Sign(rand.Reader, d256[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(&ecKey.PublicKey, d256[:], sig) {
			t.Errorf("ECDSA signature does not verify: %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		slot := uint(987654)
		for _, tt := range []struct {
			name  string
			cert  []byte
			p     PKCS11Options
			kind  core.Kind
			param string
			want  string
		}{
			{"wrong PIN", rsaCert, PKCS11Options{Lib: hsm.module, UserPIN: "0000", TokenLabel: hsm.label, PrivateKeyLabel: "rsa-key"},
				core.KindValidation, "pkcs11.user_pin", "refused the login"},
			{"no PIN: private keys are not visible", rsaCert, PKCS11Options{Lib: hsm.module, TokenLabel: hsm.label, PrivateKeyLabel: "rsa-key"},
				core.KindValidation, "pkcs11.private_key_label", "no private key labelled"},
			{"unknown key label", rsaCert, p11("nope"), core.KindValidation, "pkcs11.private_key_label", `"nope"`},
			{"two keys and no label", rsaCert, p11(""), core.KindConfiguration, "pkcs11.private_key_label", "more than one"},
			{"unknown token label", rsaCert, PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, TokenLabel: "other", PrivateKeyLabel: "rsa-key"},
				core.KindValidation, "pkcs11.token_label", `"other"`},
			{"unknown slot", rsaCert, PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, SlotID: &slot, PrivateKeyLabel: "rsa-key"},
				core.KindValidation, "pkcs11.slot_id", "987654"},
			{"library missing", rsaCert, PKCS11Options{Lib: "/nonexistent/lib.so", UserPIN: hsm.pin},
				core.KindValidation, "pkcs11.pkcs11_lib", "not a valid file path"},
			{"library is not a PKCS#11 module", rsaCert, PKCS11Options{Lib: writeTemp(t, "fake.so", []byte("not a library")), UserPIN: hsm.pin},
				core.KindValidation, "pkcs11.pkcs11_lib", "could not be loaded"},
			{"key of another RSA certificate", otherCert, p11("rsa-key"), core.KindValidation, "pkcs11.private_key_label", "does not match"},
			{"EC key for an RSA certificate", rsaCert, p11("ec-key"), core.KindValidation, "pkcs11.private_key_label", "does not match"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p, err := NewProvider(opts(tt.cert, tt.p))
				if err == nil {
					p.Close()
				}
				wantError(t, err, tt.kind, tt.param, []string{tt.want}, []byte("\n"+hsm.pin+"\n0000"))
			})
		}
	})

	t.Run("only token, chosen without label or slot", func(t *testing.T) {
		mustRetrieve(t, opts(ecCert, PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, PrivateKeyLabel: "ec-key"}))
	})

	t.Run("token chosen by slot_id", func(t *testing.T) {
		mod, err := loadP11Module(hsm.module)
		if err != nil {
			t.Fatal(err)
		}
		slot, err := findP11Slot(mod.ctx, PKCS11Options{TokenLabel: hsm.label})
		mod.release()
		if err != nil {
			t.Fatal(err)
		}
		mustRetrieve(t, opts(rsaCert, PKCS11Options{Lib: hsm.module, UserPIN: hsm.pin, SlotID: &slot, PrivateKeyLabel: "rsa-key"}))
	})

	t.Run("JSON config and a shared module", func(t *testing.T) {
		config := func(cert []byte, label string) []byte {
			b, _ := json.Marshal(map[string]any{
				"method": "iot", "endpoint": s.endpoint(), "role_alias": testRoleAlias, "thing_name": "thing-1",
				"certificate": string(cert), "ca": string(s.ca.PEM),
				"pkcs11": map[string]any{"pkcs11_lib": hsm.module, "user_pin": hsm.pin, "token_label": hsm.label,
					"private_key_label": label, "slot_id": nil},
			})
			return b
		}
		a, err := core.NewSessionFromJSON(config(rsaCert, "rsa-key"), core.Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := core.NewSessionFromJSON(config(ecCert, "ec-key"), core.Hooks{})
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		defer b.Close()
		if _, err := a.Credentials(context.Background()); err != nil {
			t.Fatal(err)
		}
		a.Close() // releases one reference to the module; b keeps working
		if _, err := b.Refresh(context.Background()); err != nil {
			t.Fatalf("the second session broke when the first closed: %v", err)
		}
	})

	t.Cleanup(func() {
		p11Modules.Lock()
		defer p11Modules.Unlock()
		if n := len(p11Modules.m); n != 0 {
			t.Errorf("%d PKCS#11 modules still loaded after every provider closed", n)
		}
	})
}
