package main

// The methods libbrs offers: each registers itself with
// core.NewSessionFromJSON when imported, as database/sql drivers do.
// A new method is added here (docs/architecture.md).
import (
	_ "github.com/gobrs/gobrs/core/custom"
	_ "github.com/gobrs/gobrs/core/iot"
	_ "github.com/gobrs/gobrs/core/sts"
)
