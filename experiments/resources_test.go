package experiments

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"hbsim/model"
)

const gib = 1 << 30

// A run that cannot fit the machine or the event engine is refused before
// anything runs, with the estimate and what to change; one that fits only
// once other processes free memory is refused softly (the CLI's --yes).
//
// Not parallel: calibration measures the process's allocations.
func TestRunsThatDoNotFitAreRefused(t *testing.T) {
	machine := Machine{Total: 16 * gib, Available: 8 * gib, GoLimit: math.MaxInt64}
	const fault = "[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"1h\"\nduration = \"5s\"\n"
	tests := []struct {
		name, src string
		workers   int
		machine   Machine
		soft      bool
		want      []string // substrings of the message
	}{
		{"fleet beyond the machine", "[experiment]\nclients = 100000000\n" + fault, 2, machine, false,
			[]string{"needs ~4", " GB of memory (2 replication(s) at once × 2", " GB for 100000001 sessions, 1 point(s) × 10 kB, ",
				"more than this machine has (8.0 GB available of 16.0 GB); cut experiment.clients (about 3", "sessions fit per replication), or run fewer replications at once (--workers 1 needs ~2"}},
		{"fleet beyond what is free", "[experiment]\nclients = 3000000\n" + fault, 2, Machine{Total: 64 * gib, Available: 8 * gib, GoLimit: math.MaxInt64}, true,
			[]string{"needs ~", "more than is available now (8.0 GB available of 64.0 GB; other processes hold the rest); cut experiment.clients (about ", "or pass --yes if they will free it"}},
		{"workers beyond the machine", "[experiment]\nclients = 500000\nreplications = 64\n" + fault, 64, machine, false,
			[]string{"needs ~", "(64 replication(s) at once × ", "or run fewer replications at once (--workers 1 needs ~"}},
		{"fleet beyond GOMEMLIMIT", "[experiment]\nclients = 1000000\n" + fault, 1, Machine{GoLimit: gib}, false,
			[]string{"needs ~", "more than this machine has (GOMEMLIMIT 1.0 GB); cut experiment.clients (about "}},
		{"fleet beyond ulimit -v", "[experiment]\nclients = 1000000\n" + fault, 1, Machine{GoLimit: math.MaxInt64, AddressSpace: 2 * gib}, false,
			[]string{"more than this machine has (ulimit -v 2.0 GB); cut experiment.clients"}},
		{"fleet beyond the event engine", "[experiment]\nclients = 20000000\n" + fault, 1, Machine{Total: 1 << 50, Available: 1 << 50, GoLimit: math.MaxInt64}, false,
			[]string{"one replication would keep ~2e+07 events pending at once (20000001 sessions), more than the event engine holds (16777216 with a margin of 2); cut experiment.clients to about 8388608"}},
		{"election beyond the machine", "[server]\ncount = 255\n" + fault, 2, Machine{Total: 4 * gib, Available: 4 * gib, GoLimit: math.MaxInt64}, false,
			[]string{"and 3.1 GB for a leader election among 255 servers", "use fewer servers: a leader election among n servers keeps about n³/2 events pending"}},
		{"tracker ring beyond the machine", "[server]\ntick_time = \"1ms\"\nmax_session_timeout = \"20d\"\n" + fault, 1, machine, false,
			[]string{"and a tracker ring of 48.0 GB", "lower server.max_session_timeout or raise server.tick_time: the session tracker keeps a bucket per tick up to the longest timeout"}},
		{"sweep beyond the machine", "[experiment]\nreplications = 1\n[client]\nsession_timeout = [" + strings.Repeat("\"10s\", ", 99) + "\"10s\"]\n[network]\nlatency = [" +
			strings.Repeat("\"1ms\", ", 999) + "\"1ms\"]\n" + fault, 1, Machine{Total: 4 * gib, Available: gib / 2, GoLimit: math.MaxInt64}, true,
			[]string{"100000 point(s) × 10 kB", "shrink the sweep (100000 points; about "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("big.toml", []byte(tc.src))
			require.NoError(t, err)
			c, err := EstimateCostOn(s, max(2, tc.workers), tc.workers, tc.machine)
			var re *ResourceError
			require.ErrorAs(t, err, &re, "estimate %v", c)
			assert.Equal(t, tc.soft, re.Soft, re.Msg)
			assert.True(t, strings.HasPrefix(err.Error(), "experiments: big.toml: "), err.Error())
			assert.NotContains(t, err.Error(), "\n")
			for _, w := range tc.want {
				assert.Contains(t, re.Msg, w)
			}
		})
	}
}

