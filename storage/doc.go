// Package storage owns fineod's storage tiers: the row store (rowstore.go,
// scan.go), a Pebble database holding recent points, the series index, the
// tag inverted index, the errors table, the catalog and the applied log
// index; and the Parquet segments of history (segment*.go, with the
// manifest of live segments in manifest.go and one compaction step in
// compact.go). The segment format, Hive-style paths and the crash-safety
// argument of compaction are described at the top of segment.go and
// compact.go; readview.go gives readers a consistent view of both (a
// Pebble snapshot), finds the days compaction has to move (PointDays) and
// drops expired partitions (DropPartition). The engine decides what to
// compact and when, and merges the tiers on read. A segment's footer records
// the first row of each row group and each series' row range, so a reader
// that knows its series reads only their row groups and no tag column,
// and of those only the rows it wants: segment_pages.go decodes time,
// integer and float columns straight from their data pages, skipping pages
// outside the rows and stopping a page at its last wanted row (a one-hour
// read of one series decodes a few hundred values, not the 16Ki-row group;
// SegmentRows.RunAhead and FieldBlock then hand such rows on as columns).
// latest.go keeps, per series, the newest point compaction moved (last-point
// queries read no segment).
//
// Keys (keys.go) keep one series' points adjacent and in time order:
// 0x01 | tenant | table | series id | time (big-endian, sign-flipped). A
// point's value (value.go) lists its physical fields by id. A point later
// than its series' newest stored point (the common, in-order case) is
// written as a plain value; any other write is a Pebble merge operand, and
// the merge operator keeps the newer value of each field (last write wins),
// so writes never read first and reads of in-order data skip the merge.
//
// One key per point was chosen over runs of points per key: with Pebble's
// WAL off and merge operands, point keys apply at several hundred thousand
// rows per second per core (see bench/RESULTS.md), well past the HTTP and
// parse cost of the same rows, and they keep point identity and last write
// wins trivial. Revisit if the row store becomes the bottleneck.
//
// Durability: Pebble runs with DisableWAL. The replicated log is the WAL;
// each Apply commits data and the applied index in one batch, so after a
// crash Pebble holds a prefix of the log and the engine replays the rest.
// Flush (called by the engine's checkpoint) makes the applied index durable
// in Pebble's files so the log before it can be released.
package storage
