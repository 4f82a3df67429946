package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"net"
	"os"
	"sync"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/core/credserver"
)

// The process's channel (brs_channel_open): at most one, serving every
// open handle of this process.
var (
	channelMu sync.Mutex
	channel   *credserver.Server
)

//export brsgo_channel_open
func brsgo_channel_open(dir *C.char, pathOut, tokenOut **C.char, errOut *C.brs_error) (status C.int) {
	defer recoverTo("brs_channel_open", &status, errOut)
	if pathOut == nil || tokenOut == nil {
		return fail(errOut, &core.Error{Kind: core.KindValidation, Param: "path_out",
			Message: "path_out and token_out must not be NULL"})
	}
	channelMu.Lock()
	defer channelMu.Unlock()
	if channel == nil {
		s, err := credserver.Listen(credserver.SourceFunc(func(id uint64) (*core.Session, error) {
			return lookup(C.brs_session(id))
		}), func(o *credserver.Options) {
			if dir != nil {
				o.Dir = C.GoString(dir)
			}
		})
		if err != nil {
			return fail(errOut, err)
		}
		channel = s
	}
	*pathOut = C.CString(channel.Path())
	*tokenOut = C.CString(channel.Token())
	return C.BRS_OK
}

//export brsgo_channel_close
func brsgo_channel_close() (status C.int) {
	defer recoverTo("brs_channel_close", &status, nil)
	channelMu.Lock()
	defer channelMu.Unlock()
	if channel == nil {
		return C.BRS_OK
	}
	err := channel.Close()
	channel = nil
	return statusOf(err)
}

//export brsgo_host_serve
func brsgo_host_serve(fd C.int, dir *C.char) (status C.int) {
	defer recoverTo("brs_host_serve", &status, nil)
	f := os.NewFile(uintptr(fd), "gobrs-host")
	if f == nil {
		return C.BRS_EVALIDATION
	}
	conn, err := net.FileConn(f) // a duplicate: fd itself is closed below
	f.Close()
	if err != nil {
		return C.BRS_EVALIDATION
	}
	defer conn.Close()
	return statusOf(credserver.ServeHost(conn, func(o *credserver.Options) {
		if dir != nil {
			o.Dir = C.GoString(dir)
		}
	}))
}
