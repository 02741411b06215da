package experiments

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Shard is one of Count slices of a run: the jobs j with j mod Count ==
// Index, where job j is replication j mod R of point j div R (R replications
// per point). Every shard thus gets an equal share of every point. The zero
// Shard is the whole run.
//
// Because every replication's seed depends only on the experiment seed, the
// point and the replication (ReplicationSeed), a shard computes exactly the
// replications the unsharded run would, and Merge folds the shards' records
// in job order into a Result byte-identical to the unsharded run's.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("experiments: shard %q: want I/N, e.g. 0/4", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("experiments: shard %q: want 0 <= I < N", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (sh Shard) String() string {
	sh = sh.normal()
	return fmt.Sprintf("%d/%d", sh.Index, sh.Count)
}

func (sh Shard) normal() Shard {
	if sh.Count == 0 {
		return Shard{0, 1}
	}
	return sh
}

// jobs is how many of total jobs the shard runs.
func (sh Shard) jobs(total int) int {
	sh = sh.normal()
	if total <= sh.Index {
		return 0
	}
	return (total-sh.Index-1)/sh.Count + 1
}

// FileName is the name of the shard's records file: "shard-I-of-N.hbsim".
func (sh Shard) FileName() string {
	sh = sh.normal()
	return fmt.Sprintf("shard-%d-of-%d.hbsim", sh.Index, sh.Count)
}

// CheckpointName is the name of the shard's records file while it runs; it
// is renamed to FileName once complete.
func (sh Shard) CheckpointName() string {
	return strings.TrimSuffix(sh.FileName(), ".hbsim") + ".checkpoint.hbsim"
}

// RunShard runs the replications of shard sh of s and writes their records
// to dir/sh.FileName(). While it runs, the records go to
// dir/sh.CheckpointName(), which is renamed once every replication of the
// shard is in it: the final file only ever appears complete. With
// opts.Resume, a shard already complete is left as it is, and an interrupted
// one continues from its checkpoint. opts.Checkpoint is ignored. Failures
// and interruptions return the same errors as Run.
func RunShard(ctx context.Context, s *Spec, sh Shard, dir string, opts RunOptions) (string, error) {
	sh = sh.normal()
	points, err := runnablePoints(s)
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, sh.FileName())
	if _, err := os.Stat(final); err == nil {
		if !opts.Resume {
			return "", &CheckpointError{Path: final, Msg: "exists already: this shard is complete; delete the file to run it again"}
		}
		h, err := newHeader(s, points, sh)
		if err != nil {
			return "", err
		}
		if err := checkComplete(final, h, len(points)*s.Replications); err != nil {
			return "", err
		}
		return final, nil
	}
	opts.Checkpoint = filepath.Join(dir, sh.CheckpointName())
	if _, err := runJobs(ctx, s, points, sh, opts, func(int, *repSummary) {}); err != nil {
		if ie := s.lawInputError(err); ie != nil {
			return "", ie
		}
		return "", err
	}
	if err := os.Rename(opts.Checkpoint, final); err != nil {
		return "", &WriteError{Path: final, Err: err}
	}
	return final, syncDir(dir)
}

// checkComplete verifies that the records file at path is shard h of the
// run and holds every one of its jobs.
func checkComplete(path string, h recordsHeader, total int) (err error) {
	rr, err := openRecords(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rr.close()) }()
	if err := rr.check(h); err != nil {
		return err
	}
	sh := Shard{h.Shard, h.Shards}
	want := sh.jobs(total)
	n := 0
	for {
		job, _, ok, err := rr.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if job != sh.Index+n*sh.Count {
			return &CheckpointError{Path: path, Msg: fmt.Sprintf("record %d is job %d, expected %d: the file is damaged", n+1, job, sh.Index+n*sh.Count)}
		}
		n++
	}
	if n != want {
		return &CheckpointError{Path: path, Msg: fmt.Sprintf("holds %d of shard %s's %d replications: the file is damaged", n, sh, want)}
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return &WriteError{Path: dir, Err: err}
	}
	err = d.Sync()
	if e := d.Close(); err == nil {
		err = e
	}
	if err != nil {
		return &WriteError{Path: dir, Err: err}
	}
	return nil
}

