package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// The manifest lists the live segments: one row-store key per segment,
// changed only in Pebble batches, so a set of segments is published and
// the segments it replaces are dropped in one atomic step. Keys (to be
// merged into the table in keys.go; these constants are part of the on-disk
// format):
//
//	manifest 0x06 | tenant u32 | table u32 | day u32 | segment id u64 -> SegmentMeta (JSON)
//	meta     0x00 | "nextsegment"                                    -> next segment id u64
//
// day is the partition's days since 1970-01-01 UTC as an int32 with the
// sign bit flipped, so keys sort by (tenant, table, day, id). Integers are
// big-endian.
//
// Pebble runs without a WAL (the replicated log is the WAL), and a
// manifest change is not in the log. So every manifest commit is followed
// by a Pebble flush before the caller may delete the files it replaced:
// after a crash Pebble holds either the old or the new manifest, and every
// file the surviving manifest lists still exists.
const prefixManifest byte = 0x06

var keyNextSegment = []byte{prefixMeta, 'n', 'e', 'x', 't', 's', 'e', 'g', 'm', 'e', 'n', 't'}

// manifestMu serialises manifest edits (check that the removed segments are
// live, then commit) and segment id allocation across every RowStore of the
// process. Edits are rare (one per compaction), so one lock is enough.
var manifestMu sync.Mutex

// ErrManifestConflict is returned by CommitManifest (and CompactPartition)
// when a segment to remove is no longer live or one to add already is:
// another compaction changed the partition first. Nothing was changed.
var ErrManifestConflict = errors.New("storage: manifest changed concurrently")

// SegmentMeta is the manifest entry of one live segment.
type SegmentMeta struct {
	ID        uint64        `json:"id"`
	Tenant    uint32        `json:"tenant"`
	Table     uint32        `json:"table"`
	Day       int32         `json:"day"`  // partition: days since 1970-01-01 UTC
	Path      string        `json:"path"` // relative to the data directory, '/'-separated
	MinTime   int64         `json:"min_time"`
	MaxTime   int64         `json:"max_time"`
	Rows      int64         `json:"rows"`
	Bytes     int64         `json:"bytes"`
	RowGroups int           `json:"row_groups"`
	Fields    []uint32      `json:"fields"`  // physical field ids with at least one value
	Columns   []ColumnStats `json:"columns"` // every column, in file order, with min/max
}

// NewSegmentMeta builds the manifest entry of a published segment.
func NewSegmentMeta(id uint64, tenant, table uint32, day int32, rel string, st SegmentStats) SegmentMeta {
	return SegmentMeta{
		ID: id, Tenant: tenant, Table: table, Day: day, Path: rel,
		MinTime: st.MinTime, MaxTime: st.MaxTime, Rows: st.Rows, Bytes: st.Bytes,
		RowGroups: st.RowGroups, Fields: st.FieldIDs(), Columns: st.Columns,
	}
}

// Overlaps reports whether the segment may hold points in [minTime, maxTime].
func (m *SegmentMeta) Overlaps(minTime, maxTime int64) bool {
	return m.Rows > 0 && m.MinTime <= maxTime && m.MaxTime >= minTime
}

func appendManifestPrefix(dst []byte, tenant, table uint32) []byte {
	return appendTablePrefix(dst, prefixManifest, tenant, table)
}

func appendManifestDay(dst []byte, tenant, table uint32, day int32) []byte {
	dst = appendManifestPrefix(dst, tenant, table)
	return binary.BigEndian.AppendUint32(dst, uint32(day)^(1<<31))
}

func manifestKey(m *SegmentMeta) []byte {
	k := appendManifestDay(make([]byte, 0, 1+4+4+4+8), m.Tenant, m.Table, m.Day)
	return binary.BigEndian.AppendUint64(k, m.ID)
}

// ManifestEdit is one atomic change of the manifest.
type ManifestEdit struct {
	Add    []SegmentMeta // segments to publish
	Remove []SegmentMeta // live segments they replace
}

