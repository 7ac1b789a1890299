package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/fineod/fineod/schema"
)

// Compaction moves a partition's points from the row store into a segment.
// CompactPartition is one synchronous step; the engine's background job
// decides which partitions to compact and when.
//
// The steps, and why a crash between any two leaves either the old or the
// new state visible (never both halves, never neither):
//
//  1. Take a Pebble snapshot and read the partition's live segments from the
//     manifest. Nothing is changed.
//  2. Write the new segment: the snapshot's points of the partition older
//     than the cutoff, merged with the old segments' rows by point identity
//     (series tags, time), field by field, the row store winning over
//     segments and a newer segment over an older one. The file is written
//     as <id>.parquet.tmp, fsynced, renamed to <id>.parquet, and the
//     directory fsynced. A crash here leaves a .tmp or a .parquet the
//     manifest does not list: the old state, plus garbage that
//     RemoveOrphanSegments deletes on open.
//  3. In one Pebble batch, with applies excluded (CompactOptions.Exclusive):
//     list the new segment in the manifest, drop the old segments from it,
//     and delete from the row store every compacted point whose value is
//     still the one in the snapshot. A point written again since the
//     snapshot keeps its new value in the row store, which wins over the
//     segment on read and is merged by the next compaction. The batch is
//     atomic: either all of it is visible or none.
//  4. Flush Pebble. Pebble has no WAL, so until this flush a crash could
//     lose the batch of step 3 and bring back the old manifest: this is
//     why the old files must not be deleted before it. Lost that way, the
//     row-store deletions come back with the old manifest, and the new
//     file is an orphan: the old state.
//  5. Delete the old segments' files. A crash before or during this leaves
//     files the manifest no longer lists: the new state plus garbage that
//     RemoveOrphanSegments deletes on open.

// CompactOptions configure CompactPartition. A nil *CompactOptions or a
// zero field means the default.
type CompactOptions struct {
	// Segment configures the segment writer. Default: nil (its defaults).
	Segment *SegmentWriterOptions
	// Exclusive runs publish (step 3) so that no Apply commits while it
	// runs: the engine passes a function that runs it in its apply loop or
	// under its apply lock. Default: call publish directly, which is only
	// correct when nothing applies concurrently (tests, offline tools).
	Exclusive func(publish func() error) error
	// MergeFilter selects which of the partition's live segments the new
	// segment merges (and replaces). Default: nil, every one. Only the
	// newest segments can be merged: the merge takes the longest run of
	// segments, newest first, that MergeFilter accepts, because the new
	// segment (which gets the newest id) must hold data at least as new as
	// every segment it does not replace. Segments left out stay live next
	// to the new one; reads merge them by point identity, the newer
	// segment winning.
	MergeFilter func(SegmentMeta) bool
	// RemoveSegments deletes the files of replaced segments (step 5).
	// Default: delete them directly. The engine passes a function that
	// excludes readers opening segments while files are deleted.
	RemoveSegments func(root string, old []SegmentMeta) []error
	// Hook, if set, is called after each step with its name: "written"
	// (the .tmp file is complete), "renamed" (the file is under its final
	// name), "committed" (the manifest batch is committed, not yet
	// flushed), "flushed" (it is durable), "removed" (old files deleted).
	// Crash tests kill the process from it.
	Hook func(step string)

	// crashAfter, in tests, stops the compaction after the named step
	// ("written", "published") without any clean-up, as a crash would.
	crashAfter string
}

// errSimulatedCrash is returned when CompactOptions.crashAfter fires.
var errSimulatedCrash = errors.New("storage: simulated crash")

// CompactRequest names the partition to compact.
type CompactRequest struct {
	// Root is the data directory; segments go under Root/segments.
	Root string
	// TenantName is the tenant's name, for the segment path.
	TenantName string
	// Table is the table's physical schema; it must know every tag key and
	// physical field in the partition's points.
	Table *schema.Table
	// TableFunc, if set, is called right after the snapshot of step 1 is
	// taken and its result replaces Table: a table read after the snapshot
	// knows every field of the snapshot's points (a schema change is
	// applied before the writes that use it).
	TableFunc func() *schema.Table
	// Day is the partition: days since 1970-01-01 UTC (DayOf).
	Day int32
	// Cutoff: row-store points with time < Cutoff are compacted (the engine
	// passes now minus the hot window).
	Cutoff int64
}

