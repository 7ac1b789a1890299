package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/fineod/fineod/schema"
)

// ErrClosed is returned by RowStore methods called after Close.
var ErrClosed = errors.New("storage: closed")

// Options configure the row store. A nil *Options or a zero field means the
// default.
type Options struct {
	// CacheSize is Pebble's block cache in bytes. Default 256 MiB.
	CacheSize int64
	// MemTableSize is the size of one Pebble memtable. Default 64 MiB.
	MemTableSize uint64
	// Logger receives Pebble's events. Default: discard.
	Logger *slog.Logger
}

// RowStore is the Pebble row store: recent points, the series index, the
// tag index, the errors table, the catalog and the applied log index.
//
// Pebble runs without its own WAL: the replicated log is the WAL. Every
// Apply commits its data and the applied log index in one Pebble batch, so
// whatever state survives a crash is a prefix of the log, and the engine
// replays the log from AppliedIndex.
//
// RowStore is safe for concurrent use; Apply must be called by one
// goroutine at a time, in log order.
type RowStore struct {
	db    *pebble.DB
	cache *pebble.Cache

	applied atomic.Uint64 // last applied log index (not necessarily flushed)
	closed  atomic.Bool

	// seriesGen changes whenever series are added or removed; seriesCache
	// holds Series lists of the generation they were read at.
	seriesGen   atomic.Uint64
	seriesCache sync.Map // tenant<<32|table -> *seriesList
	metaCache   sync.Map // segment id -> *cachedMeta

	mu struct {
		sync.RWMutex
		series     map[string]uint64 // table u32 | tag string -> series id
		nextSeries uint64
	}

	// maxTime is, per series, a time at or after the newest point the row
	// store holds for it (only the apply goroutine uses it). A point later
	// than that cannot exist yet, so it is written with Set instead of a
	// merge operand, and reads of it skip the merge. Deleting points only
	// makes the bound conservative; a series missing here is looked up
	// with one reverse seek.
	maxTime map[uint64]int64
}

// OpenRowStore opens (or creates) the row store in dir.
func OpenRowStore(dir string, opts *Options) (*RowStore, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 256 << 20
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = 64 << 20
	}
	cache := pebble.NewCache(o.CacheSize)
	po := &pebble.Options{
		Cache:                       cache,
		DisableWAL:                  true,
		Merger:                      pointMerger,
		MemTableSize:                o.MemTableSize,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
		FormatMajorVersion:          pebble.FormatNewest,
	}
	po.Logger = pebbleLogger{o.Logger}
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		cache.Unref()
		return nil, fmt.Errorf("storage: open row store: %w", err)
	}
	s := &RowStore{db: db, cache: cache, maxTime: map[uint64]int64{}}
	s.mu.series = map[string]uint64{}
	if err := s.load(); err != nil {
		db.Close()
		cache.Unref()
		return nil, err
	}
	return s, nil
}

func (s *RowStore) load() error {
	v, err := s.get(keyAppliedIndex)
	if err != nil {
		return err
	}
	if len(v) == 8 {
		s.applied.Store(binary.BigEndian.Uint64(v))
	}
	v, err = s.get(keyNextSeries)
	if err != nil {
		return err
	}
	s.mu.nextSeries = 1
	if len(v) == 8 {
		s.mu.nextSeries = binary.BigEndian.Uint64(v)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSeries}, UpperBound: []byte{prefixSeries + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		// prefix | tenant | table | tags -> cache key: table | tags
		s.mu.series[string(k[5:])] = binary.BigEndian.Uint64(it.Value())
	}
	return it.Close()
}

func (s *RowStore) get(k []byte) ([]byte, error) {
	v, c, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: get %q: %w", k, err)
	}
	out := append([]byte(nil), v...)
	c.Close()
	return out, nil
}

// AppliedIndex is the log index of the last applied entry.
func (s *RowStore) AppliedIndex() uint64 { return s.applied.Load() }

// LoadCatalog fills cat with the catalog stored by the last Apply that
// changed it.
func (s *RowStore) LoadCatalog(cat *schema.Catalog) error {
	v, err := s.get(keyCatalog)
	if err != nil || v == nil {
		return err
	}
	return cat.UnmarshalJSON(v)
}

