//go:build !cgo

package iot

import (
	"testing"

	"github.com/gobrs/gobrs/core"
)

func TestPKCS11WithoutCgo(t *testing.T) {
	s := newIoTServer(t)
	opts := s.options()
	opts.PrivateKey, opts.PKCS11 = PEMSource{}, &PKCS11Options{Lib: "/usr/lib/softhsm/libsofthsm2.so"}
	_, err := NewProvider(opts)
	wantError(t, err, core.KindConfiguration, "pkcs11", []string{"cgo"})
}
