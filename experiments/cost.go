package experiments

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"hbsim/model"
)

// Cost is a run's estimated cost on this machine. The estimate is meant
// for guard rails (refuse a run that would take days), not for planning to
// the minute: it extrapolates a short calibration linearly in the horizon.
type Cost struct {
	Runs    int           // replications to run
	Events  float64       // simulated events, in total
	Memory  int64         // peak heap, bytes
	Time    time.Duration // wall-clock time with Workers workers
	Workers int           // replications run in parallel (at most the CPUs)
}

// String is a one-line summary, e.g. "160 replications, ~2.1e+05 events,
// ~12 MB, ~0.4s on 2 workers".
func (c Cost) String() string {
	return fmt.Sprintf("%d replications, ~%.2g events, ~%s, ~%s on %d worker(s)",
		c.Runs, c.Events, fmtBytes(c.Memory), fmtWall(c.Time), c.Workers)
}

// calibration limits: the horizon of the first calibration run of a point,
// and the wall-clock time after which calibration stops refining.
const (
	calibrationStart  = 10 * time.Second
	calibrationTarget = 5 * time.Millisecond   // per point: lengthen the horizon until a run takes this long
	calibrationBudget = 100 * time.Millisecond // in total
	calibrationPoints = 4
)

// EstimateCost estimates the cost of running runs replications of s with
// workers workers (<= 0: GOMAXPROCS). It calibrates on this machine: it runs
// replication 0 of up to four points spread over the sweep, on horizons cut
// short (at least 10 s of simulated time, lengthened while a run takes under
// 5 ms, at most 0.1 s of wall-clock time in all), and extrapolates events and
// time linearly to the full horizon. It then runs one calibration
// replication on every worker at once, to measure the speed-up the machine
// really gives (other processes, shared cores). Memory is the in-flight
// replications' allocations plus what the process holds from the OS
// already. Calibration does not touch the run's results. A point whose
// calibration fails (an invalid configuration, a panic) is left out; the run
// itself will report it.
func EstimateCost(s *Spec, runs, workers int) (Cost, error) {
	points, err := runnablePoints(s)
	if err != nil {
		return Cost{}, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	par := max(min(workers, runtime.NumCPU(), runs), 1)
	c := Cost{Runs: runs, Workers: par}

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
	var perRunBytes uint64
	measured := 0
	var probe model.Config // a calibration run, for the speed-up
	var probeWall time.Duration
	for _, i := range idx {
		cfg := ReplicationConfig(s.Seed, points[i], 0)
		h := min(calibrationStart, s.Horizon)
		var ev uint64
		var wall time.Duration
		var alloc uint64
		ok := false
		for {
			cfg.Horizon = h
			e, w, a, good := calibrate(cfg)
			if !good {
				break
			}
			ev, wall, alloc, ok = e, w, a, true
			if h >= s.Horizon || w >= calibrationTarget || time.Since(start) > calibrationBudget {
				break
			}
			h = min(4*h, s.Horizon)
		}
		if !ok {
			continue
		}
		measured++
		if probeWall == 0 {
			probe, probeWall = cfg, wall
		}
		evPerRun += float64(ev) * s.Horizon.Seconds() / h.Seconds()
		if ev > 0 {
			secPerEvent += wall.Seconds() / float64(ev)
		}
		perRunBytes = max(perRunBytes, alloc)
	}
	if measured == 0 {
		return c, fmt.Errorf("experiments: %s: cannot estimate the cost: no calibration run succeeded", s.File)
	}
	evPerRun /= float64(measured)
	secPerEvent /= float64(measured)
	c.Events = evPerRun * float64(runs)
	secs := c.Events * secPerEvent / speedup(probe, probeWall, par)
	c.Time = time.Duration(min(secs, float64(math.MaxInt64/2)/1e9) * 1e9)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	c.Memory = int64(ms.Sys) + int64(par)*int64(perRunBytes)
	return c, nil
}

// speedup measures how much faster par workers go than one, running cfg
// (which took wall alone) on each at once.
func speedup(cfg model.Config, wall time.Duration, par int) float64 {
	if par <= 1 || wall <= 0 {
		return 1
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			calibrate(cfg)
		}()
	}
	wg.Wait()
	s := float64(par) * wall.Seconds() / time.Since(t0).Seconds()
	return min(max(s, 1), float64(par))
}

// calibrate runs cfg once and measures it; ok is false when the run fails
// or panics.
func calibrate(cfg model.Config) (events uint64, wall time.Duration, alloc uint64, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	st, err := model.Run(cfg, model.Options{})
	wall = time.Since(t0)
	runtime.ReadMemStats(&after)
	if err != nil {
		return 0, 0, 0, false
	}
	return st.Events, wall, after.TotalAlloc - before.TotalAlloc, true
}

func fmtBytes(b int64) string {
	switch {
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
