//go:build cgo

package iot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sync"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
	"github.com/miekg/pkcs11"
)

// p11Module is a loaded PKCS#11 module. A module may be initialized once
// per process, so sessions that use the same module share it, counted.
type p11Module struct {
	ctx  *pkcs11.Ctx
	path string // absolute, symlinks resolved: the key in p11Modules
	refs int
}

var p11Modules = struct {
	sync.Mutex
	m map[string]*p11Module
}{m: map[string]*p11Module{}}

// loadP11Module loads and initializes the module at path, or takes another
// reference to it.
func loadP11Module(path string) (*p11Module, error) {
	bad := func(format string, args ...any) (*p11Module, error) {
		return nil, core.NewValidationError("pkcs11.pkcs11_lib", safetext.Cut(path, 128), format, args...)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return bad("pkcs11.pkcs11_lib %s is not a valid file path", safetext.Quote(safetext.Cut(path, 128)))
	}
	if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
		return bad("pkcs11.pkcs11_lib %s is not a valid file path", safetext.Quote(safetext.Cut(path, 128)))
	}
	p11Modules.Lock()
	defer p11Modules.Unlock()
	if m := p11Modules.m[abs]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(abs)
	if ctx == nil {
		return bad("pkcs11.pkcs11_lib %s could not be loaded as a PKCS#11 module", safetext.Quote(safetext.Cut(path, 128)))
	}
	if err := ctx.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		ctx.Destroy()
		return nil, &core.Error{Kind: core.KindValidation, Param: "pkcs11.pkcs11_lib", Value: safetext.Cut(path, 128), Err: err,
			Message: fmt.Sprintf("the PKCS#11 module %s failed to initialize", safetext.Quote(safetext.Cut(path, 128)))}
	}
	m := &p11Module{ctx: ctx, path: abs, refs: 1}
	p11Modules.m[abs] = m
	return m, nil
}

// release drops a reference, finalizing the module with the last.
func (m *p11Module) release() {
	p11Modules.Lock()
	defer p11Modules.Unlock()
	if m.refs--; m.refs == 0 {
		delete(p11Modules.m, m.path)
		m.ctx.Finalize()
		m.ctx.Destroy()
	}
}

// pkcs11Key is a crypto.Signer whose private key stays on a PKCS#11 token.
// It signs for TLS 1.2 and 1.3: RSA PKCS#1 v1.5, RSA-PSS and ECDSA.
type pkcs11Key struct {
	mu      sync.Mutex // a PKCS#11 session is used by one thread at a time
	mod     *p11Module // nil once closed
	session pkcs11.SessionHandle
	handle  pkcs11.ObjectHandle
	pub     crypto.PublicKey
}

var _ crypto.Signer = (*pkcs11Key)(nil)

// openPKCS11Key finds the private key o selects, logs in, and checks by a
// test signature that the key matches pub (the certificate's public key).
// Errors name the pkcs11 key at fault and never contain the PIN.
func openPKCS11Key(o PKCS11Options, pub crypto.PublicKey) (*pkcs11Key, error) {
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, core.NewValidationError("certificate", "", "with pkcs11 the certificate's key must be RSA or ECDSA, not %T", pub)
	}
	mod, err := loadP11Module(o.Lib)
	if err != nil {
		return nil, err
	}
	k := &pkcs11Key{mod: mod, pub: pub}
	if err := k.open(o); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// open opens a session on the token, logs in, finds the key and tests it.
func (k *pkcs11Key) open(o PKCS11Options) error {
	ctx := k.mod.ctx
	slot, err := findP11Slot(ctx, o)
	if err != nil {
		return err
	}
	if k.session, err = ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION); err != nil {
		return p11Error("pkcs11", err, "could not open a session on the PKCS#11 token")
	}
	if o.UserPIN != "" {
		if err := ctx.Login(k.session, pkcs11.CKU_USER, o.UserPIN); err != nil &&
			!errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
			return p11Error("pkcs11.user_pin", err, "the PKCS#11 token refused the login with pkcs11.user_pin")
		}
	}
	if k.handle, err = k.findKey(o.PrivateKeyLabel); err != nil {
		return err
	}
	return k.selfTest()
}

// p11Error wraps a PKCS#11 return value (a code name, never a secret).
func p11Error(param string, err error, msg string) error {
	return &core.Error{Kind: core.KindValidation, Param: param, Err: err, Message: msg}
}

// findP11Slot picks the slot of the token o selects: by slot_id, by
// token_label, or the only initialized token.
func findP11Slot(ctx *pkcs11.Ctx, o PKCS11Options) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, p11Error("pkcs11", err, "could not list the PKCS#11 slots")
	}
	var found []uint
	for _, s := range slots {
		if o.SlotID != nil && s != *o.SlotID {
			continue
		}
		ti, err := ctx.GetTokenInfo(s)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		if o.TokenLabel != "" && ti.Label != o.TokenLabel {
			continue
		}
		found = append(found, s)
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return 0, core.NewConfigurationError("pkcs11.token_label", "%d PKCS#11 tokens match; set pkcs11.slot_id or pkcs11.token_label to choose one", len(found))
	case o.SlotID != nil && o.TokenLabel != "":
		return 0, core.NewValidationError("pkcs11.token_label", safetext.Cut(o.TokenLabel, 128), "no initialized PKCS#11 token labelled %s in slot %d", safetext.Quote(safetext.Cut(o.TokenLabel, 128)), *o.SlotID)
	case o.SlotID != nil:
		return 0, core.NewValidationError("pkcs11.slot_id", fmt.Sprint(*o.SlotID), "no initialized PKCS#11 token in slot %d", *o.SlotID)
	case o.TokenLabel != "":
		return 0, core.NewValidationError("pkcs11.token_label", safetext.Cut(o.TokenLabel, 128), "no initialized PKCS#11 token labelled %s", safetext.Quote(safetext.Cut(o.TokenLabel, 128)))
	}
	return 0, core.NewValidationError("pkcs11", "", "the PKCS#11 module has no initialized token")
}

