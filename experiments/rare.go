package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"hbsim/clock"
	"hbsim/model"
	"hbsim/sim"
)

// Rare-event estimation (hbsim rare). Plain Monte Carlo needs about 100/P
// simulated episodes to see P; a fleet-relevant 1e-6 expiries per
// session-day is out of its reach. This mode uses what the field uses:
//
//  1. Conditioning on fault episodes. With one per-client Poisson outage
//     process at rate λ whose episodes do not overlap, expiring outages are
//     a thinned Poisson process (closed-forms.md §3), so
//     expiries per session-day = λ·day·P(expire | outage), and
//     P(at least one within H) = 1 − exp(−λ·P·H). Only P(expire | outage)
//     needs simulating, one episode at a time: a connected, idle client
//     whose outage starts at a uniformly random point of its ping cycle
//     (anchored to a tracker touch of its session) and a random bucket
//     phase, run through the full model until the episode has resolved.
//  2. Importance sampling of the outage length with likelihood-ratio
//     weights, as a defensive mixture: each episode draws D from the law f
//     itself with probability 1/2, and otherwise from f conditioned on
//     D > a, where a = T − p − 2 s lies below every length that can expire
//     a session (p the ping period). The weight f/q = 1/(1/2 + [D > a]/(2·S(a)))
//     is at most 2 and nearly constant in the tail, so the estimate is
//     unbiased for every D while half the effort goes where expiries are.
//
// Assumptions, checked per sweep point: exactly one fault, an outage with
// Poisson arrivals that hits each client independently (not shared), and
// episodes that rarely overlap: ρ = λ·(E[D] + T + k + 10 s) <= RareMaxOverlap.
// A point that fails a check falls back to plain simulation, and the result
// says so in its warnings.

// RareMaxOverlap bounds ρ, the fraction of time a client spends inside an
// episode or its recovery; above it episodes overlap too often for the
// one-episode-at-a-time estimate (its relative bias is about ρ).
const RareMaxOverlap = 0.02

// MethodImportance names the rare-event intervals (normal approximation of
// the weighted mean).
const MethodImportance = "importance-sampling"

// RareOptions tune the rare-event mode. The result depends on them but not
// on Workers.
type RareOptions struct {
	Workers int
	// TargetRelHalfWidth stops sampling a point once the 95 % half-width of
	// P(expire | outage) is at most this fraction of the estimate (default 0.1).
	TargetRelHalfWidth float64
	// Batch is the number of episodes between stopping checks (default 2000);
	// MaxEpisodes bounds the episodes per point (default 2,000,000).
	Batch, MaxEpisodes int
	Check              bool
}

// RareEstimate is the rare-event estimate of one point.
type RareEstimate struct {
	Episodes  int
	Expired   int     // episodes that expired (unweighted)
	P         float64 // P(expire | outage)
	HalfWidth float64 // 95 % half-width of P
	Rate      float64 // expiries per session-day
	Rho       float64 // the overlap measure that was checked
	Threshold float64 // a, seconds
	TailMass  float64 // S(a)
}

// errNotRare explains why a point cannot use the rare-event mode.
var errNotRare = errors.New("experiments: rare-event mode does not apply")

// rareCheck returns the outage fault of cfg if the mode applies.
func rareCheck(cfg model.Config) (model.Fault, float64, error) {
	if len(cfg.Faults) != 1 {
		return model.Fault{}, 0, fmt.Errorf("%w: needs exactly one fault, found %d", errNotRare, len(cfg.Faults))
	}
	f := cfg.Faults[0]
	switch {
	case f.Kind != model.Outage:
		return f, 0, fmt.Errorf("%w: the fault is a %s, not an outage", errNotRare, f.Kind)
	case f.Arrival != model.Poisson:
		return f, 0, fmt.Errorf("%w: outages must arrive as a Poisson process", errNotRare)
	case f.Target.Client == model.AllClients && f.Target.Shared:
		return f, 0, fmt.Errorf("%w: shared outages hit every client at once; episodes are not independent per session", errNotRare)
	}
	d := cfg.Defaults()
	t := d.Server.Negotiate(d.Client.SessionTimeout)
	rho := (f.Duration.MeanSeconds() + t.Seconds() + d.Server.TickTime.Seconds() + 10) / f.Every.Seconds()
	if rho > RareMaxOverlap {
		return f, rho, fmt.Errorf("%w: episodes overlap too often (ρ = %.3g > %g)", errNotRare, rho, RareMaxOverlap)
	}
	return f, rho, nil
}

