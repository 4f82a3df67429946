package core

import (
	"go/build"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// goList returns the packages pkg links (go list -deps), itself included.
func goList(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestCoreLinksNoMethod: a Go program importing only core links the engine
// and nothing of the methods: no method package, no STS client, no
// PKCS#11. Each method registers itself when imported (capi imports them).
func TestCoreLinksNoMethod(t *testing.T) {
	const mod = "github.com/gobrs/gobrs/"
	methodDeps := []string{
		"github.com/aws/aws-sdk-go-v2/service/sts", // core/sts
		"github.com/aws/aws-sdk-go-v2/config",      // core/sts, the default chain
		"github.com/elastic/go-freelru",            // core/sts, the shared caches
		"github.com/miekg/pkcs11",                  // core/iot
	}
	deps := goList(t, ".")
	for _, d := range deps {
		// of gobrs itself, only core and the helpers it needs
		if strings.HasPrefix(d, mod) && !slices.Contains([]string{"core", "internal/safetext", "internal/singleflight"}, d[len(mod):]) {
			t.Errorf("core links %s", d)
		}
	}
	for _, d := range methodDeps {
		if slices.Contains(deps, d) {
			t.Errorf("core links %s, a dependency of a method", d)
		}
	}
	// The check sees what a method links: the methods do link them.
	all := append(goList(t, "./sts"), goList(t, "./iot")...)
	for _, d := range methodDeps {
		if d == "github.com/miekg/pkcs11" && !build.Default.CgoEnabled {
			continue // without cgo, core/iot refuses pkcs11 (pkcs11_nocgo.go)
		}
		if !slices.Contains(all, d) {
			t.Errorf("core/sts and core/iot do not link %s: the check above proves nothing for it", d)
		}
	}
}

// TestNewSessionFromJSONWithoutMethods: a program that imports no method
// package is told to import one, not offered an empty list.
func TestNewSessionFromJSONWithoutMethods(t *testing.T) {
	saved := methods
	methods = map[string]MethodBuilder{}
	defer func() { methods = saved }()
	_, err := NewSessionFromJSON([]byte(`{}`), Hooks{})
	e := assertKind(t, err, KindValidation, "method")
	if !strings.Contains(e.Message, `method "custom" is not registered`) || !strings.Contains(e.Message, "core/custom") {
		t.Fatalf("error %q does not say to import a method package", err)
	}
}
