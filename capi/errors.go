package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/gobrs/gobrs/internal/safetext"
	json "github.com/goccy/go-json"

	"github.com/gobrs/gobrs/core"
)

// statuses maps core.Kind onto the BRS_E* codes; they are numbered alike
// (status = kind + 1), the table keeps the correspondence explicit.
var statuses = [...]C.int{
	core.KindUnknown:       C.BRS_ERROR,
	core.KindValidation:    C.BRS_EVALIDATION,
	core.KindConfiguration: C.BRS_ECONFIGURATION,
	core.KindCredential:    C.BRS_ECREDENTIAL,
	core.KindConnection:    C.BRS_ECONNECTION,
	core.KindRequest:       C.BRS_EREQUEST,
	core.KindClosed:        C.BRS_ECLOSED,
}

// statusOf returns the status code of err (BRS_OK for nil).
func statusOf(err error) C.int {
	if err == nil {
		return C.BRS_OK
	}
	k := core.KindOf(err)
	if k < 0 || int(k) >= len(statuses) {
		return C.BRS_ERROR
	}
	return statuses[k]
}

// fail fills out (when not NULL) from err and returns err's status code.
// out is expected zeroed (shim.c zeroes it on entry).
func fail(out *C.brs_error, err error) C.int {
	status := statusOf(err)
	if out == nil {
		return status
	}
	out.status = status
	out.message = cstring(err.Error())
	var e *core.Error
	if errors.As(err, &e) {
		out.http_status = C.int(e.StatusCode)
		out.param = cstringOrNil(e.Param)
		out.value = cstringOrNil(e.Value)
		out.aws_code = cstringOrNil(e.Code)
		if len(e.Details) > 0 {
			if b, jerr := json.Marshal(e.Details); jerr == nil {
				out.details = cstring(string(b))
			}
		}
	}
	return status
}

// cstringOrNil returns NULL for "" and cstring(s) otherwise.
func cstringOrNil(s string) *C.char {
	if s == "" {
		return nil
	}
	return cstring(s)
}

// cstring copies error text into C memory with every control character
// spelled as \u00XX (core.EscapeControls): a NUL, which a JSON key may
// hold, does not cut the C string short, and a newline or terminal escape
// from a callback's or a service's text reaches no terminal raw.
func cstring(s string) *C.char {
	return C.CString(safetext.EscapeControls(s))
}

// recoverTo turns a panic in export fn into BRS_ERROR; deferred first thing
// in every export. The message names the failure without the panic's value
// unless it is a runtime error (a value may hold anything).
func recoverTo(fn string, status *C.int, out *C.brs_error) {
	r := recover()
	if r == nil {
		return
	}
	msg := fmt.Sprintf("gobrs internal error in %s: panic (%T)", fn, r)
	if re, ok := r.(runtime.Error); ok {
		msg = fmt.Sprintf("gobrs internal error in %s: %s", fn, re.Error())
	}
	if out != nil {
		// Release whatever a partial fill left, then report.
		C.free(unsafe.Pointer(out.message))
		C.free(unsafe.Pointer(out.param))
		C.free(unsafe.Pointer(out.value))
		C.free(unsafe.Pointer(out.aws_code))
		C.free(unsafe.Pointer(out.details))
		*out = C.brs_error{}
	}
	*status = fail(out, &core.Error{Kind: core.KindUnknown, Message: msg})
}

// writeJSON encodes v as JSON into a new C string at *jsonOut (the caller
// frees it with brs_free) and returns BRS_OK, or fails naming what v is.
func writeJSON(jsonOut **C.char, errOut *C.brs_error, v any, what string) C.int {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(errOut, &core.Error{Kind: core.KindUnknown, Err: err, Message: "cannot encode " + what + " as JSON"})
	}
	*jsonOut = C.CString(string(b))
	return C.BRS_OK
}
