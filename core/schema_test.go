package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
)

// schemaSample exercises every kind of field core.DecodeStrict handles.
type schemaSample struct {
	Name  *string        `json:"name"`
	Flag  *bool          `json:"flag" schema:"nonull"`
	Wait  *core.Seconds  `json:"wait"`
	Count *core.Whole    `json:"count"`
	Inner *schemaInner   `json:"inner"`
	Items []schemaInner  `json:"items"`
	Tags  []string       `json:"tags"`
	Env   map[string]any `json:"env"`
}

type schemaInner struct {
	Key string `json:"Key"`
}

func TestDecodeStrictAccepts(t *testing.T) {
	var s schemaSample
	err := core.DecodeStrict("", []byte(`{"name":"n","flag":true,"wait":1.5,"count":5.0,"inner":{"Key":"k"},
		"items":[{"Key":"a"},{"Key":"b"}],"tags":["x"],"env":{"A":1}}`), &s)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Name != "n" || !*s.Flag || s.Wait.Duration() != 1500*time.Millisecond || *s.Count != 5 ||
		s.Inner.Key != "k" || len(s.Items) != 2 || s.Items[1].Key != "b" || s.Tags[0] != "x" || s.Env["A"] != 1.0 {
		t.Fatalf("decoded %+v", s)
	}
	// null is "not given", except where the tag says nonull
	var n schemaSample
	if err := core.DecodeStrict("", []byte(`{"name":null,"wait":null,"inner":null,"items":null}`), &n); err != nil || n.Name != nil || n.Wait != nil || n.Inner != nil {
		t.Fatalf("nulls: %+v, %v", n, err)
	}
	if err := core.DecodeStrict("p", []byte(`null`), &n); err != nil {
		t.Fatalf("a null object: %v", err)
	}
}

func TestDecodeStrictRefuses(t *testing.T) {
	tests := []struct {
		name, json, param string
		wrongType         bool
		message           []string
	}{
		{"unknown key lists the known ones", `{"nope":1}`, "p.nope", false, []string{`unknown key "nope" in p`, "count, env, flag, inner, items, name, tags, wait"}},
		{"keys are case-sensitive", `{"Name":"n"}`, "p.Name", false, []string{`unknown key "Name"`}},
		{"nested keys are case-sensitive", `{"inner":{"key":"k"}}`, "p.inner.key", false, []string{`unknown key "key" in p.inner`, "(known keys: Key)"}},
		{"list items name their index", `{"items":[{"Key":"a"},{"Key":1}]}`, "p.items[1].Key", true, []string{"must be a string, not a JSON number"}},
		{"list items must be objects", `{"items":["a"]}`, "p.items[0]", true, []string{"must be an object, not a JSON string"}},
		{"nonull", `{"flag":null}`, "p.flag", true, []string{"p.flag must be a boolean, not a JSON null"}},
		{"seconds as a string", `{"wait":"10"}`, "p.wait", true, []string{"p.wait must be a number, not a JSON string"}},
		{"seconds beyond a float", `{"wait":1e400}`, "p.wait", false, []string{"p.wait is out of range"}},
		{"whole with a fraction", `{"count":1.5}`, "p.count", false, []string{"p.count must be a whole number, not 1.5"}},
		{"whole as a bool", `{"count":true}`, "p.count", true, []string{"must be a number, not a JSON bool"}},
		{"object expected", `[]`, "p", true, []string{"p must be an object, not a JSON array"}},
		{"string value not echoed", `{"tags":"SECRETVALUE"}`, "p.tags", true, []string{"must be an array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s schemaSample
			err := core.DecodeStrict("p", []byte(tt.json), &s)
			var e *core.Error
			if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != tt.param {
				t.Fatalf("err = %#v, want a validation error naming %s", err, tt.param)
			}
			if core.IsWrongType(err) != tt.wrongType {
				t.Errorf("core.IsWrongType = %v, want %v (%v)", !tt.wrongType, tt.wrongType, err)
			}
			for _, m := range tt.message {
				if !strings.Contains(e.Error(), m) {
					t.Errorf("message %q lacks %q", e.Error(), m)
				}
			}
			if strings.Contains(e.Error()+e.Value, "SECRETVALUE") {
				t.Errorf("error echoes the value: %v", e)
			}
		})
	}
}

func TestWholeCheck(t *testing.T) {
	if err := core.Whole(5).Check("n", 1, 5); err != nil {
		t.Fatal(err)
	}
	err := core.Whole(6).Check("n", 1, 5)
	var e *core.Error
	if !errors.As(err, &e) || e.Param != "n" || e.Value != "6" || e.Error() != "n must be between 1 and 5, not 6" {
		t.Fatalf("err = %v", err)
	}
}

func TestKnownKeys(t *testing.T) {
	got := strings.Join(core.KnownKeys(&schemaSample{}), " ")
	if got != "count env flag inner items name tags wait" {
		t.Fatalf("core.KnownKeys = %s", got)
	}
}

// The common keys are case-sensitive too, and background_refresh refuses
// null (Python's None) while the others read it as "the default".
func TestCommonKeysStrict(t *testing.T) {
	for cfg, param := range map[string]string{
		`{"Advisory_Timeout":5}`: "Advisory_Timeout", `{"METHOD":"custom"}`: "METHOD", `{"background_refresh":null}`: "background_refresh",
	} {
		s, err := core.NewSessionFromJSON([]byte(cfg), core.Hooks{})
		if err == nil {
			s.Close()
			t.Fatalf("%s accepted", cfg)
		}
		var e *core.Error
		if !errors.As(err, &e) || e.Kind != core.KindValidation || e.Param != param {
			t.Fatalf("%s: %v, want a validation error naming %s", cfg, err, param)
		}
	}
}
