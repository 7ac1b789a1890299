package wal

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by the methods of a WAL after Close.
var ErrClosed = errors.New("wal: closed")

// CorruptionError reports a record that cannot be read: a bad checksum, an
// unknown format version, a fragment out of sequence or a record cut short.
// Find it with errors.As.
type CorruptionError struct {
	Dir     string // the WAL directory
	Segment int    // the segment index
	Offset  int64  // byte offset in the segment of the first bad record
	Err     error  // what is wrong
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corruption in segment %d at offset %d of %s: %v", e.Segment, e.Offset, e.Dir, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Reasons carried in CorruptionError.Err.
var (
	errChecksum       = errors.New("checksum mismatch")
	errTorn           = errors.New("record cut short (torn write)")
	errNonZeroPadding = errors.New("non-zero byte in page padding")
	errMissingSegment = errors.New("segment file missing")
)
