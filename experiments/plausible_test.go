package experiments

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat/distuv"

	"hbsim/model"
)

// Settings a user writes that are valid TOML and plausible one by one but
// describe nothing the model can mean: each is refused with the file, the
// line, the key and what to change.
func TestMeaninglessSettings(t *testing.T) {
	t.Parallel()
	const head = "[experiment]\nhorizon = \"1h\"\n"
	fault := func(lines string) string { return head + "[[fault]]\nkind = \"outage\"\n" + lines }
	tests := []struct {
		name, src string
		want      []string
	}{
		{"flooding arrival rate", fault("arrival = \"poisson\"\nevery = \"1ns\"\nduration = \"10s\"\n"), []string{
			"x.toml:6: fault[0].every: a mean gap of 1ns is shorter than 1ms, the resolution of ZooKeeper's clocks: episodes this frequent are one continuous fault (for that, give one long duration)"}},
		{"periodic every below the resolution", fault("arrival = \"periodic\"\nevery = \"500us\"\nduration = \"1ms\"\n"), []string{
			"x.toml:6: fault[0].every: a period of 500us is shorter than 1ms, the resolution of ZooKeeper's clocks: episodes this frequent are one continuous fault (for that, give one long duration)"}},
		{"episodes that never end", fault("arrival = \"poisson\"\nevery = \"1s\"\nduration = \"10s\"\n"), []string{
			"x.toml:6: fault[0].every: a new episode every 1s while each lasts 10s on average keeps 10 of them in force at once: the episodes overlap, so the fault never really ends (and their pending ends flood the event queue); make every longer than the mean duration, or write one long episode"}},
		{"periodic as long as its period", fault("arrival = \"periodic\"\nevery = \"30s\"\nduration = { law = \"uniform\", min = \"20s\", max = \"40s\" }\n"), []string{
			"x.toml:6: fault[0].every: a new episode every 30s while each lasts 30s on average keeps 1 of them in force at once: the episodes overlap, so the fault never really ends (and their pending ends flood the event queue); make every longer than the mean duration, or write one long episode"}},
		{"heavy tail cut at the horizon overlaps", fault("arrival = \"poisson\"\nevery = \"1m\"\nduration = { law = \"pareto\", scale = \"1s\", shape = 0.5 }\n"), []string{
			"x.toml:6: fault[0].every: a new episode every 1m while each lasts 1m59s on average keeps 1.98 of them in force at once: the episodes overlap, so the fault never really ends (and their pending ends flood the event queue); make every longer than the mean duration, or write one long episode"}},
		{"overlapping scripted episodes", fault("at = [\"10m\", \"1m\", \"1m5s\"]\nduration = \"10s\"\n"), []string{
			"x.toml:5: fault[0].at: the episodes starting at 1m and 1m5s overlap (each lasts 10s): overlapping episodes share one expiry window, so P(expiry | outage) would count them wrongly; space them at least one duration apart, or write one longer episode"}},
		{"request gaps below the resolution", head + "[client]\nrequest_interval = { law = \"exponential\", mean = \"100us\" }\n", []string{
			"x.toml:4: client.request_interval: a mean gap of 100µs between requests is shorter than 1ms, the resolution of ZooKeeper's clocks: the client would send without pause; give a mean gap of 1ms or more"}},
		{"pareto that overflows", fault("at = [\"1m\"]\nduration = { law = \"pareto\", scale = \"1s\", shape = 0.01 }\n"), []string{
			"x.toml:6: fault[0].duration.shape: pareto law: shape 0.01 lets draws overflow to +Inf; with scale 1s it must be above 0.0626"}},
		{"lognormal that overflows", head + "[network]\nlatency = { law = \"lognormal\", median = \"1ms\", sigma = 80 }\n", []string{
			"x.toml:4: network.latency.sigma: lognormal law: sigma 80 lets draws overflow to +Inf; with median 0.001s it must be below 59.65"}},
		{"sub-millisecond tick", head + "[server]\ntick_time = \"500us\"\n", []string{
			"x.toml:4: server.tick_time: must be at least 1ms, got 500us: ZooKeeper counts it in whole milliseconds"}},
		{"timeout beyond a Java int", head + "[server]\nmax_session_timeout = \"30d\"\n[client]\nsession_timeout = [\"10s\", \"25d\"]\n", []string{
			"x.toml:4: server.max_session_timeout: 30d is more than ZooKeeper can hold: it keeps it in a Java int of milliseconds, at most 596h31m23.647s (about 24.8 days)",
			"x.toml:6: client.session_timeout: 25d is more than ZooKeeper can hold: it keeps it in a Java int of milliseconds, at most 596h31m23.647s (about 24.8 days)"}},
		{"horizon beyond the clock", "[experiment]\nhorizon = \"100000d\"\n", []string{
			"x.toml:2: experiment.horizon: 100000d is longer than 10000d, the longest duration hbsim simulates"}},
		{"start time beyond the clock", fault("at = [\"1m\", \"20000d\"]\nduration = \"1s\"\n"), []string{
			"x.toml:5: fault[0].at: start time 20000d is later than 10000d, the longest duration hbsim simulates"}},
		{"session timeout too short for the client's loop", head + "[server]\ntick_time = \"1ms\"\nmin_session_timeout = \"1ms\"\ncount = 5\n[client]\nsession_timeout = [\"2ms\", \"4ms\", \"1s\"]\n" +
			"[[fault]]\nkind = \"outage\"\nat = [\"1s\"]\nduration = \"1s\"\n", []string{
			"x.toml:8: client.session_timeout: the negotiated session timeout 2ms leaves the client a ping period of 0s and a connect timeout of 0s (with 5 host(s)): it would ping or reconnect without pause; the timeout must be at least 5ms",
			"x.toml:8: client.session_timeout: the negotiated session timeout 4ms leaves the client a ping period of 1ms and a connect timeout of 0s (with 5 host(s)): it would ping or reconnect without pause; the timeout must be at least 5ms"}},
		{"session timeout too short, from the tick", head + "[server]\ntick_time = \"1ms\"\n[client]\nsession_timeout = \"1ms\"\n", []string{
			"x.toml:4: server.tick_time: the negotiated session timeout 2ms leaves the client a ping period of 0s and a connect timeout of 2ms (with 1 host(s)): it would ping or reconnect without pause; the timeout must be at least 3ms"}},
		{"retransmission timer below the resolution", head + "[network]\nrto_min = \"1ns\"\nrto_max = \"1ns\"\n", []string{
			"x.toml:4: network.rto_min: must be at least 1ms, got 1ns: a retransmission timer finer than the clocks' resolution would spin",
			"x.toml:5: network.rto_max: must be at least 1ms, got 1ns: a retransmission timer finer than the clocks' resolution would spin"}},
		{"servers too far apart to stay in sync", head + "[server]\ncount = 3\nquorum_latency = \"10s\"\n", []string{
			"x.toml:5: server.quorum_latency: a round trip of 20s between servers is not shorter than syncLimit × tickTime (10s): no follower stays in sync, so the ensemble re-elects without end; lower server.quorum_latency or raise server.sync_limit"}},
		{"servers too far apart to establish a leader", head + "[server]\ncount = 3\nsync_limit = 20\ninit_limit = 2\nquorum_latency = \"1s\"\n", []string{
			"x.toml:7: server.quorum_latency: the four trips between servers that establish a leader (4s) are not shorter than initLimit × tickTime (4s): no leader ever serves, so the ensemble re-elects without end; lower server.quorum_latency or raise server.init_limit"}},
		{"limits beyond a Java int", head + "[server]\ncount = 3\ninit_limit = 2147483647\n", []string{
			"x.toml:5: server.init_limit: 2147483647 ticks of 2s is more than ZooKeeper can hold: it multiplies them in a Java int of milliseconds, at most 596h31m23.647s (about 24.8 days)"}},
		{"ensemble beyond server ids", head + "[server]\ncount = 1000\n", []string{
			"x.toml:4: server.count: 1000 is more than 255: ZooKeeper server ids run from 1 to 255"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("x.toml", []byte(tc.src))
			assert.Nil(t, s)
			assert.Equal(t, tc.want, problemLines(t, err))
		})
	}
}

