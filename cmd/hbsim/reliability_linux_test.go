//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run hbsim as a process (the test binary re-executed, see
// TestMain) to deliver real signals. They synchronise on what the process
// writes (its stderr, inotify events in its output directory), never on
// sleeps.

// hbsimCommand is hbsim with args, as a separate process.
func hbsimCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HBSIM_TEST_MAIN=1")
	return cmd
}

// exitCode is the status of a finished process, or -1 when a signal killed it.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	return ee.ExitCode()
}

// started is a running hbsim whose stderr comes line by line.
type started struct {
	cmd   *exec.Cmd
	lines chan string   // stderr, closed at EOF
	all   *syncBuffer   // stderr, everything so far
	done  chan struct{} // closed once the process has exited
	err   error         // cmd.Wait's, once done
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	cmd := hbsimCommand(args...)
	cmd.Stdout = io.Discard
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &started{cmd: cmd, lines: make(chan string, 1024), all: &syncBuffer{}, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			fmt.Fprintln(s.all, sc.Text())
			select {
			case s.lines <- sc.Text():
			default: // nobody is reading: all keeps it
			}
		}
		close(s.lines)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	return s
}

// waitLine reads stderr until a line contains want.
func (s *started) waitLine(t *testing.T, want string) {
	t.Helper()
	for line := range s.lines {
		if strings.Contains(line, want) {
			return
		}
	}
	require.Failf(t, "stderr ended", "no line with %q in:\n%s", want, s.all.String())
}

// wait returns the exit code once the process has exited.
func (s *started) wait(t *testing.T) int {
	t.Helper()
	<-s.done
	return exitCode(t, s.err)
}

// waitEvents waits for the n-th event of w that match accepts, or for the
// process to exit; it reports whether the event came.
func (s *started) waitEvents(w *watcher, n int, match func(string) bool) bool {
	for seen := 0; ; {
		select {
		case ev, ok := <-w.events:
			if !ok {
				return false
			}
			if match(ev) {
				if seen++; seen == n {
					return true
				}
			}
		case <-s.done:
			return false
		}
	}
}

// watcher reports file events in one directory (inotify).
type watcher struct {
	f      *os.File
	events chan string // "CREATE name", "MODIFY name", ...; closed on close
}

func watch(t *testing.T, dir string) *watcher {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	require.NoError(t, err)
	_, err = syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE|syscall.IN_MODIFY|syscall.IN_CLOSE_WRITE|syscall.IN_MOVED_TO|syscall.IN_DELETE)
	require.NoError(t, err)
	w := &watcher{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan string, 1024)}
	go func() {
		defer close(w.events)
		buf := make([]byte, 64<<10)
		for {
			n, err := w.f.Read(buf)
			if err != nil {
				return
			}
			for b := buf[:n]; len(b) >= syscall.SizeofInotifyEvent; {
				mask := binary.NativeEndian.Uint32(b[4:8])
				l := int(binary.NativeEndian.Uint32(b[12:16]))
				name := strings.TrimRight(string(b[syscall.SizeofInotifyEvent:syscall.SizeofInotifyEvent+l]), "\x00")
				b = b[syscall.SizeofInotifyEvent+l:]
				kind := map[uint32]string{syscall.IN_CREATE: "CREATE", syscall.IN_MODIFY: "MODIFY", syscall.IN_CLOSE_WRITE: "CLOSE",
					syscall.IN_MOVED_TO: "MOVED", syscall.IN_DELETE: "DELETE"}[mask&^syscall.IN_ISDIR]
				select {
				case w.events <- kind + " " + name:
				default: // a full channel drops events rather than block the reader
				}
			}
		}
	}()
	t.Cleanup(func() { _ = w.f.Close() })
	return w
}

