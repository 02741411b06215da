package experiments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hbsim/model"
	"hbsim/sim"
)

// MaxRuns bounds the replications of one experiment (sweep points times
// replications per point). Replication numbers must stay below 2^32 for
// ReplicationSeed, and a run anywhere near this size would take years.
const MaxRuns = 1_000_000_000

// RunOptions are a run's knobs that do not change its result.
type RunOptions struct {
	Workers int // parallel replications; <= 0 means GOMAXPROCS
	// Check verifies the model's invariants after every event (see
	// model.Options); a violation fails the run like a panic does. It is
	// always on in test binaries (testing.Testing), so that every test that
	// runs an experiment checks the invariants.
	Check bool
	// Progress, when set, is called after each replication is aggregated,
	// from one goroutine, with the number done (resumed ones included) and
	// the total of the run (or of the shard).
	Progress func(done, total int)
	// Checkpoint, when not empty, is the path of a records file to which
	// every replication is appended as it is aggregated, so that an
	// interrupted or killed run can be resumed. Run creates it and fails if
	// it exists, unless Resume is set. The caller removes it once the
	// outputs are written.
	Checkpoint string
	// Resume continues the run recorded in Checkpoint: its replications are
	// folded from the file instead of being run again, and the run goes on
	// appending to it. A torn record at its end (the process was killed
	// while writing it) is dropped and run again. Without a file at
	// Checkpoint, the run starts from the beginning.
	Resume bool

	// model runs one replication; nil means model.Run. Tests set it to
	// inject failures.
	model func(model.Config, model.Options) (model.Stats, error)
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
	// Stack is the goroutine's stack when the replication panicked; nil
	// for other failures.
	Stack []byte
}

func (e *ReplicationError) Error() string {
	return fmt.Sprintf("experiments: point %d replication %d (seed %d): %v", e.Point, e.Replication, e.Seed, e.Err)
}

func (e *ReplicationError) Unwrap() error { return e.Err }

// InterruptedError is a run stopped by its context before every replication
// was aggregated. With a checkpoint, the run can be resumed.
type InterruptedError struct {
	Done, Total int
	Err         error // the context's error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("experiments: run interrupted after %d of %d replications: %v", e.Done, e.Total, e.Err)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

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
	atLeast                               []int64  // atLeast[k-1]: episodes with >= k expiries
	final                                 []Metric // metrics(), once every replication is folded

	// serverFaults is set for a point whose faults act on servers: its
	// metrics then include the ensemble's (time without a leader, dropped
	// connections, reconnect storm).
	serverFaults             bool
	noLeader, dropped, storm Welford
}

// newPointAccs returns one accumulator per point.
func newPointAccs(points []Point) []pointAcc {
	accs := make([]pointAcc, len(points))
	for i, p := range points {
		accs[i].serverFaults = slices.ContainsFunc(p.Config.Faults, func(f model.Fault) bool { return f.Kind.ServerSide() })
	}
	return accs
}

// add folds one replication's Stats.
func (a *pointAcc) add(st model.Stats) {
	r := summarize(st)
	a.fold(&r)
}

