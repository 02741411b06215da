package experiments

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"hbsim/clock"
	"hbsim/model"
)

// Cost is a run's estimated cost on this machine: memory, events and
// wall-clock time. The estimate is meant for guard rails (refuse a run that
// would take days or run out of memory), not for planning to the minute.
type Cost struct {
	Runs     int           // replications to run
	Workers  int           // replications run in parallel (at most the CPUs and the runs)
	InFlight int           // replications in memory at once (the workers asked for, at most the runs)
	Events   float64       // simulated events, in total
	Time     time.Duration // wall-clock time with Workers workers
	// Memory is the peak the process holds: Base + InFlight × PerRun +
	// Points × PerPoint.
	Memory int64

	Base     int64 // what the process holds before the run
	PerRun   int64 // peak bytes of one replication (the largest point's)
	Sessions int   // sessions of that replication (clients and the dead-client probe)
	Rings    int64 // of PerRun: the session tracker's bucket ring
	Election int64 // of PerRun: the events a leader election keeps pending
	Servers  int   // servers of that replication
	Points   int   // sweep points
	PerPoint int64 // bytes per point: configuration, accumulator, result and its share of the output files

	EventsPerRun float64 // events of the largest replication
	Pending      float64 // events pending at once in the largest replication
	Calibrated   bool    // measured by calibration runs, not only estimated from the spec
}

// String is a one-line summary, e.g. "160 replications, ~2.1e+05 events,
// ~12 MB, ~0.4s on 2 workers".
func (c Cost) String() string {
	return fmt.Sprintf("%d replications, ~%.2g events, ~%s, ~%s on %d worker(s)",
		c.Runs, c.Events, fmtBytes(c.Memory), fmtWall(c.Time), c.Workers)
}

// What a run holds, before calibration measures it. The figures were
// measured on runs of 5 000 sessions for a simulated hour (idle, with
// outages, pauses, crashes, requests, latency laws, ensembles) and by
// BenchmarkMemoryPerSession, and rounded up.
const (
	// staticSessionBytes is a session's share of a replication's peak heap:
	// about 1 KiB live after an hour of hb-canonical, 1.5-4 KiB at the
	// peak with faults, requests and reconnects.
	staticSessionBytes = 2 << 10
	faultProcBytes     = 160      // a fault process (one per client for independent episodes)
	ringSlotBytes      = 24       // a slot of the tracker's bucket ring
	runBaseBytes       = 64 << 10 // a replication's fixed part
	// pointBytes is a sweep point's share of the peak: its configuration,
	// accumulator and result, and its rows of results.csv and .json while
	// they are encoded (about 10 KiB per point at 20 000 points).
	pointBytes = 10 << 10
	// pointTime is a sweep point's share of the wall-clock time outside the
	// replications: expansion, warnings, aggregation, output (about 140 µs
	// at 20 000 points).
	pointTime = 150 * time.Microsecond
	// staticPendingPerSession is the fewest events a session keeps pending
	// (measured from 1 with an ensemble to 38 with frequent requests).
	staticPendingPerSession = 1
	// pendingEventBytes is what an event pending in an election storm holds
	// (its slot, heap entry and message; measured 2.2 to 3.2 GB for 8.2e6
	// at n = 255).
	pendingEventBytes = 400
)

// calibration limits: how long a calibration run may take, and how many
// points and sessions are calibrated (a larger fleet is calibrated on
// calibrationSessions of its clients and scaled up).
const (
	calibrationTarget   = 5 * time.Millisecond   // per point: run at least this long, and past the start-up
	calibrationCap      = 50 * time.Millisecond  // per point: at most this long
	calibrationBudget   = 200 * time.Millisecond // in total
	calibrationPoints   = 4
	calibrationSessions = 500
)

// EstimateCost is EstimateCostOn this machine (ReadMachine).
func EstimateCost(s *Spec, runs, workers int) (Cost, error) {
	return EstimateCostOn(s, runs, workers, ReadMachine())
}

