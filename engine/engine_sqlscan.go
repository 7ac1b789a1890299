package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// The SQL scan turns row store points into column batches. A scanLayout
// holds what is fixed for one Scan call; a scanWorker builds batches from
// the points of some of its series. Large scans run two workers, each over
// half of the series, so that both cores read and decode while the query's
// operators consume the batches on the calling goroutine.

// minSeriesPerWorker is the fewest series a scan worker is started for.
const minSeriesPerWorker = 4

// scanLayout is the read-only plan of one Scan call.
type scanLayout struct {
	spec      sql.ScanSpec
	bt        *boundTable
	cols      []sql.ColumnInfo
	out       []int    // output slot -> logical column
	slot      []int    // logical column -> output slot (-1 = not requested)
	dups      [][2]int // (slot, slot it copies): a column requested twice (by an alias)
	colIdx    map[string]int
	filters   []fieldFilter
	tagCols   []int // output slots of tags
	fieldCols []int // output slots of fields (_unmapped included)
	unmapped  int   // output slot of _unmapped, -1 if not requested
	convTypes []sql.Type
	// report records cast failures (once per value, in the errors table).
	report func([]readError)
}

func (l *scanLayout) newBatch() *sql.Batch {
	b := &sql.Batch{Cols: make([]sql.Vector, len(l.out))}
	for j, i := range l.out {
		b.Cols[j].Type = l.cols[i].Type
	}
	l.reset(b)
	return b
}

func (l *scanLayout) reset(b *sql.Batch) {
	b.Len = 0
	for j := range b.Cols {
		v := &b.Cols[j]
		v.F64, v.I64, v.Str, v.Bool, v.Null = v.F64[:0], v.I64[:0], v.Str[:0], v.Bool[:0], v.Null[:0]
	}
	b.Cols[0].Null = nil // time is never NULL
}

// pending is a value waiting for its conversion: it is evaluated with the
// batch's other values of the same conversion when the batch is full.
type pending struct {
	pm        *physLayout // the table the value comes from
	slot, row int
	conv, at  int // conversion, and position in its staging vector
	dead      bool
	series    uint64
	time      int64
	field     uint32
	raw       storage.FieldValue
}

// scanWorker builds batches from points. Not safe for concurrent use:
// each goroutine has its own.
type scanWorker struct {
	l       *scanLayout
	pm      *physLayout // the physical table being read
	ctx     context.Context
	b       *sql.Batch
	filters []fieldFilter // own copies: their scratch vectors are written
	passed  []bool
	tagVals []string // per output slot: the series' tag value or "" (NULL)
	tagNull []bool
	set     []bool
	rank    []int // per output slot: the rank of the source that set it
	pend    []int // per output slot: its pending conversion this row, -1 if none
	stage   []sql.Vector
	pending []pending
	unm     []storage.FieldValue
	rdErrs  []readError
	cur     uint64
	started bool
	n       int          // points seen, filtered or not
	stop    *atomic.Bool // set when the consumer stopped (parallel scans)
	// keepLast, if set, makes the worker keep only the newest point of
	// each series instead of building rows (last point per series over
	// both tiers).
	keepLast map[uint64]*lastPoint
	// emit hands off a full batch and returns the (reset) batch to fill next.
	emit func(*sql.Batch) (*sql.Batch, error)
	// bulkP is the bulk plan for table bulkPM (see bulk).
	bulkPM *physLayout
	bulkP  *bulkPlan
	// blkPass and blkAny are blockFilter's scratch.
	blkPass, blkAny []bool
}

func (l *scanLayout) newWorker(ctx context.Context) *scanWorker {
	w := &scanWorker{
		l: l, ctx: ctx, b: l.newBatch(),
		filters: append([]fieldFilter(nil), l.filters...),
		passed:  make([]bool, len(l.filters)),
		tagVals: make([]string, len(l.out)),
		tagNull: make([]bool, len(l.out)),
		set:     make([]bool, len(l.out)),
		rank:    make([]int, len(l.out)),
		pend:    make([]int, len(l.out)),
		stage:   make([]sql.Vector, len(l.convTypes)),
	}
	for i := range w.filters {
		w.filters[i].scratch = sql.Vector{Type: l.filters[i].scratch.Type}
	}
	for k, t := range l.convTypes {
		w.stage[k].Type = t
	}
	return w
}

// use switches the worker to the points of physical table pm.
func (w *scanWorker) use(pm *physLayout) {
	if w.pm != pm {
		w.pm, w.started = pm, false
	}
}

