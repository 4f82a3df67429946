package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"unsafe"
)

// cHandler is a slog.Handler that renders a record as
// "message key=value ..." and hands it to the brs_set_logger sink, which
// lives in shim.c (so that a sink may call brs_set_logger itself).
type cHandler struct {
	session uint64 // the session whose lines these are, 0 for none
	attrs   string // pre-rendered " key=value" pairs from WithAttrs
	prefix  string // group prefix for keys, "g." or ""
}

// Enabled reports whether a sink is installed.
func (cHandler) Enabled(context.Context, slog.Level) bool { return C.brs_shim_log_enabled() != 0 }

// Handle renders r and passes it to the sink.
func (h cHandler) Handle(_ context.Context, r slog.Record) error {
	msg := C.CString(h.format(r))
	defer C.free(unsafe.Pointer(msg))
	C.brs_shim_log(C.uint64_t(h.session), C.int(r.Level), msg)
	return nil
}

// format renders r as "message key=value ...", with NULs removed so that
// C sees the whole line.
func (h cHandler) format(r slog.Record) string {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.prefix, a)
		return true
	})
	return strings.ReplaceAll(b.String(), "\x00", "")
}

// WithAttrs returns a handler that adds attrs to every record.
func (h cHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	return cHandler{session: h.session, attrs: b.String(), prefix: h.prefix}
}

// WithGroup returns a handler that prefixes later keys with name.
func (h cHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return cHandler{session: h.session, attrs: h.attrs, prefix: h.prefix + name + "."}
}

// appendAttr renders a as " prefix.key=value", flattening groups and
// quoting values that are empty or hold spaces, quotes or '='.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \t\r\n\"=") {
		v = strconv.Quote(v)
	}
	b.WriteByte(' ')
	b.WriteString(prefix)
	b.WriteString(a.Key)
	b.WriteByte('=')
	b.WriteString(v)
}
