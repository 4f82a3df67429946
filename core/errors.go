package core

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an Error. The kinds mirror the Python BRS* error classes
// and the C status codes of include/brs.h.
type Kind int

// The error kinds. Their order and values are part of the C ABI: capi maps
// them one to one onto the BRS_E* status codes.
const (
	// KindUnknown is an error that fits no other kind.
	KindUnknown Kind = iota
	// KindValidation is a parameter of the wrong type, range or shape.
	KindValidation
	// KindConfiguration is a set of parameters that cannot work together.
	KindConfiguration
	// KindCredential is a credential source that failed or returned
	// unusable credentials.
	KindCredential
	// KindConnection is a network failure: refused, reset, timed out, TLS.
	KindConnection
	// KindRequest is a service that answered with an error.
	KindRequest
	// KindClosed is a call on a session that has been closed.
	KindClosed
)

var kindNames = [...]string{"error", "validation", "configuration", "credential", "connection", "request", "closed"}

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "error"
	}
	return kindNames[k]
}

// Error is the error type every gobrs operation returns. Param names the
// parameter or field at fault; Value is a safe, non-secret rendering of the
// offending value (empty when the value may be secret). StatusCode and Code
// carry the HTTP status and the service error code of a request error.
// Details holds what a host needs to raise the error as its own SDK would
// (keys are listed with brs_error in include/brs.h); never a secret.
type Error struct {
	Kind       Kind
	Param      string
	Value      string
	StatusCode int
	Code       string
	Message    string
	Details    map[string]any
	Err        error
}

// Error implements error. The text never contains secret values: only the
// message, the parameter name and the (non-secret) value are rendered.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Message == "" {
		b.WriteString(e.Kind.String() + " error")
	}
	if e.Param != "" && !strings.Contains(e.Message, e.Param) {
		fmt.Fprintf(&b, " (param %s)", e.Param)
	}
	if e.Code != "" && !strings.Contains(e.Message, e.Code) {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	if e.Err != nil {
		var inner *Error
		if !errors.As(e.Err, &inner) || inner != e {
			b.WriteString(": ")
			b.WriteString(e.Err.Error())
		}
	}
	return b.String()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same Kind, so that
// errors.Is(err, ErrClosed) and similar sentinel checks work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is: errors.Is(err, core.ErrValidation) holds for every
// validation error, and so on.
var (
	ErrValidation    = &Error{Kind: KindValidation}
	ErrConfiguration = &Error{Kind: KindConfiguration}
	ErrCredential    = &Error{Kind: KindCredential}
	ErrConnection    = &Error{Kind: KindConnection}
	ErrRequest       = &Error{Kind: KindRequest}
	ErrClosed        = &Error{Kind: KindClosed}
)

// KindOf returns the Kind of err, KindUnknown when err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// NewValidationError returns a KindValidation error naming param; value is
// a safe rendering of the offending value (empty when it may be secret).
// Method packages build their parameter errors with it.
func NewValidationError(param, value, format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Param: param, Value: value, Message: fmt.Sprintf(format, args...)}
}

// NewConfigurationError returns a KindConfiguration error naming param.
func NewConfigurationError(param, format string, args ...any) *Error {
	return &Error{Kind: KindConfiguration, Param: param, Message: fmt.Sprintf(format, args...)}
}

// NewCredentialError returns a KindCredential error naming the field at
// fault and wrapping err (which may be nil).
func NewCredentialError(param string, err error, format string, args ...any) *Error {
	return &Error{Kind: KindCredential, Param: param, Err: err, Message: fmt.Sprintf(format, args...)}
}