// tick counts a point, filtered or not, and checks for cancellation every
// batch worth of points.
func (w *scanWorker) tick() error {
	w.n++
	if w.n%scanBatchRows == 0 {
		return w.stopped()
	}
	return nil
}

// stopped reports the query's cancellation, or errScanStopped once the
// consumer stopped.
func (w *scanWorker) stopped() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if w.stop != nil && w.stop.Load() {
		return errScanStopped
	}
	return nil
}

// startRow appends the time and tag values of a row of series sid.
func (w *scanWorker) startRow(sid uint64, t int64) {
	l := w.l
	w.setSeries(sid)
	b := w.b
	b.Cols[0].I64 = append(b.Cols[0].I64, t)
	for _, j := range l.tagCols {
		v := &b.Cols[j]
		v.Str = append(v.Str, w.tagVals[j])
		v.Null = append(v.Null, w.tagNull[j])
	}
	for _, j := range l.fieldCols {
		w.set[j] = false
		w.pend[j] = -1
	}
	w.unm = w.unm[:0]
}

// addField lets one physical field value reach the columns it feeds: the
// first non-null source of a column wins (a better-ranked source replaces
// a worse one), a plain source is cast now, a converted one is staged for
// its conversion. It reports how many columns it set with their first
// source.
func (w *scanWorker) addField(f storage.FieldValue) int {
	if int(f.ID) >= len(w.pm.feeds) {
		return 0
	}
	best := 0
	for _, fd := range w.pm.feeds[f.ID] {
		j := w.l.slot[fd.col]
		if j < 0 {
			continue
		}
		if j == w.l.unmapped {
			w.unm = append(w.unm, f)
			continue
		}
		if w.set[j] && w.rank[j] <= fd.rank {
			continue
		}
		v := &w.b.Cols[j]
		if fd.conv < 0 {
			if !appendCast(v, f) {
				w.castFailed(f, fd.col, fmt.Sprintf("value %q of field %q does not convert to %s", rawString(f), w.pm.rawNames[f.ID], v.Type))
				continue
			}
		} else {
			st := &w.stage[fd.conv]
			if !appendCast(st, f) {
				w.castFailed(f, fd.col, fmt.Sprintf("value %q of field %q does not convert to %s", rawString(f), w.pm.rawNames[f.ID], st.Type))
				continue
			}
			appendNull(v) // filled when the batch is converted
			raw := f
			if raw.Type == schema.TypeString {
				raw.S = append([]byte(nil), raw.S...)
			}
			w.pending = append(w.pending, pending{pm: w.pm, slot: j, row: w.b.Len, conv: fd.conv, at: vecLen(st) - 1,
				series: w.cur, time: w.b.Cols[0].I64[w.b.Len], field: f.ID, raw: raw})
		}
		if w.set[j] {
			dropPrevious(v) // the new value replaces the worse-ranked one
			if p := w.pend[j]; p >= 0 {
				w.pending[p].dead = true
			}
		}
		w.pend[j] = -1
		if fd.conv >= 0 {
			w.pend[j] = len(w.pending) - 1
		}
		w.set[j], w.rank[j] = true, fd.rank
		if fd.rank == 0 {
			best++
		}
	}
	return best
}

func (w *scanWorker) castFailed(f storage.FieldValue, col int, msg string) {
	if len(w.rdErrs) >= maxReadErrors {
		return
	}
	w.rdErrs = append(w.rdErrs, readError{table: w.pm.table, series: w.cur, time: w.b.Cols[0].I64[w.b.Len],
		field: f.ID, column: w.l.cols[col].Name, raw: rawString(f),
		message: fmt.Sprintf("column %q: %s; it reads as NULL", w.l.cols[col].Name, msg)})
}

// endRow fills the fields the row lacks with NULL and hands off a full
// batch.
func (w *scanWorker) endRow() error {
	l, b := w.l, w.b
	for _, j := range l.fieldCols {
		if j == l.unmapped {
			appendUnmapped(&b.Cols[j], w.unm, w.pm.rawNames)
			continue
		}
		if !w.set[j] {
			appendNull(&b.Cols[j])
		}
	}
	b.Len++
	if b.Len == scanBatchRows {
		if err := w.finish(); err != nil {
			return err
		}
		nb, err := w.emit(b)
		if err != nil {
			return err
		}
		w.b = nb
	}
	return nil
}

