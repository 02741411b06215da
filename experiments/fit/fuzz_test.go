package fit

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzRead feeds the readers arbitrary bytes, seeded with the test logs: a
// file is either read into sane observations or refused with a one-line
// error naming it, and never panics.
func FuzzRead(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	require.NoError(f, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".log") {
			b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
			require.NoError(f, err)
			f.Add(b)
		}
	}
	for _, s := range []string{"1\n2.5\n", "2.5,2024-05-01T12:00:00Z\n1,2024-05-01T12:00:01Z\n",
		"[1.0s][info][gc] GC(0) Pause Young 1M->0M(2M) 1.5ms\n", "2024-01-01 00:00:00,000 Client session timed out, have not heard from server in 5ms for session id 0x1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tr := range []Transport{TransportTCP, TransportIdeal} {
			d, err := Read("f.log", data, FormatAuto, Options{Transport: tr})
			if err != nil {
				require.Nil(t, d)
				msg := err.Error()
				require.True(t, strings.HasPrefix(msg, "f.log:") || strings.HasPrefix(msg, "f.log "), "%q", msg)
				require.NotContains(t, msg, "\n")
				continue
			}
			for _, x := range d.Durations {
				require.False(t, math.IsNaN(x) || math.IsInf(x, 0) || x < 0, "%v", x)
			}
			for _, e := range d.Episodes {
				require.True(t, e.Lo > e.Detect-1e-9 && e.Lo <= e.Hi, "%+v", e)
				require.False(t, math.IsNaN(e.Lo) || math.IsNaN(e.Hi) || math.IsInf(e.Lo, 0), "%+v", e)
				require.Positive(t, e.Period, "%+v", e)
			}
			for _, x := range d.Exposure {
				require.False(t, math.IsNaN(x.Seconds), "%+v", x)
			}
		}
	})
}
