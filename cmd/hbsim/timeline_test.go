package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeScenarios are drawn in the README, from testdata/readme.
var readmeScenarios = []string{"seed-cable-unplug", "seed-server-restart", "seed-slow-failover", "leader-pause"}

// checkPNG decodes a timeline PNG and checks its size and that it is not
// blank: many colours, and neither nearly white nor nearly filled.
func checkPNG(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err, name)
	bounds := img.Bounds()
	assert.Equal(t, 1152, bounds.Dx(), name)
	assert.GreaterOrEqual(t, bounds.Dy(), 720, name)
	var pix []uint8
	switch m := img.(type) {
	case *image.RGBA:
		pix = m.Pix
	case *image.NRGBA:
		pix = m.Pix
	default:
		require.Failf(t, "unexpected image type", "%s: %T", name, img)
	}
	colours := map[[4]uint8]bool{}
	nonWhite := 0
	for i := 0; i+3 < len(pix); i += 4 {
		c := [4]uint8{pix[i], pix[i+1], pix[i+2], pix[i+3]}
		colours[c] = true
		if c != [4]uint8{255, 255, 255, 255} {
			nonWhite++
		}
	}
	frac := float64(nonWhite) / float64(bounds.Dx()*bounds.Dy())
	assert.Greater(t, len(colours), 50, "%s: distinct colours", name)
	assert.Greater(t, frac, 0.05, "%s: share of non-white pixels", name)
	assert.Less(t, frac, 0.7, "%s: share of non-white pixels", name)
}

// The three seed scenarios draw; with -update the drawings are rewritten
// into testdata/readme for the README.
func TestTimelineSeedScenarios(t *testing.T) {
	for _, name := range readmeScenarios {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name+".png")
			stdout, stderr, code := runCLI(t, "timeline", name, "-o", out)
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stdout, "wrote "+out)
			b, err := os.ReadFile(out)
			require.NoError(t, err)
			checkPNG(t, name, b)
			require.NoError(t, os.WriteFile(filepath.Join(t.ArtifactDir(), name+".png"), b, 0o644))

			readme := filepath.Join("..", "..", "testdata", "readme", "timeline-"+name+".png")
			if *update {
				require.NoError(t, os.WriteFile(readme, b, 0o644))
				return
			}
			committed, err := os.ReadFile(readme)
			require.NoError(t, err, "missing README drawing; run go test ./cmd/hbsim -run TestTimelineSeedScenarios -update")
			checkPNG(t, readme, committed)
		})
	}
}

func TestTimelineOutcomeLines(t *testing.T) {
	stdout, stderr, code := runCLI(t, "timeline", "seed-cable-unplug", "-o", filepath.Join(t.TempDir(), "x.png"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "client-0's session 0x1 EXPIRED at 43.66s")
	stdout, stderr, code = runCLI(t, "timeline", "seed-server-restart", "--out", filepath.Join(t.TempDir(), "x.png"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "client-0's session 0x1 SURVIVED")
}

func TestTimelineExperimentFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "run.png")
	_, stderr, code := runCLI(t, "timeline", "../../experiments/examples/timeout-10s-vs-30s.toml",
		"--point", "18", "--replication", "3", "-o", out)
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	checkPNG(t, "experiment", b)

	_, stderr, code = runCLI(t, "timeline", "seed-server-restart", "--from", "25s", "--to", "50s", "-o", out)
	require.Equal(t, 0, code, stderr)
	b, err = os.ReadFile(out)
	require.NoError(t, err)
	checkPNG(t, "from-to", b)
}

func TestTimelineUsage(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "x.png")
	for _, args := range [][]string{
		{"timeline"},
		{"timeline", "seed-cable-unplug"},
		{"timeline", "seed-cable-unplug", "-o", filepath.Join(dir, "x.svg")},
		{"timeline", "no-such-scenario", "-o", png},
		{"timeline", "seed-cable-unplug", "--from", "10s", "-o", png},
		{"timeline", "seed-cable-unplug", "--from", "10s", "--to", "5s", "-o", png},
		{"timeline", "seed-cable-unplug", "--from", "10", "--to", "20s", "-o", png},
		{"timeline", "seed-cable-unplug", "--from", "1h", "--to", "2h", "-o", png},
		{"timeline", "../../experiments/examples/timeout-10s-vs-30s.toml", "--point", "999", "-o", png},
	} {
		_, stderr, code := runCLI(t, args...)
		assert.Equal(t, 2, code, "args %q", args)
		assert.NotEmpty(t, stderr, "args %q", args)
	}
	_, err := os.Stat(png)
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written on a usage error")
}