// finish completes the current batch before it is handed off: staged
// values are converted, and columns requested twice are copied.
func (w *scanWorker) finish() error {
	if len(w.pending) > 0 {
		for k := range w.stage {
			st := &w.stage[k]
			if vecLen(st) == 0 {
				continue
			}
			out := st
			var failed map[int]string
			for _, cv := range w.l.bt.convs[k] {
				res, fails, err := cv.EvalReport(out)
				if err != nil {
					return err
				}
				for _, f := range fails {
					if failed == nil {
						failed = map[int]string{}
					}
					failed[f.Row] = f.Err.Error()
				}
				out = res
			}
			for i := range w.pending {
				p := &w.pending[i]
				if p.conv != k || p.dead {
					continue
				}
				if msg, bad := failed[p.at]; bad {
					if len(w.rdErrs) < maxReadErrors {
						col := w.l.cols[w.l.out[p.slot]].Name
						w.rdErrs = append(w.rdErrs, readError{table: p.pm.table, series: p.series, time: p.time, field: p.field,
							column: col, raw: rawString(p.raw),
							message: fmt.Sprintf("column %q: converting %q (field %q): %s; it reads as NULL", col, rawString(p.raw), p.pm.rawNames[p.field], msg)})
					}
					continue
				}
				setFrom(&w.b.Cols[p.slot], p.row, out, p.at)
			}
			resetVec(st)
		}
		w.pending = w.pending[:0]
	}
	for _, d := range w.l.dups {
		w.b.Cols[d[0]] = w.b.Cols[d[1]]
		w.b.Cols[d[0]].Type = w.l.cols[w.l.out[d[0]]].Type
	}
	return nil
}

// handOff finishes the worker's last, partial batch; it reports whether
// there is one to hand off.
func (w *scanWorker) handOff() (bool, error) {
	if w.b.Len == 0 {
		return false, nil
	}
	return true, w.finish()
}

// row adds one row-store point (a storage.ScanRawFunc).
func (w *scanWorker) row(sid uint64, t int64, val []byte) error {
	l := w.l
	// Every point counts for cancellation, including those a selective
	// field filter skips.
	if err := w.tick(); err != nil {
		return err
	}
	if w.keepLast != nil {
		fv, err := storage.DecodeValue(val, nil)
		if err != nil {
			return fmt.Errorf("engine: table %q series %d time %d: %w", l.spec.Table, sid, t, err)
		}
		w.recordLast(sid, t, fv)
		return nil
	}
	if w.pm.filterOf != nil && !passFieldFilters(val, w.filters, w.pm.filterOf, w.passed) {
		return nil
	}
	w.startRow(sid, t)
	// Decode only what is needed, and stop once every requested column
	// has its first source (unless _unmapped wants the rest).
	want := len(l.fieldCols)
	if l.unmapped >= 0 {
		want = -1
	}
	found := 0
	for rest := val; len(rest) > 0 && found != want; {
		id, typ, payload, r, err := storage.NextField(rest)
		if err != nil {
			return fmt.Errorf("engine: table %q series %d time %d: %w", l.spec.Table, sid, t, err)
		}
		rest = r
		if int(id) >= len(w.pm.feeds) || w.pm.feeds[id] == nil {
			continue
		}
		found += w.addField(storage.FieldFromPayload(id, typ, payload))
	}
	return w.endRow()
}

// rowFields adds one point given as decoded fields (a segment row, or a
// point merged from both tiers).
func (w *scanWorker) rowFields(sid uint64, t int64, fields []storage.FieldValue) error {
	if err := w.tick(); err != nil {
		return err
	}
	if w.keepLast != nil {
		w.recordLast(sid, t, fields)
		return nil
	}
	if w.pm.filterOf != nil && !passFieldFilterValues(fields, w.filters, w.pm.filterOf, w.passed) {
		return nil
	}
	w.startRow(sid, t)
	for i := range fields {
		w.addField(fields[i])
	}
	return w.endRow()
}

// lastPoint is the newest point of a series seen by a keepLast worker.
type lastPoint struct {
	t      int64
	fields []storage.FieldValue // strings copied
}

func (w *scanWorker) recordLast(sid uint64, t int64, fields []storage.FieldValue) {
	lp := w.keepLast[sid]
	if lp == nil {
		lp = &lastPoint{t: t}
		w.keepLast[sid] = lp
	} else if t < lp.t {
		return
	}
	lp.t = t
	lp.fields = lp.fields[:0]
	for _, f := range fields {
		if f.Type == schema.TypeString {
			f.S = append([]byte(nil), f.S...)
		}
		lp.fields = append(lp.fields, f)
	}
}

// errScanStopped ends the workers of a scan whose consumer stopped.
var errScanStopped = errors.New("engine: scan stopped")

// scanTask is one part of a scan, run by one worker.
type scanTask func(w pointSink) error

