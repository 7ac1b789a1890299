package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
)

// DefaultSegmentSize is the segment size used when Options.SegmentSize is
// zero.
const DefaultSegmentSize = 64 << 20

// flushThreshold is how many buffered bytes Log collects before it writes
// them to the segment file (without syncing).
const flushThreshold = 1 << 20

// Options configure a WAL. A nil *Options means all defaults.
type Options struct {
	// SegmentSize is the size at which a segment is finished and the next
	// one started. A record is never split across segments, so a segment
	// holding one large record may be larger. Zero or negative means
	// DefaultSegmentSize (64 MiB). It is rounded up to a whole number of
	// pages.
	SegmentSize int64
	// Logger receives repair events. Nil discards them.
	Logger *slog.Logger
}

// WAL is an append-only, segmented log of records in a directory.
//
// A WAL is safe for concurrent use. Records passed to one Log call are
// contiguous in the log; records of concurrent calls are ordered as the
// calls acquire the WAL. Sync does not block Log while it waits for the
// disk.
type WAL struct {
	// Fixed after Open.
	dir     string
	segSize int64
	logger  *slog.Logger
	repairs int

	// syncMu serializes Sync, segment rotation and Close, so that the file
	// being synced is never closed under it. Lock order: syncMu, then mu.
	syncMu sync.Mutex

	mu struct {
		sync.Mutex
		f           *os.File // the current segment, open for appending
		first       int      // index of the first segment
		cur         int      // index of the current segment
		off         int64    // logical size of the current segment, buffered bytes included
		buf         []byte   // bytes not yet written to f
		dirty       bool     // f has writes that are not synced
		closedBytes int64    // total size of the segments before cur
		err         error    // sticky write or sync error
		closed      bool
	}
}

// Open opens the WAL in dir, creating the directory and a first segment if
// needed. It checks every record of every segment: a torn or corrupt tail of
// the last segment is truncated at the first bad record (logged and counted
// by Repairs); corruption in an earlier segment, or a missing segment,
// returns a *CorruptionError. Appends continue in the last segment.
func Open(dir string, opts *Options) (*WAL, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if r := o.SegmentSize % PageSize; r != 0 {
		o.SegmentSize += PageSize - r
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: create directory: %w", err)
	}
	w := &WAL{dir: dir, segSize: o.SegmentSize, logger: o.Logger}

	segs, err := listSegments(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments: %w", err)
	}
	if err := checkContiguous(dir, segs); err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		f, err := createSegment(dir, firstSegmentIndex)
		if err != nil {
			return nil, err
		}
		w.mu.f, w.mu.first, w.mu.cur = f, firstSegmentIndex, firstSegmentIndex
		return w, nil
	}
	var closedBytes, lastSize int64
	for k, seg := range segs {
		size, repaired, err := w.checkSegment(seg, k == len(segs)-1)
		if err != nil {
			return nil, err
		}
		if repaired {
			w.repairs++
		}
		if k < len(segs)-1 {
			closedBytes += size
		} else {
			lastSize = size
		}
	}
	last := segs[len(segs)-1]
	f, err := os.OpenFile(segmentPath(dir, last), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: open segment %d: %w", last, err)
	}
	w.mu.f, w.mu.first, w.mu.cur = f, segs[0], last
	w.mu.off, w.mu.closedBytes = lastSize, closedBytes
	return w, nil
}

// Dir returns the WAL directory.
func (w *WAL) Dir() string { return w.dir }

