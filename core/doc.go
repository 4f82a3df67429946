// Package core is the refresh engine of gobrs and its small types: a
// Session wraps a Provider with botocore's refresh contract (deferred or
// eager first fetch, advisory and mandatory windows), single flight and an
// optional background refresh, and implements aws.CredentialsProvider, so
// that any aws-sdk-go-v2 client can use it.
//
// The methods live in packages of their own (core/custom, core/sts,
// core/iot) that core does not import: a program that imports only core
// links none of them. A method package registers itself with
// RegisterMethod when it is imported, as database/sql drivers do, and
// NewSessionFromJSON opens sessions of the methods a program imports:
//
//	import (
//		"github.com/gobrs/gobrs/core"
//		_ "github.com/gobrs/gobrs/core/sts"
//	)
//
//	s, err := core.NewSessionFromJSON([]byte(`{"method": "sts", ...}`), core.Hooks{})
//
// docs/architecture.md describes the packages and where a new method goes.
package core