// CompactResult reports what a compaction did.
type CompactResult struct {
	Segment       *SegmentMeta  // the new segment; nil if there was nothing to do
	Removed       []SegmentMeta // segments it replaced
	RowStoreRows  int64         // points read from the row store
	SegmentRows   int64         // rows read from the old segments
	Rows          int64         // rows written (after deduplication)
	Deleted       int64         // row-store points deleted
	Kept          int64         // compacted points kept because they changed meanwhile
	RemoveErrors  []error       // old files that could not be deleted (orphans now)
	PartitionPath string        // the new segment's directory, relative to Root

	latest     []latestPoint // the newest row of each series written
	latestKeys []string      // their tag strings
}

// CompactPartition runs one compaction of one partition (the numbered
// steps above). It returns ErrManifestConflict if another compaction
// changed the partition's segments first; nothing is lost then, and the
// caller may retry. It does nothing, and returns a zero CompactResult, if
// the partition has no row-store points older than the cutoff and at most
// one segment.
func (s *RowStore) CompactPartition(req CompactRequest, opts *CompactOptions) (CompactResult, error) {
	var o CompactOptions
	if opts != nil {
		o = *opts
	}
	if o.Exclusive == nil {
		o.Exclusive = func(publish func() error) error { return publish() }
	}
	if o.RemoveSegments == nil {
		o.RemoveSegments = RemoveSegmentFiles
	}
	if o.Hook == nil {
		o.Hook = func(string) {}
	}
	var res CompactResult
	if s.closed.Load() {
		return res, ErrClosed
	}
	tbl := req.Table
	tenant := tbl.TenantID
	dayLo, dayHi := DayRange(req.Day)
	hi := min(dayHi, req.Cutoff-1) // compact row-store points in [dayLo, hi]

	// Step 1.
	snap := s.db.NewSnapshot()
	defer snap.Close()
	if req.TableFunc != nil {
		if t := req.TableFunc(); t != nil {
			tbl = t
		}
	}
	old, err := s.PartitionSegments(tenant, tbl.ID, req.Day)
	if err != nil {
		return res, err
	}
	if o.MergeFilter != nil {
		first := len(old) // old is in id order
		for first > 0 && o.MergeFilter(old[first-1]) {
			first--
		}
		old = old[first:]
	}
	src, err := s.newRowStoreSource(snap, tenant, tbl.ID, dayLo, hi)
	if err != nil {
		return res, err
	}
	defer src.close()
	if src.points == 0 && len(old) <= 1 {
		return res, nil
	}

	// Step 2.
	tagKeys, fieldIDs := src.tagKeys, src.fieldIDs
	for i := range old {
		fieldIDs = append(fieldIDs, old[i].Fields...)
		for _, c := range old[i].Columns {
			if c.Kind == colKindTag {
				tagKeys = append(tagKeys, c.Tag)
			}
		}
	}
	slices.Sort(fieldIDs)
	fieldIDs = slices.Compact(fieldIDs)
	if tagKeys == nil {
		tagKeys = []string{} // nil would mean all of the table's
	}
	if fieldIDs == nil {
		fieldIDs = []uint32{}
	}
	id, err := s.NextSegmentID()
	if err != nil {
		return res, err
	}
	rel := SegmentRelPath(req.TenantName, tbl.Database, tbl.Name, req.Day, id)
	res.PartitionPath = SegmentRelDir(req.TenantName, tbl.Database, tbl.Name, req.Day)
	f, err := CreateSegmentFile(req.Root, rel, tbl, req.Day, tagKeys, fieldIDs, o.Segment)
	if err != nil {
		return res, err
	}
	if err := s.mergeInto(f.SegmentWriter, req.Root, old, src, &res); err != nil {
		f.Abort()
		return res, err
	}
	if o.crashAfter == "written" {
		return res, errSimulatedCrash // the .tmp file stays, as after a crash
	}
	o.Hook("written")
	st, err := f.Publish()
	if err != nil {
		return res, err
	}
	o.Hook("renamed")
	meta := NewSegmentMeta(id, tenant, tbl.ID, req.Day, rel, st)
	if o.crashAfter == "published" {
		return res, errSimulatedCrash // an unlisted .parquet stays
	}

	// Steps 3 and 4.
	edit := &ManifestEdit{Add: []SegmentMeta{meta}, Remove: old}
	b := s.db.NewBatch()
	defer b.Close()
	committed := false
	err = o.Exclusive(func() error {
		deleted, kept, err := src.deleteUnchanged(s.db, b)
		if err != nil {
			return err
		}
		for i, k := range res.latestKeys {
			if id, ok := s.seriesIDByKey(tbl.ID, k); ok {
				res.latest[i].series = id
			} else {
				res.latest[i].series = math.MaxUint64 // not a row-store series: skip
			}
		}
		pts := slices.DeleteFunc(slices.Clone(res.latest), func(p latestPoint) bool { return p.series == math.MaxUint64 })
		if err := s.putLatest(b, tenant, tbl.ID, pts); err != nil {
			return err
		}
		if err := s.commitManifestBatch(b, edit); err != nil {
			return err
		}
		committed = true
		res.Deleted, res.Kept = deleted, kept
		return nil
	})
	if err == nil {
		o.Hook("committed")
		err = s.flushManifest() // outside Exclusive: a flush may take a while
	}
	if err != nil {
		// Before the commit the new file is an orphan: remove it. After the
		// commit the manifest lists it (maybe not durably yet): keep it, and
		// keep the old files, which a crash could make live again.
		if !committed {
			os.Remove(segmentAbsPath(req.Root, rel))
		}
		return res, err
	}
	res.Segment = &meta
	res.Removed = old

	o.Hook("flushed")

	// Step 5.
	if len(old) > 0 {
		res.RemoveErrors = o.RemoveSegments(req.Root, old)
	}
	o.Hook("removed")
	return res, nil
}

