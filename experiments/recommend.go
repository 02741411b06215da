package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"hbsim/model"
)

// This file answers "which session timeout should I use?": Recommend
// searches the session timeout for the smallest one whose 95 % upper
// confidence bound on an expiry metric meets a target.
//
// # Search
//
// Recommend owns the session timeout T: a sweep of client.session_timeout
// in the spec is ignored. It evaluates candidate timeouts on a grid of
// RecommendGrid (100 ms), in whole milliseconds, and assumes that the metric
// falls as T grows:
//
//  1. the server's largest negotiable timeout (maxSessionTimeout). If it
//     meets the target, the smallest (minSessionTimeout) is tried, and the
//     answer lies between the two;
//  2. otherwise T doubles, with maxSessionTimeout raised hypothetically
//     (ZooKeeper would clamp such a request silently), up to a ceiling
//     (RecommendOptions.MaxTimeout); the answer then needs a server change;
//  3. bisection between the largest timeout that does not meet the target
//     and the smallest that does, until they are less than the resolution
//     apart: 100 ms, or 1 % of T (rounded down to 100 ms) above 10 s.
//
// The answer is the smallest timeout found to meet the target.
//
// # Stopping rule (more replications near the boundary)
//
// A candidate runs in sequential batches: first RecommendOptions.Batch
// replications per pooled point (default: the spec's replications), then
// doubling the total, up to RecommendOptions.MaxReplications (default 8 ×
// Batch). After each batch it stops as soon as it is decided: it meets the
// target when the 95 % upper bound is at most the target, and misses it when
// the 95 % lower bound is above the target. Far from the boundary one batch
// decides; near it the batches double until the budget is spent, and an
// undecided candidate ("not shown") counts as not meeting the target: the
// answer is conservative. Repeated looks at a growing sample make a false
// "meets" slightly more likely than the nominal 2.5 % of one look; the
// doubling keeps the looks few (four with the default budget).
//
// # Other swept axes
//
// Every other swept axis is pooled: each combination of their values (a
// "pooled point") gets the same replications at every candidate, and counts
// and exposures are summed, so the estimate is that of an equally weighted
// mixture of the combinations (for a swept outage length: an outage whose
// length is drawn uniformly from the listed values, when every replication
// has the same number of outages). RecommendOptions.Fix restricts an axis to
// one of its values instead.
//
// # Determinism
//
// Replication r of pooled point c runs with seed ReplicationSeed(spec seed,
// c, r) at every candidate timeout (common random numbers: the candidates
// see the same outages), where c is the position of the point among all the
// combinations of the other axes, in sweep order. Replications run in
// parallel but are folded in (point, replication) order, and every decision
// depends only on folded counts, so the result is the same for any worker
// count.

// RecommendGrid is the step of the candidate timeouts.
const RecommendGrid = 100 * time.Millisecond

// recommendDefaultBaseline is the baseline when the spec sweeps the timeout
// and lists this value (ZooKeeper's most common client setting).
const recommendDefaultBaseline = 10 * time.Second

// Verdicts of a Candidate.
const (
	VerdictMeets    = "meets"     // the 95 % upper bound is at most the target
	VerdictMisses   = "misses"    // the 95 % lower bound is above the target
	VerdictNotShown = "not shown" // neither, with the replication budget spent
	VerdictBaseline = "baseline"  // evaluated for comparison only (one batch)
)

// ErrTargetUnreachable means the target cannot be shown with the replication
// budget, whatever the timeout: even with no expiry at all, the 95 % upper
// bound would stay above it.
var ErrTargetUnreachable = errors.New("experiments: target cannot be shown with this budget")

// ErrRecommendInput wraps options that do not fit the spec (an unknown axis
// or value in RecommendOptions.Fix).
var ErrRecommendInput = errors.New("experiments: recommend: bad option")

// Target is what Recommend aims for: Metric at most Value.
type Target struct {
	Metric string  `json:"metric"` // MetricExpiryPerOutage or MetricExpiryRate
	Value  float64 `json:"value"`  // a probability, or expiries per session-day
}

// targetUnits maps the unit written after the slash to its metric.
var targetUnits = []struct{ unit, metric string }{
	{"outage", MetricExpiryPerOutage},
	{"session-day", MetricExpiryRate},
}

