//go:build !cgo

package iot

import (
	"crypto"
	"errors"

	"github.com/gobrs/gobrs/core"
)

// pkcs11Key stands in for the PKCS#11 signer in builds without cgo.
type pkcs11Key struct{ crypto.Signer }

// Close does nothing.
func (*pkcs11Key) Close() error { return nil }

// openPKCS11Key fails: loading a PKCS#11 module needs cgo.
func openPKCS11Key(PKCS11Options, crypto.PublicKey) (*pkcs11Key, error) {
	return nil, &core.Error{Kind: core.KindConfiguration, Param: "pkcs11", Err: errors.New("built with CGO_ENABLED=0"),
		Message: "pkcs11 needs gobrs built with cgo"}
}