// fold folds one replication's summary. Every float is computed from the summary's
// integers exactly as from the model.Stats it came from, so results do not
// depend on whether a replication was just run or read back from a file.
func (a *pointAcc) fold(r *repSummary) {
	a.reps++
	a.exposures += r.exposures
	a.expiredExposures += r.expiredExposures
	a.expiries += r.expiries
	a.clientsExpired += r.clientsExpired
	a.disconnects += r.disconnects
	a.clientRuns += r.clients
	a.sessionDays += float64(r.clients) * time.Duration(r.horizon).Hours() / 24
	if r.observed > 0 {
		a.disconnectedFraction.Add(time.Duration(r.disconnected).Seconds() / time.Duration(r.observed).Seconds())
	}
	if r.detectionMeasured {
		a.detection.Add(time.Duration(r.detection).Seconds())
	}
	a.events += r.events
	a.clients = int(r.clients)
	a.episodes += r.episodes
	a.hits += r.hits
	for int64(len(a.atLeast)) < max(r.maxHit, int64(len(r.atLeast))) {
		a.atLeast = append(a.atLeast, 0)
	}
	for k, c := range r.atLeast {
		a.atLeast[k] += c
	}
	for i := range r.noLeader {
		a.noLeader.Add(time.Duration(r.noLeader[i]).Seconds())
		a.dropped.Add(float64(r.dropped[i]))
	}
	a.storm.Add(float64(r.peakConnects))
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

// finalMetrics is metrics(), computed already if the point is complete.
func (a *pointAcc) finalMetrics() []Metric {
	if a.final != nil {
		return a.final
	}
	return a.metrics()
}

func (a *pointAcc) metrics() []Metric {
	ms := []Metric{
		ProportionMetric(MetricExpiryPerOutage, "probability", float64(a.expiredExposures), float64(a.exposures)),
		RateMetric(MetricExpiryRate, "1/session-day", float64(a.expiries), a.sessionDays),
		ProportionMetric(MetricExpiryInHorizon, "probability", float64(a.clientsExpired), float64(a.clientRuns)),
		RateMetric(MetricDisconnectRate, "1/session-day", float64(a.disconnects), a.sessionDays),
		MeanMetric(MetricDisconnectedFraction, "fraction", a.disconnectedFraction),
		MeanMetric(MetricDetectionTime, "s", a.detection),
	}
	if a.serverFaults {
		ms = append(ms,
			MeanMetric(MetricNoLeader, "s", a.noLeader),
			MeanMetric(MetricDropped, "connections", a.dropped),
			MeanMetric(MetricReconnectStorm, "connects/s", a.storm))
	}
	return ms
}

// Run runs every replication of every point of s and aggregates them.
//
// A cancelled ctx stops the run: no new replication starts, the ones in
// flight finish and are aggregated (and recorded in the checkpoint), and Run
// returns an *InterruptedError. A replication that fails (an invariant
// violation or a panic, recovered) stops the run the same way and Run
// returns its *ReplicationError.
//
// In both cases, when at least one replication was aggregated, Run also
// returns the partial Result of the replications before the one that
// stopped it: Partial is set, points that did not run are left out, and a
// warning says how much is missing.
func Run(ctx context.Context, s *Spec, opts RunOptions) (*Result, error) {
	points, err := runnablePoints(s)
	if err != nil {
		return nil, err
	}
	reps := s.Replications
	accs := newPointAccs(points)
	done, err := runJobs(ctx, s, points, Shard{}, opts, func(job int, r *repSummary) {
		a := &accs[job/reps]
		a.fold(r)
		if a.reps == reps {
			// The point is complete: its intervals are computed here, while
			// the workers run later points, not all at the end.
			a.final = a.metrics()
		}
	})
	if err != nil {
		if ie := s.lawInputError(err); ie != nil {
			return nil, ie
		}
		if done == 0 {
			return nil, err
		}
		return buildResult(s, points, accs), err
	}
	return buildResult(s, points, accs), nil
}

// lawInputError is the *SpecError naming the law in the file when err is a
// replication that failed on a law's draw (a *model.LawError: bad input,
// not a failed run), and nil otherwise.
func (s *Spec) lawInputError(err error) error {
	var le *model.LawError
	var re *ReplicationError
	if !errors.As(err, &le) || !errors.As(err, &re) {
		return nil
	}
	key := ""
	switch {
	case le.Fault >= 0 && le.Fault < len(s.t.faults):
		key = s.t.faults[le.Fault].key + ".duration"
	case le.Where == "network latency":
		key = "network.latency"
	case le.Where == "client request interval":
		key = "client.request_interval"
	case le.Where == "server sync time":
		key = "server.sync_time"
	}
	return &SpecError{Problems: []Problem{s.problem(key, "the %s law drew %v at point %d replication %d (seed %d), not a finite duration: its parameters put draws beyond any number",
		le.Law.Kind, le.Value, re.Point, re.Replication, re.Seed)}}
}

// runnablePoints expands the sweep and checks that it is not absurdly large.
func runnablePoints(s *Spec) ([]Point, error) {
	points, err := s.Points()
	if err != nil {
		return nil, err
	}
	if n := float64(len(points)) * float64(s.Replications); n > MaxRuns {
		return nil, &SpecError{Problems: []Problem{s.problem("experiment.replications",
			"%d point(s) x %d replication(s) = %.0f runs, more than %d; shrink the sweep or the replications",
			len(points), s.Replications, n, MaxRuns)}}
	}
	return points, nil
}

// maxJobs bounds the job index of a record.
const maxJobs = MaxRuns

// repResult is one finished replication.
type repResult struct {
	job   int
	stats model.Stats
	err   error
}

// outcome is one finished replication of runJobs, numbered by its position
// in the run's job sequence, reduced to its summary.
type outcome struct {
	sum repSummary
	err error
}

// chunkOutcome is what a worker returns for the chunk of jobs starting at
// first: one outcome per job run, in order (fewer when it stopped early).
type chunkOutcome struct {
	first, n int
	outs     []outcome
}

// chunk is a run of n consecutive jobs starting at first.
type chunk struct{ first, n int }

// runJobs runs the jobs of shard sh (job = point × replications + rep;
// Shard{} is every job), resuming from and appending to opts.Checkpoint,
// and calls fold with every job's summary in job order, resumed ones first.
// It returns how many jobs were folded.
func runJobs(ctx context.Context, s *Spec, points []Point, sh Shard, opts RunOptions, fold func(job int, r *repSummary)) (done int, err error) {
	sh = sh.normal()
	reps := s.Replications
	total := len(points) * reps
	count := sh.jobs(total) // this run's share
	next := sh.Index        // the next job to fold
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(done, count)
		}
	}

	var w *recordWriter
	if opts.Checkpoint != "" {
		h, herr := newHeader(s, points, sh)
		if herr != nil {
			return 0, herr
		}
		var cerr error
		if _, statErr := os.Stat(opts.Checkpoint); opts.Resume && statErr == nil {
			next, done, w, cerr = resume(opts.Checkpoint, h, sh, total, fold)
		} else {
			w, cerr = createRecords(opts.Checkpoint, h)
		}
		if cerr != nil {
			return done, cerr
		}
		defer func() {
			// The final flush and sync: the checkpoint is only as good as this.
			if e := w.close(); e != nil {
				err = errors.Join(err, e)
			}
		}()
		if done > 0 {
			progress()
		}
	}
	remaining := count - done

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(min(workers, remaining), 1)
	jobOf := func(seq int) int { return next + seq*sh.Count }

	// Jobs are handed out in chunks of consecutive jobs and folded in order;
	// a window bounds how far completed chunks may run ahead of the next one
	// to fold. Chunks amortise the hand-offs between goroutines over many
	// short replications.
	window := 4 * workers
	slots := make(chan struct{}, window)
	jobs := make(chan chunk)
	results := make(chan chunkOutcome, window)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := opts.model
			if run == nil {
				var world *model.World // this worker's, recycled from one replication to the next
				run = func(cfg model.Config, mo model.Options) (model.Stats, error) {
					w, err := model.Recycle(world, cfg, mo)
					if err != nil {
						return model.Stats{}, err
					}
					world = w
					return w.Run()
				}
			}
			for c := range jobs {
				out := chunkOutcome{first: c.first, n: c.n}
				for seq := c.first; seq < c.first+c.n; seq++ {
					if ctx.Err() != nil {
						break // a short chunk: folding stops after it
					}
					j := jobOf(seq)
					p := points[j/reps]
					r := replicate(run, j, ReplicationConfig(s.Seed, p, j%reps), p.Index, j%reps, opts.Check)
					o := outcome{err: r.err}
					if r.err == nil {
						o.sum = summarize(r.stats)
					}
					out.outs = append(out.outs, o)
					if r.err != nil {
						break
					}
				}
				results <- out
			}
		}()
	}
	go func() {
		defer close(jobs)
		for first := 0; first < remaining; {
			// Guided chunks: an eighth of each worker's share of what is
			// left, at most 64, so chunks shrink to single jobs at the end
			// and the workers finish together.
			c := chunk{first: first, n: min(max((remaining-first)/(workers*8), 1), 64)}
			first += c.n
			if ctx.Err() != nil { // select picks at random among ready cases
				return
			}
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- c:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	pending := make(map[int]chunkOutcome, window)
	folded := 0  // the first job of the next chunk to fold
	cut := false // a chunk came back short (interrupted): fold nothing after it
	var runErr error
	for r := range results {
		pending[r.first] = r
		for !cut {
			c, ok := pending[folded]
			if !ok {
				break
			}
			delete(pending, folded)
			<-slots
			for i, q := range c.outs {
				if q.err != nil && runErr == nil {
					runErr = q.err
					close(stop)
				}
				if runErr == nil {
					j := jobOf(folded + i)
					fold(j, &q.sum)
					if w != nil {
						w.add(j, &q.sum)
					}
					done++
				}
			}
			progress()
			if len(c.outs) < c.n {
				cut = true
			}
			folded += c.n
		}
		if w != nil && runErr == nil {
			if err := w.flush(); err != nil {
				runErr = err
				close(stop)
			}
		}
	}
	if runErr != nil {
		return done, runErr
	}
	if done < count {
		return done, &InterruptedError{Done: done, Total: count, Err: ctx.Err()}
	}
	return done, nil
}

// resume folds the records of the checkpoint at path and opens it for
// appending after them. It returns the next job to run and the number of
// jobs folded.
func resume(path string, h recordsHeader, sh Shard, total int, fold func(job int, r *repSummary)) (next, done int, w *recordWriter, err error) {
	rr, err := openRecords(path)
	if err != nil {
		return 0, 0, nil, err
	}
	defer func() {
		if e := rr.close(); e != nil && err == nil {
			err = fmt.Errorf("experiments: %s: %w", path, e)
		}
	}()
	if err := rr.check(h); err != nil {
		return 0, 0, nil, err
	}
	next = sh.Index
	for {
		job, r, ok, err := rr.next()
		if err != nil {
			return 0, 0, nil, err
		}
		if !ok {
			break
		}
		if job != next || job >= total {
			return 0, 0, nil, &CheckpointError{Path: path, Msg: fmt.Sprintf("record %d is replication %d, expected %d: the file is damaged", done+1, job, next)}
		}
		fold(job, &r)
		next += sh.Count
		done++
	}
	w, err = appendTo(path, rr.valid)
	return next, done, w, err
}

// runReplication runs one replication with model.Run, recovering a panic
// into a *ReplicationError. In a test binary the invariant checker is
// always on.
func runReplication(job int, cfg model.Config, point, rep int, check bool) repResult {
	return replicate(nil, job, cfg, point, rep, check)
}

// replicate is runReplication with the model runner run (nil: model.Run).
func replicate(run func(model.Config, model.Options) (model.Stats, error), job int, cfg model.Config, point, rep int, check bool) (r repResult) {
	if run == nil {
		run = model.Run
	}
	check = check || testing.Testing()
	r.job = job
	defer func() {
		if p := recover(); p != nil {
			r.err = &ReplicationError{Point: point, Replication: rep, Seed: cfg.Seed,
				Err: fmt.Errorf("panic: %v", p), Stack: debug.Stack()}
		}
	}()
	st, err := run(cfg, model.Options{Check: check})
	if err != nil {
		r.err = &ReplicationError{Point: point, Replication: rep, Seed: cfg.Seed, Err: err}
	}
	r.stats = st
	return r
}

// buildResult turns the accumulators into a Result. When some point has
// fewer replications than the spec asks for, the result is partial: only
// points with at least one replication are listed, and a warning says what
// is missing.
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
	done, short := 0, []string{}
	for i, p := range points {
		done += accs[i].reps
		if accs[i].reps < s.Replications {
			res.Partial = true
			if accs[i].reps > 0 {
				short = append(short, fmt.Sprintf("point %d has %d", p.Index, accs[i].reps))
			}
		}
		if accs[i].reps == 0 {
			continue
		}
		cfg := p.Config.Defaults()
		res.Points = append(res.Points, PointResult{
			Index:                    p.Index,
			Params:                   p.Params,
			SessionTimeoutS:          cfg.Server.Negotiate(cfg.Client.SessionTimeout).Seconds(),
			RequestedSessionTimeoutS: cfg.Client.SessionTimeout.Seconds(),
			TickTimeS:                cfg.Server.TickTime.Seconds(),
			Clients:                  cfg.Clients,
			Metrics:                  accs[i].finalMetrics(),
			MassExpiry:               accs[i].massExpiry(),
		})
	}
	if res.Partial {
		w := fmt.Sprintf("partial result: %d of %d replications; %d of %d point(s) listed",
			done, len(points)*s.Replications, len(res.Points), len(points))
		if len(short) > 0 {
			w += fmt.Sprintf(" (%s of %d replications)", strings.Join(short, ", "), s.Replications)
		}
		res.Warnings = append(res.Warnings, w)
	}
	return res
}
