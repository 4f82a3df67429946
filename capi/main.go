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
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/gobrs/gobrs/core"
	json "github.com/goccy/go-json"
)

func main() {}

// sessions maps open handles to their sessions.
var (
	sessions   sync.Map // uint64 -> *core.Session
	nextHandle atomic.Uint64
)

// lookup returns the session of handle h or a KindClosed error.
func lookup(h C.brs_session) (*core.Session, error) {
	if s, ok := sessions.Load(uint64(h)); ok {
		return s.(*core.Session), nil
	}
	return nil, &core.Error{Kind: core.KindClosed, Message: "the session handle is closed or unknown"}
}

// Every log line of the library goes to brs_set_logger's sink, silent by
// default, never to stderr: sessions and the method builders log through
// slog.Default (core's default Options.Logger).
func init() { slog.SetDefault(slog.New(cHandler{})) }

//export brsgo_new_session
func brsgo_new_session(config *C.char, cb, userData C.uintptr_t, out *C.brs_session, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_new_session", &status, errOut)
	switch {
	case config == nil:
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "config_json", Message: "config_json must not be NULL"})
	case out == nil:
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "out", Message: "out must not be NULL"})
	}
	raw := []byte(C.GoString(config))
	if !utf8.Valid(raw) {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "config_json", Message: "config_json is not valid UTF-8"})
	}
	h := nextHandle.Add(1)
	var hooks core.Hooks
	if cb != 0 {
		b := &binding{cb: cb, userData: userData, session: h}
		hooks = core.Hooks{Credentials: b.credentials, SourceCredentials: b.sourceCredentials, MFAToken: b.mfaToken}
	}
	s, err := core.NewSessionFromJSON(raw, hooks)
	if err != nil {
		return fail(errOut, err)
	}
	sessions.Store(h, s)
	*out = C.brs_session(h)
	return C.BRS_OK
}

//export brsgo_credentials
func brsgo_credentials(h C.brs_session, out *C.struct_brs_credentials, errOut *C.brs_error, refresh C.int) (status C.int) {
	name := "brs_credentials"
	if refresh != 0 {
		name = "brs_refresh"
	}
	defer recoverTo(name, &status, errOut)
	if out == nil && refresh == 0 {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "out", Message: "out must not be NULL"})
	}
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

// fillCredentials copies c into C memory owned by the caller.
func fillCredentials(out *C.struct_brs_credentials, c core.Credentials, until, now time.Time) {
	out.access_key = C.CString(c.AccessKeyID)
	out.secret_key = C.CString(c.SecretAccessKey)
	out.token = C.CString(c.SessionToken)
	out.expiry_time = C.CString(c.ExpiryString())
	out.expiry_unix_ms = C.int64_t(c.Expires.UnixMilli())
	out.valid_for_ms = C.int64_t(max(until.Sub(now).Milliseconds(), 0))
}

//export brsgo_on_refresh
func brsgo_on_refresh(h C.brs_session, fn, userData C.uintptr_t) (status C.int) {
	defer recoverTo("brs_on_refresh", &status, nil)
	s, err := lookup(h)
	if err != nil {
		return statusOf(err)
	}
	if fn == 0 {
		s.OnRefresh(nil)
		return C.BRS_OK
	}
	s.OnRefresh(func(c core.Credentials, until time.Time) {
		// C memory, so that no Go pointer reaches the listener.
		out := (*C.struct_brs_credentials)(C.calloc(1, C.sizeof_struct_brs_credentials))
		defer C.free(unsafe.Pointer(out))
		fillCredentials(out, c, until, s.Options().Clock.Now())
		defer C.brs_credentials_clear(out)
		C.brs_shim_notify(fn, userData, out, C.uint64_t(h))
	})
	return C.BRS_OK
}

//export brsgo_whoami
func brsgo_whoami(h C.brs_session, jsonOut **C.char, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_whoami", &status, errOut)
	if jsonOut == nil {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "json_out", Message: "json_out must not be NULL"})
	}
	s, err := lookup(h)
	if err != nil {
		return fail(errOut, err)
	}
	id, err := s.Identity(context.Background())
	if err != nil {
		return fail(errOut, err)
	}
	b, err := json.Marshal(id)
	if err != nil {
		return fail(errOut, &core.Error{Kind: core.KindUnknown, Err: err, Message: "cannot encode the identity as JSON"})
	}
	*jsonOut = C.CString(string(b))
	return C.BRS_OK
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
