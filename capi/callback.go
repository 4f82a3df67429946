package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/internal/safetext"
)

// resultKeys are the keys brs_result_set accepts (include/brs.h).
var resultKeys = map[string]bool{
	"access_key": true, "secret_key": true, "token": true, "expiry_time": true,
	"token_code": true, "error": true,
}

// maxErrorLen bounds the "error" message a callback sets
// (BRS_MAX_ERROR_TEXT in include/brs.h).
const maxErrorLen = C.BRS_MAX_ERROR_TEXT

// collector gathers the values one callback call sets, and the first
// value brs_result_set refused.
type collector struct {
	mu      sync.Mutex
	vals    map[string]string
	refused error
}

// collectors maps the id inside a live brs_result to its collector; an id
// is present only while its callback runs.
var (
	collectors sync.Map // uint64 -> *collector
	nextResult atomic.Uint64
)

//export brsgo_result_set
func brsgo_result_set(id C.uint64_t, key, value *C.char) (status C.int) {
	defer recoverTo("brs_result_set", &status, nil)
	v, ok := collectors.Load(uint64(id))
	if !ok {
		return C.BRS_ECLOSED
	}
	col := v.(*collector)
	k := C.GoString(key)
	var why string
	switch {
	case key == nil:
		why = "the key is NULL"
	case !resultKeys[k]:
		why = fmt.Sprintf("%s is not a key brs_result_set knows (access_key, secret_key, token, expiry_time, token_code, error)", safetext.Quote(safetext.Cut(k, 64)))
	case value == nil:
		why = "the value is NULL"
	}
	var val string
	if why == "" {
		if val = C.GoString(value); !utf8.ValidString(val) {
			why = "the value is not valid UTF-8"
		}
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.vals == nil {
		return C.BRS_ECLOSED
	}
	if why != "" {
		if col.refused == nil && k != "error" {
			col.refused = &core.Error{Kind: core.KindCredential, Param: safetext.Cut(k, 64),
				Message: "brs_result_set refused a value the callback set: " + why}
		}
		return C.BRS_EVALIDATION
	}
	col.vals[k] = val
	return C.BRS_OK
}

// binding adapts a C callback into core.Hooks for one session.
type binding struct {
	cb, userData C.uintptr_t
	session      uint64
}

// call runs the callback for request and returns what it set. A non-zero
// return is a KindCredential error naming param and carrying the callback's
// "error" message.
func (b *binding) call(request C.int, param string) (map[string]string, error) {
	id := nextResult.Add(1)
	col := &collector{vals: map[string]string{}}
	collectors.Store(id, col)
	// cgo's C.malloc never returns NULL (it aborts, as Go does, when out of
	// memory).
	res := (*C.brs_result)(C.malloc(C.sizeof_struct_brs_result))
	res.id = C.uint64_t(id)
	rc := C.brs_shim_invoke(b.cb, b.userData, request, res, C.uint64_t(b.session))
	res.id = 0 // a stale pointer read before the memory is reused finds no collector
	C.free(unsafe.Pointer(res))
	collectors.Delete(id)
	col.mu.Lock()
	vals, refused := col.vals, col.refused
	col.vals = nil
	col.mu.Unlock()
	if rc == 0 && refused != nil {
		// A refused value makes the answer incomplete: say which and why
		// rather than "credentials are missing ...".
		return nil, refused
	}
	if rc != 0 {
		msg := vals["error"]
		if msg == "" {
			msg = fmt.Sprintf("it returned %d without setting \"error\"", int(rc))
		} else if len(msg) > maxErrorLen {
			// cut on a character boundary: the message stays UTF-8
			msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "..."
		}
		return nil, &core.Error{Kind: core.KindCredential, Param: param,
			Message: fmt.Sprintf("the %s callback failed: %s", param, msg)}
	}
	delete(vals, "error")
	return vals, nil
}

// credentials is Hooks.Credentials (BRS_REQ_CREDENTIALS).
func (b *binding) credentials(context.Context) (map[string]string, error) {
	return b.call(C.BRS_REQ_CREDENTIALS, "custom_credentials_method")
}

// sourceCredentials is Hooks.SourceCredentials (BRS_REQ_SOURCE_CREDENTIALS).
func (b *binding) sourceCredentials(context.Context) (map[string]string, error) {
	return b.call(C.BRS_REQ_SOURCE_CREDENTIALS, "source_credentials")
}

// mfaToken is Hooks.MFAToken (BRS_REQ_MFA_TOKEN).
func (b *binding) mfaToken(context.Context) (string, error) {
	vals, err := b.call(C.BRS_REQ_MFA_TOKEN, "mfa_token_provider")
	if err != nil {
		return "", err
	}
	code, ok := vals["token_code"]
	if !ok || code == "" {
		return "", &core.Error{Kind: core.KindCredential, Param: "token_code",
			Message: "the mfa_token_provider callback returned 0 without setting \"token_code\""}
	}
	return code, nil
}