// SIGINT stops the run after the replications in flight, keeps a
// checkpoint and the partial results; --resume then ends byte-identical to
// an uninterrupted run.
func TestSIGINTThenResume(t *testing.T) {
	tmp := t.TempDir()
	spec := filepath.Join(tmp, "long.toml")
	require.NoError(t, os.WriteFile(spec, []byte(`[experiment]
name = "long"
seed = 5
replications = 300
horizon = "6h"
clients = 2
[client]
session_timeout = ["10s", "20s"]
[[fault]]
kind = "outage"
arrival = "poisson"
every = "10m"
duration = { law = "lognormal", median = "3s", sigma = 1.0 }
`), 0o644))
	ref := filepath.Join(tmp, "ref")
	_, errOut, code := runCLI(t, "run", spec, "--out", ref, "--quiet")
	require.Equal(t, 0, code, errOut)

	out := filepath.Join(tmp, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	w := watch(t, out)
	p := start(t, "run", spec, "--out", out, "--workers", "2")
	// Interrupt once a few records are in the checkpoint (the header is the
	// first write).
	require.True(t, p.waitEvents(w, 4, func(ev string) bool { return ev == "MODIFY checkpoint.hbsim" }), p.all.String())
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code = p.wait(t)
	errOut = p.all.String()
	require.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "hbsim: interrupt: finishing the replications in flight and writing a checkpoint (again to exit at once)")
	assert.Contains(t, errOut, "hbsim: experiments: run interrupted after ")
	assert.Contains(t, errOut, "continue with: hbsim run "+spec+" --out "+out+" --workers 2 --resume")
	assert.Contains(t, errOut, "wrote the partial results to "+filepath.Join(out, "results.partial.csv"))
	assert.NoFileExists(t, filepath.Join(out, "results.csv"))
	partial := readFile(t, filepath.Join(out, "results.partial.json"))
	assert.Contains(t, partial, `"partial": true`)

	_, errOut, code = runCLI(t, "run", spec, "--out", out, "--workers", "2", "--resume", "--quiet")
	require.Equal(t, 0, code, errOut)
	sameResults(t, ref, out)
	assert.Equal(t, listDir(t, ref), listDir(t, out), "no checkpoint and no partial results left")
}

// A second signal exits at once, without waiting for the replication in
// flight (each one here takes seconds); the checkpoint stays usable.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	tmp := t.TempDir()
	spec := filepath.Join(tmp, "slow.toml")
	require.NoError(t, os.WriteFile(spec, []byte(`[experiment]
name = "slow"
replications = 2
horizon = "60d"
clients = 4
[[fault]]
kind = "outage"
arrival = "poisson"
every = "10m"
duration = "5s"
`), 0o644))
	out := filepath.Join(tmp, "out")
	require.NoError(t, os.Mkdir(out, 0o755))
	w := watch(t, out)
	p := start(t, "run", spec, "--out", out, "--workers", "1", "--yes")
	// The checkpoint appears when the first replication starts.
	require.True(t, p.waitEvents(w, 1, func(ev string) bool { return ev == "CREATE checkpoint.hbsim" }), p.all.String())
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	p.waitLine(t, "hbsim: terminated: finishing the replications in flight")
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	code := p.wait(t)
	errOut := p.all.String()
	assert.Equal(t, 1, code, errOut)
	assert.Contains(t, errOut, "hbsim: interrupt again: exiting now")
	assert.NotContains(t, errOut, "run interrupted after", "it did not wait for the replication")
	assert.FileExists(t, filepath.Join(out, "checkpoint.hbsim"))
}

