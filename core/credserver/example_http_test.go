package credserver_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gobrs/gobrs/core"
	"github.com/gobrs/gobrs/core/credserver"
)

// Serve a session to the other processes of the host: they set
// AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE to the server's URL and token file.
func ExampleListenHTTP() {
	sess, err := core.NewSession(core.ProviderFunc(func(context.Context) (core.Credentials, error) {
		return core.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token",
			Expires: time.Now().Add(time.Hour)}, nil
	}))
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	src := credserver.SourceFunc(func(uint64) (*core.Session, error) { return sess, nil })
	srv, err := credserver.ListenHTTP(src, 1, func(o *credserver.HTTPOptions) { o.Listen = "127.0.0.1:0" })
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	// what an AWS SDK does with the two variables
	token, _ := os.ReadFile(srv.TokenFile())
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	req.Header.Set("Authorization", string(token))
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output: 200 application/json
}
