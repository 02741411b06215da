package experiments

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"hbsim/model"
)

// Recommend for a per-session-day target with the rare-event estimator.
//
// A target like 1e-4 expiries per session-day is beyond plain simulation
// (it would need millions of session-days per candidate) but within the
// rare-event mode's reach (rare.go). When every pooled point satisfies that
// mode's assumptions (one outage fault, Poisson, per client, rarely
// overlapping), Recommend estimates each candidate timeout's rate as
// λ·day·P(expire | outage) from single-outage episodes, and says so;
// otherwise it simulates plainly and says why.
//
// Common random numbers. Candidate timeouts share their episodes: episode
// i of pooled point c has the same seed, outage length, weight and place
// in the ping cycle (a fraction of the period, so that the outage starts
// at the same point of every timeout's cycle) at every T. The estimates of
// two timeouts then differ by what the timeout changes, not by which
// outages were drawn, so the estimated curve falls with T and the
// bisection does not jump on a lucky batch. The proposal cannot depend on
// T for that: it is the defensive mixture of f and f conditioned on
// D > a*, with a* where S(a*) = RareTailFactor × the per-outage probability
// the target allows (λ·day·P = target), so that the conditioned half
// covers the outages that decide the answer. The weights are then 2 (D <=
// a*) or w* = 1/(1/2 + 1/(2 S(a*))) (D > a*), and
//
//	P = 2·π_short + w*·π_long,
//
// π the probabilities, under the proposal, that an episode expires with a
// short or a long outage. Its interval is exact: Clopper–Pearson for both
// counts at 97.5 % each (a union bound), or, when no short outage expired
// and a* is below a(T) = T − p − 2 s (the rare mode's bound below which no
// outage expires a session), w* times the 95 % Clopper–Pearson interval of
// the long count. That second form shows targets far below 1/episodes, as
// it must at long timeouts; an expiry with a short outage there is
// reported as a warning.
//
// The reported curve is made monotone in T (monotone): shared episodes
// leave only small wiggles, which the isotonic fit removes and the output
// counts.
//
// Stopping rule: as for plain replications, a candidate runs a first batch
// of episodes per pooled point (RecommendOptions.RareBatch, default 2 000),
// then doubles them up to RecommendOptions.RareMaxEpisodes (default 8 000)
// until its interval is decided. A candidate starts with as many episodes
// as the candidates before it reached: the bisection's last steps, near
// the answer, all run the same (largest) set of episodes.

// RareTailFactor places the shared proposal's threshold: S(a*) is this
// many times the per-outage expiry probability the target allows.
const RareTailFactor = 10

// Methods of a recommendation.
const (
	RecommendPlain = "plain simulation"
	RecommendRare  = "rare-event estimate"
)

// rareCombo is one pooled point under the rare-event estimator.
type rareCombo struct {
	f         model.Fault
	lambdaDay float64 // outages per session-day
	a, tail   float64 // the shared proposal's threshold a* (s) and S(a*)
	wLong     float64 // the weight of an outage longer than a*
	draws     []rareDraw
}

// rareCand is one candidate's episode counts, per pooled point.
type rareCand struct {
	n     int   // episodes run per pooled point
	short []int // expired episodes with D <= a*
	long  []int // expired episodes with D > a*
}

// rareRec is the rare-event side of a recommender.
type rareRec struct {
	combos      []rareCombo
	first, most int
	reached     int // the most episodes any searched candidate has run
	episodes    int // run in total
	warned      map[time.Duration]bool
}

// setupRare switches r to the rare-event estimator when the target is per
// session-day and every pooled point satisfies the mode's assumptions. It
// returns why not otherwise.
func (r *recommender) setupRare(rec *Recommendation) string {
	if r.opts.Target.Metric != MetricExpiryRate {
		return "the target is per outage, which plain simulation measures directly"
	}
	if r.opts.Plain {
		return "plain simulation was asked for (--plain)"
	}
	rr := &rareRec{first: r.opts.RareBatch, most: r.opts.RareMaxEpisodes, warned: map[time.Duration]bool{}}
	if rr.first <= 0 {
		rr.first = 2000
	}
	if rr.most <= 0 {
		rr.most = 4 * rr.first
	}
	rr.most = max(rr.most, rr.first)
	for _, c := range r.combos {
		f, _, err := rareCheck(c.cfg)
		if err != nil {
			reason := strings.TrimPrefix(err.Error(), "experiments: ")
			if len(r.combos) > 1 {
				reason = PointLabel(c.params) + ": " + reason
			}
			return reason
		}
		lambdaDay := 24 * time.Hour.Seconds() / f.Every.Seconds()
		allowed := r.opts.Target.Value / lambdaDay // the per-outage probability the target allows
		rc := rareCombo{f: f, lambdaDay: lambdaDay, wLong: 1}
		if q := RareTailFactor * allowed; q < 0.5 {
			rc.a = f.Duration.Quantile(1 - q)
			rc.tail = f.Duration.Survival(rc.a)
			if rc.tail > 0 {
				rc.wLong = 1 / (0.5 + 0.5/rc.tail)
			}
		}
		rr.combos = append(rr.combos, rc)
	}
	r.rare = rr
	rec.RareBatch, rec.RareMaxEpisodes = rr.first, rr.most
	return ""
}

