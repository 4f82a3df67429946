package main

/*
#include "shim.h"
*/
import "C"

import (
	"sync"
	"time"

	"github.com/gobrs/gobrs/core"
)

// brsgo_close_all closes every open session at once, in parallel, and
// waits at most timeoutMs for them to finish (for refreshes in flight
// whose callbacks may never return). It answers BRS_OK when every session
// finished closing in time, BRS_ERROR otherwise; the sessions that did
// not finish still close (their handles are gone and they start no new
// refresh), and their callbacks may still be running and return later.
//
// It is reached only through brs_close_all (capi/shim.c), which withdraws
// the C-side handles first; the Python binding calls that at interpreter
// exit so that exit never waits for a callback.
//
//export brsgo_close_all
func brsgo_close_all(timeoutMs C.int64_t) (status C.int) {
	defer recoverTo("brs_close_all", &status, nil)
	var wg sync.WaitGroup
	sessions.Range(func(h, _ any) bool {
		if s, ok := sessions.LoadAndDelete(h); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.(*core.Session).Close()
			}()
		}
		return true
	})
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return C.BRS_OK
	case <-time.After(time.Duration(timeoutMs) * time.Millisecond):
		return C.BRS_ERROR
	}
}