// Flush makes everything applied so far durable in Pebble's own files and
// returns the applied index it covers. The log before that index is no
// longer needed for recovery.
func (s *RowStore) Flush() (uint64, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	idx := s.applied.Load()
	if err := s.db.Flush(); err != nil {
		return 0, fmt.Errorf("storage: flush: %w", err)
	}
	return idx, nil
}

// Close flushes nothing (the log replays what was not flushed) and closes
// the store. It is safe to call twice.
func (s *RowStore) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.db.Close()
	s.cache.Unref()
	return err
}

// Metrics are counters of the store for /metrics.
type Metrics struct {
	DiskBytes   uint64
	MemTable    uint64
	Series      int
	L0Files     int64
	Compactions int64
}

// Metrics returns a snapshot of the store's size and activity.
func (s *RowStore) Metrics() Metrics {
	m := s.db.Metrics()
	s.mu.RLock()
	n := len(s.mu.series)
	s.mu.RUnlock()
	return Metrics{
		DiskBytes:   m.DiskSpaceUsage(),
		MemTable:    m.MemTable.Size,
		Series:      n,
		L0Files:     m.Levels[0].TablesCount,
		Compactions: m.Compact.Count,
	}
}

// Apply is one Pebble batch of applied log entries. Build it with the Add
// methods, then Commit. Not safe for concurrent use.
type Apply struct {
	s      *RowStore
	b      *pebble.Batch
	key    []byte
	val    []byte
	order  []int
	newSer map[string]uint64
	errSeq uint32
	drops  []uint32 // tables dropped in this batch
}

// NewApply starts a batch of applied entries.
func (s *RowStore) NewApply() *Apply {
	return &Apply{s: s, b: s.db.NewBatch()}
}

// AddBatch adds a decoded write batch that was at log index index.
func (a *Apply) AddBatch(b *schema.Batch, index uint64) error {
	for ti := range b.Tables {
		tb := &b.Tables[ti]
		for si := range tb.Series {
			ser := &tb.Series[si]
			id := a.seriesID(b.Tenant, tb.Table, ser.Tags)
			a.addSeries(b.Tenant, tb.Table, id, ser)
		}
	}
	a.addErrors(b.Tenant, b.Errors, index)
	return nil
}

// seriesID returns the id of a series, assigning (and indexing) a new one.
func (a *Apply) seriesID(tenant, table uint32, tags []string) uint64 {
	ck := binary.BigEndian.AppendUint32(a.key[:0], table)
	ck = appendTagString(ck, tags)
	a.key = ck
	s := a.s
	s.mu.RLock()
	id, ok := s.mu.series[string(ck)]
	s.mu.RUnlock()
	if ok {
		return id
	}
	if id, ok = a.newSer[string(ck)]; ok {
		return id
	}
	s.mu.Lock()
	id = s.mu.nextSeries
	s.mu.nextSeries++
	a.s.maxTime[id] = math.MinInt64 // a new series has no points
	next := s.mu.nextSeries
	s.mu.Unlock()
	if a.newSer == nil {
		a.newSer = map[string]uint64{}
	}
	a.newSer[string(ck)] = id
	idb := binary.BigEndian.AppendUint64(nil, id)
	// series: tags -> id
	k := appendTablePrefix(nil, prefixSeries, tenant, table)
	k = appendTagString(k, tags)
	_ = a.b.Set(k, idb, nil)
	// seriesid: id -> tags
	_ = a.b.Set(appendSeriesIDKey(nil, tenant, table, id), appendTagString(nil, tags), nil)
	// tag index: key=value -> id
	for i := 0; i+1 < len(tags); i += 2 {
		k := appendTablePrefix(nil, prefixTagIndex, tenant, table)
		k = appendTagString(k, tags[i:i+2])
		k = binary.BigEndian.AppendUint64(k, id)
		_ = a.b.Set(k, nil, nil)
	}
	_ = a.b.Set(keyNextSeries, binary.BigEndian.AppendUint64(nil, next), nil)
	return id
}