// runTasks runs the tasks and calls fn on their batches, one at a time,
// on the calling goroutine: on the calling goroutine alone for one task,
// else with two workers taking tasks in turn. Batches circulate through a
// free list; fn sees each one alone, and a worker refills it only after fn
// returned.
func (l *scanLayout) runTasks(ctx context.Context, tasks []scanTask, fn func(*sql.Batch) error) error {
	if len(tasks) == 0 {
		return nil
	}
	if len(tasks) == 1 {
		w := l.newWorker(ctx)
		w.emit = func(b *sql.Batch) (*sql.Batch, error) {
			if err := fn(b); err != nil {
				return nil, err
			}
			l.reset(b)
			return b, nil
		}
		err := tasks[0](w)
		w.reportReadErrors()
		if err != nil {
			return err
		}
		if ok, err := w.handOff(); !ok || err != nil {
			return err
		}
		return fn(w.b)
	}
	const workers = 2
	ready := make(chan *sql.Batch, workers)
	free := make(chan *sql.Batch, 2*workers+1)
	for range workers + 1 {
		free <- l.newBatch()
	}
	var stop atomic.Bool
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		w := l.newWorker(ctx)
		w.stop = &stop
		w.emit = func(b *sql.Batch) (*sql.Batch, error) {
			if stop.Load() {
				return nil, errScanStopped
			}
			ready <- b
			nb := <-free
			l.reset(nb)
			return nb, nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				// A panic in a worker fails the query, not the process.
				if r := recover(); r != nil {
					errs[k] = fmt.Errorf("engine: scan of table %q panicked: %v", l.spec.Table, r)
					stop.Store(true)
				}
			}()
			defer w.reportReadErrors()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(tasks) {
					break
				}
				if errs[k] = tasks[i](w); errs[k] != nil {
					stop.Store(true) // the other worker stops too
					return
				}
			}
			ok, err := w.handOff()
			if err != nil {
				errs[k] = err
				stop.Store(true)
				return
			}
			if ok && !stop.Load() {
				ready <- w.b
			}
		}()
	}
	go func() {
		wg.Wait()
		close(ready)
	}()
	defer func() {
		// If fn panics, let the workers finish before the panic goes on
		// (the connection recovers it): they stop at their next check, and
		// free has room for every batch.
		if r := recover(); r != nil {
			stop.Store(true)
			go func() {
				for b := range ready {
					free <- b
				}
			}()
			panic(r)
		}
	}()
	var fnErr error
	for b := range ready {
		if fnErr == nil {
			if fnErr = fn(b); fnErr != nil {
				stop.Store(true)
			}
		}
		free <- b
	}
	if fnErr != nil {
		return fnErr
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, errScanStopped) {
			return err
		}
	}
	return nil
}

// bulkPlan says how a worker copies runs of segment rows into its batch
// column by column (storage.SegmentRows.RunAhead and FieldBlock) instead of
// building them a row at a time. Only plain scans qualify: no field
// filter, no conversion, no column fed by two fields, no _unmapped, and
// field types that copy as they are (integer to bigint, integer or float
// to double precision or numeric).
type bulkPlan struct {
	ids   []uint32 // the fields read
	slots []int    // per field: the output slot it fills
	empty []int    // field slots no field of this table feeds: NULL
	fbs   []storage.FieldBlock
}

// bulk returns the worker's bulk plan for its current table, nil if the
// scan does not qualify.
func (w *scanWorker) bulk() *bulkPlan {
	if w.bulkPM == w.pm {
		return w.bulkP
	}
	w.bulkPM, w.bulkP = w.pm, nil
	l, pm := w.l, w.pm
	if w.keepLast != nil || pm.filterOf != nil || l.unmapped >= 0 || len(l.convTypes) > 0 {
		return nil
	}
	p := &bulkPlan{}
	fed := map[int]bool{}
	for id, fds := range pm.feeds {
		if len(fds) == 0 {
			continue
		}
		f, ok := pm.table.FieldByID(uint32(id))
		if !ok || len(fds) != 1 || fds[0].conv >= 0 {
			return nil
		}
		j := l.slot[fds[0].col]
		if j < 0 || j == l.unmapped || fed[j] {
			return nil
		}
		switch t := l.cols[l.out[j]].Type; {
		case f.Type == schema.TypeInt && t == sql.TypeInt8:
		case (f.Type == schema.TypeInt || f.Type == schema.TypeFloat) && (t == sql.TypeFloat8 || t == sql.TypeNumeric):
		default:
			return nil
		}
		fed[j] = true
		p.ids = append(p.ids, uint32(id))
		p.slots = append(p.slots, j)
	}
	for _, j := range l.fieldCols {
		if !fed[j] {
			p.empty = append(p.empty, j)
		}
	}
	p.fbs = make([]storage.FieldBlock, len(p.ids))
	w.bulkP = p
	return p
}

