package storage

import (
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// On-disk names of the segment tier, all in one place. Segments live under
// the data directory, laid out Hive-style so that any Parquet tool reading
// the tree sees tenant, database, table and date as partition columns:
//
//	segments/tenant=<tenant>/database=<database>/table=<table>/date=YYYY-MM-DD/<id>.parquet
//
// <id> is the segment id as 16 lower-case hex digits (segmentFileName).
// DESIGN.md shows the path without the database level; it is needed because
// two databases of one tenant may hold tables of the same name.
//
// A file is written as <id>.parquet.tmp, fsynced, renamed to <id>.parquet
// and the directory fsynced (publishSegmentFile). A .tmp file, or a
// .parquet file that the manifest does not list, is garbage from a crash and
// is removed by RemoveOrphanSegments when the store opens.
//
// Escaping (escapePathValue): the tenant, database and table names are
// written as Hive escapes partition values: every byte outside
// [A-Za-z0-9._-] and every byte >= 0x80 becomes %XX (upper-case hex), so a
// name never contains '/', '=', '%', a NUL or a control character, and Hive,
// Spark, Arrow and DuckDB decode it back to the original name. A component
// whose escaped form would pass maxPathValue bytes is cut there and gets
// "~<16 hex digits of FNV-1a of the full name>" appended, which keeps it
// unique and within file-name limits (such a name no longer decodes to the
// original; the manifest, not the path, is the authority for what a file
// holds). An empty name is written as __HIVE_DEFAULT_PARTITION__, as Hive
// does. Names that differ only in case share a directory on
// case-insensitive file systems; files never collide because ids are unique.
// These names are part of the on-disk format.
const (
	segmentsDirName  = "segments"
	segmentExt       = ".parquet"
	segmentTmpSuffix = ".tmp"

	hiveTenant   = "tenant="
	hiveDatabase = "database="
	hiveTable    = "table="
	hiveDate     = "date="

	maxPathValue = 200
)

// dayNanos is the length of a partition: one UTC day.
const dayNanos = int64(24 * time.Hour)

// DayOf returns the partition day of a time: days since 1970-01-01 UTC,
// rounded down (so negative times fall on negative days).
func DayOf(t int64) int32 {
	d := t / dayNanos
	if t%dayNanos < 0 {
		d--
	}
	return int32(d)
}

// DayRange returns the first and last nanosecond of a partition day.
func DayRange(day int32) (minTime, maxTime int64) {
	lo := int64(day) * dayNanos
	return lo, lo + dayNanos - 1
}

// DayString formats a partition day as YYYY-MM-DD.
func DayString(day int32) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format("2006-01-02")
}

// segmentFileName is the base name of segment id.
func segmentFileName(id uint64) string {
	return fmt.Sprintf("%016x%s", id, segmentExt)
}

// SegmentRelDir is the directory of a partition's segments, relative to the
// data directory, with forward slashes.
func SegmentRelDir(tenant, database, table string, day int32) string {
	return strings.Join([]string{
		segmentsDirName,
		hiveTenant + escapePathValue(tenant),
		hiveDatabase + escapePathValue(database),
		hiveTable + escapePathValue(table),
		hiveDate + DayString(day),
	}, "/")
}

// SegmentRelPath is the path of a segment relative to the data directory,
// with forward slashes (as stored in the manifest).
func SegmentRelPath(tenant, database, table string, day int32, id uint64) string {
	return SegmentRelDir(tenant, database, table, day) + "/" + segmentFileName(id)
}

// segmentAbsPath turns a manifest path into a file path under root.
func segmentAbsPath(root, rel string) string {
	return filepath.Join(root, filepath.FromSlash(rel))
}

// parseSegmentFileName returns the id of a segment file name.
func parseSegmentFileName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(s) != 16 {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 16, 64)
	return id, err == nil
}

// escapePathValue escapes a partition value for a path component (see the
// rule above).
func escapePathValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	out := b.String()
	if out == "" {
		return "__HIVE_DEFAULT_PARTITION__" // Hive's name for an empty value
	}
	if len(out) > maxPathValue {
		h := fnv.New64a()
		h.Write([]byte(s))
		cut := maxPathValue
		// Do not cut an escape sequence in half.
		if i := strings.LastIndexByte(out[:cut], '%'); i >= cut-2 {
			cut = i
		}
		out = fmt.Sprintf("%s~%016x", out[:cut], h.Sum64())
	}
	return out
}