// evaluateRare runs episodes at timeout t until its interval decides it
// or its budget is spent (search), or one batch (the baseline).
func (r *recommender) evaluateRare(st *recState, search bool) error {
	rr := r.rare
	if st.rare == nil {
		st.rare = &rareCand{short: make([]int, len(rr.combos)), long: make([]int, len(rr.combos))}
	}
	for {
		if st.rare.n > 0 {
			r.judgeRare(st)
			decided := st.cand.Verdict == VerdictMeets || st.cand.Verdict == VerdictMisses
			if !search || decided || st.rare.n >= rr.most {
				return nil
			}
		}
		// A new candidate of the search starts with as many episodes as
		// any before it: near the answer, candidates then compare on the
		// same episodes, not a small lucky batch against a large one.
		next := rr.first
		if search {
			next = max(next, rr.reached)
		}
		if st.rare.n > 0 {
			next = min(2*st.rare.n, rr.most)
		}
		if err := r.runRareBatch(st, next); err != nil {
			return err
		}
		if search {
			rr.reached = max(rr.reached, st.rare.n)
		}
		r.judgeRare(st)
		decided := st.cand.Verdict == VerdictMeets || st.cand.Verdict == VerdictMisses
		if r.opts.Progress != nil && (!search || decided || st.rare.n >= rr.most) {
			r.opts.Progress(st.cand)
		}
	}
}

// runRareBatch runs episodes [st.rare.n, upTo) of every pooled point at
// st.timeout, in parallel, and counts them in (point, episode) order.
func (r *recommender) runRareBatch(st *recState, upTo int) error {
	rr := r.rare
	from := st.rare.n
	per := upTo - from
	for ci := range rr.combos {
		rc := &rr.combos[ci]
		for i := len(rc.draws); i < upTo; i++ {
			rc.draws = append(rc.draws, drawEpisode(r.s.Seed, r.combos[ci].index, i, rc.f.Duration, rc.a, rc.tail))
		}
	}
	n := per * len(rr.combos)
	expired := make([]bool, n)
	errs := make([]error, n)
	cancelled := forEachJob(r.ctx, r.workers, n, func(j int) {
		ci, i := j/per, from+j%per
		c, rc := r.combos[ci], &rr.combos[ci]
		dr := rc.draws[i]
		stats, err := model.Run(episodeConfig(r.config(c, st.timeout, 0), rc.f, dr), model.Options{Check: r.opts.Check})
		if err != nil {
			errs[j] = &ReplicationError{Point: c.index, Replication: i, Seed: dr.seed, Err: err}
			return
		}
		expired[j] = stats.ExpiredExposures > 0
	})
	if cancelled != nil {
		return fmt.Errorf("experiments: recommend interrupted at T=%s: %w", fmtDur(st.timeout), cancelled)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for j, e := range expired {
		if !e {
			continue
		}
		ci, i := j/per, from+j%per
		if rr.combos[ci].draws[i].long {
			st.rare.long[ci]++
		} else {
			st.rare.short[ci]++
		}
	}
	st.rare.n = upTo
	rr.episodes += n
	return nil
}

// rareBounds is the estimate and 95 % interval of P(expire | outage) of
// pooled point ci at a candidate, and whether the short-outage bound of
// rare.go was needed and held.
func (r *recommender) rareBounds(st *recState, ci int) (est, lo, hi float64, assumed bool) {
	rc := r.rare.combos[ci]
	n := float64(st.rare.n)
	ks, kl := float64(st.rare.short[ci]), float64(st.rare.long[ci])
	est = (2*ks + rc.wLong*kl) / n
	t := st.timeout
	aT := (t - model.PingPeriod(t) - 2*time.Second).Seconds()
	if ks == 0 && rc.tail > 0 && rc.a <= aT {
		l, h := ClopperPearson(kl, n, ConfidenceLevel)
		return est, rc.wLong * l, rc.wLong * h, true
	}
	conf := 1 - (1-ConfidenceLevel)/2 // two counts, a union bound
	ls, hs := ClopperPearson(ks, n, conf)
	ll, hl := ClopperPearson(kl, n, conf)
	if rc.tail <= 0 { // plain sampling: every weight is 1
		l, h := ClopperPearson(ks+kl, n, ConfidenceLevel)
		return est, l, h, false
	}
	return est, 2*ls + rc.wLong*ll, math.Min(1, 2*hs+rc.wLong*hl), false
}

// judgeRare refreshes a candidate from its episode counts: the pooled
// (equally weighted) P(expire | outage) and expiries per session-day, each
// pooled bound the mean of the points' bounds.
func (r *recommender) judgeRare(st *recState) {
	rr := r.rare
	var p, pl, ph, rate, rl, rh float64
	var expired int
	m := float64(len(rr.combos))
	for ci, rc := range rr.combos {
		est, lo, hi, _ := r.rareBounds(st, ci)
		p, pl, ph = p+est/m, pl+lo/m, ph+hi/m
		rate, rl, rh = rate+rc.lambdaDay*est/m, rl+rc.lambdaDay*lo/m, rh+rc.lambdaDay*hi/m
		expired += st.rare.short[ci] + st.rare.long[ci]
		if st.rare.short[ci] > 0 && rc.tail > 0 && rc.a <= (st.timeout-model.PingPeriod(st.timeout)-2*time.Second).Seconds() {
			rr.warned[st.timeout] = true
		}
	}
	n := float64(st.rare.n * len(rr.combos))
	st.cand.TimeoutS = st.timeout.Seconds()
	st.cand.Replications = st.rare.n
	st.cand.Metrics = []Metric{
		{Name: MetricExpiryPerOutage, Unit: "probability", Estimate: p, Lower: pl, Upper: ph, Count: float64(expired), Trials: n, Method: MethodImportance},
		{Name: MetricExpiryRate, Unit: "1/session-day", Estimate: rate, Lower: rl, Upper: rh, Count: float64(expired), Trials: n, Method: MethodImportance},
	}
	r.verdict(st)
}

// rareWarnings are where an episode contradicted what the rare-event
// estimate assumed.
func (r *recommender) rareWarnings(rec *Recommendation) {
	for _, t := range sortedDurations(r.rare.warned) {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf(
			"at T = %s an outage shorter than T - p - 2 s expired a session: the interval there is the union bound over both kinds of outage, not the tighter one", secs(t.Seconds())))
	}
}