// setSeries makes sid the series whose tag values rows get.
func (w *scanWorker) setSeries(sid uint64) {
	l := w.l
	if sid == w.cur && w.started {
		return
	}
	w.cur, w.started = sid, true
	for j := range w.tagVals {
		w.tagVals[j], w.tagNull[j] = "", true
	}
	tags := w.pm.tagsOf[sid]
	for k := 0; k+1 < len(tags); k += 2 {
		if i, ok := l.colIdx[tags[k]]; ok && l.cols[i].Kind == sql.KindTag && l.slot[i] >= 0 {
			w.tagVals[l.slot[i]], w.tagNull[l.slot[i]] = tags[k+1], false
		}
	}
}

// rowsBlock adds the rows of series sid at times, whose field values are
// p.fbs (one block per p.ids, as long as times), handing off full batches.
func (w *scanWorker) rowsBlock(sid uint64, times []int64, p *bulkPlan) error {
	l := w.l
	w.setSeries(sid)
	for off := 0; off < len(times); {
		b := w.b
		n := min(scanBatchRows-b.Len, len(times)-off)
		b.Cols[0].I64 = append(b.Cols[0].I64, times[off:off+n]...)
		for _, j := range l.tagCols {
			v := &b.Cols[j]
			for range n {
				v.Str = append(v.Str, w.tagVals[j])
				v.Null = append(v.Null, w.tagNull[j])
			}
		}
		for k, j := range p.slots {
			v, fb := &b.Cols[j], &p.fbs[k]
			switch {
			case fb.Null == nil: // the segment lacks the field
				for range n {
					appendNull(v)
				}
				continue
			case v.Type == sql.TypeInt8:
				v.I64 = append(v.I64, fb.I[off:off+n]...)
			case fb.F != nil:
				v.F64 = append(v.F64, fb.F[off:off+n]...)
			default:
				for _, x := range fb.I[off : off+n] {
					v.F64 = append(v.F64, float64(x))
				}
			}
			v.Null = append(v.Null, fb.Null[off:off+n]...)
		}
		for _, j := range p.empty {
			for range n {
				appendNull(&b.Cols[j])
			}
		}
		b.Len += n
		off += n
		// Cancellation is checked once per batch worth of points.
		before := w.n
		w.n += n
		if w.n/scanBatchRows != before/scanBatchRows {
			if err := w.stopped(); err != nil {
				return err
			}
		}
		if b.Len == scanBatchRows {
			if err := w.finish(); err != nil {
				return err
			}
			nb, err := w.emit(b)
			if err != nil {
				return err
			}
			w.b = nb
		}
	}
	return nil
}

// blockFilter evaluates the worker's field filters over the n rows of a
// segment run (it's current row and the n-1 after it), as
// passFieldFilterValues would row by row: a row passes if, for every
// filter, a field feeding its column is not NULL and compares true. ok is
// false when a filter's field or column type needs the row path.
func (w *scanWorker) blockFilter(it *storage.SegmentRows, n int) (pass []bool, ok bool) {
	pm := w.pm
	w.blkPass = append(w.blkPass[:0], make([]bool, n)...)
	pass = w.blkPass
	for r := range pass {
		pass[r] = true
	}
	for k := range w.filters {
		ff := &w.filters[k]
		w.blkAny = append(w.blkAny[:0], make([]bool, n)...)
		any := w.blkAny
		ct := ff.scratch.Type
		for _, id := range pm.filterIDs {
			if !slices.Contains(pm.filterOf[id], k) {
				continue
			}
			fb, good := it.FieldBlock(id, n)
			if !good {
				return nil, false
			}
			switch {
			case fb.Null == nil: // the segment lacks the field
			case fb.Type == schema.TypeInt && (ct == sql.TypeInt8 || ct == sql.TypeFloat8 || ct == sql.TypeNumeric):
				for r, x := range fb.I {
					if !fb.Null[r] && compareFloat(float64(x), ff.Op, ff.Value) {
						any[r] = true
					}
				}
			case fb.Type == schema.TypeFloat && (ct == sql.TypeFloat8 || ct == sql.TypeNumeric):
				for r, x := range fb.F {
					if !fb.Null[r] && compareFloat(x, ff.Op, ff.Value) {
						any[r] = true
					}
				}
			default:
				return nil, false
			}
		}
		for r := range pass {
			pass[r] = pass[r] && any[r]
		}
	}
	return pass, true
}
