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
	"sync"
	"unsafe"
)

// logSink is the process-wide log destination set by brs_set_logger. The
// read lock is held while a line is handed to fn, so that once
// brs_set_logger returns the previous fn is never called again.
var logSink struct {
	sync.RWMutex
	fn, userData C.uintptr_t
}

//export brsgo_set_logger
func brsgo_set_logger(fn, userData C.uintptr_t) {
	defer func() { _ = recover() }()
	logSink.Lock()
	logSink.fn, logSink.userData = fn, userData
	logSink.Unlock()
}

// cHandler is a slog.Handler that renders a record as
// "message key=value ..." and hands it to the brs_set_logger sink.
type cHandler struct {
	attrs  string // pre-rendered " key=value" pairs from WithAttrs
	prefix string // group prefix for keys, "g." or ""
}

// Enabled reports whether a sink is installed.
func (cHandler) Enabled(context.Context, slog.Level) bool {
	logSink.RLock()
	defer logSink.RUnlock()
	return logSink.fn != 0
}

// Handle renders r and passes it to the sink.
func (h cHandler) Handle(_ context.Context, r slog.Record) error {
	line := h.format(r)
	logSink.RLock()
	defer logSink.RUnlock()
	if logSink.fn == 0 {
		return nil
	}
	msg := C.CString(line)
	defer C.free(unsafe.Pointer(msg))
	C.brs_shim_log(logSink.fn, logSink.userData, C.int(r.Level), msg)
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
	return cHandler{attrs: b.String(), prefix: h.prefix}
}

// WithGroup returns a handler that prefixes later keys with name.
func (h cHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return cHandler{attrs: h.attrs, prefix: h.prefix + name + "."}
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
