package model

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/sim"
)

// LargestDraw bounds every draw: 200 000 draws of each law stay at or
// below it.
func TestLawLargestDrawBoundsDraws(t *testing.T) {
	t.Parallel()
	laws := []Law{
		{Kind: LawUniform, Min: 1, Max: 2},
		{Kind: LawExponential, Mean: 5},
		{Kind: LawLogNormal, Median: 1, Sigma: 10},
		{Kind: LawWeibull, Scale: 1, Shape: 0.1},
		{Kind: LawPareto, Scale: 1, Shape: 0.5},
		{Kind: LawPareto, Scale: 1e-9, Shape: 0.07},
		{Kind: LawEmpirical, Samples: []float64{0.5, 3, 1}},
	}
	for i, l := range laws {
		require.NoError(t, l.Validate(), "%+v", l)
		top := l.LargestDraw()
		require.False(t, math.IsInf(top, 0), "%+v", l)
		s := NewSampler(l, sim.Stream(uint64(i), "test", 0))
		for range 200_000 {
			v := s.Draw().Seconds()
			if s.dist != nil {
				v = s.dist.Rand() // uncapped
			}
			require.LessOrEqual(t, v, top*(1+1e-12), "%+v seed=%d", l, i)
		}
		require.NoError(t, s.Err("test", -1))
	}
}

// A law whose parameters let a draw overflow float64 is invalid, and the
// message gives the bound that keeps draws finite.
func TestLawThatCanOverflowIsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		law  Law
		want string // "" when valid
	}{
		{Law{Kind: LawPareto, Scale: 1, Shape: 1}, ""},
		{Law{Kind: LawPareto, Scale: 1, Shape: 0.063}, ""},
		{Law{Kind: LawPareto, Scale: 1, Shape: 0.062}, "pareto law: shape 0.062 lets draws overflow to +Inf; with scale 1s it must be above 0.0626"},
		{Law{Kind: LawPareto, Scale: 1, Shape: 1e-300}, "pareto law: shape 1e-300 lets draws overflow to +Inf; with scale 1s it must be above 0.0626"},
		{Law{Kind: LawLogNormal, Median: 1, Sigma: 5}, ""},
		{Law{Kind: LawLogNormal, Median: 1, Sigma: 59}, ""},
		{Law{Kind: LawLogNormal, Median: 1, Sigma: 60}, "lognormal law: sigma 60 lets draws overflow to +Inf; with median 1s it must be below 59.08"},
		{Law{Kind: LawLogNormal, Median: 1, Sigma: 1e300}, "lognormal law: sigma 1e+300 lets draws overflow to +Inf; with median 1s it must be below 59.08"},
		{Law{Kind: LawWeibull, Scale: 1, Shape: 0.01}, ""},
		{Law{Kind: LawWeibull, Scale: 1, Shape: 0.005}, "weibull law: shape 0.005 lets draws overflow to +Inf; with scale 1s it must be above 0.005077"},
	}
	for _, tc := range tests {
		err := tc.law.Validate()
		if tc.want == "" {
			assert.NoError(t, err, "%+v", tc.law)
			continue
		}
		assert.EqualError(t, err, tc.want)
	}
}

// nanRander stands for a sampler gone wrong: it draws what it is told.
type nanRander struct{ x []float64 }

func (r *nanRander) Rand() float64 {
	v := r.x[0]
	r.x = r.x[1:]
	return v
}

// Draws beyond MaxDuration last MaxDuration; a draw that is not a finite
// number lasts MaxDuration too and is reported as a LawError naming the law.
func TestSamplerCapsAndReportsNonFiniteDraws(t *testing.T) {
	t.Parallel()
	l := Law{Kind: LawPareto, Scale: 1, Shape: 1}
	s := NewSampler(l, sim.Stream(1, "test", 0))
	s.dist = &nanRander{x: []float64{2.5, 1e300, MaxDuration.Seconds() * 2, math.Inf(1), math.NaN(), 3}}
	assert.Equal(t, 2500*time.Millisecond, s.Draw())
	assert.Equal(t, MaxDuration, s.Draw())
	assert.Equal(t, MaxDuration, s.Draw())
	require.NoError(t, s.Err("network latency", -1), "finite draws beyond the cap are no error")
	assert.Equal(t, MaxDuration, s.Draw())
	assert.Equal(t, MaxDuration, s.Draw())
	assert.Equal(t, 3*time.Second, s.Draw())
	err := s.Err("network latency", -1)
	var le *LawError
	require.ErrorAs(t, err, &le)
	assert.True(t, math.IsInf(le.Value, 1), "the first bad draw is kept")
	assert.Equal(t, "model: network latency: the pareto law drew +Inf, not a finite duration", err.Error())
	assert.Equal(t, "model: fault 2 duration: the pareto law drew NaN, not a finite duration",
		(&LawError{Where: "duration", Fault: 1, Law: l, Value: math.NaN()}).Error())
	var nilSampler *Sampler
	assert.NoError(t, nilSampler.Err("client request interval", -1))
}