func (a *Apply) addSeries(tenant, table uint32, id uint64, ser *schema.Series) {
	// Values list fields sorted by id.
	a.order = a.order[:0]
	for i := range ser.Fields {
		a.order = append(a.order, i)
	}
	slices.SortFunc(a.order, func(x, y int) int { return int(ser.Fields[x].ID) - int(ser.Fields[y].ID) })
	// Position of the next value in each column.
	var posBuf [32]int
	pos := posBuf[:0]
	for range ser.Fields {
		pos = append(pos, 0)
	}
	maxT := a.seriesMaxTime(tenant, table, id)
	for row, t := range ser.Times {
		v := a.val[:0]
		for _, ci := range a.order {
			c := &ser.Fields[ci]
			if !c.Has(row) {
				continue
			}
			p := pos[ci]
			if p >= c.Len() {
				continue // malformed batch; ignore the missing value
			}
			pos[ci]++
			switch c.Type {
			case schema.TypeFloat:
				v = appendFloat(v, c.ID, c.F[p])
			case schema.TypeInt, schema.TypeUint:
				v = appendInt(v, c.ID, c.Type, c.I[p])
			case schema.TypeString:
				v = appendString(v, c.ID, c.S[p])
			case schema.TypeBool:
				v = appendBool(v, c.ID, c.B[p])
			}
		}
		a.val = v
		if len(v) == 0 {
			continue
		}
		var op *pebble.DeferredBatchOp
		if t > maxT {
			// Nothing is stored at this key yet: a plain value.
			op = a.b.SetDeferred(pointKeyLen, len(v))
			maxT = t
		} else {
			op = a.b.MergeDeferred(pointKeyLen, len(v))
		}
		putPointKey(op.Key, tenant, table, id, t)
		copy(op.Value, v)
		op.Finish()
	}
	a.s.maxTime[id] = maxT
}

// seriesMaxTime returns a bound at or after the newest stored point of a
// series (math.MinInt64 if it has none).
func (a *Apply) seriesMaxTime(tenant, table uint32, id uint64) int64 {
	if t, ok := a.s.maxTime[id]; ok {
		return t
	}
	t := int64(math.MinInt64)
	seek := make([]byte, pointKeyLen)
	putPointKey(seek, tenant, table, id+1, math.MinInt64)
	lo := appendTablePrefix(nil, prefixPoint, tenant, table)
	if it, err := a.s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: seek}); err == nil {
		if it.Last() {
			k := it.Key()
			if len(k) == pointKeyLen && binary.BigEndian.Uint64(k[9:]) == id {
				t = decodeTime(binary.BigEndian.Uint64(k[17:]))
			}
		}
		if it.Close() != nil {
			t = math.MaxInt64 // unknown: always merge
		}
	} else {
		t = math.MaxInt64
	}
	a.s.maxTime[id] = t
	return t
}

func (a *Apply) addErrors(tenant uint32, rows []schema.ErrorRow, index uint64) {
	for i := range rows {
		k := errorKey(tenant, rows[i].Time, index, a.errSeq)
		a.errSeq++
		v, _ := json.Marshal(&rows[i])
		_ = a.b.Set(k, v, nil)
	}
}

// AddErrors adds error rows recorded at log index index.
func (a *Apply) AddErrors(tenant uint32, rows []schema.ErrorRow, index uint64) {
	a.addErrors(tenant, rows, index)
}

// DropTable deletes every point, series, tag index and manifest key of a
// table. The catalog change that frees its name is the caller's.
func (a *Apply) DropTable(tenant, table uint32) error {
	for _, p := range []byte{prefixPoint, prefixSeries, prefixSeriesID, prefixTagIndex, prefixManifest, prefixReadError, prefixLatest} {
		lo := appendTablePrefix(nil, p, tenant, table)
		if err := a.b.DeleteRange(lo, prefixEnd(lo), nil); err != nil {
			return err
		}
	}
	a.drops = append(a.drops, table)
	// Series assigned earlier in this batch for the table are gone too.
	for k := range a.newSer {
		if len(k) >= 4 && binary.BigEndian.Uint32([]byte(k[:4])) == table {
			delete(a.newSer, k)
		}
	}
	return nil
}

// SetCatalog stores the catalog (after a schema change).
func (a *Apply) SetCatalog(cat *schema.Catalog) error {
	v, err := cat.MarshalJSON()
	if err != nil {
		return err
	}
	return a.b.Set(keyCatalog, v, nil)
}

