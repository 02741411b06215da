//go:build !unix

package experiments

import "time"

// processCPU is unknown here: the CPU metrics of BenchmarkSweepScaling read 0.
func processCPU() time.Duration { return 0 }
