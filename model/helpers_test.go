package model

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"hbsim/clock"
)

// rec is one captured trace line.
type rec struct {
	at                   clock.Time
	actor, event, detail string
}

// field returns the value of key=value in the detail.
func (r rec) field(key string) string {
	for _, f := range strings.Fields(r.detail) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// seconds parses a field printed by Seconds.
func (r rec) seconds(t *testing.T, key string) clock.Time {
	t.Helper()
	v, err := strconv.ParseFloat(r.field(key), 64)
	require.NoError(t, err, "field %s of %q", key, r.detail)
	return clock.Time(clock.FromSeconds(v))
}

type capture struct{ recs []rec }

func (c *capture) Trace(at clock.Time, actor, event, detail string) {
	c.recs = append(c.recs, rec{at, actor, event, detail})
}

func (c *capture) filter(actor, event string) []rec {
	var out []rec
	for _, r := range c.recs {
		if (actor == "" || r.actor == actor) && r.event == event {
			out = append(out, r)
		}
	}
	return out
}

// states lists the watcher events a client saw, with their session ids.
func (c *capture) states(actor string) []string {
	var out []string
	for _, r := range c.filter(actor, "state") {
		out = append(out, strings.Fields(r.detail)[0])
	}
	return out
}

// runCaptured runs cfg with the invariant checker on and returns the trace.
func runCaptured(t *testing.T, cfg Config) (*capture, Stats) {
	t.Helper()
	c := &capture{}
	st, err := Run(cfg, Options{Tracer: c, Check: true})
	require.NoError(t, err, "seed=%d", cfg.Seed)
	return c, st
}

func secs(s float64) time.Duration { return clock.FromSeconds(s) }