// Merge folds the records of every shard of a run of s into its Result,
// byte-identical to the Result of the unsharded run. paths are shard files,
// or directories whose shard-*-of-*.hbsim files are taken. Every shard
// 0..N-1 must be there exactly once, complete, and written for s (same
// fingerprint: same points, seed and replications).
func Merge(s *Spec, paths []string) (res *Result, err error) {
	points, err := runnablePoints(s)
	if err != nil {
		return nil, err
	}
	files, err := shardFiles(paths)
	if err != nil {
		return nil, err
	}
	var readers []*recordReader
	defer func() {
		for _, rr := range readers {
			if rr != nil {
				err = errors.Join(err, rr.close())
			}
		}
	}()
	fp, err := fingerprint(s, points)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, f := range files {
		rr, err := openRecords(f)
		if err != nil {
			return nil, err
		}
		h := rr.header
		if n == 0 {
			n = h.Shards
			if n < 1 || n > MaxRuns {
				return nil, errors.Join(&CheckpointError{Path: f, Msg: "not an hbsim shard file"}, rr.close())
			}
			readers = make([]*recordReader, n)
		}
		if err := rr.check(recordsHeader{Fingerprint: fp, Shard: h.Shard, Shards: n}); err != nil {
			return nil, errors.Join(err, rr.close())
		}
		if h.Shard < 0 || h.Shard >= n {
			return nil, errors.Join(&CheckpointError{Path: f, Msg: "not an hbsim shard file"}, rr.close())
		}
		if prev := readers[h.Shard]; prev != nil {
			return nil, errors.Join(&CheckpointError{Path: f, Msg: fmt.Sprintf("shard %s is given twice (also %s)", Shard{h.Shard, n}, prev.path)}, rr.close())
		}
		readers[h.Shard] = rr
	}
	if n == 0 {
		return nil, fmt.Errorf("experiments: merge: no shard files in %s", strings.Join(paths, ", "))
	}
	for i, rr := range readers {
		if rr == nil {
			return nil, fmt.Errorf("experiments: merge: shard %s is missing (have %d of %d shard files)", Shard{i, n}, len(files), n)
		}
	}
	reps := s.Replications
	total := len(points) * reps
	accs := newPointAccs(points)
	for j := range total {
		rr := readers[j%n]
		job, r, ok, err := rr.next()
		if err != nil {
			return nil, err
		}
		if !ok || job != j {
			sh := Shard{j % n, n}
			return nil, &CheckpointError{Path: rr.path, Msg: fmt.Sprintf("shard %s is incomplete or damaged: replication %d of point %d (job %d) is missing; run the shard again with --resume",
				sh, j%reps, j/reps, j)}
		}
		accs[j/reps].fold(&r)
	}
	for _, rr := range readers {
		if _, _, ok, err := rr.next(); err != nil || ok {
			return nil, errors.Join(err, &CheckpointError{Path: rr.path, Msg: "holds records beyond the end of the run: the file is damaged"})
		}
	}
	return buildResult(s, points, accs), nil
}

// shardFiles expands directories into their shard files, sorted.
func shardFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, &CheckpointError{Path: p, Msg: "cannot read: " + ioMessage(err), Err: err}
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "shard-*-of-*.hbsim"))
		if err != nil {
			return nil, fmt.Errorf("experiments: %w", err)
		}
		m = slices.DeleteFunc(m, func(f string) bool { return strings.HasSuffix(f, ".checkpoint.hbsim") })
		if len(m) == 0 {
			return nil, &CheckpointError{Path: p, Msg: "no shard files (shard-I-of-N.hbsim) in this directory"}
		}
		slices.Sort(m)
		out = append(out, m...)
	}
	return out, nil
}
