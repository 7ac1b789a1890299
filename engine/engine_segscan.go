package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// A table scan over both tiers. The query's time range is cut into
// pieces: every partition day with segments that overlap the range is one
// piece, read by merging its segments and its row-store points by point
// identity (series tags, time); the rest of the range has only row-store
// points and is read as before. For one point identity the row store wins
// over segments and a newer segment over an older one, field by field,
// as in compaction (storage.CompactPartition), so a query sees the same
// rows before and after a compaction.

// tiers is what one scan reads: a consistent view of the row store and
// manifest, and the segments of the scanned table that overlap the range.
type tiers struct {
	db            *DB
	view          *storage.ReadView
	tenant, table uint32
	segs          []*segEntry // by (day, id)
	total         int         // the table's live segments, overlapping or not
}

// openTiers takes the view and the segments of a table overlapping
// [minT, maxT] (see segCache for why both happen under segs.mu).
func (db *DB) openTiers(tenant, table uint32, minT, maxT int64) (*tiers, error) {
	db.segs.mu.Lock()
	defer db.segs.mu.Unlock()
	view, err := db.rows.NewReadView()
	if err != nil {
		return nil, err
	}
	metas, err := view.Segments(tenant, table)
	if err != nil {
		view.Close()
		return nil, err
	}
	x := &tiers{db: db, view: view, tenant: tenant, table: table, total: len(metas)}
	keep := metas[:0]
	for _, m := range metas {
		if m.Overlaps(minT, maxT) {
			keep = append(keep, m)
		}
	}
	x.segs, err = db.segs.acquireLocked(keep)
	if err != nil {
		view.Close()
		return nil, fmt.Errorf("engine: open segment: %w", err)
	}
	return x, nil
}

func (x *tiers) close() {
	x.db.segs.release(x.segs)
	x.view.Close()
}

// seriesOrder is the scan's series in segment order (by tag string).
type seriesOrder struct {
	ids   []uint64
	keys  []string // keyOf of ids, in the same order
	keyOf map[uint64]string
	byKey map[string]uint64
}

func newSeriesOrder(series []storage.SeriesInfo) *seriesOrder {
	o := &seriesOrder{keyOf: make(map[uint64]string, len(series)), byKey: make(map[string]uint64, len(series))}
	for _, s := range series {
		k := storage.TagString(s.Tags)
		o.keyOf[s.ID] = k
		o.byKey[k] = s.ID
		o.ids = append(o.ids, s.ID)
	}
	slices.SortFunc(o.ids, func(a, b uint64) int { return cmp.Compare(o.keyOf[a], o.keyOf[b]) })
	o.keys = make([]string, len(o.ids))
	for i, id := range o.ids {
		o.keys[i] = o.keyOf[id]
	}
	return o
}

// anyIn reports whether one of the series lies in [from.key, to.key]
// (bounds absent: unbounded).
func (o *seriesOrder) anyIn(from, to bound) bool {
	i := 0
	if from.has {
		i = sort.Search(len(o.ids), func(k int) bool { return o.keyOf[o.ids[k]] >= from.key })
	}
	return i < len(o.ids) && (!to.has || o.keyOf[o.ids[i]] <= to.key)
}

// segmentQuery is what a scan asks of a segment: its time range, the tag
// equalities that can prune row groups, and the fields it reads.
func (pm *physLayout) segmentQuery(lo, hi int64) storage.SegmentQuery {
	l := pm.l
	q := storage.SegmentQuery{MinTime: lo, MaxTime: hi, Fields: []uint32{}}
	if l == nil {
		return q
	}
	for _, f := range l.spec.TagFilters {
		if (f.Op == sql.TagEq || f.Op == sql.TagIn) && len(f.Values) == 1 {
			q.Tags = append(q.Tags, storage.TagMatch{Key: f.Key, Value: f.Values[0]})
		}
	}
	for id := 0; id < max(len(pm.feeds), len(pm.filterOf)); id++ {
		if (id < len(pm.feeds) && pm.feeds[id] != nil) || (id < len(pm.filterOf) && pm.filterOf[id] != nil) {
			q.Fields = append(q.Fields, uint32(id))
		}
	}
	return q
}

// pointSink receives the points of a scan piece: row-store points as
// encoded values, segment and merged points as decoded fields. tick counts
// a point that is skipped (for cancellation checks).
type pointSink interface {
	row(sid uint64, t int64, val []byte) error
	rowFields(sid uint64, t int64, fields []storage.FieldValue) error
	tick() error
}