// ParseTarget reads a target written as RATE/UNIT: "1e-3/outage" (the
// probability that an outage expires the session it hits) or
// "1e-4/session-day" (session expiries per session-day).
func ParseTarget(s string) (Target, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Target{}, fmt.Errorf("experiments: target %q: write RATE/UNIT, e.g. 1e-3/outage or 1e-4/session-day", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return Target{}, fmt.Errorf("experiments: target %q: %q is not a positive number", s, strings.TrimSpace(num))
	}
	unit = strings.ToLower(strings.TrimSpace(unit))
	for _, u := range targetUnits {
		if u.unit == unit {
			if u.metric == MetricExpiryPerOutage && v >= 1 {
				return Target{}, fmt.Errorf("experiments: target %q: a probability per outage must be below 1", s)
			}
			return Target{Metric: u.metric, Value: v}, nil
		}
	}
	return Target{}, fmt.Errorf("experiments: target %q: unknown unit %q; want outage or session-day", s, unit)
}

// Unit is the unit of the target as written after the slash.
func (t Target) Unit() string {
	for _, u := range targetUnits {
		if u.metric == t.Metric {
			return u.unit
		}
	}
	return t.Metric
}

// String is the target as ParseTarget reads it.
func (t Target) String() string { return sci(t.Value) + "/" + t.Unit() }

// describe names the target's quantity in a sentence.
func (t Target) describe() string {
	if t.Metric == MetricExpiryPerOutage {
		return "P(expiry | outage)"
	}
	return "expiries per session-day"
}

// RecommendOptions configure Recommend. Zero values mean the defaults.
type RecommendOptions struct {
	Target Target
	// Fix restricts swept axes other than the session timeout to one of
	// their values each: dotted key to the value as written ("8s").
	Fix map[string]string
	// Baseline is the timeout the answer is compared with; default the
	// spec's session timeout, or when it is swept 10 s if listed, else the
	// first value. It is negotiated by the server as written.
	Baseline time.Duration
	// MaxTimeout is the search ceiling; default min(4 × maxSessionTimeout,
	// horizon / 2) but at least maxSessionTimeout. Longer timeouts need a
	// longer horizon to observe their expiries.
	MaxTimeout time.Duration
	// Batch is the first batch of replications per pooled point of a
	// candidate; default the spec's replications.
	Batch int
	// MaxReplications is the budget per pooled point of a candidate;
	// default 8 × Batch.
	MaxReplications int
	Workers         int  // parallel replications; <= 0 means GOMAXPROCS
	Check           bool // verify invariants after every event
	// Plain forces plain simulation for a per-session-day target, where
	// the rare-event estimator would apply (recommendrare.go).
	Plain bool
	// RareBatch and RareMaxEpisodes are the rare-event estimator's first
	// batch and budget of episodes per pooled point and candidate; default
	// 2 000 and 4 × RareBatch.
	RareBatch, RareMaxEpisodes int
	// Progress, when set, is called after each candidate is decided, from
	// the calling goroutine.
	Progress func(c Candidate)
}

// Recommendation is what Recommend found: plain data, JSON-encodable, and
// all that the plots package reads to draw it.
type Recommendation struct {
	Name   string `json:"name"`
	File   string `json:"file,omitempty"`
	Seed   uint64 `json:"seed"`
	Target Target `json:"target"`
	// Pooled lists the other swept axes whose combinations are pooled
	// (values restricted by Fix are left out), Fixed the restricted ones.
	Pooled       []Axis  `json:"pooled"`
	Fixed        []Param `json:"fixed"`
	PooledPoints int     `json:"pooled_points"`
	// The server's negotiable range (the narrowest over the pooled points)
	// and tickTime, in seconds.
	MinTimeoutS float64 `json:"min_session_timeout_s"`
	MaxTimeoutS float64 `json:"max_session_timeout_s"`
	TickTimeS   float64 `json:"tick_time_s"`
	// MaxTimeoutDefault says maxSessionTimeout is the default 20 ticks.
	MaxTimeoutDefault bool    `json:"max_session_timeout_default"`
	BucketRounding    bool    `json:"bucket_rounding"`
	CeilingS          float64 `json:"ceiling_s"` // the search ceiling
	HorizonS          float64 `json:"horizon_s"`
	Batch             int     `json:"batch"`
	MaxReplications   int     `json:"max_replications"`
	// Method is RecommendPlain or RecommendRare; MethodNote says why.
	Method     string `json:"method"`
	MethodNote string `json:"method_note"`
	// The rare-event estimator's batches, per pooled point and candidate,
	// and the episodes it ran in total.
	RareBatch       int `json:"rare_batch,omitempty"`
	RareMaxEpisodes int `json:"rare_max_episodes,omitempty"`
	Episodes        int `json:"episodes,omitempty"`
	// Isotonic counts the estimates the monotone fit of the rare-event
	// curve moved (recommendrare.go).
	Isotonic int `json:"isotonic_adjusted,omitempty"`
	// Candidates are the explored timeouts, sorted by timeout.
	Candidates []Candidate `json:"candidates"`
	// Recommended and Baseline index Candidates; -1 when there is none.
	Recommended  int      `json:"recommended"`
	Baseline     int      `json:"baseline"`
	Replications int      `json:"replications"` // simulated in total
	Reason       string   `json:"reason,omitempty"`
	Warnings     []string `json:"warnings"`
}

