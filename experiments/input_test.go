package experiments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTooDeep(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		src  string
		want int
	}{
		{"x = " + deep(32) + "\n", 0},
		{"x = " + deep(33) + "\n", 1},
		{"a = 1\n\nx = " + deep(1_000_000) + "\n", 3},
		{"x = " + strings.Repeat("{a=", 40) + "1" + strings.Repeat("}", 40) + "\n", 1},
		{"# " + deep(100) + "\nx = 1\n", 0},
		{"x = \"" + strings.Repeat("[", 100) + "\"\n", 0},
		{"x = '" + strings.Repeat("{", 100) + "'\n", 0},
		{"x = \"\\\"" + strings.Repeat("[", 100) + "\"\n", 0},
		{"x = \"\"\"\n" + strings.Repeat("[", 100) + "\n\"\"\"\ny = " + deep(40) + "\n", 4},
		{"x = '''" + strings.Repeat("[", 100) + "'''\n", 0},
		{"x = \"unterminated\ny = " + deep(40) + "\n", 2},
		{"[[fault]]\nduration = { law = \"uniform\", min = [\"1s\"], max = [\"2s\"] }\n", 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tooDeep(tc.src), "%.60q", tc.src)
	}
}

// Inputs that would exhaust the machine before validation could say what is
// wrong with them (a stack overflow in the TOML decoder, a device that never
// ends, a huge file) are refused with one problem naming the file.
func TestLoadBoundsWhatItReads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		return p
	}
	deep := write("deep.toml", "x = "+strings.Repeat("[", 2_000_000)+strings.Repeat("]", 2_000_000)+"\n")
	_, err := Load(deep)
	assert.Equal(t, []string{deep + ":1: syntax error: arrays or inline tables nested more than 32 deep"}, problemLines(t, err))

	huge := write("huge.toml", "# "+strings.Repeat("x", MaxSpecBytes)+"\n")
	_, err = Load(huge)
	assert.Equal(t, []string{huge + ": cannot read: larger than 16 MB, the most hbsim reads of such a file"}, problemLines(t, err))
	_, err = Parse("p.toml", make([]byte, MaxSpecBytes+1))
	assert.Equal(t, []string{"p.toml: larger than 16 MB, the most hbsim reads of such a file"}, problemLines(t, err))

	if _, err := os.Stat("/dev/zero"); err == nil {
		_, err = Load("/dev/zero")
		assert.Equal(t, []string{"/dev/zero: cannot read: larger than 16 MB, the most hbsim reads of such a file"}, problemLines(t, err))
	}
	data, err := readLimited(write("ok.csv", "1\n2\n"), 4)
	require.NoError(t, err)
	assert.Equal(t, "1\n2\n", string(data))
	_, err = readLimited(filepath.Join(dir, "ok.csv"), 3)
	var tl *errTooLarge
	assert.ErrorAs(t, err, &tl)
}