// pieceQuery is the segment query of a piece of the range.
type pieceQuery func(lo, hi int64) storage.SegmentQuery

// tasks cuts [lo, hi] into row-store ranges and segment days.
func (x *tiers) tasks(pm *physLayout, series []storage.SeriesInfo, lo, hi int64) []scanTask {
	return x.pieces(series, lo, hi, pm.segmentQuery, pm.l.spec.Table, false)
}

// pieces cuts [lo, hi] into row-store ranges and segment days; q gives
// the segment query of a day's part of the range, table names the table
// in errors. A day with one segment is cut further, between its row
// groups, so that both workers can read it. With last, each piece
// returns at least the newest point of each series it holds, for a
// keepLast sink (row-store ranges seek each series' last point; segments
// return the last row of each run).
func (x *tiers) pieces(series []storage.SeriesInfo, lo, hi int64, q pieceQuery, table string, last bool) []scanTask {
	ids := make([]uint64, len(series))
	for i, s := range series {
		ids[i] = s.ID
	}
	var tasks []scanTask
	rowRange := func(a, b int64) {
		if a > b {
			return
		}
		parts := [][]uint64{ids}
		if len(ids) >= 2*minSeriesPerWorker {
			parts = [][]uint64{ids[:len(ids)/2], ids[len(ids)/2:]}
		}
		for _, p := range parts {
			tasks = append(tasks, func(w pointSink) error {
				if last {
					return x.view.ScanLastRaw(x.tenant, x.table, p, a, b, w.row)
				}
				return x.view.ScanRaw(x.tenant, x.table, p, a, b, w.row)
			})
		}
	}
	var order *seriesOrder
	cur := lo
	done := false
	for i := 0; i < len(x.segs) && !done; {
		day := x.segs[i].meta.Day
		j := i
		for j < len(x.segs) && x.segs[j].meta.Day == day {
			j++
		}
		dlo, dhi := storage.DayRange(day)
		a, b := max(lo, dlo), min(hi, dhi)
		if a <= b && a >= cur {
			if a > cur {
				rowRange(cur, a-1)
			}
			if order == nil {
				order = newSeriesOrder(series)
			}
			segs := x.segs[i:j]
			if g := segs[0].seg.NumRowGroups(); len(segs) == 1 && g > 1 {
				if _, _, ok := segs[0].seg.GroupStart(0); ok {
					for k := 0; k < g; k++ {
						var from, to bound
						from.key, from.t, from.has = segs[0].seg.GroupStart(k)
						if k == 0 {
							from.has = false
						}
						to.key, to.t, to.has = segs[0].seg.GroupStart(k + 1)
						// Rows are sorted by series: a group none of the
						// scan's series can be in is not read at all.
						if !order.anyIn(from, to) {
							continue
						}
						tasks = append(tasks, x.dayTask(q, table, order, segs, a, b, k, k+1, from, to, last))
					}
					goto next
				}
			}
			tasks = append(tasks, x.dayTask(q, table, order, segs, a, b, 0, 0, bound{}, bound{}, last))
		next:
			if b == math.MaxInt64 {
				done = true
			} else {
				cur = b + 1
			}
		}
		i = j
	}
	if !done {
		rowRange(cur, hi)
	}
	return tasks
}

// bound is a (series, time) position in a day's segment order.
type bound struct {
	has bool
	key string // tag string
	t   int64
}

// before reports whether (key, t) comes before b.
func (b bound) before(key string, t int64) bool {
	return b.has && (key < b.key || key == b.key && t < b.t)
}

