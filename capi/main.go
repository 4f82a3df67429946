// Command capi is the C ABI of gobrs, built with
//
//	go build -buildmode=c-shared -o build/libbrs.so ./capi
//
// The public functions of include/brs.h are C functions in shim.c; they
// call the Go exports of this package (brsgo_*), which turn sessions into
// opaque handles, convert JSON configs in and credentials and identities
// out, and map core errors onto status codes. No Go pointer ever reaches C
// and no panic crosses the boundary. The credential logic lives in core.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gobrs/gobrs/core"
)

func main() {}

// sessions maps open handles to their sessions. shim.c allocates the
// handles and checks them first: a handle not found here is one being
// opened or closed.
var sessions sync.Map // uint64 -> *core.Session

// lookup returns the session of handle h or a KindClosed error.
func lookup(h C.brs_session) (*core.Session, error) {
	if s, ok := sessions.Load(uint64(h)); ok {
		return s.(*core.Session), nil
	}
	return nil, &core.Error{Kind: core.KindClosed, Message: "the session handle is closed or unknown"}
}

// Every log line of the library goes to brs_set_logger's sink, silent by
// default, never to stderr: each session logs through a handler that names
// it (so that shim.c knows whose callback the sink runs in), and the method
// builders through slog.Default.
func init() { slog.SetDefault(slog.New(cHandler{})) }

//export brsgo_new_session
func brsgo_new_session(config *C.char, cb, userData C.uintptr_t, h C.brs_session, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_new_session", &status, errOut)
	raw := []byte(C.GoString(config))
	if !utf8.Valid(raw) {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "config_json", Message: "config_json is not valid UTF-8"})
	}
	var hooks core.Hooks
	if cb != 0 {
		b := &binding{cb: cb, userData: userData, session: uint64(h)}
		hooks = core.Hooks{Credentials: b.credentials, SourceCredentials: b.sourceCredentials, MFAToken: b.mfaToken}
	}
	s, err := core.NewSessionFromJSON(raw, hooks, func(o *core.Options) {
		o.Logger = slog.New(cHandler{session: uint64(h)})
		o.Published = func(c core.Credentials, until time.Time) { publish(h, c, until) }
	})
	if err != nil {
		return fail(errOut, err)
	}
	s.OnRefresh(func(c core.Credentials, until time.Time) { notify(h, c, until, s.Options().Clock.Now()) })
	sessions.Store(uint64(h), s)
	return C.BRS_OK
}

// publish hands shim.c its copy of session h's new current credentials.
// The strings are passed as Go memory that C copies during the call.
func publish(h C.brs_session, c core.Credentials, until time.Time) {
	exp := c.ExpiryString()
	C.brs_shim_publish(C.uint64_t(h),
		strData(c.AccessKeyID), C.size_t(len(c.AccessKeyID)),
		strData(c.SecretAccessKey), C.size_t(len(c.SecretAccessKey)),
		strData(c.SessionToken), C.size_t(len(c.SessionToken)),
		strData(exp), C.size_t(len(exp)),
		C.int64_t(c.Expires.UnixMilli()), C.int64_t(until.UnixMilli()))
}

// strData points at the bytes of s (Go memory holding no pointers, which
// cgo lets C read during a call).
func strData(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }

// notify hands c to session h's brs_on_refresh listener, if any, as C
// memory, so that no Go pointer reaches the listener.
func notify(h C.brs_session, c core.Credentials, until, now time.Time) {
	if C.brs_shim_has_listener(C.uint64_t(h)) == 0 {
		return
	}
	out := (*C.struct_brs_credentials)(C.calloc(1, C.sizeof_struct_brs_credentials))
	defer C.free(unsafe.Pointer(out))
	fillCredentials(out, c, until, now)
	defer C.brs_credentials_clear(out)
	C.brs_shim_notify(C.uint64_t(h), out)
}

//export brsgo_credentials
func brsgo_credentials(h C.brs_session, out *C.struct_brs_credentials, errOut *C.brs_error, refresh C.int) (status C.int) {
	name := "brs_credentials"
	if refresh != 0 {
		name = "brs_refresh"
	}
	defer recoverTo(name, &status, errOut)
	s, err := lookup(h)
	if err != nil {
		return fail(errOut, err)
	}
	if refresh != 0 {
		if _, err := s.Refresh(context.Background()); err != nil {
			return fail(errOut, err)
		}
		if out == nil {
			return C.BRS_OK
		}
	}
	// After a refresh this is the fast path: the fresh credentials and the
	// engine's own reuse deadline for them.
	c, until, err := s.Lookup(context.Background())
	if err != nil {
		return fail(errOut, err)
	}
	fillCredentials(out, c, until, s.Options().Clock.Now())
	return C.BRS_OK
}

// fillCredentials copies c into one block of C memory owned by the caller
// (access_key first, as brs_credentials_clear expects).
func fillCredentials(out *C.struct_brs_credentials, c core.Credentials, until, now time.Time) {
	exp := c.ExpiryString()
	fields := [...]string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, exp}
	n := 0
	for _, f := range fields {
		n += len(f) + 1
	}
	block := unsafe.Slice((*byte)(C.malloc(C.size_t(n))), n)
	var ptrs [len(fields)]*C.char
	off := 0
	for i, f := range fields {
		ptrs[i] = (*C.char)(unsafe.Pointer(&block[off]))
		off += copy(block[off:], f)
		block[off] = 0
		off++
	}
	out.access_key, out.secret_key, out.token, out.expiry_time = ptrs[0], ptrs[1], ptrs[2], ptrs[3]
	out.expiry_unix_ms = C.int64_t(c.Expires.UnixMilli())
	out.valid_for_ms = C.int64_t(max(until.Sub(now).Milliseconds(), 0))
}

//export brsgo_whoami
func brsgo_whoami(h C.brs_session, jsonOut **C.char, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_whoami", &status, errOut)
	s, err := lookup(h)
	if err != nil {
		return fail(errOut, err)
	}
	id, err := s.Identity(context.Background())
	if err != nil {
		return fail(errOut, err)
	}
	return writeJSON(jsonOut, errOut, id, "the identity")
}

//export brsgo_warnings
func brsgo_warnings(h C.brs_session, jsonOut **C.char, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_warnings", &status, errOut)
	s, err := lookup(h)
	if err != nil {
		return fail(errOut, err)
	}
	warnings := s.Warnings()
	if warnings == nil {
		warnings = []core.Warning{}
	}
	return writeJSON(jsonOut, errOut, warnings, "the warnings")
}

//export brsgo_close_session
func brsgo_close_session(h C.brs_session) (status C.int) {
	defer recoverTo("brs_close_session", &status, nil)
	s, ok := sessions.LoadAndDelete(uint64(h))
	if !ok {
		return C.BRS_ECLOSED
	}
	if err := s.(*core.Session).Close(); err != nil {
		return statusOf(err)
	}
	return C.BRS_OK
}
