package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// reader is what the scans read from: the live store or a snapshot.
type reader interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// ReadView is a consistent view of the row store and the manifest at one
// moment: a query that reads segments and row-store points through one
// view sees every point exactly once, in one tier or the other, even if a
// compaction moves points between the tiers while it runs (the compaction
// publishes the new manifest and deletes the moved points in one batch,
// which a view taken before it does not see). Close it when done.
type ReadView struct {
	s    *RowStore
	snap *pebble.Snapshot
}

// NewReadView returns a view of the store as it is now.
func (s *RowStore) NewReadView() (*ReadView, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return &ReadView{s: s, snap: s.db.NewSnapshot()}, nil
}

// Close releases the view.
func (v *ReadView) Close() error { return v.snap.Close() }

// Segments lists a table's live segments in the view, by (day, id).
func (v *ReadView) Segments(tenant, table uint32) ([]SegmentMeta, error) {
	return v.s.scanManifestFrom(v.snap, appendManifestPrefix(nil, tenant, table))
}

// ScanRaw is RowStore.ScanRaw in the view.
func (v *ReadView) ScanRaw(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	return v.s.scanFrom(v.snap, tenant, table, series, minTime, maxTime, fn)
}

// ScanLastRaw is RowStore.ScanLastRaw in the view.
func (v *ReadView) ScanLastRaw(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	return v.s.scanLastFrom(v.snap, tenant, table, series, minTime, maxTime, fn)
}

// PointDays returns the partition days (DayOf) in which the table's
// row store holds points with time < before, ascending: what compaction
// has to move. It costs one seek per series and day with points.
func (s *RowStore) PointDays(tenant, table uint32, before int64) ([]int32, error) {
	series, it, err := s.pointIter(s.db, tenant, table, nil)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	days := map[int32]bool{}
	seek := make([]byte, pointKeyLen)
	for _, id := range series {
		t := int64(math.MinInt64)
		for {
			putPointKey(seek, tenant, table, id, t)
			if !it.SeekGE(seek) {
				break
			}
			k := it.Key()
			if len(k) != pointKeyLen || binary.BigEndian.Uint64(k[9:]) != id {
				break
			}
			pt := decodeTime(binary.BigEndian.Uint64(k[17:]))
			if pt >= before {
				break
			}
			d := DayOf(pt)
			days[d] = true
			_, hi := DayRange(d)
			if hi == math.MaxInt64 {
				break
			}
			t = hi + 1
		}
		if err := it.Error(); err != nil {
			return nil, err
		}
	}
	out := make([]int32, 0, len(days))
	for d := range days {
		out = append(out, d)
	}
	sortInt32(out)
	return out, nil
}

func sortInt32(s []int32) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// DropPartitionResult reports what DropPartition removed.
type DropPartitionResult struct {
	Segments     []SegmentMeta // segments removed from the manifest
	RemoveErrors []error       // their files that could not be deleted (orphans now)
}

// DropPartition deletes a whole partition of a table (retention): its
// segments leave the manifest and its row-store points are deleted in one
// batch, made durable by a flush, and only then are the files deleted.
// exclusive runs the commit so that no apply commits concurrently and
// remove deletes the files (as CompactOptions.Exclusive and
// RemoveSegments); nil means call it directly and RemoveSegmentFiles.
func (s *RowStore) DropPartition(root string, tenant, table uint32, day int32, exclusive func(func() error) error, remove func(string, []SegmentMeta) []error) (DropPartitionResult, error) {
	var res DropPartitionResult
	if s.closed.Load() {
		return res, ErrClosed
	}
	if exclusive == nil {
		exclusive = func(f func() error) error { return f() }
	}
	if remove == nil {
		remove = RemoveSegmentFiles
	}
	old, err := s.PartitionSegments(tenant, table, day)
	if err != nil {
		return res, err
	}
	series, err := s.Series(tenant, table)
	if err != nil {
		return res, err
	}
	lo, hi := DayRange(day)
	b := s.db.NewBatch()
	defer b.Close()
	err = exclusive(func() error {
		for _, si := range series {
			start := appendPointKey(nil, tenant, table, si.ID, lo)
			end := prefixEnd(appendPointKey(nil, tenant, table, si.ID, hi))
			if err := b.DeleteRange(start, end, nil); err != nil {
				return err
			}
		}
		if err := s.dropLatestIn(b, tenant, table, lo, hi); err != nil {
			return err
		}
		return s.commitManifestBatch(b, &ManifestEdit{Remove: old})
	})
	if err == nil {
		err = s.flushManifest()
	}
	if err != nil {
		return res, fmt.Errorf("storage: drop partition %s: %w", DayString(day), err)
	}
	res.Segments = old
	if len(old) > 0 {
		res.RemoveErrors = remove(root, old)
	}
	return res, nil
}

// CompactDeleted asks Pebble to compact a table's point keys now, so that
// points compaction or retention deleted (range tombstones) stop costing
// reads: a last-point seek over a range of deleted keys walks them until
// Pebble drops them.
func (s *RowStore) CompactDeleted(ctx context.Context, tenant, table uint32) error {
	if s.closed.Load() {
		return ErrClosed
	}
	lo := appendTablePrefix(nil, prefixPoint, tenant, table)
	return s.db.Compact(ctx, lo, prefixEnd(lo), false)
}
