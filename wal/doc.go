// Package wal implements a segmented, page-framed, CRC-checked log of opaque
// records. It frames bytes; what is inside a record belongs to the caller
// (package cluster stores raft entries and state in it).
//
// The design follows Prometheus tsdb/wlog: records are appended to numbered
// segment files inside one directory, each segment is a sequence of 32 KiB
// pages, and a record that does not fit in the rest of a page is split into
// fragments so that no fragment crosses a page boundary. A torn write
// therefore damages at most the record being written, and every fragment is
// individually checked with CRC-32C.
//
// # Files
//
//   - wal.go: WAL, Open, Log, Sync, segment rotation, TruncateBefore, Close.
//   - repair.go: the scan on Open that checks every segment and truncates a
//     torn or corrupt tail of the last one.
//   - reader.go: Reader, sequential reading of records over segments.
//   - format.go: page and fragment constants, fragment encoding.
//   - filenames.go: segment file names.
//   - errors.go: ErrClosed and CorruptionError.
//
// # On-disk format
//
// A WAL is a directory of segment files named by their index as eight
// decimal digits, starting at 00000001. Indices are contiguous: a missing
// index between the first and the last segment is corruption. A segment is a
// sequence of pages of PageSize (32 KiB) bytes; the last page of the
// segment being written may be short, and a finished segment is padded with
// zeros to a whole number of pages.
//
// Each page holds fragments back to back, followed by zero padding when the
// rest of the page cannot hold another fragment header (or when the segment
// was finished):
//
//	page (32 KiB)
//	┌───────────────┬───────────────┬─────┬───────────────┬──────────────┐
//	│ fragment      │ fragment      │ ... │ fragment      │ zero padding │
//	└───────────────┴───────────────┴─────┴───────────────┴──────────────┘
//
//	fragment
//	┌──────────────┬─────────────────┬──────────────────┬──────────────────┐
//	│ type (1 B)   │ length (2 B BE) │ CRC-32C (4 B BE) │ payload (length) │
//	└──────────────┴─────────────────┴──────────────────┴──────────────────┘
//
//	type byte
//	┌──────────────────────────┬─────────────────────────────────────────┐
//	│ bits 7..4: version (= 1) │ bits 3..0: 1 full, 2 first, 3 middle,   │
//	│                          │            4 last                       │
//	└──────────────────────────┴─────────────────────────────────────────┘
//
// A type byte of 0x00 starts padding: every byte up to the end of the page
// must be zero. Any other type byte with a version other than 1 or a
// fragment kind outside 1..4 is corruption, so a future format cannot be
// misread by this code. The CRC-32C (Castagnoli) covers the type byte, the
// two length bytes and the payload. A fragment never crosses a page
// boundary, so length is at most PageSize-7. A record is either one full
// fragment or a first fragment, zero or more middle fragments and a last
// fragment, all in the same segment. A record never spans segments.
//
// These constants are part of the on-disk format: PageSize, the 7-byte
// header layout, the type byte values, the CRC polynomial and the segment
// file names. Changing any of them requires a new version.
//
// # Durability and repair
//
// Log buffers records in memory; Sync writes them and calls fdatasync. A
// crash may leave the last segment with a torn record at its end. Open
// checks every segment: corruption in the last segment is repaired by
// truncating it at the first bad record (the event is logged and counted by
// Repairs), corruption in any earlier segment makes Open fail with a
// *CorruptionError, because records after it were acknowledged as durable.
package wal