// Commit writes the batch with the applied index in it. It does not sync:
// the log is the durable copy.
func (a *Apply) Commit(applied uint64) error {
	defer func() { a.b.Close() }()
	if a.s.closed.Load() {
		return ErrClosed
	}
	_ = a.b.Set(keyAppliedIndex, binary.BigEndian.AppendUint64(nil, applied), nil)
	if err := a.b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("storage: commit applied batch: %w", err)
	}
	if len(a.newSer) > 0 || len(a.drops) > 0 {
		a.s.mu.Lock()
		for _, t := range a.drops {
			for k := range a.s.mu.series {
				if binary.BigEndian.Uint32([]byte(k[:4])) == t {
					delete(a.s.mu.series, k)
				}
			}
		}
		for k, v := range a.newSer {
			a.s.mu.series[k] = v
		}
		a.s.mu.Unlock()
		a.s.seriesGen.Add(1) // after the commit: Series lists read it
	}
	a.s.applied.Store(applied)
	return nil
}

// pebbleLogger sends Pebble's log lines to slog at debug level (errors at
// error level); a nil logger discards them.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.l != nil {
		p.l.Error(msg, "component", "pebble")
	}
	panic(msg)
}

// localErrSeq numbers error rows written outside the log (PutErrors).
var localErrSeq atomic.Uint32

// PutErrors stores error rows that are not in the log: failures local to
// this node (compaction, retention, read-time casts). They are durable
// from the next flush on.
func (s *RowStore) PutErrors(tenant uint32, rows []schema.ErrorRow) error {
	if s.closed.Load() {
		return ErrClosed
	}
	b := s.db.NewBatch()
	defer b.Close()
	for i := range rows {
		k := errorKey(tenant, rows[i].Time, 0, localErrSeq.Add(1)) // no log index
		v, err := json.Marshal(&rows[i])
		if err != nil {
			return err
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.NoSync)
}

// prefixReadError keys mark values whose read-time cast failure is already
// in the errors table, so each is reported once:
// 0x07 | tenant | table | field | series | time -> 0x01.
const prefixReadError byte = 0x07

// ReadErrorKey identifies one stored value: a physical field of a point.
type ReadErrorKey struct {
	Table, Field uint32
	Series       uint64
	Time         int64
}

// PutReadErrors stores rows[i] for each keys[i] not reported before, and
// returns how many it stored.
func (s *RowStore) PutReadErrors(tenant uint32, keys []ReadErrorKey, rows []schema.ErrorRow) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	readErrMu.Lock()
	defer readErrMu.Unlock()
	b := s.db.NewBatch()
	defer b.Close()
	n := 0
	seen := map[ReadErrorKey]bool{}
	for i, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		mk := binary.BigEndian.AppendUint32([]byte{prefixReadError}, tenant)
		mk = binary.BigEndian.AppendUint32(mk, k.Table)
		mk = binary.BigEndian.AppendUint32(mk, k.Field)
		mk = binary.BigEndian.AppendUint64(mk, k.Series)
		mk = binary.BigEndian.AppendUint64(mk, encodeTime(k.Time))
		if v, err := s.get(mk); err != nil {
			return n, err
		} else if v != nil {
			continue // reported before
		}
		if err := b.Set(mk, []byte{1}, nil); err != nil {
			return n, err
		}
		ek := errorKey(tenant, rows[i].Time, 0, localErrSeq.Add(1))
		v, err := json.Marshal(&rows[i])
		if err != nil {
			return n, err
		}
		if err := b.Set(ek, v, nil); err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, b.Commit(pebble.NoSync)
}

// readErrMu makes check-then-write of read-error markers atomic.
var readErrMu sync.Mutex

// DeleteErrorsBefore deletes a tenant's error rows recorded before t.
func (s *RowStore) DeleteErrorsBefore(tenant uint32, t int64) error {
	if s.closed.Load() {
		return ErrClosed
	}
	lo := binary.BigEndian.AppendUint32([]byte{prefixErrors}, tenant)
	hi := binary.BigEndian.AppendUint64(append([]byte(nil), lo...), encodeTime(t))
	return s.db.DeleteRange(lo, hi, pebble.NoSync)
}

// errorKey is the key of an error row: 0x05 | tenant | time | log index |
// sequence (index 0: recorded outside the log).
func errorKey(tenant uint32, t int64, index uint64, seq uint32) []byte {
	k := make([]byte, 0, 1+4+8+8+4)
	k = append(k, prefixErrors)
	k = binary.BigEndian.AppendUint32(k, tenant)
	k = binary.BigEndian.AppendUint64(k, encodeTime(t))
	k = binary.BigEndian.AppendUint64(k, index)
	return binary.BigEndian.AppendUint32(k, seq)
}