// RemoveSegmentFiles deletes the files of segments that are no longer in
// the manifest, and returns the errors of those it could not delete (a
// missing file is not an error).
func RemoveSegmentFiles(root string, old []SegmentMeta) []error {
	var errs []error
	for i := range old {
		if err := os.Remove(segmentAbsPath(root, old[i].Path)); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errs
}

// mergeInto writes the merge of the old segments and the row-store source
// to w, in (tags, time) order, one row per point identity.
func (s *RowStore) mergeInto(w *SegmentWriter, root string, old []SegmentMeta, rs *rowStoreSource, res *CompactResult) error {
	// Sources in priority order: older segments first, the row store last;
	// for the same point, a later source's fields win.
	slices.SortFunc(old, func(a, b SegmentMeta) int { return cmp.Compare(a.ID, b.ID) })
	var srcs []mergeSource
	for i := range old {
		seg, err := OpenSegment(segmentAbsPath(root, old[i].Path))
		if err != nil {
			return err
		}
		defer seg.Close()
		q := AllTime
		q.NoCache = true
		rows := seg.Rows(q)
		defer rows.Close()
		srcs = append(srcs, &segmentSource{rows: rows, count: &res.SegmentRows})
	}
	srcs = append(srcs, rs)
	for _, src := range srcs {
		if err := src.next(); err != nil {
			return err
		}
	}
	var merged []FieldValue
	var at []int
	for {
		// The smallest (tag key, time) among the sources, and who has it.
		at = at[:0]
		for i, src := range srcs {
			if !src.valid() {
				continue
			}
			if len(at) == 0 {
				at = append(at, i)
				continue
			}
			c := cmp.Or(cmp.Compare(src.tagKey(), srcs[at[0]].tagKey()), cmp.Compare(src.time(), srcs[at[0]].time()))
			if c < 0 {
				at = append(at[:0], i)
			} else if c == 0 {
				at = append(at, i)
			}
		}
		if len(at) == 0 {
			break
		}
		first := srcs[at[0]]
		fields := first.fields()
		if len(at) > 1 {
			merged = append(merged[:0], fields...)
			for _, i := range at[1:] {
				merged = mergeFieldValues(merged, srcs[i].fields())
			}
			fields = merged
		}
		if err := w.Add(first.tags(), first.time(), fields); err != nil {
			return err
		}
		res.Rows++
		// The newest row of each series so far (rows come by series,
		// then time): for the latest index.
		if k := first.tagKey(); len(res.latest) == 0 || res.latestKeys[len(res.latestKeys)-1] != k {
			res.latestKeys = append(res.latestKeys, k)
			res.latest = append(res.latest, latestPoint{})
		}
		lp := &res.latest[len(res.latest)-1]
		lp.time = first.time()
		lp.fields = lp.fields[:0]
		for _, f := range fields {
			if f.Type == schema.TypeString {
				f.S = append([]byte(nil), f.S...)
			}
			lp.fields = append(lp.fields, f)
		}
		for _, i := range at {
			if err := srcs[i].next(); err != nil {
				return err
			}
		}
	}
	res.RowStoreRows = rs.points
	return nil
}

// mergeFieldValues merges newer into dst by field id, newer winning.
func mergeFieldValues(dst, newer []FieldValue) []FieldValue {
	for _, f := range newer {
		i := slices.IndexFunc(dst, func(x FieldValue) bool { return x.ID == f.ID })
		if i >= 0 {
			dst[i] = f
		} else {
			dst = append(dst, f)
		}
	}
	slices.SortFunc(dst, func(a, b FieldValue) int { return cmp.Compare(a.ID, b.ID) })
	return dst
}

// mergeSource is one sorted input of a compaction. Values returned by
// tags, fields and their strings are valid until next.
type mergeSource interface {
	next() error
	valid() bool
	tagKey() string
	tags() []string
	time() int64
	fields() []FieldValue
}

type segmentSource struct {
	rows  *SegmentRows
	ok    bool
	count *int64
}

func (s *segmentSource) next() error {
	s.ok = s.rows.Next()
	if s.ok {
		*s.count++
	}
	return s.rows.Err()
}
func (s *segmentSource) valid() bool          { return s.ok }
func (s *segmentSource) tagKey() string       { return s.rows.TagKey() }
func (s *segmentSource) tags() []string       { return s.rows.Tags() }
func (s *segmentSource) time() int64          { return s.rows.Time() }
func (s *segmentSource) fields() []FieldValue { return s.rows.Fields() }

// rowStoreSource reads a table's points in [lo, hi] from a snapshot, series
// in tag order.
type rowStoreSource struct {
	snap          *pebble.Snapshot
	tenant, table uint32
	lo, hi        int64
	series        []compactSeries // series with points in range, by tag key
	points        int64
	tagKeys       []string
	fieldIDs      []uint32
	it            *pebble.Iterator
	si            int
	started       bool
	ok            bool
	t             int64
	fieldBuf      []FieldValue
	seekKey       []byte
}

type compactSeries struct {
	SeriesInfo
	key    string // tag string
	points int64
}

// newRowStoreSource lists the table's series, keeps those with points in
// [lo, hi] in the snapshot, and notes their tag keys and fields.
func (s *RowStore) newRowStoreSource(snap *pebble.Snapshot, tenant, table uint32, lo, hi int64) (*rowStoreSource, error) {
	src := &rowStoreSource{snap: snap, tenant: tenant, table: table, lo: lo, hi: hi}
	if lo > hi {
		return src, nil
	}
	all, err := s.Series(tenant, table)
	if err != nil {
		return nil, err
	}
	prefix := appendTablePrefix(nil, prefixPoint, tenant, table)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	src.it = it
	keys := map[string]bool{}
	fields := map[uint32]bool{}
	var fv []FieldValue
	for _, si := range all {
		var n int64
		for ok := src.seekSeries(si.ID); ok; ok = src.nextInSeries(si.ID) {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, err
			}
			if fv, err = DecodeValue(v, fv[:0]); err != nil {
				return nil, fmt.Errorf("storage: compact series %d: %w", si.ID, err)
			}
			for _, f := range fv {
				fields[f.ID] = true
			}
			n++
		}
		if err := it.Error(); err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		src.points += n
		src.series = append(src.series, compactSeries{SeriesInfo: si, key: string(appendTagString(nil, si.Tags)), points: n})
		for i := 0; i < len(si.Tags); i += 2 {
			keys[si.Tags[i]] = true
		}
	}
	slices.SortFunc(src.series, func(a, b compactSeries) int { return cmp.Compare(a.key, b.key) })
	for k := range keys {
		src.tagKeys = append(src.tagKeys, k)
	}
	slices.Sort(src.tagKeys)
	for id := range fields {
		src.fieldIDs = append(src.fieldIDs, id)
	}
	slices.Sort(src.fieldIDs)
	return src, nil
}