// findKey finds the private key by label, or the only private key.
func (k *pkcs11Key) findKey(label string) (pkcs11.ObjectHandle, error) {
	ctx := k.mod.ctx
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	if label != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
	}
	if err := ctx.FindObjectsInit(k.session, tmpl); err != nil {
		return 0, p11Error("pkcs11.private_key_label", err, "could not search the PKCS#11 token for the private key")
	}
	objs, _, err := ctx.FindObjects(k.session, 2)
	ctx.FindObjectsFinal(k.session)
	if err != nil {
		return 0, p11Error("pkcs11.private_key_label", err, "could not search the PKCS#11 token for the private key")
	}
	switch {
	case len(objs) == 1:
		return objs[0], nil
	case len(objs) > 1:
		return 0, core.NewConfigurationError("pkcs11.private_key_label", "more than one private key on the PKCS#11 token matches; set pkcs11.private_key_label to choose one")
	case label != "":
		return 0, core.NewValidationError("pkcs11.private_key_label", safetext.Cut(label, 128), "no private key labelled %s on the PKCS#11 token (is pkcs11.user_pin set?)", safetext.Quote(safetext.Cut(label, 128)))
	}
	return 0, core.NewValidationError("pkcs11.private_key_label", "", "no private key on the PKCS#11 token (is pkcs11.user_pin set?)")
}

// selfTest signs a random digest and verifies it with the certificate's
// public key, so a key that does not match fails here and not in the TLS
// handshake.
func (k *pkcs11Key) selfTest() error {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return p11Error("pkcs11", err, "could not read random bytes")
	}
	digest := sha256.Sum256(nonce)
	sig, err := k.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err == nil {
		switch pub := k.pub.(type) {
		case *rsa.PublicKey:
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig)
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				err = errors.New("ECDSA signature does not verify")
			}
		}
	}
	if err != nil {
		return &core.Error{Kind: core.KindValidation, Param: "pkcs11.private_key_label", Err: err,
			Message: "the PKCS#11 private key does not match the certificate (a test signature failed)"}
	}
	return nil
}

// Public returns the certificate's public key.
func (k *pkcs11Key) Public() crypto.PublicKey { return k.pub }

// digestInfoPrefix is the DER DigestInfo header PKCS#1 v1.5 puts before a
// digest (RFC 8017, section 9.2, note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA1:    {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224:  {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256:  {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384:  {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512:  {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
	crypto.MD5SHA1: {},
}

// pssHash maps a hash onto its PKCS#11 mechanism and MGF1 function.
var pssHash = map[crypto.Hash][2]uint{
	crypto.SHA1:   {pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1},
	crypto.SHA224: {pkcs11.CKM_SHA224, pkcs11.CKG_MGF1_SHA224},
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// Sign signs digest on the token: RSA PKCS#1 v1.5 (opts a crypto.Hash),
// RSA-PSS (opts *rsa.PSSOptions) or ECDSA (an ASN.1 signature, as
// crypto/ecdsa returns).
func (k *pkcs11Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, fmt.Errorf("gobrs: pkcs11: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	var mech *pkcs11.Mechanism
	data := digest
	switch k.pub.(type) {
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			hm, ok := pssHash[h]
			if !ok {
				return nil, fmt.Errorf("gobrs: pkcs11: RSA-PSS with %v is not supported", h)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = h.Size()
			}
			if salt < 0 {
				return nil, fmt.Errorf("gobrs: pkcs11: invalid RSA-PSS salt length %d", salt)
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(hm[0], hm[1], uint(salt)))
		} else {
			prefix, ok := digestInfoPrefix[h]
			if !ok {
				return nil, fmt.Errorf("gobrs: pkcs11: RSA PKCS#1 v1.5 with %v is not supported", h)
			}
			data = append(append(make([]byte, 0, len(prefix)+len(digest)), prefix...), digest...)
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
		}
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	default:
		return nil, fmt.Errorf("gobrs: pkcs11: unsupported public key type %T", k.pub)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mod == nil {
		return nil, errors.New("gobrs: pkcs11: the key is closed")
	}
	if err := k.mod.ctx.SignInit(k.session, []*pkcs11.Mechanism{mech}, k.handle); err != nil {
		return nil, fmt.Errorf("gobrs: PKCS#11 signing failed: %w", err)
	}
	sig, err := k.mod.ctx.Sign(k.session, data)
	if err != nil {
		return nil, fmt.Errorf("gobrs: PKCS#11 signing failed: %w", err)
	}
	if _, ok := k.pub.(*ecdsa.PublicKey); ok {
		return ecdsaRawToASN1(sig)
	}
	return sig, nil
}

// ecdsaRawToASN1 turns PKCS#11's r||s into the ASN.1 SEQUENCE{r, s}.
func ecdsaRawToASN1(sig []byte) ([]byte, error) {
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, fmt.Errorf("gobrs: pkcs11: malformed ECDSA signature of %d bytes", len(sig))
	}
	n := len(sig) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
}

// Close closes the token session and releases the module. Closing twice
// is safe.
func (k *pkcs11Key) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mod == nil {
		return nil
	}
	var err error
	if k.session != 0 {
		err = k.mod.ctx.CloseSession(k.session)
	}
	k.mod.release()
	k.mod = nil
	return err
}
