package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/core/credserver"
)

// servers maps brs_server handles to their servers.
var (
	servers    sync.Map // uint64 -> *credserver.HTTPServer
	nextServer atomic.Uint64
)

//export brsgo_serve
func brsgo_serve(h C.brs_session, options *C.char, out *C.brs_server, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_serve", &status, errOut)
	if out == nil {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "out", Message: "out must not be NULL"})
	}
	if _, err := lookup(h); err != nil {
		return fail(errOut, err)
	}
	var raw []byte
	if options != nil {
		raw = []byte(C.GoString(options))
	}
	if !utf8.Valid(raw) {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "options_json", Message: "options_json is not valid UTF-8"})
	}
	opts, err := credserver.ParseHTTPOptions(raw)
	if err != nil {
		return fail(errOut, err)
	}
	src := credserver.SourceFunc(func(id uint64) (*core.Session, error) { return lookup(C.brs_session(id)) })
	srv, err := credserver.ListenHTTP(src, uint64(h), func(o *credserver.HTTPOptions) { *o = opts })
	if err != nil {
		return fail(errOut, err)
	}
	id := nextServer.Add(1)
	servers.Store(id, srv)
	*out = C.brs_server(id)
	return C.BRS_OK
}

// serveInfo is what brs_serve_info returns.
type serveInfo struct {
	URL       string `json:"url"`
	TokenFile string `json:"token_file"`
	Address   string `json:"address"`
	credserver.HTTPStats
}

//export brsgo_serve_info
func brsgo_serve_info(id C.brs_server, jsonOut **C.char, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_serve_info", &status, errOut)
	v, ok := servers.Load(uint64(id))
	if !ok {
		return fail(errOut, &core.Error{Kind: core.KindClosed, Message: "the server handle is stopped or unknown"})
	}
	srv := v.(*credserver.HTTPServer)
	info := serveInfo{URL: srv.URL(), TokenFile: srv.TokenFile(), Address: srv.Addr().String(), HTTPStats: srv.Stats()}
	return writeJSON(jsonOut, errOut, info, "the server's info")
}

//export brsgo_serve_stop
func brsgo_serve_stop(id C.brs_server) (status C.int) {
	defer recoverTo("brs_serve_stop", &status, nil)
	v, ok := servers.LoadAndDelete(uint64(id))
	if !ok {
		return C.BRS_ECLOSED
	}
	if err := v.(*credserver.HTTPServer).Close(); err != nil {
		return C.BRS_ERROR
	}
	return C.BRS_OK
}
