package experiments

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"hbsim/model"
	"hbsim/sim"
)

// RunOptions are a run's knobs that do not change its result.
type RunOptions struct {
	Workers int // parallel replications; <= 0 means GOMAXPROCS
	Check   bool
	// Progress, when set, is called after each replication is aggregated,
	// from one goroutine, with the number done and the total.
	Progress func(done, total int)
}

// ReplicationSeed is the seed of replication rep of sweep point point.
func ReplicationSeed(seed uint64, point, rep int) uint64 {
	return sim.Mix64(sim.Mix64(seed+0x9e3779b97f4a7c15) ^ (uint64(point)<<32 | uint64(uint32(rep))))
}

// ReplicationConfig is the model configuration of one replication.
func ReplicationConfig(seed uint64, p Point, rep int) model.Config {
	cfg := p.Config
	cfg.Seed = ReplicationSeed(seed, p.Index, rep)
	return cfg
}

// ReplicationError is a replication that failed (an invariant violation or a
// panic), with what it takes to replay it.
type ReplicationError struct {
	Point, Replication int
	Seed               uint64
	Err                error
}

func (e *ReplicationError) Error() string {
	return fmt.Sprintf("experiments: point %d replication %d (seed %d): %v", e.Point, e.Replication, e.Seed, e.Err)
}

func (e *ReplicationError) Unwrap() error { return e.Err }

type repResult struct {
	job   int
	stats model.Stats
	err   error
}

// pointAcc folds a point's replications, in replication order.
type pointAcc struct {
	reps                                  int
	exposures, expiredExposures, expiries int64
	clientsExpired, disconnects           int64
	clientRuns                            int64
	sessionDays                           float64
	disconnectedFraction                  Welford
	detection                             Welford
	events                                uint64
	clients                               int
	episodes, hits                        int64
	atLeast                               []int64 // atLeast[k-1]: episodes with >= k expiries
}

func (a *pointAcc) add(st model.Stats) {
	a.reps++
	a.exposures += int64(st.Exposures)
	a.expiredExposures += int64(st.ExpiredExposures)
	a.expiries += int64(st.Expiries)
	a.clientsExpired += int64(st.ClientsExpired)
	a.disconnects += int64(st.Disconnects)
	a.clientRuns += int64(st.Clients)
	a.sessionDays += float64(st.Clients) * st.Horizon.Hours() / 24
	if st.ObservedTime > 0 {
		a.disconnectedFraction.Add(st.DisconnectedTime.Seconds() / st.ObservedTime.Seconds())
	}
	if st.DetectionMeasured {
		a.detection.Add(st.DetectionTime.Seconds())
	}
	a.events += st.Events
	a.clients = st.Clients
	for _, ep := range st.SharedEpisodes {
		a.episodes++
		a.hits += int64(ep.Hit)
		for len(a.atLeast) < ep.Hit {
			a.atLeast = append(a.atLeast, 0)
		}
		for k := 1; k <= ep.Expired; k++ {
			a.atLeast[k-1]++
		}
	}
}

func (a *pointAcc) massExpiry() []MassExpiry {
	if a.episodes == 0 {
		return nil
	}
	out := make([]MassExpiry, len(a.atLeast))
	for i, c := range a.atLeast {
		m := ProportionMetric("", "", float64(c), float64(a.episodes))
		out[i] = MassExpiry{K: i + 1, Episodes: int(a.episodes), Count: int(c), Estimate: m.Estimate, Lower: m.Lower, Upper: m.Upper,
			MeanHit: float64(a.hits) / float64(a.episodes)}
	}
	return out
}

func (a *pointAcc) metrics() []Metric {
	return []Metric{
		ProportionMetric(MetricExpiryPerOutage, "probability", float64(a.expiredExposures), float64(a.exposures)),
		RateMetric(MetricExpiryRate, "1/session-day", float64(a.expiries), a.sessionDays),
		ProportionMetric(MetricExpiryInHorizon, "probability", float64(a.clientsExpired), float64(a.clientRuns)),
		RateMetric(MetricDisconnectRate, "1/session-day", float64(a.disconnects), a.sessionDays),
		MeanMetric(MetricDisconnectedFraction, "fraction", a.disconnectedFraction),
		MeanMetric(MetricDetectionTime, "s", a.detection),
	}
}

// Run runs every replication of every point of s and aggregates them. A
// cancelled ctx stops the run: replications in flight finish, and Run
// returns ctx's error.
func Run(ctx context.Context, s *Spec, opts RunOptions) (*Result, error) {
	points, err := s.Points()
	if err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	reps := s.Replications
	total := len(points) * reps
	accs := make([]pointAcc, len(points))

	// Jobs are handed out in order and folded in order; a window bounds how
	// far completed replications may run ahead of the next one to fold.
	window := 4 * workers
	slots := make(chan struct{}, window)
	jobs := make(chan int)
	results := make(chan repResult, window)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				p := points[j/reps]
				results <- runReplication(j, ReplicationConfig(s.Seed, p, j%reps), p.Index, j%reps, opts.Check)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for j := range total {
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	pending := make(map[int]repResult, window)
	next := 0
	var runErr error
	for r := range results {
		pending[r.job] = r
		for {
			q, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			<-slots
			if q.err != nil && runErr == nil {
				runErr = q.err
				close(stop)
			}
			if runErr == nil {
				accs[next/reps].add(q.stats)
			}
			next++
			if opts.Progress != nil && runErr == nil {
				opts.Progress(next, total)
			}
		}
	}
	if runErr != nil {
		return nil, runErr
	}
	if next < total {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("experiments: run interrupted after %d of %d replications: %w", next, total, err)
		}
	}
	return buildResult(s, points, accs), nil
}

func runReplication(job int, cfg model.Config, point, rep int, check bool) (r repResult) {
	r.job = job
	defer func() {
		if p := recover(); p != nil {
			r.err = &ReplicationError{Point: point, Replication: rep, Seed: cfg.Seed,
				Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
		}
	}()
	st, err := model.Run(cfg, model.Options{Check: check})
	if err != nil {
		r.err = &ReplicationError{Point: point, Replication: rep, Seed: cfg.Seed, Err: err}
	}
	r.stats = st
	return r
}

func buildResult(s *Spec, points []Point, accs []pointAcc) *Result {
	clients := 0
	if len(points) > 0 {
		clients = points[0].Config.Clients
	}
	res := &Result{
		Name: s.Name, File: s.File, Seed: s.Seed, Replications: s.Replications,
		HorizonS: s.Horizon.Seconds(), Clients: clients, Axes: s.Axes(), Warnings: s.Warnings(),
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	for i, p := range points {
		cfg := p.Config.Defaults()
		res.Points = append(res.Points, PointResult{
			Index:                    p.Index,
			Params:                   p.Params,
			SessionTimeoutS:          cfg.Server.Negotiate(cfg.Client.SessionTimeout).Seconds(),
			RequestedSessionTimeoutS: cfg.Client.SessionTimeout.Seconds(),
			TickTimeS:                cfg.Server.TickTime.Seconds(),
			Clients:                  cfg.Clients,
			Metrics:                  accs[i].metrics(),
			MassExpiry:               accs[i].massExpiry(),
		})
	}
	return res
}