// episodeConfig is one conditioned episode: a single client, connected and
// idle, hit by one outage of length dr.d that starts dr.phase of a ping
// period after a tracker touch of its session, shortly after 60 s.
// Anchoring the outage to the ping cycle by a fraction (rather than by a
// random start time) is what lets every candidate timeout share the
// episode: at each T the outage starts at the same point of its cycle.
func episodeConfig(base model.Config, f model.Fault, dr rareDraw) model.Config {
	cfg := base.Defaults()
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout)
	p := model.PingPeriod(t)
	d := clock.FromSeconds(dr.d)
	cfg.Seed = dr.seed
	cfg.Clients = 1
	cfg.DeadClientProbe = false
	start := time.Minute
	cfg.Horizon = start + p + d + t + 2*cfg.Server.TickTime + 30*time.Second
	f.Target.Client = 0
	f.Target.Shared = false
	f.Arrival = model.Scripted
	f.At = []time.Duration{start}
	f.PhaseSet = true
	f.Phase = time.Duration(dr.phase * float64(p))
	f.Duration = model.Fixed(d)
	cfg.Faults = []model.Fault{f}
	return cfg
}

// rareDraw is one episode's random numbers: its seed (every draw of its run
// comes from it), its outage length, the likelihood-ratio weight of that
// length, and where in the ping cycle the outage starts. They depend on the
// episode's number, the point (or pooled point) and the proposal, never on
// the session timeout: candidate timeouts share them (common random
// numbers).
type rareDraw struct {
	seed   uint64
	d      float64 // outage length, seconds
	weight float64 // f/q at d
	long   bool    // d > a: the proposal's conditioned part covers it
	phase  float64 // in [0, 1)
}

// drawEpisode draws episode i of point index from the defensive mixture
// q = f/2 + f(·|D > a)/2, tail = S(a).
func drawEpisode(seed uint64, index, i int, law model.Law, a, tail float64) rareDraw {
	es := ReplicationSeed(seed^rareSalt, index, i)
	r := sim.Stream(es, "rare-proposal", 0)
	var x float64
	if r.IntN(2) == 0 || tail <= 0 {
		x = law.Quantile(r.Float64()) // from f
	} else {
		lo := law.CDF(a) // from f conditioned on D > a
		x = law.Quantile(lo + (1-lo)*r.Float64())
	}
	dr := rareDraw{seed: es, d: x, weight: 1, phase: r.Float64()}
	switch {
	case tail > 0 && x > a:
		dr.weight, dr.long = 1/(0.5+0.5/tail), true
	case tail > 0:
		dr.weight = 2
	}
	return dr
}

// episodeResult is one sampled episode.
type episodeResult struct {
	weight  float64
	expired bool
	err     error
}

