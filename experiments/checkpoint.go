package experiments

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"hbsim/model"
)

// A records file holds the outcome of completed replications, one small
// binary record each, so that a run can be resumed (the checkpoint) or split
// across machines (a shard) and folded again later into exactly the same
// Result.
//
// Layout: the line "hbsim records 1", a line of JSON (recordsHeader), then
// records, each
//
//	uvarint n | n bytes of payload | CRC-32C of the payload, 4 bytes little-endian
//
// where the payload is the job index and the replication's repSummary as
// varints. Records are appended in job order. A process killed while
// appending leaves at most one torn record at the end; readers stop at the
// first record that is short or fails its CRC, and writers resuming the file
// truncate it there.
const recordsMagic = "hbsim records 2\n"

// maxRecordPayload bounds a record, so that a corrupt length cannot make a
// reader allocate without limit.
const maxRecordPayload = 1 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// CheckpointError is a records file (a checkpoint or a shard) that cannot be
// used: missing, corrupt, or written for another experiment. It is the
// user's input, not a failed run.
type CheckpointError struct {
	Path string
	Msg  string
	Err  error // the underlying error, if any
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("experiments: %s: %s", e.Path, e.Msg)
}

func (e *CheckpointError) Unwrap() error { return e.Err }

// recordsHeader identifies what a records file belongs to.
type recordsHeader struct {
	Experiment   string `json:"experiment"`
	Fingerprint  string `json:"fingerprint"`
	Seed         uint64 `json:"seed"`
	Points       int    `json:"points"`
	Replications int    `json:"replications"`
	Shard        int    `json:"shard"`
	Shards       int    `json:"shards"`
}

// Fingerprint identifies what a run computes: the seed, the replication count
// and every sweep point's parameters and complete model configuration. Two
// specs with the same fingerprint give the same replications, whatever their
// file names, comments or key order. It does not cover the simulator's own
// code: records written by one build of hbsim must be folded by the same build.
func Fingerprint(s *Spec) (string, error) {
	points, err := s.Points()
	if err != nil {
		return "", err
	}
	return fingerprint(s, points)
}