// seekSeries positions the iterator at the series' first point in range.
func (r *rowStoreSource) seekSeries(series uint64) bool {
	r.seekKey = appendPointKey(r.seekKey[:0], r.tenant, r.table, series, r.lo)
	return r.it.SeekGE(r.seekKey) && r.inSeries(series)
}

func (r *rowStoreSource) nextInSeries(series uint64) bool {
	return r.it.Next() && r.inSeries(series)
}

func (r *rowStoreSource) inSeries(series uint64) bool {
	k := r.it.Key()
	if len(k) != pointKeyLen || binary.BigEndian.Uint64(k[9:]) != series {
		return false
	}
	r.t = decodeTime(binary.BigEndian.Uint64(k[17:]))
	return r.t <= r.hi
}

func (r *rowStoreSource) next() error {
	if r.it == nil || r.si >= len(r.series) {
		r.ok = false
		return nil
	}
	if !r.started {
		r.started = true
		r.ok = r.seekSeries(r.series[0].ID)
	} else {
		r.ok = r.nextInSeries(r.series[r.si].ID)
	}
	for !r.ok {
		if err := r.it.Error(); err != nil {
			return err
		}
		r.si++
		if r.si >= len(r.series) {
			return nil
		}
		r.ok = r.seekSeries(r.series[r.si].ID)
	}
	v, err := r.it.ValueAndErr()
	if err != nil {
		return err
	}
	r.fieldBuf, err = DecodeValue(v, r.fieldBuf[:0])
	if err != nil {
		return fmt.Errorf("storage: compact series %d time %d: %w", r.series[r.si].ID, r.t, err)
	}
	return nil
}

