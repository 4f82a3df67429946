// Command serveload is the load client of the `gobrs serve` benchmark
// (bench/scenarios/serve.py): it reads the credentials of a running server
// over the AWS container-credentials protocol from a fixed number of
// kept-alive connections, as fast as it can, for a bounded time and number
// of requests, and prints one JSON line:
//
//	{"requests": N, "errors": E, "seconds": S, "rps": R, "p50_us": ..., "p99_us": ..., "max_us": ...}
//
// Latency is the wall time of one GET, response body read. A request that
// fails or is not answered 200 counts as an error (and its latency is
// not recorded).
//
//	serveload -url URL -token-file F [-conns 8] [-seconds 3] [-max 1000000]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is the line serveload prints.
type result struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	MaxUs    float64 `json:"max_us"`
}

func main() {
	url := flag.String("url", os.Getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), "the credentials URI")
	tokenFile := flag.String("token-file", os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), "the file holding the token")
	conns := flag.Int("conns", 8, "concurrent connections")
	seconds := flag.Float64("seconds", 3, "how long to run")
	maxRequests := flag.Int64("max", 1_000_000, "stop after this many requests")
	flag.Parse()
	res, err := run(*url, *tokenFile, *conns, time.Duration(*seconds*float64(time.Second)), *maxRequests)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func run(url, tokenFile string, conns int, d time.Duration, maxRequests int64) (result, error) {
	if url == "" || tokenFile == "" || conns < 1 {
		return result{}, fmt.Errorf("need -url, -token-file and -conns >= 1")
	}
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		return result{}, fmt.Errorf("read the token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, Proxy: nil},
	}
	var issued, errs atomic.Int64
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && issued.Add(1) <= maxRequests {
				t0 := time.Now()
				if get(client, url, token) {
					lat[i] = append(lat[i], time.Since(t0))
				} else {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	res := result{Requests: int64(len(all)) + errs.Load(), Errors: errs.Load(), Seconds: elapsed.Seconds()}
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	if n := len(all); n > 0 {
		pct := func(q float64) float64 { return float64(all[min(n-1, int(q*float64(n)))].Nanoseconds()) / 1e3 }
		res.P50us, res.P99us, res.MaxUs = pct(0.5), pct(0.99), float64(all[n-1].Nanoseconds())/1e3
	}
	return res, nil
}

// get makes one request; true when it was answered 200 with a body.
func get(client *http.Client, url, token string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK && n > 0
}