// The fleet refused above is refused from the spec alone: no calibration
// run (which would allocate the fleet) starts, so the refusal is quick and
// allocates little.
func TestOversizedFleetIsRefusedBeforeCalibration(t *testing.T) {
	s, err := Parse("big.toml", []byte("[experiment]\nclients = 2000000000\n"))
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = EstimateCostOn(s, 2, 2, Machine{Total: 16 * gib, Available: 8 * gib, GoLimit: math.MaxInt64})
	runtime.ReadMemStats(&after)
	var re *ResourceError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Msg, "needs ~7.5 TB of memory")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "no calibration run")
}

// The calibrated memory estimate of a replication covers what the
// replication really holds at its end (live heap), for workloads whose
// memory differs by two orders of magnitude (a connection churn at 5 s
// latency keeps ~60 kB per session per hour), and is not absurdly
// pessimistic. Fleets of 1 000 are calibrated on 500 sessions and scaled.
// Not parallel: calibration measures the process's allocations.
func TestMemoryEstimateCoversTheRun(t *testing.T) {
	const head = "[experiment]\nreplications = 1\nhorizon = \"5m\"\nclients = 1000\n"
	const fault = "[[fault]]\nkind = \"outage\"\narrival = \"poisson\"\nevery = \"%s\"\nduration = { law = \"exponential\", mean = \"%s\" }\n"
	tests := []struct{ name, src string }{
		{"idle", head + fmt.Sprintf(fault, "1h", "5s")},
		{"latency 5s", head + "[network]\nlatency = \"5s\"\n" + fmt.Sprintf(fault, "1h", "5s")},
		{"outages", head + fmt.Sprintf(fault, "2m", "30s")},
		{"requests", head + "[client]\nrequest_interval = { law = \"exponential\", mean = \"200ms\" }\n" + fmt.Sprintf(fault, "1h", "5s")},
	}
	huge := Machine{Total: 1 << 50, Available: 1 << 50, GoLimit: math.MaxInt64}
	for _, tc := range tests {
		s, err := Parse("m.toml", []byte(tc.src))
		require.NoError(t, err)
		c, err := EstimateCostOn(s, 1, 1, huge)
		require.NoError(t, err, tc.name)
		require.True(t, c.Calibrated, tc.name)
		pts, err := s.Points()
		require.NoError(t, err)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		w, err := model.NewWorld(ReplicationConfig(s.Seed, pts[0], 0), model.Options{})
		require.NoError(t, err)
		_, err = w.Run()
		require.NoError(t, err)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		live := int64(ms1.HeapAlloc) - int64(ms0.HeapAlloc)
		runtime.KeepAlive(w)
		t.Logf("%s: estimate %s per replication, live %s at the end", tc.name, fmtBytes(c.PerRun), fmtBytes(live))
		assert.GreaterOrEqual(t, c.PerRun, live, "%s: estimate %s, live %s", tc.name, fmtBytes(c.PerRun), fmtBytes(live))
		assert.Less(t, c.PerRun, 10*max(live, 4<<20), "%s: estimate %s, live %s", tc.name, fmtBytes(c.PerRun), fmtBytes(live))
	}
}

func TestMachine(t *testing.T) {
	t.Parallel()
	total, avail := parseMeminfo([]byte("MemTotal:       24684092 kB\nMemFree:        23161492 kB\nMemAvailable:   24238444 kB\nBogus\nSwapTotal: x kB\n"))
	assert.Equal(t, int64(24684092*1024), total)
	assert.Equal(t, int64(24238444*1024), avail)
	m := Machine{Total: 16 * gib, Available: 8 * gib, GoLimit: 12 * gib}
	assert.Equal(t, int64(8*gib), m.Usable())
	assert.Equal(t, int64(12*gib), m.Installed())
	m.AddressSpace = 10 * gib
	assert.Equal(t, int64(5*gib), m.Installed())
	assert.Equal(t, int64(5*gib), m.Usable())
	none := Machine{GoLimit: math.MaxInt64}
	assert.Equal(t, int64(math.MaxInt64), none.Usable())
	assert.Equal(t, "unknown", none.describe())
	here := ReadMachine()
	if runtime.GOOS == "linux" {
		assert.Positive(t, here.Total)
		assert.Positive(t, here.Available)
		assert.LessOrEqual(t, here.Available, here.Total)
	}
}

// The events of a calibrated estimate follow the horizon (its time does too,
// but wall-clock measurements on a shared machine are too noisy to test).
func TestEstimateScales(t *testing.T) {
	s := loadSpec(t, smallSweep)
	huge := Machine{Total: 1 << 50, Available: 1 << 50, GoLimit: math.MaxInt64}
	c, err := EstimateCostOn(s, 160, 1, huge)
	require.NoError(t, err)
	s.Horizon *= 10
	longer, err := EstimateCostOn(s, 160, 1, huge)
	require.NoError(t, err)
	assert.InEpsilon(t, 10*c.Events, longer.Events, 0.5, "events follow the horizon")
	assert.Positive(t, c.Pending)
	assert.Positive(t, c.EventsPerRun)
}
