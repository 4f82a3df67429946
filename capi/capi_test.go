package main

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gobrs/gobrs/core"
)

// The C tests (tests/c, `make test-c`) exercise the exports through the C
// ABI; these tests cover the pure-Go helpers.

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"plain error", errors.New("boom"), 1},
		{"unknown kind", &core.Error{Kind: core.KindUnknown}, 1},
		{"validation", &core.Error{Kind: core.KindValidation}, 2},
		{"configuration", &core.Error{Kind: core.KindConfiguration}, 3},
		{"credential", &core.Error{Kind: core.KindCredential}, 4},
		{"connection", &core.Error{Kind: core.KindConnection}, 5},
		{"request", &core.Error{Kind: core.KindRequest}, 6},
		{"closed", &core.Error{Kind: core.KindClosed}, 7},
		{"wrapped", fmt.Errorf("ctx: %w", &core.Error{Kind: core.KindCredential}), 4},
		{"kind out of range", &core.Error{Kind: core.Kind(99)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := int(statusOf(tt.err)); got != tt.want {
				t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
	if len(statuses) != int(core.KindClosed)+1 {
		t.Errorf("statuses has %d entries, core has %d kinds", len(statuses), core.KindClosed+1)
	}
}

func TestHandlerFormat(t *testing.T) {
	rec := func(msg string, attrs ...slog.Attr) slog.Record {
		r := slog.NewRecord(time.Time{}, slog.LevelWarn, msg, 0)
		r.AddAttrs(attrs...)
		return r
	}
	tests := []struct {
		name string
		h    slog.Handler
		r    slog.Record
		want string
	}{
		{"message only", cHandler{}, rec("refresh failed"), "refresh failed"},
		{"plain values", cHandler{}, rec("m", slog.String("kind", "credential"), slog.Int("n", 3)),
			"m kind=credential n=3"},
		{"quoted values", cHandler{}, rec("m", slog.String("error", `a "b" c`), slog.String("e", "")),
			`m error="a \"b\" c" e=""`},
		{"with attrs and group", cHandler{}.WithAttrs([]slog.Attr{slog.String("session", "7")}).WithGroup("g"),
			rec("m", slog.String("k", "v")), "m session=7 g.k=v"},
		{"nested group attr", cHandler{}, rec("m", slog.Group("a", slog.Int("b", 1))), "m a.b=1"},
		{"NUL removed", cHandler{}, rec("m\x00x", slog.String("k", "v\x00")), "mx k=v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.(cHandler).format(tt.r); got != tt.want {
				t.Errorf("format = %q, want %q", got, tt.want)
			}
		})
	}
}