// An outage drawn longer than the rest of the run lasts to the horizon: it
// never ends, the session expires, and the expiry counts against it.
// Durations near and beyond the representable range (which used to wrap
// around to a time in the past) behave the same.
func TestFaultLongerThanTheRunLastsToTheHorizon(t *testing.T) {
	t.Parallel()
	for _, d := range []Law{
		Fixed(2 * time.Hour),
		{Kind: LawUniform, Min: 1e6, Max: 1e300},
		{Kind: LawFixed, Value: 9e9},
		{Kind: LawPareto, Scale: 1e8, Shape: 0.07},
	} {
		cfg := Config{Seed: 3, Horizon: 10 * time.Minute, Clients: 2,
			Faults: []Fault{{Kind: Outage, Target: Target{Client: AllClients, Server: AllServers}, Arrival: Scripted,
				At: []time.Duration{time.Minute}, Duration: d}}}
		c, st := runCaptured(t, cfg)
		require.Len(t, c.filter("network", "outage-start"), 2, "%+v", d)
		assert.Empty(t, c.filter("network", "outage-end"), "%+v", d)
		assert.Equal(t, 2, st.Exposures, "%+v", d)
		assert.Equal(t, 2, st.ExpiredExposures, "%+v", d)
		assert.Equal(t, 2, st.ClientsExpired, "%+v", d)
	}
}

// Heavy-tailed laws everywhere a law enters (latency, request gaps, Poisson
// fault durations and gaps, pauses, crashes) run to the horizon under the
// invariant checker; they used to overflow time and panic.
func TestHeavyTailsRunEverywhere(t *testing.T) {
	t.Parallel()
	heavy := []Law{
		{Kind: LawPareto, Scale: 0.001, Shape: 0.1},
		{Kind: LawLogNormal, Median: 0.5, Sigma: 20},
		{Kind: LawWeibull, Scale: 1, Shape: 0.02},
	}
	for seed := range uint64(6) {
		l := heavy[seed%3]
		lat := l
		lat.Scale, lat.Median = lat.Scale/100, lat.Median/100
		req := l
		cfg := Config{Seed: seed, Horizon: 20 * time.Minute, Clients: 3, Servers: 3,
			Client:  ClientConfig{RequestInterval: &req},
			Network: NetworkConfig{Latency: &lat},
			Faults: []Fault{
				{Kind: Outage, Target: Target{Client: AllClients, Server: AllServers}, Arrival: Poisson, Every: time.Minute, Duration: l},
				{Kind: ClientPause, Target: Target{Client: 1, Server: AllServers}, Arrival: Poisson, Every: 3 * time.Minute, Duration: l},
				{Kind: ServerCrash, Target: Target{Client: AllClients, Server: 1}, Arrival: Periodic, Every: 5 * time.Minute, Duration: l},
				{Kind: Outage, Target: Target{Client: AllClients, Server: AllServers}, Arrival: Poisson, Every: MaxDuration, Duration: Fixed(time.Second)},
			}}
		st, err := Run(cfg, Options{Check: true})
		require.NoError(t, err, "seed=%d law=%+v", seed, l)
		assert.Positive(t, st.Events, "seed=%d", seed)
	}
}

// The configuration's durations stay within what ZooKeeper and the clock
// can hold; a tick below 1 ms (which the tracker truncates to 0) is refused.
func TestConfigDurationBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"sub-ms tick", func(c *Config) { c.Server.TickTime = time.Microsecond }, "tick time must be at least 1ms"},
		{"huge tick", func(c *Config) { c.Server.TickTime = 30 * 24 * time.Hour }, "tick time 720h0m0s is longer than ZooKeeper's int of milliseconds holds"},
		{"huge timeout", func(c *Config) { c.Client.SessionTimeout = 30 * 24 * time.Hour }, "session timeout 720h0m0s is longer than"},
		{"huge horizon", func(c *Config) { c.Horizon = MaxDuration + 1 }, "horizon 240000h0m0.000000001s is longer than 240000h0m0s"},
		{"timeout too short to ping", func(c *Config) {
			c.Server = ServerConfig{TickTime: time.Millisecond, MinSessionTimeout: time.Millisecond}
			c.Client.SessionTimeout = 2 * time.Millisecond
		}, "negotiated session timeout 2ms is below 3ms: the client's ping period or connect timeout would be 0ms"},
		{"timeout too short for its hosts", func(c *Config) {
			c.Servers = 5
			c.Server = ServerConfig{TickTime: time.Millisecond, MinSessionTimeout: time.Millisecond}
			c.Client.SessionTimeout = 4 * time.Millisecond
		}, "negotiated session timeout 4ms is below 5ms"},
		{"huge period", func(c *Config) {
			c.Faults = []Fault{{Kind: Outage, Arrival: Periodic, Every: math.MaxInt64, Duration: Fixed(time.Second), Target: Target{Client: AllClients, Server: AllServers}}}
		}, "fault period"},
	}
	for _, tc := range tests {
		cfg := Config{Horizon: time.Hour}
		tc.edit(&cfg)
		err := cfg.Defaults().Validate()
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
	}
	require.NoError(t, Config{Horizon: MaxDuration, Server: ServerConfig{TickTime: time.Millisecond}}.Defaults().Validate())
}

// A LawError is an error of its own kind, not an invariant violation.
func TestLawErrorIsNotAnInvariantViolation(t *testing.T) {
	t.Parallel()
	err := error(&LawError{Where: "network latency", Fault: -1, Law: Fixed(time.Second), Value: math.NaN()})
	assert.False(t, errors.Is(err, ErrInvariant))
}
