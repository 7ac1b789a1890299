package wal

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// checkSegment reads every record of segment seg. In an earlier segment
// any damage is returned as a *CorruptionError. In the last segment a
// damaged tail is truncated away: at the first bad record, or after the
// last complete record when the file ends in zeros (a file extended by a
// crash before its data reached the disk). It returns the segment's size
// after any repair and whether it repaired.
func (w *WAL) checkSegment(seg int, last bool) (size int64, repaired bool, err error) {
	path := segmentPath(w.dir, seg)
	sr, err := openSegmentReader(path)
	if err != nil {
		return 0, false, fmt.Errorf("wal: open segment %d: %w", seg, err)
	}
	defer sr.close()
	fi, err := sr.f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("wal: stat segment %d: %w", seg, err)
	}
	var cause error
	var at int64
	for {
		_, off, rerr := sr.next()
		if rerr == nil {
			continue
		}
		if errors.Is(rerr, io.EOF) {
			at = sr.end
			break
		}
		var perr *os.PathError
		if errors.As(rerr, &perr) {
			return 0, false, fmt.Errorf("wal: read segment %d: %w", seg, rerr)
		}
		cause, at = rerr, off
		break
	}
	if !last {
		if cause != nil {
			return 0, false, &CorruptionError{Dir: w.dir, Segment: seg, Offset: at, Err: cause}
		}
		return fi.Size(), false, nil
	}
	if at == fi.Size() {
		return at, false, nil
	}
	if cause == nil {
		cause = errors.New("zero bytes after the last record")
	}
	w.logger.Warn("wal: repairing torn or corrupt tail of the last segment",
		"dir", w.dir, "segment", seg, "offset", at, "truncated_bytes", fi.Size()-at, "cause", cause)
	if err := truncateFile(path, at); err != nil {
		return 0, false, fmt.Errorf("wal: repair segment %d: %w", seg, err)
	}
	return at, true, nil
}

// truncateFile truncates the file at path to size bytes and syncs it.
func truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