// RunRare estimates every point of s with the rare-event mode, falling back
// to plain simulation (Run) for points where it does not apply.
func RunRare(ctx context.Context, s *Spec, opts RareOptions) (*Result, map[int]RareEstimate, error) {
	points, err := s.Points()
	if err != nil {
		return nil, nil, err
	}
	if opts.TargetRelHalfWidth <= 0 {
		opts.TargetRelHalfWidth = 0.1
	}
	if opts.Batch <= 0 {
		opts.Batch = 2000
	}
	if opts.MaxEpisodes <= 0 {
		opts.MaxEpisodes = 2_000_000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	res := &Result{
		Name: s.Name, File: s.File, Seed: s.Seed, Replications: 0,
		HorizonS: s.Horizon.Seconds(), Axes: s.Axes(), Warnings: s.Warnings(),
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	estimates := map[int]RareEstimate{}
	var plain []int
	for _, p := range points {
		f, rho, err := rareCheck(p.Config)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v; simulated plainly instead", PointLabel(p.Params), strings.TrimPrefix(err.Error(), "experiments: ")))
			plain = append(plain, p.Index)
			res.Points = append(res.Points, PointResult{})
			continue
		}
		est, err := rarePoint(ctx, s.Seed, p, f, rho, opts)
		if err != nil {
			return nil, nil, err
		}
		estimates[p.Index] = est
		cfg := p.Config.Defaults()
		pm := Metric{Name: MetricExpiryPerOutage, Unit: "probability", Estimate: est.P,
			Lower: math.Max(0, est.P-est.HalfWidth), Upper: est.P + est.HalfWidth,
			Count: float64(est.Expired), Trials: float64(est.Episodes), Method: MethodImportance}
		perDay := 24 * time.Hour.Seconds() / f.Every.Seconds()
		rm := Metric{Name: MetricExpiryRate, Unit: "1/session-day", Estimate: est.Rate,
			Lower: pm.Lower * perDay, Upper: pm.Upper * perDay, Count: float64(est.Expired), Trials: float64(est.Episodes), Method: MethodImportance}
		h := s.Horizon.Hours() / 24
		hm := Metric{Name: MetricExpiryInHorizon, Unit: "probability", Estimate: -math.Expm1(-rm.Estimate * h),
			Lower: -math.Expm1(-rm.Lower * h), Upper: -math.Expm1(-rm.Upper * h), Count: float64(est.Expired), Trials: float64(est.Episodes), Method: MethodImportance}
		res.Points = append(res.Points, PointResult{
			Index: p.Index, Params: p.Params, Clients: cfg.Clients,
			SessionTimeoutS:          cfg.Server.Negotiate(cfg.Client.SessionTimeout).Seconds(),
			RequestedSessionTimeoutS: cfg.Client.SessionTimeout.Seconds(),
			TickTimeS:                cfg.Server.TickTime.Seconds(),
			Metrics:                  []Metric{pm, rm, hm},
		})
	}
	if len(plain) > 0 {
		full, err := Run(ctx, s, RunOptions{Workers: opts.Workers, Check: opts.Check})
		if err != nil {
			return nil, nil, err
		}
		for _, i := range plain {
			res.Points[i] = full.Points[i]
		}
		res.Replications = s.Replications
	}
	return res, estimates, nil
}

// rarePoint samples episodes in deterministic batches until the target
// precision or the episode cap.
func rarePoint(ctx context.Context, seed uint64, p Point, f model.Fault, rho float64, opts RareOptions) (RareEstimate, error) {
	cfg := p.Config.Defaults()
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout)
	a := math.Max(0, (t - model.PingPeriod(t) - 2*time.Second).Seconds())
	tail := f.Duration.Survival(a)
	est := RareEstimate{Rho: rho, Threshold: a, TailMass: tail}
	var sumW, sumW2 float64
	for est.Episodes < opts.MaxEpisodes {
		n := min(opts.Batch, opts.MaxEpisodes-est.Episodes)
		results, err := rareBatch(ctx, seed, p, f, a, tail, est.Episodes, n, opts)
		if err != nil {
			return est, err
		}
		for _, r := range results { // folded in episode order: deterministic
			if r.expired {
				est.Expired++
				sumW += r.weight
				sumW2 += r.weight * r.weight
			}
		}
		est.Episodes += n
		nf := float64(est.Episodes)
		est.P = sumW / nf
		variance := math.Max(0, sumW2/nf-est.P*est.P) / nf
		est.HalfWidth = 1.959963984540054 * math.Sqrt(variance)
		if est.Expired >= 10 && est.HalfWidth <= opts.TargetRelHalfWidth*est.P {
			break
		}
	}
	est.Rate = est.P * 24 * time.Hour.Seconds() / f.Every.Seconds()
	return est, nil
}

func rareBatch(ctx context.Context, seed uint64, p Point, f model.Fault, a, tail float64, first, n int, opts RareOptions) ([]episodeResult, error) {
	out := make([]episodeResult, n)
	err := forEachJob(ctx, opts.Workers, n, func(i int) {
		out[i] = rareEpisode(seed, p, f, a, tail, first+i, opts.Check)
	})
	if err != nil {
		return nil, fmt.Errorf("experiments: rare-event run interrupted: %w", err)
	}
	for _, r := range out {
		if r.err != nil {
			return nil, r.err
		}
	}
	return out, nil
}

// rareSalt separates episode seeds from plain replication seeds.
const rareSalt = 0x7261726565766e74

func rareEpisode(seed uint64, p Point, f model.Fault, a, tail float64, i int, check bool) episodeResult {
	dr := drawEpisode(seed, p.Index, i, f.Duration, a, tail)
	cfg := episodeConfig(p.Config, f, dr)
	st, err := model.Run(cfg, model.Options{Check: check})
	if err != nil {
		return episodeResult{err: &ReplicationError{Point: p.Index, Replication: i, Seed: dr.seed, Err: err}}
	}
	return episodeResult{weight: dr.weight, expired: st.ExpiredExposures > 0}
}