// EstimateCostOn estimates the cost of running runs replications of s with
// workers workers (<= 0: GOMAXPROCS) on machine m, in two steps.
//
// First from the spec alone: the memory of the largest replication (its
// sessions, fault processes and tracker ring), of the sweep points and of
// the outputs, and the events it keeps pending. A run that cannot fit m or
// the event engine is refused here with a *ResourceError, before anything
// runs (calibrating it could itself exhaust the machine); one that fits only
// once other processes free memory (ResourceError.Soft) is calibrated, and
// the error comes with the calibrated cost.
//
// Then by calibration on this machine: replication 0 of up to four points
// spread over the sweep, each run for about 5 ms of wall-clock time (0.1 s in
// all) on simulated time doubling from 1 ms, with at most 2 000 sessions (a
// larger fleet is scaled up linearly). Events, allocations and pending
// events are extrapolated to the full horizon from the second half of each
// calibration run (past the start-up); one calibration run per worker at
// once measures the speed-up the machine really gives. The calibrated cost
// is checked against m again. Calibration does not touch the run's results;
// a point whose calibration fails (an invalid configuration, a panic) is
// left out, and the run itself will report it.
func EstimateCostOn(s *Spec, runs, workers int, m Machine) (Cost, error) {
	points, err := runnablePoints(s)
	if err != nil {
		return Cost{}, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	par := max(min(workers, runtime.NumCPU(), runs), 1)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c := Cost{Runs: runs, Workers: par, InFlight: max(min(workers, runs), 1), Base: int64(ms.Sys), Points: len(points), PerPoint: pointBytes}
	for _, p := range points {
		f := runFootprint(p.Config)
		if f.bytes > c.PerRun {
			c.PerRun, c.Rings, c.Election, c.Sessions, c.Servers = f.bytes, f.rings, f.election, f.sessions, p.Config.Servers
		}
		c.Pending = max(c.Pending, f.pending)
	}
	c.total()
	var re *ResourceError
	if err := c.Check(s, m); errors.As(err, &re) && !re.Soft {
		return c, err
	}
	if err := c.calibrate(s, points); err != nil {
		return c, err
	}
	return c, c.Check(s, m)
}

// total computes Memory from its parts.
func (c *Cost) total() {
	c.Memory = satAdd(c.Base, satMul(int64(c.InFlight), c.PerRun), satMul(int64(c.Points), c.PerPoint))
}

// footprint is the static estimate of what one replication holds.
type footprint struct {
	bytes    int64   // in all
	rings    int64   // of bytes: the tracker's bucket ring
	election int64   // of bytes: a leader election's pending events
	sessions int     // clients and the dead-client probe
	pending  float64 // events pending at once, at the most
}

// electionPending is how many events a leader election among n servers
// keeps pending at its peak: every server re-broadcasts its vote to every
// other as it changes, about n³/2 notifications in flight (measured: 1.0e6
// at n = 127, 8.2e6 at n = 255, one election after a leader crash).
func electionPending(n int) float64 {
	if n < 2 {
		return 0
	}
	return float64(n) * float64(n) * float64(n) / 2
}

// runFootprint is the static estimate of what a replication of cfg holds.
func runFootprint(cfg model.Config) footprint {
	var f footprint
	f.sessions = cfg.Clients
	if cfg.DeadClientProbe {
		f.sessions++
	}
	if tick := cfg.Server.TickTime; tick > 0 {
		slots := int64(1) // as the tracker sizes it: a power of two above max/tick + 3
		for slots < int64(cfg.Server.MaxSessionTimeout/tick)+3 {
			slots *= 2
		}
		f.rings = slots * ringSlotBytes // one tracker, the leader's
	}
	procs := int64(0)
	for _, flt := range cfg.Faults {
		if !flt.Kind.ServerSide() && flt.Target.Client == model.AllClients && !flt.Target.Shared {
			procs += int64(cfg.Clients)
		} else {
			procs++
		}
	}
	e := electionPending(cfg.Servers)
	f.election = int64(e * pendingEventBytes)
	f.pending = float64(f.sessions)*staticPendingPerSession + e
	perSession := int64(staticSessionBytes + 4*len(cfg.Client.Hosts))
	f.bytes = satAdd(runBaseBytes, satMul(int64(f.sessions), perSession), f.rings, f.election, satMul(procs, faultProcBytes))
	return f
}

// calibrate replaces the static figures of c by measured ones.
func (c *Cost) calibrate(s *Spec, points []Point) error {
	idx := []int{}
	if n := len(points); n <= calibrationPoints {
		for i := range n {
			idx = append(idx, i)
		}
	} else {
		for i := range calibrationPoints {
			idx = append(idx, i*(n-1)/(calibrationPoints-1))
		}
	}
	start := time.Now()
	var evPerRun, secPerEvent float64
	var perRun int64
	pending := 0.0
	measured := 0
	var probe model.Config // a calibration run, for the speed-up
	var probeRate float64
	for _, i := range idx {
		if measured > 0 && time.Since(start) > calibrationBudget {
			break
		}
		cfg, scale := calibrationConfig(ReplicationConfig(s.Seed, points[i], 0))
		m, ok := calibrate(cfg, calibrationTarget)
		if !ok || m.events == 0 {
			continue
		}
		measured++
		if probeRate == 0 {
			probe, probeRate = cfg, float64(m.events)/m.wall.Seconds()
		}
		ev := m.extrapolate(float64(m.events), float64(m.lateEvents), s.Horizon) * scale
		evPerRun += ev
		c.EventsPerRun = max(c.EventsPerRun, ev)
		secPerEvent += m.wall.Seconds() / float64(m.events)
		bytes := m.growth(s.Horizon) * scale
		perRun = max(perRun, int64(min(bytes, math.MaxInt64/4)))
		pending = max(pending, float64(m.pending)*scale)
	}
	if measured == 0 {
		return fmt.Errorf("experiments: %s: cannot estimate the cost: no calibration run succeeded", s.File)
	}
	evPerRun /= float64(measured)
	secPerEvent /= float64(measured)
	c.Events = evPerRun * float64(c.Runs)
	secs := c.Events*secPerEvent/speedup(probe, probeRate, c.Workers) + float64(c.Points)*pointTime.Seconds()
	c.Time = time.Duration(min(secs, float64(math.MaxInt64/2)/1e9) * 1e9)
	c.PerRun = max(c.PerRun, perRun) // the static figure is a floor: calibration runs are short
	c.Pending = max(c.Pending, pending)
	c.Calibrated = true
	c.total()
	return nil
}

// calibrationConfig is cfg with at most calibrationSessions clients (more
// when a fault names a higher client index), and the factor to scale its
// per-replication figures by.
func calibrationConfig(cfg model.Config) (model.Config, float64) {
	if cfg.Clients <= calibrationSessions {
		return cfg, 1
	}
	n := calibrationSessions
	for _, f := range cfg.Faults {
		n = max(n, f.Target.Client+1)
	}
	if n >= cfg.Clients {
		return cfg, 1
	}
	scale := float64(cfg.Clients) / float64(n)
	cfg.Clients = n
	return cfg, scale
}

// measurement is one calibration run: it covered simulated time [0, until]
// in wall (setup included), with events and alloc (bytes allocated, setup
// included) in all, and at most pending events pending at once. The rates
// come from the steady part of the run: past the start-up (from warm on)
// when the run got far enough, else its last step (from lastStart on), with
// lateEvents and lateAlloc in it.
type measurement struct {
	until, lastStart, warm time.Duration
	wall                   time.Duration
	events, lateEvents     uint64
	alloc, lateAlloc       uint64
	pending                int
	complete               bool // until is the horizon
	steady                 bool // lastStart is past the start-up
}

// extrapolate scales a quantity measured as total (late of it since
// lastStart) to the full horizon h at the rate of (lastStart, until].
func (m measurement) extrapolate(total, late float64, h time.Duration) float64 {
	if m.complete || m.until <= m.lastStart {
		return total
	}
	return total + late/(m.until-m.lastStart).Seconds()*(h-m.until).Seconds()
}

// growth is the memory a replication holds at horizon h: what the
// calibration allocated, plus, when it measured past the start-up, the
// allocations of its steady part at their rate (connection records and
// sessions that outlive their use, episode records).
func (m measurement) growth(h time.Duration) float64 {
	if !m.steady {
		return float64(m.alloc)
	}
	return m.extrapolate(float64(m.alloc), float64(m.lateAlloc), h)
}

// warmUp is how long a replication of cfg takes to settle: clients start
// within a ping period and connect, and each session's first expiry
// deadline passes.
func warmUp(cfg model.Config) time.Duration {
	t := cfg.Server.Negotiate(cfg.Client.SessionTimeout) + cfg.Server.TickTime
	return 2*t + 2*time.Second
}

// calibrate runs cfg on simulated time doubling from 1 ms until target of
// wall-clock time has passed and the run is twice past its start-up (or
// calibrationCap has passed, or the horizon is reached) and measures it; ok
// is false when the run fails or panics.
func calibrate(cfg model.Config, target time.Duration) (m measurement, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var ms runtime.MemStats
	allocated := func() uint64 {
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc
	}
	alloc0 := allocated()
	t0 := time.Now()
	w, err := model.NewWorld(cfg, model.Options{})
	if err != nil {
		return m, false
	}
	m.warm = warmUp(cfg)
	step := time.Millisecond
	var warmEvents, warmAlloc uint64
	warmAt := time.Duration(-1)
	for {
		events, alloc := w.Engine().Fired(), allocated()
		step = min(step, cfg.Horizon-m.until)
		// RunFor counts from the last event, which may lie before m.until.
		if err := w.RunFor(clock.Zero.Add(m.until + step).Sub(w.Engine().Now())); err != nil {
			return m, false
		}
		m.lastStart, m.until = m.until, m.until+step
		m.pending = max(m.pending, w.Engine().Pending())
		m.events, m.alloc = w.Engine().Fired(), allocated()-alloc0
		m.lateEvents, m.lateAlloc = m.events-events, m.alloc-(alloc-alloc0)
		if warmAt < 0 && m.until >= m.warm {
			warmAt, warmEvents, warmAlloc = m.until, m.events, m.alloc
		}
		wall := time.Since(t0)
		if m.until >= cfg.Horizon || wall >= calibrationCap || wall >= target && m.until >= 2*m.warm {
			break
		}
		step = m.until // the next step doubles the simulated time
	}
	if warmAt >= 0 && m.until >= 2*warmAt {
		m.steady = true
		m.lastStart, m.lateEvents, m.lateAlloc = warmAt, m.events-warmEvents, m.alloc-warmAlloc
	}
	m.wall = time.Since(t0)
	m.complete = m.until >= cfg.Horizon
	return m, true
}

// speedup measures how much faster par workers go than one, running cfg
// (which ran rate events per second alone) on each at once.
func speedup(cfg model.Config, rate float64, par int) float64 {
	if par <= 1 || rate <= 0 {
		return 1
	}
	rates := make([]float64, par)
	var wg sync.WaitGroup
	for i := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m, ok := calibrate(cfg, calibrationTarget); ok && m.wall > 0 {
				rates[i] = float64(m.events) / m.wall.Seconds()
			}
		}()
	}
	wg.Wait()
	sum := 0.0
	for _, r := range rates {
		sum += r
	}
	return min(max(sum/rate, 1), float64(par))
}

// satAdd and satMul are int64 arithmetic that saturates at MaxInt64
// (operands are non-negative).
func satAdd(xs ...int64) int64 {
	s := int64(0)
	for _, x := range xs {
		if x > math.MaxInt64-s {
			return math.MaxInt64
		}
		s += x
	}
	return s
}

func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func fmtBytes(b int64) string {
	switch {
	case b >= 1<<40:
		return fmt.Sprintf("%.1f TB", float64(b)/(1<<40))
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.0f kB", float64(b)/(1<<10))
	}
}

// fmtWall rounds a duration for people: "<1ms", "40ms", "1.2s", "12s", "3m10s",
// "2h5m", "40d".
func fmtWall(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return fmtDur(d.Round(time.Minute))
	default:
		return fmt.Sprintf("%.0fd", d.Hours()/24)
	}
}
