package experiments

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkSweepScaling reports a sweep's throughput (replications per
// second) for 1, 2, 4, ... workers up to 2×GOMAXPROCS: the scaling curve.
// Compare the workers=N lines with workers=1 (benchstat pivots on the
// key=value names); on a machine with free cores the ratio approaches N.
// It also reports the cores the process kept busy (CPU time / wall time)
// and replications per CPU-second: when that stays flat as workers are
// added, the work scales linearly and any shortfall in the wall-clock
// ratio is the machine's (cores shared with other tenants, a lone core
// running faster).
//
//	go test -run '^$' -bench SweepScaling -count 6 ./experiments/ | tee scaling.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /workers scaling.txt
func BenchmarkSweepScaling(b *testing.B) {
	s, err := Load("examples/timeout-10s-vs-30s.toml")
	if err != nil {
		b.Fatal(err)
	}
	s.Replications = 20 // 78 points × 20 = 1560 replications per op
	for w := 1; w <= 2*runtime.GOMAXPROCS(0); w *= 2 {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			b.ReportAllocs()
			reps := 0
			cpu0 := processCPU()
			for b.Loop() {
				res, err := Run(context.Background(), s, RunOptions{Workers: w})
				if err != nil {
					b.Fatal(err)
				}
				reps += len(res.Points) * s.Replications
			}
			b.ReportMetric(float64(reps)/b.Elapsed().Seconds(), "replications/s")
			if cpu := (processCPU() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(cpu/b.Elapsed().Seconds(), "cores")
				b.ReportMetric(float64(reps)/cpu, "replications/cpu-s")
			}
		})
	}
}
