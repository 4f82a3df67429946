package credserver

// The hosted sessions of the tests use the custom method; a program
// hosting sessions imports the methods it offers, as capi does.
import _ "github.com/gobrs/gobrs/core/custom"