// dayTask reads one partition day: its segments merged with the row
// store's points in [lo, hi] of the same day. With endGroup > 0, only
// row groups [group, endGroup) of its one segment, and the row-store
// points between from and to (the first rows of those groups and of the
// next one).
func (x *tiers) dayTask(pq pieceQuery, table string, order *seriesOrder, segs []*segEntry, lo, hi int64, group, endGroup int, from, to bound, last bool) scanTask {
	return func(w pointSink) error {
		q := pq(lo, hi)
		q.FirstGroup, q.EndGroup, q.LastPerSeries = group, endGroup, last
		q.Series = order.keys
		ids := order.ids
		if from.has || to.has {
			// The series in [from.key, to.key], by tag string.
			i := 0
			if from.has {
				i = sort.Search(len(ids), func(k int) bool { return order.keyOf[ids[k]] >= from.key })
			}
			j := len(ids)
			if to.has {
				j = sort.Search(len(ids), func(k int) bool { return order.keyOf[ids[k]] > to.key })
			}
			ids = ids[i:max(i, j)]
		}
		m := &segMerge{}
		for _, e := range segs {
			rows := e.seg.Rows(q)
			defer rows.Close()
			m.its = append(m.its, rows)
		}
		if err := m.init(); err != nil {
			return err
		}
		// A segment row of a series the scan does not want (tag filters)
		// is skipped; the lookup runs once per series run.
		var lastKey string
		var lastID uint64
		var lastOK bool
		// With field filters, a row of a single segment is checked on its
		// filtered fields before the others are gathered.
		var pre *scanWorker
		if sw, ok := w.(*scanWorker); ok && sw.keepLast == nil && sw.pm != nil && len(sw.pm.filterIDs) > 0 && len(m.its) == 1 {
			pre = sw
		}
		var pf []storage.FieldValue
		// A plain scan of a single segment copies runs of rows column by
		// column (up to the next row-store point of the series, if any).
		var bw *scanWorker
		if sw, ok := w.(*scanWorker); ok && len(m.its) == 1 && pre == nil && sw.pm != nil {
			bw = sw
		}
		// run is the current segment row and those after it of its series,
		// up to the next row-store point of that series (limKey, limT).
		run := func(lim bool, limKey string, limT int64) []int64 {
			times := m.its[0].RunAhead(scanBatchRows)
			if lim && m.key() == limKey {
				times = times[:sort.Search(len(times), func(i int) bool { return times[i] >= limT })]
			}
			return times
		}
		emitSeg := func(lim bool, limKey string, limT int64) error {
			k := m.key()
			if k != lastKey || lastKey == "" {
				lastKey = k
				lastID, lastOK = order.byKey[k]
			}
			if bp := (*bulkPlan)(nil); bw != nil && lastOK {
				bp = bw.bulk()
				it := m.its[0]
				var times []int64
				if bp != nil {
					times = run(lim, limKey, limT)
				}
				if len(times) > 1 {
					ok := true
					for i, id := range bp.ids {
						if bp.fbs[i], ok = it.FieldBlock(id, len(times)); !ok {
							break
						}
					}
					if ok {
						if err := bw.rowsBlock(lastID, times, bp); err != nil {
							return err
						}
						it.Skip(len(times))
						return m.next()
					}
				}
			}
			if lastOK && pre != nil {
				// A run of rows of the single segment: the filters are
				// evaluated over its columns, and only passing rows are built.
				it := m.its[0]
				if times := run(lim, limKey, limT); len(times) > 1 {
					if pass, ok := pre.blockFilter(it, len(times)); ok {
						at := 0 // the iterator's row within the run
						for r, p := range pass {
							if !p {
								if err := w.tick(); err != nil {
									return err
								}
								continue
							}
							it.Skip(r - at + 1)
							at = r
							if err := w.rowFields(lastID, times[r], it.Fields()); err != nil {
								return err
							}
						}
						it.Skip(len(times) - at)
						return m.next()
					}
				}
				pf = pf[:0]
				for _, id := range pre.pm.filterIDs {
					if f, ok := m.its[0].Field(id); ok {
						pf = append(pf, f)
					}
				}
				if !passFieldFilterValues(pf, pre.filters, pre.pm.filterOf, pre.passed) {
					if err := w.tick(); err != nil {
						return err
					}
					return m.next()
				}
			}
			if lastOK {
				if err := w.rowFields(lastID, m.time(), m.fields()); err != nil {
					return err
				}
			} else if err := w.tick(); err != nil {
				return err
			}
			return m.next()
		}
		var fv, merged []storage.FieldValue
		scan := x.view.ScanRaw
		if last {
			scan = x.view.ScanLastRaw
		}
		err := scan(x.tenant, x.table, ids, lo, hi, func(sid uint64, t int64, val []byte) error {
			key := order.keyOf[sid]
			if from.before(key, t) || (to.has && !to.before(key, t)) {
				return nil // another piece's point
			}
			for m.valid() {
				c := cmp.Or(cmp.Compare(m.key(), key), cmp.Compare(m.time(), t))
				if c > 0 {
					break
				}
				if c == 0 {
					// The same point in both tiers: the row store wins.
					var err error
					if fv, err = storage.DecodeValue(val, fv[:0]); err != nil {
						return fmt.Errorf("engine: table %q series %d time %d: %w", table, sid, t, err)
					}
					merged = storage.MergeFields(append(merged[:0], m.fields()...), fv)
					if err := w.rowFields(sid, t, merged); err != nil {
						return err
					}
					return m.next()
				}
				if err := emitSeg(true, key, t); err != nil {
					return err
				}
			}
			return w.row(sid, t, val)
		})
		for err == nil && m.valid() {
			err = emitSeg(false, "", 0)
		}
		return err
	}
}

