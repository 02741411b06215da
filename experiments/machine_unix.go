//go:build unix

package experiments

import (
	"math"
	"syscall"
)

// addressSpaceLimit is RLIMIT_AS (ulimit -v) in bytes, or 0 when unlimited.
func addressSpaceLimit() int64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil || r.Cur >= math.MaxInt64 { // RLIM_INFINITY is all ones
		return 0
	}
	return int64(r.Cur)
}