// A SIGKILL at any moment of a run leaves every output file either as the
// previous complete run wrote it or complete from the new run, never torn;
// running again (--resume) finishes the job and clears the debris.
//
// The process is killed right after the k-th file creation, close or rename
// in its output directory, for every k, so the kills land throughout the
// checkpoint's creation and the output writes. (When exactly the kill lands
// after the event varies; the property must hold wherever it lands.)
func TestSIGKILLLeavesNoTornFile(t *testing.T) {
	tmp := t.TempDir()
	// 400 points: outputs of a few hundred kB each.
	var timeouts []string
	for i := range 40 {
		timeouts = append(timeouts, fmt.Sprintf(`"%ds"`, 4+i))
	}
	spec := filepath.Join(tmp, "big.toml")
	require.NoError(t, os.WriteFile(spec, []byte(`[experiment]
name = "big"
replications = 1
horizon = "2m"
[client]
session_timeout = [`+strings.Join(timeouts, ", ")+`]
[[fault]]
kind = "outage"
arrival = "scripted"
at = ["30s"]
duration = ["2s", "4s", "6s", "8s", "10s", "12s", "14s", "16s", "18s", "20s"]
`), 0o644))
	prev, next := filepath.Join(tmp, "prev"), filepath.Join(tmp, "next")
	for dir, seed := range map[string]string{prev: "1", next: "2"} {
		_, errOut, code := runCLI(t, "run", spec, "--out", dir, "--quiet", "--seed", seed)
		require.Equal(t, 0, code, errOut)
	}
	outputs := listDir(t, next)
	require.Equal(t, listDir(t, prev), outputs)
	require.Contains(t, outputs, "results.json")
	want := map[string][2]string{}
	for _, f := range outputs {
		want[f] = [2]string{readFile(t, filepath.Join(prev, f)), readFile(t, filepath.Join(next, f))}
		require.NotEqual(t, want[f][0], want[f][1], "%s must differ between the seeds", f)
	}

	// Count the file events of a whole run.
	structural := func(ev string) bool { return !strings.HasPrefix(ev, "MODIFY ") && !strings.HasPrefix(ev, "DELETE ") }
	count := func(dir string) int {
		w := watch(t, dir)
		_, errOut, code := runCLI(t, "run", spec, "--out", dir, "--quiet", "--seed", "2")
		require.Equal(t, 0, code, errOut)
		require.NoError(t, w.f.Close())
		n := 0
		for ev := range w.events {
			if structural(ev) {
				n++
			}
		}
		return n
	}
	events := count(t.TempDir())
	require.Greater(t, events, 10)

	tornTemps := 0
	for k := 1; k <= events; k++ {
		for _, fresh := range []bool{k%2 == 0} { // over an old run, or into an empty directory
			dir := filepath.Join(tmp, fmt.Sprintf("kill-%d-%v", k, fresh))
			require.NoError(t, os.Mkdir(dir, 0o755))
			if !fresh {
				for _, f := range outputs {
					require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(want[f][0]), 0o644))
				}
			}
			w := watch(t, dir)
			p := start(t, "run", spec, "--out", dir, "--quiet", "--seed", "2", "--resume")
			p.waitEvents(w, k, structural)
			_ = p.cmd.Process.Signal(syscall.SIGKILL) // it may have finished already
			<-p.done
			require.NoError(t, w.f.Close())

			for _, f := range outputs {
				got, err := os.ReadFile(filepath.Join(dir, f))
				if errors.Is(err, os.ErrNotExist) {
					assert.True(t, fresh, "k=%d: %s vanished", k, f)
					continue
				}
				require.NoError(t, err)
				ok := string(got) == want[f][1] || (!fresh && string(got) == want[f][0])
				assert.True(t, ok, "k=%d fresh=%v: %s is torn (%d bytes)", k, fresh, f, len(got))
			}
			for _, name := range listDir(t, dir) {
				if strings.Contains(name, ".tmp") {
					tornTemps++
				}
			}
			if k%3 != 0 {
				continue // a third of the kills suffices to check the rerun
			}
			// Running again completes the outputs and removes the debris.
			_, errOut, code := runCLI(t, "run", spec, "--out", dir, "--quiet", "--seed", "2", "--resume")
			require.Equal(t, 0, code, "k=%d: %s", k, errOut)
			assert.Equal(t, outputs, listDir(t, dir), "k=%d fresh=%v", k, fresh)
			for _, f := range outputs {
				assert.Equal(t, want[f][1], readFile(t, filepath.Join(dir, f)), "k=%d: %s", k, f)
			}
		}
	}
	t.Logf("%d kills; %d left a temporary file mid-write", events, tornTemps)
}

// As an unprivileged user, a directory without write permission is refused
// with exit 2 before anything runs (the test runs hbsim as nobody when it
// runs as root).
func TestUnwritableDirectoryAsNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("TestRunUnwritableDirectory covers this without root")
	}
	tmp, err := os.MkdirTemp("", "hbsim-ro-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	require.NoError(t, os.Chmod(tmp, 0o755))
	spec := filepath.Join(tmp, "exp.toml")
	require.NoError(t, os.WriteFile(spec, []byte("[experiment]\nreplications = 2\nhorizon = \"1m\"\n"), 0o644))
	ro := filepath.Join(tmp, "ro")
	require.NoError(t, os.Mkdir(ro, 0o555))
	// A copy of the test binary that nobody may run, in a directory nobody
	// may enter.
	exe, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	bin := filepath.Join(tmp, "hbsim.test")
	require.NoError(t, os.WriteFile(bin, exe, 0o755))
	cmd := exec.Command(bin, "run", spec, "--out", ro, "--quiet")
	cmd.Env = append(os.Environ(), "HBSIM_TEST_MAIN=1")
	cmd.Dir = tmp
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Skipf("cannot run the test binary as nobody: %v", err)
	}
	assert.Equal(t, 2, ee.ExitCode(), stderr.String())
	assert.True(t, strings.HasPrefix(stderr.String(), "hbsim: output directory "+ro+" is not writable: open "+ro+"/.hbsim-write-check-"), stderr.String())
	assert.True(t, strings.HasSuffix(stderr.String(), ": permission denied\n"), stderr.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
	assert.Empty(t, listDir(t, ro))
}
