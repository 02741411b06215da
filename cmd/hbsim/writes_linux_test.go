//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Write failures as a full disk gives them: the process that TestMain turns
// into hbsim may write files of at most HBSIM_TEST_FSIZE bytes
// (RLIMIT_FSIZE; the Go runtime ignores SIGXFSZ, so a write past it fails
// with EFBIG, "file too large", like ENOSPC on a full disk).
func init() {
	beforeMain = limitFileSize
}

func limitFileSize() {
	n, err := strconv.ParseUint(os.Getenv("HBSIM_TEST_FSIZE"), 10, 64)
	if err != nil {
		return
	}
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &r); err == nil {
		r.Cur = n
		_ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &r)
	}
}

// runLimited runs hbsim as a process that may write files of at most fsize
// bytes, and returns its stderr and exit code.
func runLimited(t *testing.T, fsize int, args ...string) (string, int) {
	t.Helper()
	cmd := hbsimCommand(args...)
	cmd.Env = append(cmd.Env, "HBSIM_TEST_FSIZE="+strconv.Itoa(fsize))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	code := exitCode(t, cmd.Run())
	return stderr.String(), code
}

// The disk fills up in the middle of a run (the checkpoint cannot grow): the
// run exits 1 with one readable line, keeps the checkpoint's records and
// the partial results, and --resume, once there is room, ends with the
// uninterrupted run's results.
func TestDiskFullMidRunExits1AndKeepsPartialResults(t *testing.T) {
	tmp := t.TempDir()
	spec := filepath.Join(tmp, "many.toml")
	require.NoError(t, os.WriteFile(spec, []byte(`[experiment]
name = "many"
replications = 3000
horizon = "2m"
dead_client_probe = false
[[fault]]
kind = "outage"
at = ["30s"]
duration = { law = "exponential", mean = "8s" }
`), 0o644))
	ref := filepath.Join(tmp, "ref")
	_, errOut, code := runCLI(t, "run", spec, "--out", ref, "--quiet")
	require.Equal(t, 0, code, errOut)

	out := filepath.Join(tmp, "out")
	errOut, code = runLimited(t, 16<<10, "run", spec, "--out", out, "--quiet", "--workers", "2")
	require.Equal(t, 1, code, errOut)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	assert.Equal(t, "hbsim: experiments: writing "+filepath.Join(out, "checkpoint.hbsim")+": file too large", lines[0])
	assert.Equal(t, "hbsim: the checkpoint keeps the replications written before the failure; once there is room, continue with: hbsim run "+
		spec+" --out "+out+" --quiet --workers 2 --resume", lines[1])
	assert.Equal(t, "hbsim: wrote the partial results to "+filepath.Join(out, "results.partial.csv")+" and "+filepath.Join(out, "results.partial.json"), lines[2])
	assert.Len(t, lines, 3)
	assert.NotContains(t, errOut, "goroutine", "no stack dump")
	assert.Contains(t, readFile(t, filepath.Join(out, "results.partial.json")), `"partial": true`)
	st, err := os.Stat(filepath.Join(out, "checkpoint.hbsim"))
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(8<<10), "the records written before the failure are kept")
	assert.NoFileExists(t, filepath.Join(out, "results.csv"))

	_, errOut, code = runCLI(t, "run", spec, "--out", out, "--quiet", "--workers", "2", "--resume")
	require.Equal(t, 0, code, errOut)
	sameResults(t, ref, out)
	assert.Equal(t, listDir(t, ref), listDir(t, out), "no checkpoint and no partial results left")
}

// The disk fills up while the outputs are written after every replication
// ran: exit 1, the outputs written before the failure and the checkpoint
// stay, and --resume writes the rest without running anything again.
func TestDiskFullWritingOutputsExits1AndKeepsTheCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref")
	_, errOut, code := runCLI(t, "run", small, "--out", ref, "--quiet")
	require.Equal(t, 0, code, errOut)
	pngs, err := filepath.Glob(filepath.Join(ref, "*.png"))
	require.NoError(t, err)
	require.NotEmpty(t, pngs)
	limit := 0 // the largest text output fits, the smallest chart does not
	for _, f := range []string{"results.csv", "results.json"} {
		st, err := os.Stat(filepath.Join(ref, f))
		require.NoError(t, err)
		limit = max(limit, int(st.Size()))
	}
	for _, p := range pngs {
		st, err := os.Stat(p)
		require.NoError(t, err)
		require.Greater(t, int(st.Size()), limit+1024, "%s must be larger than the text outputs", p)
	}

	out := filepath.Join(tmp, "out")
	errOut, code = runLimited(t, limit+1024, "run", small, "--out", out, "--quiet")
	require.Equal(t, 1, code, errOut)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	require.Len(t, lines, 2, errOut)
	assert.True(t, strings.HasPrefix(lines[0], "hbsim: experiments: writing "+out+"/"), lines[0])
	assert.True(t, strings.HasSuffix(lines[0], ".png: file too large"), lines[0])
	assert.Equal(t, "hbsim: every replication is in the checkpoint "+filepath.Join(out, "checkpoint.hbsim")+
		"; once the outputs can be written, write them with: hbsim run "+small+" --out "+out+" --quiet --resume", lines[1])
	for _, f := range []string{"results.csv", "results.json"} {
		assert.Equal(t, readFile(t, filepath.Join(ref, f)), readFile(t, filepath.Join(out, f)), "%s was written before the failure", f)
	}
	assert.FileExists(t, filepath.Join(out, "checkpoint.hbsim"))
	for _, name := range listDir(t, out) {
		assert.NotContains(t, name, ".tmp", "no temporary file left")
	}

	stdout, errOut, code := runCLI(t, "run", small, "--out", out, "--quiet", "--resume")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, stdout, "P(expiry|outage)")
	assert.Equal(t, listDir(t, ref), listDir(t, out))
	for _, f := range listDir(t, ref) {
		assert.Equal(t, readFile(t, filepath.Join(ref, f)), readFile(t, filepath.Join(out, f)), f)
	}
}

// The output directory is removed while the run goes on, and a file takes
// its name: the outputs cannot be written, the run exits 1 with one
// readable line and says the checkpoint went with the directory.
func TestOutputDirectoryReplacedMidRunExits1(t *testing.T) {
	tmp := t.TempDir()
	spec := filepath.Join(tmp, "long.toml")
	require.NoError(t, os.WriteFile(spec, []byte(`[experiment]
name = "long"
replications = 200
horizon = "6h"
clients = 2
[[fault]]
kind = "outage"
arrival = "poisson"
every = "10m"
duration = { law = "lognormal", median = "3s", sigma = 1.0 }
`), 0o644))
	out := filepath.Join(tmp, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	w := watch(t, out)
	p := start(t, "run", spec, "--out", out, "--workers", "1", "--quiet")
	// Once records are being appended to the checkpoint (the header is its
	// first write), the run is under way.
	require.True(t, p.waitEvents(w, 2, func(ev string) bool { return ev == "MODIFY checkpoint.hbsim" }), p.all.String())
	require.NoError(t, os.RemoveAll(out))
	require.NoError(t, os.WriteFile(out, []byte("not a directory"), 0o644))
	code := p.wait(t)
	errOut := p.all.String()
	require.Equal(t, 1, code, errOut)
	assert.Equal(t, "hbsim: experiments: writing "+out+": not a directory\n"+
		"hbsim: the checkpoint "+filepath.Join(out, "checkpoint.hbsim")+" is gone too (not a directory): the run must start over\n", errOut)
}
