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
			for b.Loop() {
				res, err := Run(context.Background(), s, RunOptions{Workers: w})
				if err != nil {
					b.Fatal(err)
				}
				reps += len(res.Points) * s.Replications
			}
			b.ReportMetric(float64(reps)/b.Elapsed().Seconds(), "replications/s")
		})
	}
}