// segMerge merges the rows of one day's segments (in id order: a later
// one wins) by (series tags, time).
type segMerge struct {
	its    []*storage.SegmentRows
	ok     []bool
	at     []int // iterators positioned at the current row
	merged []storage.FieldValue
	cur    []storage.FieldValue
	ok1    bool
}

func (m *segMerge) init() error {
	m.ok = make([]bool, len(m.its))
	for i, it := range m.its {
		m.ok[i] = it.Next()
		if err := it.Err(); err != nil {
			return err
		}
	}
	m.settle()
	return nil
}

// settle finds the smallest (tags, time) among the iterators.
func (m *segMerge) settle() {
	m.at = m.at[:0]
	for i, it := range m.its {
		if !m.ok[i] {
			continue
		}
		if len(m.at) == 0 {
			m.at = append(m.at, i)
			continue
		}
		first := m.its[m.at[0]]
		c := cmp.Or(cmp.Compare(it.TagKey(), first.TagKey()), cmp.Compare(it.Time(), first.Time()))
		if c < 0 {
			m.at = append(m.at[:0], i)
		} else if c == 0 {
			m.at = append(m.at, i)
		}
	}
	m.ok1 = len(m.at) > 0
	if !m.ok1 {
		return
	}
	m.cur = nil
	if len(m.at) > 1 {
		m.merged = append(m.merged[:0], m.its[m.at[0]].Fields()...)
		for _, i := range m.at[1:] {
			m.merged = storage.MergeFields(m.merged, m.its[i].Fields())
		}
		m.cur = m.merged
	}
}

func (m *segMerge) valid() bool { return m.ok1 }
func (m *segMerge) key() string { return m.its[m.at[0]].TagKey() }
func (m *segMerge) time() int64 { return m.its[m.at[0]].Time() }
func (m *segMerge) fields() []storage.FieldValue {
	if m.cur == nil {
		return m.its[m.at[0]].Fields()
	}
	return m.cur
}

func (m *segMerge) next() error {
	for _, i := range m.at {
		m.ok[i] = m.its[i].Next()
		if err := m.its[i].Err(); err != nil {
			return err
		}
	}
	m.settle()
	return nil
}