func (r *rowStoreSource) valid() bool          { return r.ok }
func (r *rowStoreSource) tagKey() string       { return r.series[r.si].key }
func (r *rowStoreSource) tags() []string       { return r.series[r.si].Tags }
func (r *rowStoreSource) time() int64          { return r.t }
func (r *rowStoreSource) fields() []FieldValue { return r.fieldBuf }

func (r *rowStoreSource) close() {
	if r.it != nil {
		r.it.Close()
		r.it = nil
	}
}

// deleteUnchanged adds to b the deletion of every compacted point whose live
// value is still the snapshot's: a whole series range at once when nothing
// in it changed, point by point otherwise. It returns the points deleted
// and the compacted points kept.
// REQUIRES: no Apply commits until b is committed (CompactOptions.Exclusive).
func (r *rowStoreSource) deleteUnchanged(db *pebble.DB, b *pebble.Batch) (deleted, kept int64, err error) {
	for _, ser := range r.series {
		start := appendPointKey(nil, r.tenant, r.table, ser.ID, r.lo)
		end := prefixEnd(appendPointKey(nil, r.tenant, r.table, ser.ID, r.hi))
		d, k, err := deleteRangeUnchanged(r.snap, db, b, start, end)
		if err != nil {
			return deleted, kept, err
		}
		deleted += d
		kept += k
	}
	return deleted, kept, nil
}

func deleteRangeUnchanged(snap *pebble.Snapshot, db *pebble.DB, b *pebble.Batch, start, end []byte) (deleted, kept int64, err error) {
	// First pass: did anything in the range change since the snapshot?
	var same int64
	changed := false
	err = walkUnchanged(snap, db, start, end, func(key []byte, st pointState) error {
		if st == pointUnchanged {
			same++
		} else {
			changed = true
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if !changed {
		// The common case: one range tombstone for the whole series range.
		return same, 0, b.DeleteRange(start, end, nil)
	}
	// Second pass: delete the unchanged points one by one.
	err = walkUnchanged(snap, db, start, end, func(key []byte, st pointState) error {
		switch st {
		case pointUnchanged:
			deleted++
			return b.Delete(key, nil)
		case pointChanged:
			kept++
		}
		return nil
	})
	return deleted, kept, err
}

type pointState int

const (
	pointUnchanged pointState = iota // same value as in the snapshot
	pointChanged                     // in the snapshot, rewritten since
	pointNew                         // written since the snapshot
)

// walkUnchanged calls fn for every live key in [start, end) with its state
// relative to the snapshot.
func walkUnchanged(snap *pebble.Snapshot, db *pebble.DB, start, end []byte, fn func(key []byte, st pointState) error) error {
	opts := &pebble.IterOptions{LowerBound: start, UpperBound: end}
	old, err := snap.NewIter(opts)
	if err != nil {
		return err
	}
	defer old.Close()
	live, err := db.NewIter(opts)
	if err != nil {
		return err
	}
	defer live.Close()
	oldOK := old.First()
	for ok := live.First(); ok; ok = live.Next() {
		for oldOK && bytes.Compare(old.Key(), live.Key()) < 0 {
			oldOK = old.Next() // deleted since the snapshot
		}
		st := pointNew
		if oldOK && bytes.Equal(old.Key(), live.Key()) {
			lv, err := live.ValueAndErr()
			if err != nil {
				return err
			}
			ov, err := old.ValueAndErr()
			if err != nil {
				return err
			}
			st = pointChanged
			if bytes.Equal(lv, ov) {
				st = pointUnchanged
			}
			oldOK = old.Next()
		}
		if err := fn(live.Key(), st); err != nil {
			return err
		}
	}
	return cmp.Or(live.Error(), old.Error())
}

// MergeFields merges the fields of a newer write of a point into dst by
// field id, the newer value winning, and returns dst sorted by id.
func MergeFields(dst, newer []FieldValue) []FieldValue { return mergeFieldValues(dst, newer) }
