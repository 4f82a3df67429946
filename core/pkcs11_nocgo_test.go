//go:build !cgo

package core

import "testing"

func TestPKCS11WithoutCgo(t *testing.T) {
	s := newIoTServer(t)
	opts := s.options()
	opts.PrivateKey, opts.PKCS11 = PEMSource{}, &PKCS11Options{Lib: "/usr/lib/softhsm/libsofthsm2.so"}
	_, err := NewIoTProvider(opts)
	wantError(t, err, KindConfiguration, "pkcs11", []string{"cgo"})
}
