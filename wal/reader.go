package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// readBufferSize is the read buffer of one segment reader.
const readBufferSize = 4 * PageSize

// segmentReader reads the records of one segment file. It is the single
// decoder of the format: Reader and the repair scan on Open both use it.
type segmentReader struct {
	f   *os.File
	br  *bufio.Reader
	off int64 // offset of the next unread byte
	// end is the offset just past the last complete record, or past padding
	// that reached the end of its page: where an appender may continue.
	end int64
	rec []byte // the last record, reused
	hdr [headerSize]byte
}

func openSegmentReader(path string) (*segmentReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &segmentReader{f: f, br: bufio.NewReaderSize(f, readBufferSize)}, nil
}

func (s *segmentReader) close() error { return s.f.Close() }

// next reads the next record. It returns the record (valid until the next
// call) and its offset. At a clean end of the segment it returns io.EOF;
// for anything else it returns the offset of the bad record and why it is
// bad.
func (s *segmentReader) next() (rec []byte, start int64, err error) {
	s.rec = s.rec[:0]
	inRecord := false
	start = s.off
	for {
		if !inRecord {
			start = s.off
		}
		rem := PageSize - int(s.off%PageSize)
		t, err := s.br.ReadByte()
		if err == io.EOF {
			if inRecord {
				return nil, start, errTorn
			}
			return nil, start, io.EOF
		}
		if err != nil {
			return nil, start, err
		}
		s.off++
		if t == padByte {
			if err := s.skipPadding(rem - 1); err != nil {
				if err == io.EOF && !inRecord {
					return nil, start, io.EOF
				}
				if err == io.EOF {
					return nil, start, errTorn
				}
				return nil, start, err
			}
			if !inRecord {
				s.end = s.off
			}
			continue
		}
		if rem < headerSize {
			return nil, start, fmt.Errorf("fragment header crosses a page boundary (type byte %#02x)", t)
		}
		kind, err := parseTypeByte(t)
		if err != nil {
			return nil, start, err
		}
		s.hdr[0] = t
		if _, err := io.ReadFull(s.br, s.hdr[1:]); err != nil {
			return nil, start, tornOr(err)
		}
		s.off += headerSize - 1
		n := int(binary.BigEndian.Uint16(s.hdr[1:3]))
		if n > rem-headerSize {
			return nil, start, fmt.Errorf("fragment length %d exceeds the %d bytes left in the page", n, rem-headerSize)
		}
		l := len(s.rec)
		s.rec = append(s.rec, make([]byte, n)...)
		payload := s.rec[l:]
		if _, err := io.ReadFull(s.br, payload); err != nil {
			return nil, start, tornOr(err)
		}
		s.off += int64(n)
		if fragmentCRC(s.hdr[:], payload) != binary.BigEndian.Uint32(s.hdr[3:7]) {
			return nil, start, errChecksum
		}
		switch {
		case !inRecord && (kind == fragMiddle || kind == fragLast):
			return nil, start, fmt.Errorf("fragment kind %d without a first fragment", kind)
		case inRecord && (kind == fragFull || kind == fragFirst):
			return nil, start, fmt.Errorf("fragment kind %d inside an unfinished record", kind)
		}
		if kind == fragFull || kind == fragLast {
			s.end = s.off
			return s.rec, start, nil
		}
		inRecord = true
	}
}

// skipPadding consumes n bytes that must be zero. It returns io.EOF if the
// file ends first.
func (s *segmentReader) skipPadding(n int) error {
	for n > 0 {
		b, err := s.br.Peek(min(n, s.br.Size()))
		if len(b) == 0 {
			if err == nil || err == io.EOF {
				return io.EOF
			}
			return err
		}
		for _, c := range b {
			if c != 0 {
				return errNonZeroPadding
			}
		}
		_, _ = s.br.Discard(len(b))
		s.off += int64(len(b))
		n -= len(b)
	}
	return nil
}

func tornOr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errTorn
	}
	return err
}

// Reader reads the records of a WAL directory in order, across segments.
//
// A Reader is not safe for concurrent use. It reads files, not a WAL: open
// it on a directory whose WAL is not being appended to (for example before
// Open's caller logs anything, or on a copy), or accept that it stops at
// whatever tail it finds.
type Reader struct {
	dir  string
	segs []int // segments still to read, the current one first
	cur  *segmentReader
	seg  int
	rec  []byte
	off  int64
	err  error
}

// NewReader returns a Reader over segments fromSegment through the last
// segment in dir. It fails if segment fromSegment does not exist.
func NewReader(dir string, fromSegment int) (*Reader, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments: %w", err)
	}
	if err := checkContiguous(dir, segs); err != nil {
		return nil, err
	}
	k := 0
	for k < len(segs) && segs[k] < fromSegment {
		k++
	}
	if k == len(segs) || segs[k] != fromSegment {
		return nil, fmt.Errorf("wal: segment %d not found in %s", fromSegment, dir)
	}
	return &Reader{dir: dir, segs: segs[k:]}, nil
}

// Next advances to the next record and reports whether there is one. When
// it returns false, Err tells a clean end from a failure.
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	for {
		if r.cur == nil {
			if len(r.segs) == 0 {
				return false
			}
			r.seg = r.segs[0]
			sr, err := openSegmentReader(segmentPath(r.dir, r.seg))
			if err != nil {
				r.err = fmt.Errorf("wal: open segment %d: %w", r.seg, err)
				return false
			}
			r.cur = sr
		}
		rec, off, err := r.cur.next()
		if err == nil {
			r.rec, r.off = rec, off
			return true
		}
		if errors.Is(err, io.EOF) {
			_ = r.cur.close()
			r.cur = nil
			r.segs = r.segs[1:]
			continue
		}
		r.rec = nil
		var perr *os.PathError
		if errors.As(err, &perr) {
			r.err = fmt.Errorf("wal: read segment %d: %w", r.seg, err)
		} else {
			r.err = &CorruptionError{Dir: r.dir, Segment: r.seg, Offset: off, Err: err}
		}
		return false
	}
}

// Record returns the current record. The slice is owned by the Reader and
// is valid only until the next call to Next; copy it to keep it.
func (r *Reader) Record() []byte { return r.rec }

// Segment returns the segment index of the current record.
func (r *Reader) Segment() int { return r.seg }

// Offset returns the byte offset of the current record in its segment.
func (r *Reader) Offset() int64 { return r.off }

// Err returns the error that stopped Next, or nil at a clean end. A damaged
// record is reported as a *CorruptionError.
func (r *Reader) Err() error { return r.err }

// Close releases the open segment file. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.cur == nil {
		return nil
	}
	err := r.cur.close()
	r.cur = nil
	r.segs = nil
	return err
}
