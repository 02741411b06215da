package experiments

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadDurationsCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []float64
	}{
		{"plain seconds", "1\n2.5\n0\n", []float64{1, 2.5, 0}},
		{"durations with units", "150ms\n1m30s\n2d\n", []float64{0.15, 90, 172800}},
		{"header, comments, blanks", "# pauses\n\nduration\n1.5\n\n# more\n2\n", []float64{1.5, 2}},
		{"first column only", "pause_s,host\n0.05,a\n\"0.2\",\"b\"\n", []float64{0.05, 0.2}},
		{"crlf and bom", "\ufeffseconds\r\n1\r\n2\r\n", []float64{1, 2}},
		{"no trailing newline", "3", []float64{3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ReadDurationsCSV("p.csv", []byte(tc.in))
			require.NoError(t, err)
			assert.InDeltaSlice(t, tc.want, got, 1e-12)
		})
	}
}

func TestReadDurationsCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"text after the header", "seconds\n1\nlong\n", `p.csv:3: "long" is not a number of seconds or a duration such as "1.5s"`},
		{"malformed first value", "1.2.3\n", `p.csv:1: "1.2.3" is not a number of seconds or a duration such as "1.5s"`},
		{"negative", "1\n-2\n", `p.csv:2: "-2" is negative; durations must not be negative`},
		{"negative duration", "-2s\n", `p.csv:1: "-2s" is negative; durations must not be negative`},
		{"not finite", "x\nNaN\n", `p.csv:2: "NaN" is not a finite number of seconds`},
		{"empty first column", "1\n,2\n", "p.csv:2: empty value"},
		{"header only", "seconds\n# nothing\n", "p.csv: no values"},
		{"empty file", "", "p.csv: no values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadDurationsCSV("p.csv", []byte(tc.in))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