// Legal settings that are probably not what the author meant are warnings:
// no fault, frequent overlap, a horizon too short to expire, a fault that
// never starts or does nothing. None of the examples has one.
func TestPlausibleWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
	}{
		{"no fault", "[experiment]\nhorizon = \"1h\"\n", []string{noFaultWarning}},
		{"frequent overlap", "[[fault]]\nkind = \"client-pause\"\narrival = \"poisson\"\nevery = \"20s\"\nduration = { law = \"exponential\", mean = \"10s\" }\n", []string{
			"fault[0]: a new episode every 20s while each lasts 10s on average keeps 0.5 in force at once: overlapping episodes of one client share one expiry window, so P(expiry | outage) undercounts"}},
		{"short horizon", "[experiment]\nhorizon = \"10s\"\n[[fault]]\nkind = \"outage\"\nat = [\"1s\"]\nduration = [\"0s\", \"5s\"]\n", []string{
			"experiment.horizon: 10s is shorter than the session timeout plus a tick (12s): no session can expire within it",
			"fault[0].duration: episodes of 0s do nothing"}},
		{"offset past the horizon", "[[fault]]\nkind = \"outage\"\narrival = \"periodic\"\nevery = \"1m\"\noffset = \"2h\"\nduration = \"1s\"\n", []string{
			"fault[0].offset: 2h is not before the horizon 1h; the fault never starts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("x.toml", []byte(tc.src))
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Warnings())
		})
	}
}