// Log appends records. They are buffered and written to the segment file
// in large writes; they are durable only after a later Sync returns nil. A
// segment is finished before a record that would take it past the segment
// size, unless the segment is empty.
//
// After a write error, every later Log and Sync returns that error: the
// state of the file is unknown and the WAL must be reopened. Log returns
// ErrClosed after Close.
func (w *WAL) Log(recs ...[]byte) error {
	if len(recs) == 0 {
		return nil
	}
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	// Rotation closes the current file, which requires syncMu. Take it only
	// when this batch may need it, so that Log rarely waits for a Sync.
	end := w.mu.off
	for _, r := range recs {
		end += encodedSize(end, len(r))
	}
	if end > w.segSize {
		w.mu.Unlock()
		w.syncMu.Lock()
		defer w.syncMu.Unlock()
		w.mu.Lock()
		if err := w.usableLocked(); err != nil {
			w.mu.Unlock()
			return err
		}
	}
	defer w.mu.Unlock()
	for _, r := range recs {
		if w.mu.off > 0 && w.mu.off+encodedSize(w.mu.off, len(r)) > w.segSize {
			if _, err := w.rotateLocked(); err != nil {
				return err
			}
		}
		w.mu.buf, w.mu.off = appendRecord(w.mu.buf, w.mu.off, r)
		if len(w.mu.buf) >= flushThreshold {
			if err := w.flushLocked(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sync writes buffered records and waits until everything logged before
// the call is on stable storage (fdatasync). Concurrent Log calls proceed
// while Sync waits for the disk. It returns ErrClosed after Close.
func (w *WAL) Sync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	if err := w.flushLocked(); err != nil {
		w.mu.Unlock()
		return err
	}
	f, dirty := w.mu.f, w.mu.dirty
	w.mu.dirty = false
	w.mu.Unlock()
	if !dirty {
		return nil
	}
	if err := fdatasync(f); err != nil {
		w.mu.Lock()
		w.setErrLocked(fmt.Errorf("wal: sync segment: %w", err))
		err = w.mu.err
		w.mu.Unlock()
		return err
	}
	return nil
}

// Segments returns the indices of the first and the last (current)
// segment. It returns ErrClosed after Close.
func (w *WAL) Segments() (first, last int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.closed {
		return 0, 0, ErrClosed
	}
	return w.mu.first, w.mu.cur, nil
}

// CurrentSegment returns the index of the segment being appended to.
func (w *WAL) CurrentSegment() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.cur
}

// NextSegment finishes the current segment (pads its last page, writes and
// syncs it) and starts a new, empty one, whose index it returns. Records
// logged before the call are durable when it returns nil.
func (w *WAL) NextSegment() (int, error) {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usableLocked(); err != nil {
		return 0, err
	}
	return w.rotateLocked()
}

// TruncateBefore deletes the segments with an index below seg, oldest
// first. The current segment is never deleted, whatever seg is.
func (w *WAL) TruncateBefore(seg int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.closed {
		return ErrClosed
	}
	removed := false
	for w.mu.first < seg && w.mu.first < w.mu.cur {
		p := segmentPath(w.dir, w.mu.first)
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("wal: truncate segment %d: %w", w.mu.first, err)
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("wal: truncate segment %d: %w", w.mu.first, err)
		}
		w.mu.closedBytes -= fi.Size()
		w.mu.first++
		removed = true
	}
	if removed {
		if err := syncDir(w.dir); err != nil {
			return fmt.Errorf("wal: truncate: %w", err)
		}
	}
	return nil
}

// Size returns the total size in bytes of the segments, buffered records
// included.
func (w *WAL) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.closedBytes + w.mu.off
}

// Repairs returns how many torn or corrupt tails Open truncated (0 or 1).
func (w *WAL) Repairs() int { return w.repairs }

// Close writes and syncs buffered records and closes the current segment.
// The first call returns the outcome; later calls return ErrClosed.
func (w *WAL) Close() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mu.closed {
		return ErrClosed
	}
	w.mu.closed = true
	err := w.mu.err
	if err == nil {
		err = w.flushLocked()
	}
	if err == nil && w.mu.dirty {
		if serr := fdatasync(w.mu.f); serr != nil {
			err = fmt.Errorf("wal: sync segment: %w", serr)
		}
	}
	if cerr := w.mu.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("wal: close segment: %w", cerr)
	}
	w.mu.buf = nil
	return err
}

// usableLocked returns why the WAL cannot be written, if it cannot.
// REQUIRES: mu held.
func (w *WAL) usableLocked() error {
	if w.mu.closed {
		return ErrClosed
	}
	return w.mu.err
}

// setErrLocked makes err sticky. REQUIRES: mu held.
func (w *WAL) setErrLocked(err error) {
	if w.mu.err == nil {
		w.mu.err = err
	}
}

// flushLocked writes the buffer to the current segment file.
// REQUIRES: mu held.
func (w *WAL) flushLocked() error {
	if len(w.mu.buf) == 0 {
		return nil
	}
	if _, err := w.mu.f.Write(w.mu.buf); err != nil {
		w.setErrLocked(fmt.Errorf("wal: write segment %d: %w", w.mu.cur, err))
		return w.mu.err
	}
	w.mu.buf = w.mu.buf[:0]
	w.mu.dirty = true
	return nil
}

// rotateLocked pads, writes, syncs and closes the current segment, then
// creates and publishes the next one. REQUIRES: syncMu and mu held.
func (w *WAL) rotateLocked() (int, error) {
	if r := w.mu.off % PageSize; r != 0 {
		w.mu.buf = append(w.mu.buf, make([]byte, PageSize-r)...)
		w.mu.off += PageSize - r
	}
	if err := w.flushLocked(); err != nil {
		return 0, err
	}
	if err := fdatasync(w.mu.f); err != nil {
		w.setErrLocked(fmt.Errorf("wal: sync segment %d: %w", w.mu.cur, err))
		return 0, w.mu.err
	}
	if err := w.mu.f.Close(); err != nil {
		w.setErrLocked(fmt.Errorf("wal: close segment %d: %w", w.mu.cur, err))
		return 0, w.mu.err
	}
	next := w.mu.cur + 1
	f, err := createSegment(w.dir, next)
	if err != nil {
		w.setErrLocked(err)
		return 0, err
	}
	w.mu.closedBytes += w.mu.off
	w.mu.f, w.mu.cur, w.mu.off = f, next, 0
	return next, nil
}

// createSegment creates segment i and syncs the directory so that the new
// file survives a crash.
func createSegment(dir string, i int) (*os.File, error) {
	f, err := os.OpenFile(segmentPath(dir, i), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment %d: %w", i, err)
	}
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("wal: create segment %d: %w", i, err)
	}
	return f, nil
}

// syncDir fsyncs a directory, making creations and removals in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && errors.Is(err, os.ErrInvalid) {
		return nil // directories cannot be synced on some platforms
	}
	return err
}