// AddToBatch adds the edit's key changes to b. It does not check the
// current manifest; CommitManifest does.
func (e *ManifestEdit) AddToBatch(b *pebble.Batch) error {
	for i := range e.Remove {
		if err := b.Delete(manifestKey(&e.Remove[i]), nil); err != nil {
			return err
		}
	}
	for i := range e.Add {
		v, err := json.Marshal(&e.Add[i])
		if err != nil {
			return err
		}
		if err := b.Set(manifestKey(&e.Add[i]), v, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkManifestLocked returns ErrManifestConflict unless every segment of
// e.Remove is live and none of e.Add is.
// REQUIRES: manifestMu held.
func (s *RowStore) checkManifestLocked(e *ManifestEdit) error {
	for i := range e.Remove {
		v, err := s.get(manifestKey(&e.Remove[i]))
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("%w: segment %d is not live", ErrManifestConflict, e.Remove[i].ID)
		}
	}
	for i := range e.Add {
		v, err := s.get(manifestKey(&e.Add[i]))
		if err != nil {
			return err
		}
		if v != nil {
			return fmt.Errorf("%w: segment %d is already live", ErrManifestConflict, e.Add[i].ID)
		}
	}
	return nil
}

// commitManifestBatch checks e against the manifest, adds it to b and
// commits b, all under manifestMu. b may hold other changes (compaction's
// row-store deletions) that must be atomic with the edit. b is not closed.
// The commit is not durable until flushManifest returns.
func (s *RowStore) commitManifestBatch(b *pebble.Batch, e *ManifestEdit) error {
	if s.closed.Load() {
		return ErrClosed
	}
	manifestMu.Lock()
	err := s.checkManifestLocked(e)
	if err == nil {
		err = e.AddToBatch(b)
	}
	if err == nil {
		// NoSync: there is no WAL to sync; the flush below is what makes
		// the change durable.
		err = b.Commit(pebble.NoSync)
	}
	manifestMu.Unlock()
	if err != nil {
		if errors.Is(err, ErrManifestConflict) {
			return err
		}
		return fmt.Errorf("storage: commit manifest: %w", err)
	}
	return nil
}

// errFlushManifest wraps the error of a failed flushManifest: the edit is
// committed in memory but may not survive a crash.
var errFlushManifest = errors.New("storage: flush manifest")

// flushManifest makes committed manifest edits durable (Pebble has no WAL).
func (s *RowStore) flushManifest() error {
	if err := s.db.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errFlushManifest, err)
	}
	return nil
}

// CommitManifest applies e atomically and durably: on return without
// error the new segments are live and the removed ones are not, and this
// survives a crash. It returns ErrManifestConflict (changing nothing) if a
// removed segment is not live or an added one already is. Only after it
// returns may the removed segments' files be deleted.
func (s *RowStore) CommitManifest(e *ManifestEdit) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.commitManifestBatch(b, e); err != nil {
		return err
	}
	return s.flushManifest()
}

// NextSegmentID allocates a segment id, unique for the life of the store.
// The allocation is made durable by the next manifest commit; an id that
// a crash forgets was never published, so reusing it is harmless (its
// orphan file is removed by RemoveOrphanSegments on open).
func (s *RowStore) NextSegmentID() (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	manifestMu.Lock()
	defer manifestMu.Unlock()
	v, err := s.get(keyNextSegment)
	if err != nil {
		return 0, err
	}
	id := uint64(1)
	if len(v) == 8 {
		id = binary.BigEndian.Uint64(v)
	}
	if err := s.db.Set(keyNextSegment, binary.BigEndian.AppendUint64(nil, id+1), pebble.NoSync); err != nil {
		return 0, fmt.Errorf("storage: allocate segment id: %w", err)
	}
	return id, nil
}

// Segments lists a table's live segments by (day, id).
func (s *RowStore) Segments(tenant, table uint32) ([]SegmentMeta, error) {
	return s.scanManifest(appendManifestPrefix(nil, tenant, table))
}