// meanUpTo, E[min(D, h)], against closed forms: Pareto (with and without a
// mean), lognormal, Weibull with shape 1 (exponential), and the short cases.
func TestMeanUpTo(t *testing.T) {
	t.Parallel()
	lognormal := func(median, sigma, h float64) float64 {
		mu := math.Log(median)
		n := distuv.UnitNormal
		z := (math.Log(h) - mu) / sigma
		return math.Exp(mu+sigma*sigma/2)*n.CDF(z-sigma) + h*(1-n.CDF(z))
	}
	tests := []struct {
		law  model.Law
		h    float64
		want float64
	}{
		{model.Law{Kind: model.LawPareto, Scale: 1, Shape: 0.5}, 3600, 1 + 2*(60-1)},
		{model.Law{Kind: model.LawPareto, Scale: 1, Shape: 1}, 3600, 1 + math.Log(3600)},
		{model.Law{Kind: model.LawPareto, Scale: 2, Shape: 3}, 1e6, 3.0 * 2 / 2},
		{model.Law{Kind: model.LawPareto, Scale: 2, Shape: 3}, 1, 1},
		{model.Law{Kind: model.LawLogNormal, Median: 5, Sigma: 1}, 3600, lognormal(5, 1, 3600)},
		{model.Law{Kind: model.LawLogNormal, Median: 1, Sigma: 5}, 3600, lognormal(1, 5, 3600)},
		{model.Law{Kind: model.LawWeibull, Scale: 4, Shape: 1}, 10, 4 * (1 - math.Exp(-10.0/4))},
		{model.Law{Kind: model.LawExponential, Mean: 4}, 10, 4 * (1 - math.Exp(-10.0/4))},
		{model.Law{Kind: model.LawUniform, Min: 2, Max: 6}, 4, 2 + (16-4)/8.0},
		{model.Law{Kind: model.LawUniform, Min: 2, Max: 6}, 60, 4},
		{model.Law{Kind: model.LawFixed, Value: 90}, 60, 60},
		{model.Law{Kind: model.LawEmpirical, Samples: []float64{1, 3, 100}}, 10, 14.0 / 3},
	}
	for _, tc := range tests {
		assert.InEpsilon(t, tc.want, meanUpTo(tc.law, tc.h), 1e-5, "%+v h=%v", tc.law, tc.h)
	}
}

// Every example and golden experiment is free of the new warnings (they
// describe real settings).
func TestExamplesArePlausible(t *testing.T) {
	t.Parallel()
	var files []string
	for _, glob := range []string{"examples/*.toml", "../testdata/experiments/*.toml"} {
		m, err := filepath.Glob(glob)
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	for _, f := range files {
		for _, w := range mustLoad(t, f).Warnings() {
			assert.False(t, strings.Contains(w, "in force at once") || strings.Contains(w, "no [[fault]]") ||
				strings.Contains(w, "no session can expire") || strings.Contains(w, "never starts"), "%s: %s", f, w)
		}
	}
}
