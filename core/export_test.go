package core

// What the external tests (package core_test, which may import the method
// packages) use of the package's internals and test helpers.
var (
	MaxConfigLen = maxConfigLen
	CommonKeys   = commonKeys
	AssertKind   = assertKind
)