// monotone makes the explored curve fall with T, as the expected expiry
// rate does (a longer timeout expires no session that a shorter one keeps,
// over random ping and bucket phases). Shared episodes make the estimates
// nearly monotone already; what remains (an episode whose bucket grace or
// reconnection lands differently at two close timeouts) is removed by the
// isotonic (pool-adjacent-violators) fit of the estimates, weighted by
// episodes, and by monotone envelopes of the bounds: an upper bound at T
// holds for every longer timeout, a lower bound for every shorter one.
// Verdicts follow the envelopes; the answer, the smallest timeout that
// meets the target, cannot change (the bisection never saw a shorter one
// meet). It returns how many estimates moved.
func monotone(rec *Recommendation) int {
	metrics := []string{MetricExpiryPerOutage, MetricExpiryRate}
	moved := 0
	for _, name := range metrics {
		var idx []int
		var y, w []float64
		for i, c := range rec.Candidates { // sorted by timeout
			if m, ok := c.Metric(name); ok {
				idx = append(idx, i)
				y = append(y, m.Estimate)
				w = append(w, float64(max(c.Replications, 1)))
			}
		}
		fit := isotonicDecreasing(y, w)
		lowest := math.Inf(1)
		for k, i := range idx {
			m := metricPtr(&rec.Candidates[i], name)
			if fit[k] != m.Estimate {
				if name == rec.Target.Metric {
					moved++
				}
				m.Estimate = fit[k]
			}
			lowest = math.Min(lowest, m.Upper)
			m.Upper = lowest
		}
		highest := math.Inf(-1)
		for k := len(idx) - 1; k >= 0; k-- {
			m := metricPtr(&rec.Candidates[idx[k]], name)
			highest = math.Max(highest, m.Lower)
			m.Lower = highest
		}
	}
	for i := range rec.Candidates {
		c := &rec.Candidates[i]
		if c.Verdict == VerdictBaseline {
			continue
		}
		m, _ := c.Metric(rec.Target.Metric)
		switch {
		case m.Upper <= rec.Target.Value:
			c.Verdict = VerdictMeets
		case m.Lower > rec.Target.Value:
			c.Verdict = VerdictMisses
		default:
			c.Verdict = VerdictNotShown
		}
	}
	return moved
}

func metricPtr(c *Candidate, name string) *Metric {
	for i := range c.Metrics {
		if c.Metrics[i].Name == name {
			return &c.Metrics[i]
		}
	}
	return nil
}

// isotonicDecreasing is the weighted least-squares non-increasing fit of
// y (pool adjacent violators).
func isotonicDecreasing(y, w []float64) []float64 {
	type block struct {
		sum, weight float64
		first, n    int
	}
	var bs []block
	for i := range y {
		bs = append(bs, block{y[i] * w[i], w[i], i, 1})
		for len(bs) > 1 {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			if a.sum/a.weight >= b.sum/b.weight {
				break
			}
			bs = append(bs[:len(bs)-2], block{a.sum + b.sum, a.weight + b.weight, a.first, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(y))
	for _, b := range bs {
		for j := range b.n {
			if b.n == 1 {
				out = append(out, y[b.first+j]) // untouched: the very same value
				continue
			}
			out = append(out, b.sum/b.weight)
		}
	}
	return out
}

func sortedDurations(m map[time.Duration]bool) []time.Duration {
	out := make([]time.Duration, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