// scanLast answers "the newest row of each series" over both tiers. A
// series whose newest row-store point is newer than every segment is
// answered by that point (one reverse seek, as without segments); the
// others are looked for in the pieces of the range, newest first, until
// each has its point.
func (x *tiers) scanLast(ctx context.Context, pm *physLayout, series []storage.SeriesInfo, fn func(*sql.Batch) error) error {
	l := pm.l
	spec := l.spec
	w := l.newWorker(ctx)
	w.use(pm)
	defer w.reportReadErrors()
	w.emit = func(b *sql.Batch) (*sql.Batch, error) {
		if err := fn(b); err != nil {
			return nil, err
		}
		l.reset(b)
		return b, nil
	}
	ids := make([]uint64, len(series))
	for i, s := range series {
		ids[i] = s.ID
	}
	maxSeg := int64(math.MinInt64)
	for _, e := range x.segs {
		maxSeg = max(maxSeg, e.meta.MaxTime)
	}
	found := map[uint64]bool{}
	// The newest point compaction moved into segments, per series: no
	// segment row of the series is newer.
	type entry struct {
		t      int64
		fields []storage.FieldValue
	}
	latest := map[uint64]entry{}
	if len(x.segs) > 0 {
		err := x.view.LatestCompacted(x.tenant, x.table, ids, func(sid uint64, t int64, val []byte) error {
			fv, err := storage.DecodeValue(val, nil)
			if err != nil {
				return fmt.Errorf("engine: table %q series %d: %w", spec.Table, sid, err)
			}
			for i := range fv {
				if fv[i].Type == schema.TypeString {
					fv[i].S = append([]byte(nil), fv[i].S...)
				}
			}
			latest[sid] = entry{t, fv}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var merged []storage.FieldValue
	err := x.view.ScanLastRaw(x.tenant, x.table, ids, spec.MinTime, spec.MaxTime, func(sid uint64, t int64, val []byte) error {
		c, hasC := latest[sid]
		switch {
		case len(x.segs) == 0 || t > maxSeg:
			// Newer than every segment.
		case hasC && c.t <= spec.MaxTime && t > c.t:
			// Newer than the series' newest segment row.
		case hasC && c.t <= spec.MaxTime && t == c.t:
			// The same point in both tiers: the row store wins.
			fv, err := storage.DecodeValue(val, nil)
			if err != nil {
				return err
			}
			merged = storage.MergeFields(append(merged[:0], c.fields...), fv)
			found[sid] = true
			return w.rowFields(sid, t, merged)
		default:
			return nil // segments may hold a newer point in range
		}
		found[sid] = true
		return w.row(sid, t, val)
	})
	if err != nil {
		return err
	}
	// Series whose newest point in range is their newest segment row.
	for _, s := range series {
		c, hasC := latest[s.ID]
		if found[s.ID] || !hasC || c.t > spec.MaxTime {
			continue
		}
		found[s.ID] = true // answered here, or (before MinTime) nothing in range
		if c.t >= spec.MinTime {
			if err := w.rowFields(s.ID, c.t, c.fields); err != nil {
				return err
			}
		}
	}
	var rest []storage.SeriesInfo
	for _, s := range series {
		if !found[s.ID] {
			rest = append(rest, s)
		}
	}
	if len(rest) > 0 && len(x.segs) > 0 {
		tasks := x.pieces(rest, spec.MinTime, spec.MaxTime, pm.segmentQuery, spec.Table, true)
		// The pieces come oldest first and cover disjoint time ranges:
		// going newest first, a series' first point found is its newest.
		cw := l.newWorker(ctx)
		cw.use(pm)
		all := map[uint64]*lastPoint{}
		for i := len(tasks) - 1; i >= 0 && len(all) < len(rest); i-- {
			cw.keepLast = map[uint64]*lastPoint{}
			if err := tasks[i](cw); err != nil {
				return err
			}
			for sid, lp := range cw.keepLast {
				if _, ok := all[sid]; !ok {
					all[sid] = lp
				}
			}
		}
		for _, s := range rest {
			if lp, ok := all[s.ID]; ok {
				if err := w.rowFields(s.ID, lp.t, lp.fields); err != nil {
					return err
				}
			}
		}
	}
	if ok, err := w.handOff(); !ok || err != nil {
		return err
	}
	return fn(w.b)
}

var _ sql.ScanExplainer = (*sqlScanner)(nil)

// ExplainScan tells EXPLAIN how a scan reads the tiers: the series it
// seeks in the row store, the segments the manifest's time ranges keep,
// and the row groups their statistics and dictionaries keep.
func (s *sqlScanner) ExplainScan(ctx context.Context, spec sql.ScanSpec) ([]string, error) {
	db := (*DB)(s)
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	ten, ok := db.cat.Tenant(spec.Tenant)
	if !ok {
		return nil, nil
	}
	lt, ok := db.cat.ResolveTable(ten.ID, spec.Database, spec.Table)
	if !ok {
		return nil, nil
	}
	bt, err := db.bind(lt)
	if err != nil {
		return nil, err
	}
	var nseries, nsegs, total, groups, scanned int
	for _, p := range bt.phys {
		series, err := db.matchSeries(ten.ID, p.ID, spec.TagFilters)
		if err != nil {
			return nil, err
		}
		nseries += len(series)
		x, err := db.openTiers(ten.ID, p.ID, spec.MinTime, spec.MaxTime)
		if err != nil {
			return nil, err
		}
		pm := &physLayout{l: &scanLayout{spec: spec}}
		for _, e := range x.segs {
			dlo, dhi := storage.DayRange(e.meta.Day)
			q := pm.segmentQuery(max(spec.MinTime, dlo), min(spec.MaxTime, dhi))
			rows := e.seg.Rows(q)
			st := rows.Stats()
			err := rows.Err()
			rows.Close()
			if err != nil {
				x.close()
				return nil, err
			}
			groups += st.RowGroups
			scanned += st.Scanned
		}
		nsegs += len(x.segs)
		total += x.total
		x.close()
	}
	return []string{
		fmt.Sprintf("row store: %d series", nseries),
		fmt.Sprintf("segments: %d of %d scanned (%d pruned by time range)", nsegs, total, total-nsegs),
		fmt.Sprintf("row groups: %d of %d scanned (%d pruned by time, tag statistics and dictionaries)", scanned, groups, groups-scanned),
	}, nil
}