func fingerprint(s *Spec, points []Point) (string, error) {
	type pointID struct {
		Params []Param
		Config model.Config
	}
	v := struct {
		Format       int
		Seed         uint64
		Replications int
		Points       []pointID
	}{Format: 1, Seed: s.Seed, Replications: s.Replications}
	for _, p := range points {
		v.Points = append(v.Points, pointID{p.Params, p.Config})
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("experiments: fingerprint: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func newHeader(s *Spec, points []Point, sh Shard) (recordsHeader, error) {
	fp, err := fingerprint(s, points)
	if err != nil {
		return recordsHeader{}, err
	}
	sh = sh.normal()
	return recordsHeader{Experiment: s.Name, Fingerprint: fp, Seed: s.Seed, Points: len(points),
		Replications: s.Replications, Shard: sh.Index, Shards: sh.Count}, nil
}

// ---------------------------------------------------------------------------
// Per-replication summaries.

// repSummary is what the aggregation needs of one replication's model.Stats,
// with every duration in integer nanoseconds: folding summaries in
// replication order gives bit-for-bit the floats that folding the Stats
// would. Shared episodes are reduced to counts (integer sums do not depend
// on order).
type repSummary struct {
	exposures, expiredExposures, expiries int64
	clientsExpired, disconnects, clients  int64
	horizon, observed, disconnected       int64 // ns
	detection                             int64 // ns; meaningful when detectionMeasured
	detectionMeasured                     bool
	events                                uint64
	episodes, hits                        int64
	maxHit                                int64
	atLeast                               []int64 // atLeast[k-1]: episodes with >= k expiries
	// Server-side fault episodes (crash, pause, partition, rolling
	// restart): each one's time without a serving leader (ns) and the
	// client connections servers dropped; and the replication's peak
	// ConnectRequests per second at one server.
	noLeader, dropped []int64
	peakConnects      int64
}

func summarize(st model.Stats) repSummary {
	r := repSummary{
		exposures: int64(st.Exposures), expiredExposures: int64(st.ExpiredExposures), expiries: int64(st.Expiries),
		clientsExpired: int64(st.ClientsExpired), disconnects: int64(st.Disconnects), clients: int64(st.Clients),
		horizon: int64(st.Horizon), observed: int64(st.ObservedTime), disconnected: int64(st.DisconnectedTime),
		detectionMeasured: st.DetectionMeasured, events: st.Events,
	}
	if st.DetectionMeasured {
		r.detection = int64(st.DetectionTime)
	}
	for _, ep := range st.ServerEpisodes {
		r.noLeader = append(r.noLeader, int64(ep.NoLeader))
		r.dropped = append(r.dropped, int64(ep.Dropped))
	}
	r.peakConnects = int64(st.PeakConnectRate)
	for _, ep := range st.SharedEpisodes {
		r.episodes++
		r.hits += int64(ep.Hit)
		r.maxHit = max(r.maxHit, int64(ep.Hit))
		for len(r.atLeast) < ep.Expired {
			r.atLeast = append(r.atLeast, 0)
		}
		for k := 1; k <= ep.Expired; k++ {
			r.atLeast[k-1]++
		}
	}
	return r
}

// appendRecord appends the framed record of job to b.
func appendRecord(b []byte, job int, r *repSummary) []byte {
	var p [256]byte
	pl := p[:0]
	pl = binary.AppendUvarint(pl, uint64(job))
	for _, v := range []int64{r.exposures, r.expiredExposures, r.expiries, r.clientsExpired, r.disconnects, r.clients,
		r.horizon, r.observed, r.disconnected, r.detection} {
		pl = binary.AppendVarint(pl, v)
	}
	flags := uint64(0)
	if r.detectionMeasured {
		flags = 1
	}
	pl = binary.AppendUvarint(pl, flags)
	pl = binary.AppendUvarint(pl, r.events)
	pl = binary.AppendVarint(pl, r.episodes)
	pl = binary.AppendVarint(pl, r.hits)
	pl = binary.AppendVarint(pl, r.maxHit)
	pl = binary.AppendUvarint(pl, uint64(len(r.atLeast)))
	for _, c := range r.atLeast {
		pl = binary.AppendVarint(pl, c)
	}
	pl = binary.AppendVarint(pl, r.peakConnects)
	pl = binary.AppendUvarint(pl, uint64(len(r.noLeader)))
	for i := range r.noLeader {
		pl = binary.AppendVarint(pl, r.noLeader[i])
		pl = binary.AppendVarint(pl, r.dropped[i])
	}
	b = binary.AppendUvarint(b, uint64(len(pl)))
	b = append(b, pl...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(pl, crcTable))
}

// errBadRecord is a record whose payload does not decode.
var errBadRecord = errors.New("malformed record")

// decodeRecord decodes a payload whose CRC was checked.
func decodeRecord(pl []byte) (int, repSummary, error) {
	var r repSummary
	bad := false
	uv := func() uint64 {
		v, n := binary.Uvarint(pl)
		if n <= 0 {
			bad = true
			return 0
		}
		pl = pl[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(pl)
		if n <= 0 {
			bad = true
			return 0
		}
		pl = pl[n:]
		return v
	}
	job := uv()
	for _, dst := range []*int64{&r.exposures, &r.expiredExposures, &r.expiries, &r.clientsExpired, &r.disconnects, &r.clients,
		&r.horizon, &r.observed, &r.disconnected, &r.detection} {
		*dst = sv()
	}
	flags := uv()
	r.detectionMeasured = flags&1 != 0
	r.events = uv()
	r.episodes, r.hits, r.maxHit = sv(), sv(), sv()
	n := uv()
	if bad || n > uint64(len(pl)) || job > uint64(maxJobs) || flags > 1 {
		return 0, r, errBadRecord
	}
	if n > 0 {
		r.atLeast = make([]int64, n)
		for i := range r.atLeast {
			r.atLeast[i] = sv()
		}
	}
	r.peakConnects = sv()
	m := uv()
	if bad || m > uint64(len(pl)) {
		return 0, r, errBadRecord
	}
	if m > 0 {
		r.noLeader, r.dropped = make([]int64, m), make([]int64, m)
		for i := range r.noLeader {
			r.noLeader[i], r.dropped[i] = sv(), sv()
		}
	}
	if bad || len(pl) != 0 {
		return 0, r, errBadRecord
	}
	return int(job), r, nil
}

// ---------------------------------------------------------------------------
// Reading.

// recordReader reads a records file sequentially.
type recordReader struct {
	path   string
	f      io.Closer
	r      *bufio.Reader
	header recordsHeader
	valid  int64 // bytes up to the end of the last good record
	buf    []byte
}

// openRecords opens a records file and reads its header.
func openRecords(path string) (*recordReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &CheckpointError{Path: path, Msg: "cannot open: " + ioMessage(err), Err: err}
	}
	rr, err := readRecords(path, f)
	if err != nil {
		_ = f.Close() // the header error is the one to report
		return nil, err
	}
	return rr, nil
}

// readRecords reads the header of the records in r; path names it in errors.
// Closing the reader closes r when it is an io.Closer.
func readRecords(path string, r io.Reader) (*recordReader, error) {
	rr := &recordReader{path: path, r: bufio.NewReaderSize(r, 64<<10)}
	if c, ok := r.(io.Closer); ok {
		rr.f = c
	}
	if err := rr.readHeader(); err != nil {
		return nil, err
	}
	return rr, nil
}

func (rr *recordReader) readHeader() error {
	notOurs := &CheckpointError{Path: rr.path, Msg: "not an hbsim checkpoint or shard file"}
	magic := make([]byte, len(recordsMagic))
	if _, err := io.ReadFull(rr.r, magic); err != nil || string(magic) != recordsMagic {
		return notOurs
	}
	line, err := rr.r.ReadString('\n')
	if err != nil || len(line) > 64<<10 {
		return notOurs
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rr.header); err != nil {
		return notOurs
	}
	rr.valid = int64(len(recordsMagic) + len(line))
	return nil
}

// next returns the next record; ok is false at the end of the good records
// (a clean end, or a torn or corrupt tail).
func (rr *recordReader) next() (job int, r repSummary, ok bool, err error) {
	n, err := rr.length()
	if err != nil {
		return 0, r, false, &CheckpointError{Path: rr.path, Msg: "reading: " + ioMessage(err), Err: err}
	}
	if n == 0 || n > maxRecordPayload {
		return 0, r, false, nil // the end, a torn length or garbage
	}
	if cap(rr.buf) < int(n)+4 {
		rr.buf = make([]byte, n+4)
	}
	b := rr.buf[:n+4]
	if _, err := io.ReadFull(rr.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, r, false, nil
		}
		return 0, r, false, &CheckpointError{Path: rr.path, Msg: "reading: " + ioMessage(err), Err: err}
	}
	pl := b[:n]
	if crc32.Checksum(pl, crcTable) != binary.LittleEndian.Uint32(b[n:]) {
		return 0, r, false, nil
	}
	job, r, err = decodeRecord(pl)
	if err != nil {
		return 0, r, false, nil
	}
	rr.valid += int64(uvarintLen(n)) + int64(n) + 4
	return job, r, true, nil
}

// length reads a record's uvarint length; 0 at the end of the file or on a
// malformed varint.
func (rr *recordReader) length() (uint64, error) {
	var x uint64
	for i := range binary.MaxVarintLen64 {
		c, err := rr.r.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, nil
			}
			return x | uint64(c)<<(7*i), nil
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	return 0, nil
}

func (rr *recordReader) close() error {
	if rr.f == nil {
		return nil
	}
	return rr.f.Close()
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

// check verifies that the file was written for want.
func (rr *recordReader) check(want recordsHeader) error {
	h := rr.header
	switch {
	case h.Fingerprint != want.Fingerprint:
		return &CheckpointError{Path: rr.path, Msg: fmt.Sprintf(
			"written for another experiment (%q, seed %d, %d point(s) x %d replication(s)); the file, a CSV it reads or --seed changed since",
			h.Experiment, h.Seed, h.Points, h.Replications)}
	case h.Shards != want.Shards || h.Shard != want.Shard:
		return &CheckpointError{Path: rr.path, Msg: fmt.Sprintf("written for shard %s, not %s",
			Shard{h.Shard, h.Shards}, Shard{want.Shard, want.Shards})}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Writing.

// recordWriter appends records to a records file.
type recordWriter struct {
	path string
	f    *os.File
	buf  []byte
}

// createRecords creates a new records file with header h; it fails if the
// file exists (which also keeps two runs from sharing one checkpoint). The
// file appears atomically with its complete header: a temporary file is
// written and synced, then hard-linked to path (link fails if path exists).
// Where the file system has no hard links, it falls back to an exclusive
// create, which a kill can leave empty.
func createRecords(path string, h recordsHeader) (*recordWriter, error) {
	exists := func(err error) error {
		return &CheckpointError{Path: path, Msg: "exists already (an interrupted run left it): continue with --resume, or delete it to start over", Err: err}
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("experiments: %s: %w", path, err)
	}
	head := append(append([]byte(recordsMagic), hb...), '\n')
	if _, err := os.Lstat(path); err == nil {
		return nil, exists(os.ErrExist)
	}
	if err := removeStaleTemps(filepath.Dir(path), []File{{Name: filepath.Base(path)}}); err != nil {
		return nil, &WriteError{Path: path, Err: err}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, &WriteError{Path: path, Err: err}
	}
	_, err = tmp.Write(head)
	if err == nil {
		err = tmp.Sync()
	}
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Link(tmp.Name(), path)
		if err != nil && !errors.Is(err, os.ErrExist) {
			err = createExclusive(path, head) // no hard links here
		}
	}
	if e := os.Remove(tmp.Name()); e != nil && err == nil {
		err = e
	}
	if errors.Is(err, os.ErrExist) {
		return nil, exists(err)
	}
	if err != nil {
		return nil, &WriteError{Path: path, Err: err}
	}
	return appendTo(path, int64(len(head)))
}

// createExclusive creates path with data, failing if it exists.
func createExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// appendTo reopens a records file for appending after its valid bytes.
func appendTo(path string, valid int64) (*recordWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, &WriteError{Path: path, Err: err}
	}
	if err := f.Truncate(valid); err != nil {
		return nil, errors.Join(&WriteError{Path: path, Err: fmt.Errorf("truncating its torn end: %w", err)}, f.Close())
	}
	if _, err := f.Seek(valid, io.SeekStart); err != nil {
		return nil, errors.Join(&WriteError{Path: path, Err: err}, f.Close())
	}
	return &recordWriter{path: path, f: f}, nil
}

// add buffers one record.
func (w *recordWriter) add(job int, r *repSummary) { w.buf = appendRecord(w.buf, job, r) }

// flush hands the buffered records to the operating system (they survive
// the process being killed, not the machine crashing).
func (w *recordWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.f.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		return &WriteError{Path: w.path, Err: err}
	}
	return nil
}

// close flushes, syncs to disk and closes the file.
func (w *recordWriter) close() error {
	err := w.flush()
	if err == nil {
		if e := w.f.Sync(); e != nil {
			err = &WriteError{Path: w.path, Err: e}
		}
	}
	if e := w.f.Close(); e != nil && err == nil {
		err = &WriteError{Path: w.path, Err: e}
	}
	return err
}
