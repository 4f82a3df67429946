package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestErrorKindsAndSentinels(t *testing.T) {
	sentinels := map[Kind]error{
		KindValidation: ErrValidation, KindConfiguration: ErrConfiguration, KindCredential: ErrCredential,
		KindConnection: ErrConnection, KindRequest: ErrRequest, KindClosed: ErrClosed,
	}
	for kind, sentinel := range sentinels {
		err := &Error{Kind: kind, Param: "some_param", Message: "went wrong"}
		wrapped := fmt.Errorf("outer: %w", err)
		for name, e := range map[string]error{"direct": err, "wrapped": wrapped} {
			if !errors.Is(e, sentinel) {
				t.Errorf("%s %v: errors.Is(err, sentinel of %v) = false", name, kind, kind)
			}
			if KindOf(e) != kind {
				t.Errorf("%s: KindOf = %v, want %v", name, KindOf(e), kind)
			}
			for other, s := range sentinels {
				if other != kind && errors.Is(e, s) {
					t.Errorf("%v error matches the %v sentinel", kind, other)
				}
			}
		}
		if !strings.Contains(sentinel.Error(), kind.String()) {
			t.Errorf("sentinel text %q does not name its kind", sentinel.Error())
		}
	}
	// A non-sentinel target with the same kind is a different error.
	if errors.Is(&Error{Kind: KindCredential, Message: "a"}, &Error{Kind: KindCredential, Message: "b"}) {
		t.Error("errors.Is matched two distinct errors of one kind")
	}
	if KindOf(nil) != KindUnknown || KindOf(io.EOF) != KindUnknown {
		t.Error("KindOf of a foreign error is not KindUnknown")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{
		KindUnknown: "error", KindValidation: "validation", KindConfiguration: "configuration", KindCredential: "credential",
		KindConnection: "connection", KindRequest: "request", KindClosed: "closed", Kind(-1): "error", Kind(99): "error",
	} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), want)
		}
	}
	// The values are part of the C ABI.
	if KindValidation != 1 || KindClosed != 6 {
		t.Error("Kind values changed: the C status codes depend on them")
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: KindValidation, Param: "advisory_timeout", Message: "must not be negative"}, "must not be negative (param advisory_timeout)"},
		{&Error{Kind: KindValidation, Param: "advisory_timeout", Message: "advisory_timeout must not be negative"}, "advisory_timeout must not be negative"},
		{&Error{Kind: KindRequest, Code: "AccessDenied", StatusCode: 403, Message: "AssumeRole failed"}, "AssumeRole failed [AccessDenied]"},
		{&Error{Kind: KindCredential, Param: "x", Message: "failed", Err: io.EOF}, "failed (param x): EOF"},
		{&Error{Kind: KindCredential, Err: context.Canceled, Message: "gave up"}, "gave up: context canceled"},
		{&Error{Kind: KindClosed}, "closed error"},
		{&Error{Kind: KindValidation, Param: "method"}, "validation error (param method)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	inner := &Error{Kind: KindConnection, Message: "refused"}
	outer := &Error{Kind: KindCredential, Message: "fetch failed", Err: inner}
	if !errors.Is(outer, ErrConnection) || !errors.Is(outer, ErrCredential) || errors.Unwrap(outer) != inner {
		t.Error("wrapped *Error chain broken")
	}
	if KindOf(outer) != KindCredential {
		t.Error("KindOf must report the outermost kind")
	}
	var e *Error
	if !errors.As(fmt.Errorf("x: %w", outer), &e) || e != outer {
		t.Error("errors.As did not find the *Error")
	}
}

// Every helper names its parameter in Param and in the text.
func TestErrorHelpers(t *testing.T) {
	for _, tc := range []struct {
		err   *Error
		kind  Kind
		param string
	}{
		{NewValidationError("role_arn", "x", "bad %s", "value"), KindValidation, "role_arn"},
		{NewConfigurationError("endpoint", "cannot use %s", "both"), KindConfiguration, "endpoint"},
		{NewCredentialError("token", io.EOF, "missing"), KindCredential, "token"},
	} {
		assertKind(t, tc.err, tc.kind, tc.param)
	}
}
