// Command goclient is the aws-sdk-go-v2 client of the gobrs serve tests
// (tests/python/test_serve_clients.py): a program that knows nothing of
// gobrs and finds its credentials the way every Go program does, through
// config.LoadDefaultConfig and its default chain (here the container
// credentials provider, from AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).
//
// It prints the access key id it resolved on the first line of stdout and,
// with -endpoint, calls STS GetCallerIdentity there with those credentials
// and prints the ARN on the second line. On failure it prints the SDK's
// error text on stderr and exits with status 1.
//
//	goclient [-endpoint http://127.0.0.1:PORT] [-region us-east-1]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	endpoint := flag.String("endpoint", "", "STS endpoint URL for GetCallerIdentity (a loopback moto server); none: skip the call")
	region := flag.String("region", "us-east-1", "the region")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if err := run(*endpoint, *region, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

func run(endpoint, region string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return fmt.Errorf("load default config: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve credentials: %w", err)
	}
	fmt.Println(creds.AccessKeyID)
	if endpoint == "" {
		return nil
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("get caller identity: %w", err)
	}
	fmt.Println(aws.ToString(out.Arn))
	return nil
}