// PartitionSegments lists the live segments of one table partition by id.
func (s *RowStore) PartitionSegments(tenant, table uint32, day int32) ([]SegmentMeta, error) {
	return s.scanManifest(appendManifestDay(nil, tenant, table, day))
}

// AllSegments lists every live segment of every tenant and table.
func (s *RowStore) AllSegments() ([]SegmentMeta, error) {
	return s.scanManifest([]byte{prefixManifest})
}

func (s *RowStore) scanManifest(prefix []byte) ([]SegmentMeta, error) {
	return s.scanManifestFrom(s.db, prefix)
}

func (s *RowStore) scanManifestFrom(r reader, prefix []byte) ([]SegmentMeta, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	var out []SegmentMeta
	for it.First(); it.Valid(); it.Next() {
		// Entries are decoded once: a segment's entry never changes
		// while it is live (the cache is keyed by id and checked by value).
		k := it.Key()
		id := binary.BigEndian.Uint64(k[len(k)-8:])
		if v, ok := s.metaCache.Load(id); ok && bytes.Equal(v.(*cachedMeta).raw, it.Value()) {
			out = append(out, v.(*cachedMeta).meta)
			continue
		}
		var m SegmentMeta
		if err := json.Unmarshal(it.Value(), &m); err != nil {
			it.Close()
			return nil, fmt.Errorf("storage: decode manifest entry %x: %w", it.Key(), err)
		}
		s.metaCache.Store(id, &cachedMeta{raw: bytes.Clone(it.Value()), meta: m})
		out = append(out, m)
	}
	return out, it.Close()
}

// cachedMeta is a decoded manifest entry and the bytes it came from.
type cachedMeta struct {
	raw  []byte
	meta SegmentMeta
}

// RemoveOrphanSegments deletes what a crash can leave under
// root/segments: *.tmp files, and segment files the manifest does not
// list (written but never published, or replaced but not yet deleted).
// Empty directories are removed too. It returns the removed files'
// paths relative to root.
//
// Call it when the store opens, before any compaction starts: a
// compaction in progress has files the manifest does not list yet.
func (s *RowStore) RemoveOrphanSegments(root string) ([]string, error) {
	live, err := s.AllSegments()
	if err != nil {
		return nil, err
	}
	keep := make(map[string]bool, len(live))
	for _, m := range live {
		keep[m.Path] = true
	}
	base := filepath.Join(root, segmentsDirName)
	var removed, dirs []string
	err = filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == base {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		_, isSegment := parseSegmentFileName(name)
		if strings.HasSuffix(name, segmentTmpSuffix) || (isSegment && !keep[rel]) {
			if err := os.Remove(path); err != nil {
				return err
			}
			removed = append(removed, rel)
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("storage: remove orphan segments: %w", err)
	}
	// Deepest first; a directory that is not empty stays.
	slices.Reverse(dirs)
	for _, d := range dirs {
		if d != base {
			_ = os.Remove(d)
		}
	}
	return removed, nil
}

// MarshalJSON encodes the statistics; infinite float bounds, which JSON
// numbers cannot hold, are written as the strings "+Inf" and "-Inf".
func (c ColumnStats) MarshalJSON() ([]byte, error) {
	type plain ColumnStats
	return json.Marshal(struct {
		plain
		MinF jsonFloat `json:"min_f,omitempty"`
		MaxF jsonFloat `json:"max_f,omitempty"`
	}{plain(c), jsonFloat(c.MinF), jsonFloat(c.MaxF)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (c *ColumnStats) UnmarshalJSON(b []byte) error {
	type plain ColumnStats
	var v struct {
		plain
		MinF jsonFloat `json:"min_f,omitempty"`
		MaxF jsonFloat `json:"max_f,omitempty"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = ColumnStats(v.plain)
	c.MinF, c.MaxF = float64(v.MinF), float64(v.MaxF)
	return nil
}

// jsonFloat is a float64 whose infinities encode as "+Inf" / "-Inf".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	switch {
	case math.IsInf(float64(f), 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(float64(f), -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"+Inf"`:
		*f = jsonFloat(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = jsonFloat(v)
	return err
}