// Candidate is one explored timeout and its pooled metrics.
type Candidate struct {
	TimeoutS float64 `json:"timeout_s"` // negotiated (= requested) timeout
	// BeyondServerMax says the server's maxSessionTimeout was raised to
	// evaluate it.
	BeyondServerMax bool     `json:"beyond_server_max"`
	Replications    int      `json:"replications"` // per pooled point
	Verdict         string   `json:"verdict"`
	Step            int      `json:"step"` // 1-based order of evaluation
	Metrics         []Metric `json:"metrics"`
}

// Metric returns the metric called name, or false.
func (c Candidate) Metric(name string) (Metric, bool) {
	for _, m := range c.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Timeout is the candidate's timeout.
func (c Candidate) Timeout() time.Duration {
	return time.Duration(math.Round(c.TimeoutS*1000)) * time.Millisecond
}

// recCombo is one pooled point: a combination of the other axes' values.
type recCombo struct {
	index  int // position among every combination of the other axes, the seed index
	params []Param
	cfg    model.Config
}

// recState is one candidate being evaluated.
type recState struct {
	timeout  time.Duration
	acc      pointAcc
	reps     int // per combo
	cand     Candidate
	searched bool      // evaluated by the search, not only as the baseline
	rare     *rareCand // the rare-event estimator's counts
}

type recommender struct {
	ctx      context.Context
	s        *Spec
	opts     RecommendOptions
	combos   []recCombo
	batch    int
	maxReps  int
	workers  int
	states   map[time.Duration]*recState
	steps    int
	total    int
	feasible bool          // the budget check has run
	answer   time.Duration // the recommended timeout; 0 when none
	rare     *rareRec      // the rare-event estimator, when it applies
}

// Recommend searches the session timeout for the smallest value whose 95 %
// upper confidence bound on opts.Target.Metric is at most
// opts.Target.Value. See the comment at the top of this file for the
// search, the stopping rule and how other swept axes are pooled. A
// cancelled ctx stops it with ctx's error.
func Recommend(ctx context.Context, s *Spec, opts RecommendOptions) (*Recommendation, error) {
	if opts.Target.Metric != MetricExpiryPerOutage && opts.Target.Metric != MetricExpiryRate {
		return nil, fmt.Errorf("experiments: recommend: target metric %q is not %s or %s",
			opts.Target.Metric, MetricExpiryPerOutage, MetricExpiryRate)
	}
	if !(opts.Target.Value > 0) || math.IsInf(opts.Target.Value, 0) {
		return nil, fmt.Errorf("experiments: recommend: target %v is not positive", opts.Target.Value)
	}
	r := &recommender{ctx: ctx, s: s, opts: opts, states: map[time.Duration]*recState{}}
	rec, err := r.setup()
	if err != nil {
		return nil, err
	}
	if why := r.setupRare(rec); r.rare != nil {
		rec.Method = RecommendRare
		rec.MethodNote = "the rare-event estimator's assumptions hold at every pooled point (one outage fault, Poisson arrivals per client, episodes overlapping less than 2 % of the time): expiries per session-day = outages per session-day × P(expire | outage), estimated from single-outage episodes with importance-sampled lengths, the same episodes at every timeout"
	} else {
		rec.Method = RecommendPlain
		rec.MethodNote = "replications of the whole experiment, the same seeds at every timeout"
		if opts.Target.Metric == MetricExpiryRate {
			rec.MethodNote = "the rare-event estimator does not apply (" + why + "): " + rec.MethodNote
		}
	}
	if err := r.search(rec); err != nil {
		return nil, err
	}
	if err := r.finish(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// setup selects the pooled points and the defaults.
func (r *recommender) setup() (*Recommendation, error) {
	s, opts := r.s, r.opts
	points, err := s.Points()
	if err != nil {
		return nil, err
	}
	axes := s.Axes()
	timeoutAxis := slices.IndexFunc(axes, func(a Axis) bool { return a.Key == "client.session_timeout" })
	for key, val := range opts.Fix {
		i := slices.IndexFunc(axes, func(a Axis) bool { return a.Key == key })
		switch {
		case i < 0:
			return nil, fmt.Errorf("%w: %s does not sweep %s", ErrRecommendInput, s.File, key)
		case i == timeoutAxis:
			return nil, fmt.Errorf("%w: cannot fix %s: recommend searches the session timeout itself", ErrRecommendInput, key)
		case !slices.Contains(axes[i].Values, val):
			return nil, fmt.Errorf("%w: %s = %q is not one of the swept values [%s]",
				ErrRecommendInput, key, val, strings.Join(axes[i].Values, ", "))
		}
	}
	rec := &Recommendation{
		Name: s.Name, File: s.File, Seed: s.Seed, Target: opts.Target,
		HorizonS: s.Horizon.Seconds(), Recommended: -1, Baseline: -1,
		Pooled: []Axis{}, Fixed: []Param{}, Warnings: []string{},
	}
	for i, a := range axes {
		if i == timeoutAxis {
			continue
		}
		if v, ok := opts.Fix[a.Key]; ok {
			j := slices.Index(a.Values, v)
			rec.Fixed = append(rec.Fixed, Param{Key: a.Key, Value: v, Numeric: a.Numeric[j]})
			continue
		}
		rec.Pooled = append(rec.Pooled, a)
	}
	combo := -1
	for _, p := range points {
		if timeoutAxis >= 0 && p.Params[timeoutAxis].Value != axes[timeoutAxis].Values[0] {
			continue
		}
		combo++
		keep := true
		var params []Param
		for i, prm := range p.Params {
			if i == timeoutAxis {
				continue
			}
			if v, ok := opts.Fix[prm.Key]; ok && v != prm.Value {
				keep = false
			}
			params = append(params, prm)
		}
		if keep {
			r.combos = append(r.combos, recCombo{index: combo, params: params, cfg: p.Config})
		}
	}
	if len(r.combos) == 0 { // cannot happen: Points has at least one point
		return nil, fmt.Errorf("experiments: recommend: %s: no sweep point to run", s.File)
	}
	rec.PooledPoints = len(r.combos)

	minT, maxT := time.Duration(0), time.Duration(math.MaxInt64)
	for _, c := range r.combos {
		minT = max(minT, c.cfg.Server.MinSessionTimeout)
		maxT = min(maxT, c.cfg.Server.MaxSessionTimeout)
	}
	first := r.combos[0].cfg
	rec.MinTimeoutS, rec.MaxTimeoutS = minT.Seconds(), maxT.Seconds()
	rec.TickTimeS = first.Server.TickTime.Seconds()
	rec.MaxTimeoutDefault = s.t.maxTimeout == nil
	rec.BucketRounding = !first.Server.NoBucketRounding

	r.batch = opts.Batch
	if r.batch <= 0 {
		r.batch = s.Replications
	}
	r.maxReps = opts.MaxReplications
	if r.maxReps <= 0 {
		r.maxReps = 8 * r.batch
	}
	if r.maxReps < r.batch {
		return nil, fmt.Errorf("%w: the budget of %d replications is smaller than the first batch of %d", ErrRecommendInput, r.maxReps, r.batch)
	}
	rec.Batch, rec.MaxReplications = r.batch, r.maxReps
	r.workers = opts.Workers
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	ceiling := opts.MaxTimeout
	if ceiling <= 0 {
		ceiling = max(maxT, min(4*maxT, s.Horizon/2))
	}
	rec.CeilingS = snapDown(ceiling).Seconds()
	return rec, nil
}

// snapDown and snapUp round to the candidate grid.
func snapDown(d time.Duration) time.Duration { return d / RecommendGrid * RecommendGrid }

func snapUp(d time.Duration) time.Duration {
	return (d + RecommendGrid - 1) / RecommendGrid * RecommendGrid
}

// resolution is how close the bisection brackets the answer near t:
// RecommendGrid, or 1 % of t rounded down to the grid when that is larger.
func resolution(t time.Duration) time.Duration { return max(RecommendGrid, snapDown(t/100)) }

func (r *recommender) search(rec *Recommendation) error {
	lo0 := snapUp(time.Duration(math.Round(rec.MinTimeoutS*1e3)) * time.Millisecond)
	hi0 := snapDown(time.Duration(math.Round(rec.MaxTimeoutS*1e3)) * time.Millisecond)
	ceiling := time.Duration(math.Round(rec.CeilingS*1e3)) * time.Millisecond
	hi0 = max(hi0, lo0)

	var lo, hi time.Duration
	meets, err := r.meets(hi0)
	if err != nil {
		return err
	}
	if meets {
		if meets, err = r.meets(lo0); err != nil {
			return err
		} else if meets {
			r.answer = lo0
			return nil
		}
		lo, hi = lo0, hi0
	} else {
		lo = hi0
		for t := hi0; t < ceiling && hi == 0; {
			t = min(snapDown(2*t), ceiling)
			ok, err := r.meets(t)
			if err != nil {
				return err
			}
			if ok {
				hi = t
			} else {
				lo = t
			}
		}
		if hi == 0 {
			rec.Reason = fmt.Sprintf("no timeout up to the search ceiling %s meets the target", fmtDur(ceiling))
			return nil
		}
	}
	for hi-lo > resolution(hi) {
		mid := lo + snapDown((hi-lo)/2)
		if mid <= lo || mid >= hi {
			break
		}
		ok, err := r.meets(mid)
		if err != nil {
			return err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	r.answer = hi
	return nil
}

// meets evaluates t to a decision.
func (r *recommender) meets(t time.Duration) (bool, error) {
	st, err := r.evaluate(t, true)
	if err != nil {
		return false, err
	}
	return st.cand.Verdict == VerdictMeets, nil
}

// evaluate runs batches at timeout t until the candidate is decided or its
// budget is spent (search), or runs one batch unless it has one already
// (!search: the baseline, for comparison only).
func (r *recommender) evaluate(t time.Duration, search bool) (*recState, error) {
	st, ok := r.states[t]
	if !ok {
		r.steps++
		st = &recState{timeout: t, cand: Candidate{Step: r.steps}}
		r.states[t] = st
	}
	st.searched = st.searched || search
	if r.rare != nil {
		return st, r.evaluateRare(st, search)
	}
	for {
		if st.reps > 0 {
			r.judge(st)
			decided := st.cand.Verdict == VerdictMeets || st.cand.Verdict == VerdictMisses
			if !search || decided || st.reps >= r.maxReps {
				return st, nil
			}
		}
		next := r.batch
		if st.reps > 0 {
			next = min(2*st.reps, r.maxReps)
		}
		if err := r.runBatch(st, next); err != nil {
			return nil, err
		}
		if err := r.checkBudget(st); err != nil {
			return nil, err
		}
		r.judge(st)
		decided := st.cand.Verdict == VerdictMeets || st.cand.Verdict == VerdictMisses
		if r.opts.Progress != nil && (!search || decided || st.reps >= r.maxReps) {
			r.opts.Progress(st.cand)
		}
	}
}

// judge refreshes st's candidate from its accumulated replications.
func (r *recommender) judge(st *recState) {
	ms := st.acc.metrics()
	st.cand.TimeoutS = st.timeout.Seconds()
	st.cand.Replications = st.reps
	st.cand.Metrics = ms
	r.verdict(st)
}

// verdict judges st's candidate from its metrics: meets when the target
// metric's upper bound is at or below the target, misses when its lower
// bound is above, not shown otherwise; and whether its timeout needs the
// server's maximum raised.
func (r *recommender) verdict(st *recState) {
	st.cand.BeyondServerMax = false
	for _, c := range r.combos {
		if st.timeout > c.cfg.Server.MaxSessionTimeout {
			st.cand.BeyondServerMax = true
		}
	}
	m, _ := st.cand.Metric(r.opts.Target.Metric)
	switch q := r.opts.Target.Value; {
	case m.Upper <= q:
		st.cand.Verdict = VerdictMeets
	case m.Lower > q:
		st.cand.Verdict = VerdictMisses
	default:
		st.cand.Verdict = VerdictNotShown
	}
}

// checkBudget fails once, after the first batch, when the target cannot be
// shown even with no expiry at all in the whole budget, or has nothing to
// count.
func (r *recommender) checkBudget(st *recState) error {
	if r.feasible {
		return nil
	}
	r.feasible = true
	m, _ := st.acc.metricsFor(r.opts.Target.Metric)
	if m.Trials == 0 {
		return fmt.Errorf("experiments: recommend: %s: no fault hit a client in %d replications; a per-outage target needs a [[fault]] that hits the sessions (or use a /session-day target): %w",
			r.s.File, st.reps*len(r.combos), ErrTargetUnreachable)
	}
	scale := float64(r.maxReps) / float64(st.reps)
	var best float64
	var what string
	if r.opts.Target.Metric == MetricExpiryPerOutage {
		n := math.Floor(m.Trials * scale)
		_, best = ClopperPearson(0, n, ConfidenceLevel)
		what = fmt.Sprintf("%.0f outages", n)
	} else {
		exposure := m.Trials * scale
		_, _, best = PoissonRate(0, exposure, ConfidenceLevel)
		what = fmt.Sprintf("%.4g session-days", exposure)
	}
	if best > r.opts.Target.Value {
		need := int(math.Ceil(float64(r.maxReps) * best / r.opts.Target.Value))
		hint := "raise the replication budget"
		if r.opts.Target.Metric == MetricExpiryRate {
			hint = "lengthen experiment.horizon, add clients, or raise the replication budget"
		}
		return fmt.Errorf("experiments: recommend: target %s: the budget of %d replications per point covers %s; even with no expiry at all the 95 %% upper bound would be %s; %s (to about %d replications per point): %w",
			r.opts.Target, r.maxReps, what, sci(best), hint, need, ErrTargetUnreachable)
	}
	return nil
}

// metricsFor returns the metric called name of the accumulator.
func (a *pointAcc) metricsFor(name string) (Metric, bool) {
	for _, m := range a.metrics() {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// config is the configuration of replication rep of combo c at timeout t.
func (r *recommender) config(c recCombo, t time.Duration, rep int) model.Config {
	cfg := c.cfg
	cfg.Client.SessionTimeout = t
	if t > cfg.Server.MaxSessionTimeout {
		cfg.Server.MaxSessionTimeout = t // hypothetical: what the answer would need
	}
	if t < cfg.Server.MinSessionTimeout {
		cfg.Server.MinSessionTimeout = t
	}
	cfg.Seed = ReplicationSeed(r.s.Seed, c.index, rep)
	return cfg
}

// forEachJob runs fn(j) for every j in [0, n) on up to workers goroutines,
// in any order; fn must write only its own j's results. Once ctx is done
// it hands out no new job, waits for those running and returns ctx's error.
func forEachJob(ctx context.Context, workers, n int, fn func(j int)) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				fn(j)
			}
		}()
	}
	var cancelled error
	for j := range n {
		if err := ctx.Err(); err != nil {
			cancelled = err
			break
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	return cancelled
}

// runBatch runs replications [st.reps, upTo) of every combo at st.timeout
// and folds them in (combo, replication) order.
func (r *recommender) runBatch(st *recState, upTo int) error {
	from := st.reps
	per := upTo - from
	n := per * len(r.combos)
	out := make([]repResult, n)
	cancelled := forEachJob(r.ctx, r.workers, n, func(j int) {
		c := r.combos[j/per]
		rep := from + j%per
		out[j] = runReplication(j, r.config(c, st.timeout, rep), c.index, rep, r.opts.Check)
	})
	if cancelled != nil {
		return fmt.Errorf("experiments: recommend interrupted at T=%s: %w", fmtDur(st.timeout), cancelled)
	}
	for _, q := range out {
		if q.err != nil {
			return q.err
		}
	}
	for _, q := range out {
		st.acc.add(q.stats)
	}
	st.reps = upTo
	r.total += n
	return nil
}

// baseline is the timeout the answer is compared with, as negotiated.
func (r *recommender) baseline() time.Duration {
	b := r.opts.Baseline
	if b <= 0 {
		sl := r.s.t.sessionTimeout
		switch {
		case sl == nil:
			b = r.combos[0].cfg.Client.SessionTimeout // the default
		case !sl.swept:
			b = sl.vals[0].dur
		default:
			b = sl.vals[0].dur
			for _, v := range sl.vals {
				if v.dur == recommendDefaultBaseline {
					b = v.dur
				}
			}
		}
	}
	b = r.combos[0].cfg.Server.Negotiate(b)
	return time.Duration(math.Round(float64(b)/float64(time.Millisecond))) * time.Millisecond
}

// finish evaluates the baseline, orders the candidates and adds warnings.
func (r *recommender) finish(rec *Recommendation) error {
	base := r.baseline()
	if _, err := r.evaluate(base, false); err != nil {
		return err
	}
	keys := make([]time.Duration, 0, len(r.states))
	for t := range r.states {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	for _, t := range keys {
		st := r.states[t]
		c := st.cand
		if !st.searched {
			c.Verdict = VerdictBaseline
		}
		if t == r.answer {
			rec.Recommended = len(rec.Candidates)
		}
		if t == base {
			rec.Baseline = len(rec.Candidates)
		}
		rec.Candidates = append(rec.Candidates, c)
	}
	rec.Replications = r.total
	if r.rare != nil {
		rec.Episodes = r.rare.episodes
		rec.Isotonic = monotone(rec)
		r.rareWarnings(rec)
	}
	if rec.Recommended >= 0 {
		r.warn(rec, r.answer)
	}
	return nil
}

// warn notes what may bias the answer: a horizon too short to observe
// expiries after a scripted fault, and an unmeasured detection time.
func (r *recommender) warn(rec *Recommendation, t time.Duration) {
	tick := time.Duration(math.Round(rec.TickTimeS*1e3)) * time.Millisecond
	latest := time.Duration(-1)
	for _, c := range r.combos {
		for _, f := range c.cfg.Faults {
			if f.Arrival == model.Scripted {
				for _, at := range f.At {
					latest = max(latest, at)
				}
			}
		}
	}
	if latest >= 0 && latest+t+tick >= r.s.Horizon {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf(
			"the horizon %s ends less than T + tickTime after the scripted fault at %s: later expiries are not observed, so the estimate may be too low; lengthen experiment.horizon",
			fmtDur(r.s.Horizon), fmtDur(latest)))
	}
}

// JSON renders the recommendation, indented.
func (rec *Recommendation) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("experiments: encoding recommendation: %w", err)
	}
	return append(b, '\n'), nil
}

// ---------------------------------------------------------------------------
// Text.

// sci formats a rate or probability compactly: 2 significant digits,
// "6.1e-4" below 0.01.
func sci(x float64) string {
	switch {
	case math.IsNaN(x):
		return "?"
	case x == 0:
		return "0"
	case math.Abs(x) >= 100 && math.Abs(x) < 1e5:
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	case math.Abs(x) < 0.01 || math.Abs(x) >= 1e5:
		m := strconv.FormatFloat(x, 'e', 1, 64) // "6.1e-04"
		mant, exp, _ := strings.Cut(m, "e")
		mant = strings.TrimSuffix(mant, ".0")
		e, _ := strconv.Atoi(exp)
		return mant + "e" + strconv.Itoa(e)
	}
	return strconv.FormatFloat(x, 'g', 2, 64)
}

// secs formats seconds with at most one decimal for a person: "17.4 s".
func secs(s float64) string {
	v := strconv.FormatFloat(math.Round(s*10)/10, 'f', -1, 64)
	if math.Abs(s*10-math.Round(s*10)) > 1e-6 {
		v = strconv.FormatFloat(math.Round(s*1000)/1000, 'f', -1, 64)
	}
	return v + " s"
}

// estimateCI is "0.00061 (95 % CI 2e-4–9.8e-4)".
func estimateCI(m Metric) string {
	if m.Name == "" || math.IsNaN(m.Estimate) {
		return "not measured"
	}
	return fmt.Sprintf("%s (95 %% CI %s–%s)", sci(m.Estimate), sci(m.Lower), sci(m.Upper))
}

// lingers is how long a crashed client's session stays after its last
// heartbeat at timeout t: "17.4–19.4 s", or "17.4 s" without rounding.
func (rec *Recommendation) lingers(t float64) string {
	if !rec.BucketRounding {
		return secs(t)
	}
	lo := strings.TrimSuffix(secs(t), " s")
	return lo + "–" + secs(t+rec.TickTimeS)
}

// Text is the answer in plain sentences, followed by the explored
// timeouts.
func (rec *Recommendation) Text() string {
	var b strings.Builder
	q := rec.Target
	fmt.Fprintf(&b, "%s: the smallest session timeout whose 95 %% upper confidence bound on %s is at most %s\n",
		rec.Name, q.describe(), sci(q.Value))
	if len(rec.Pooled) > 0 {
		var parts []string
		for _, a := range rec.Pooled {
			parts = append(parts, fmt.Sprintf("%s = [%s]", a.Key, strings.Join(a.Values, ", ")))
		}
		fmt.Fprintf(&b, "Pooled over %s: %d points as an equally weighted mixture (each gets the same replications); fix an axis with --at KEY=VALUE.\n",
			strings.Join(parts, " × "), rec.PooledPoints)
	}
	for _, f := range rec.Fixed {
		fmt.Fprintf(&b, "Fixed %s = %s.\n", f.Key, f.Value)
	}
	fmt.Fprintf(&b, "The server negotiates timeouts in [%s, %s] (tickTime %s); searched up to %s in steps of 100 ms (1 %% of T above 10 s).\n",
		secs(rec.MinTimeoutS), secs(rec.MaxTimeoutS), secs(rec.TickTimeS), secs(rec.CeilingS))
	if rec.Method != "" {
		fmt.Fprintf(&b, "Method: %s: %s.\n", rec.Method, rec.MethodNote)
	}
	b.WriteByte('\n')

	var base *Candidate
	if rec.Baseline >= 0 {
		base = &rec.Candidates[rec.Baseline]
	}
	if rec.Recommended < 0 {
		fmt.Fprintf(&b, "No answer: %s.\n", rec.Reason)
		if n := len(rec.Candidates); n > 0 {
			top := rec.Candidates[n-1]
			m, _ := top.Metric(q.Metric)
			fmt.Fprintf(&b, "At %s, the longest timeout tried: %s = %s. Search further with --max-timeout, or relax the target.\n",
				secs(top.TimeoutS), q.describe(), estimateCI(m))
		}
	} else {
		c := rec.Candidates[rec.Recommended]
		m, _ := c.Metric(q.Metric)
		fmt.Fprintf(&b, "Use a %s session timeout: %s = %s, target %s.\n", secs(c.TimeoutS), q.describe(), estimateCI(m), sci(q.Value))
		switch {
		case c.BeyondServerMax:
			fmt.Fprintf(&b, "The server must allow it: ZooKeeper silently clamps a requested timeout to [%s, %s], so set maxSessionTimeout >= %s",
				secs(rec.MinTimeoutS), secs(rec.MaxTimeoutS), secs(c.TimeoutS))
			if rec.MaxTimeoutDefault {
				fmt.Fprintf(&b, " (or tickTime >= %s, since maxSessionTimeout defaults to 20 ticks; a longer tick also widens the expiry grace to one tick)",
					secs(math.Ceil(c.TimeoutS*1000/20)/1000))
			}
			b.WriteString(". It was simulated with maxSessionTimeout raised and tickTime unchanged.\n")
		case c.TimeoutS <= rec.MinTimeoutS:
			fmt.Fprintf(&b, "That is the server's minSessionTimeout: every timeout the server allows meets the target.\n")
		}
		cost := fmt.Sprintf("Cost: a crashed client's session lingers %s after its last heartbeat", rec.lingers(c.TimeoutS))
		if d, ok := c.Metric(MetricDetectionTime); ok && !math.IsNaN(d.Estimate) {
			cost += fmt.Sprintf(" (mean %s s measured from the crash)", strconv.FormatFloat(d.Estimate, 'f', 1, 64))
		}
		if base != nil && base.TimeoutS != c.TimeoutS {
			cost += fmt.Sprintf(" instead of %s at %s", rec.lingers(base.TimeoutS), secs(base.TimeoutS))
		}
		if dr, ok := c.Metric(MetricDisconnectRate); ok {
			cost += fmt.Sprintf("; disconnects %s/session-day", sci(dr.Estimate))
			if bd, ok := baseMetric(base, MetricDisconnectRate); ok && base.TimeoutS != c.TimeoutS {
				cost += fmt.Sprintf(" (%s at %s)", sci(bd.Estimate), secs(base.TimeoutS))
			}
		}
		b.WriteString(cost + ".\n")
	}
	if base != nil && (rec.Recommended < 0 || base.TimeoutS != rec.Candidates[rec.Recommended].TimeoutS) {
		m, _ := base.Metric(q.Metric)
		fmt.Fprintf(&b, "For comparison, at %s: %s = %s.\n", secs(base.TimeoutS), q.describe(), estimateCI(m))
	}
	for _, w := range rec.Warnings {
		fmt.Fprintf(&b, "Warning: %s.\n", w)
	}

	unit := "replications/point"
	if rec.Method == RecommendRare {
		unit = "episodes/point"
		fmt.Fprintf(&b, "\nExplored %d timeouts with %d single-outage episodes (seed %d), in batches of %d doubling up to %d per point, the same episodes at every timeout:\n",
			len(rec.Candidates), rec.Episodes, rec.Seed, rec.RareBatch, rec.RareMaxEpisodes)
	} else {
		fmt.Fprintf(&b, "\nExplored %d timeouts with %d replications (seed %d), in batches of %d doubling up to %d per point:\n",
			len(rec.Candidates), rec.Replications, rec.Seed, rec.Batch, rec.MaxReplications)
	}
	if rec.Isotonic > 0 {
		fmt.Fprintf(&b, "(%d estimates moved by the monotone fit of the curve: a longer timeout does not expire more sessions)\n", rec.Isotonic)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "step\tT\t%s [95%% CI]\t%s\tverdict\t\n", q.describe(), unit)
	for i, c := range rec.Candidates {
		m, _ := c.Metric(q.Metric)
		v := c.Verdict
		switch {
		case i == rec.Recommended:
			v += " <- answer"
		case c.BeyondServerMax:
			v += " (needs server change)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s [%s, %s]\t%d\t%s\t\n", c.Step, secs(c.TimeoutS), sci(m.Estimate), sci(m.Lower), sci(m.Upper), c.Replications, v)
	}
	_ = tw.Flush() // a strings.Builder does not fail
	b.WriteString("meets: upper bound <= target; misses: lower bound > target; not shown: neither within the budget (counts as not meeting).\n")
	return b.String()
}

func baseMetric(base *Candidate, name string) (Metric, bool) {
	if base == nil {
		return Metric{}, false
	}
	return base.Metric(name)
}
