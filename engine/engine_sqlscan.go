package engine

import (
	"context"
	"errors"
	"fmt"
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
	cols      []sql.ColumnInfo
	out       []int // output slot -> logical column
	slot      []int // logical column -> output slot (-1 = not requested)
	colIdx    map[string]int
	fieldSlot []int    // field id -> output slot (-1 = not requested)
	filterOf  [][]int  // field id -> indexes into filters
	filterIDs []uint32 // field ids with filters
	filters   []fieldFilter
	tagsOf    map[uint64][]string
	tagCols   []int // output slots of tags
	fieldCols []int // output slots of fields
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

// scanWorker builds batches from points. Not safe for concurrent use:
// each goroutine has its own.
type scanWorker struct {
	l       *scanLayout
	ctx     context.Context
	b       *sql.Batch
	filters []fieldFilter // own copies: their scratch vectors are written
	passed  []bool
	tagVals []string // per output slot: the series' tag value or "" (NULL)
	tagNull []bool
	set     []bool
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
}

func (l *scanLayout) newWorker(ctx context.Context) *scanWorker {
	w := &scanWorker{
		l: l, ctx: ctx, b: l.newBatch(),
		filters: append([]fieldFilter(nil), l.filters...),
		passed:  make([]bool, len(l.filters)),
		tagVals: make([]string, len(l.out)),
		tagNull: make([]bool, len(l.out)),
		set:     make([]bool, len(l.out)),
	}
	for i := range w.filters {
		w.filters[i].scratch = sql.Vector{Type: l.filters[i].scratch.Type}
	}
	return w
}

// tick counts a point, filtered or not, and checks for cancellation every
// batch worth of points.
func (w *scanWorker) tick() error {
	w.n++
	if w.n%scanBatchRows == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if w.stop != nil && w.stop.Load() {
			return errScanStopped
		}
	}
	return nil
}

// startRow appends the time and tag values of a row of series sid.
func (w *scanWorker) startRow(sid uint64, t int64) {
	l := w.l
	if sid != w.cur || !w.started {
		w.cur, w.started = sid, true
		for j := range w.tagVals {
			w.tagVals[j], w.tagNull[j] = "", true
		}
		tags := l.tagsOf[sid]
		for k := 0; k+1 < len(tags); k += 2 {
			if i, ok := l.colIdx[tags[k]]; ok && l.cols[i].Kind == sql.KindTag && l.slot[i] >= 0 {
				w.tagVals[l.slot[i]], w.tagNull[l.slot[i]] = tags[k+1], false
			}
		}
	}
	b := w.b
	b.Cols[0].I64 = append(b.Cols[0].I64, t)
	for _, j := range l.tagCols {
		v := &b.Cols[j]
		v.Str = append(v.Str, w.tagVals[j])
		v.Null = append(v.Null, w.tagNull[j])
	}
	for _, j := range l.fieldCols {
		w.set[j] = false
	}
}

// endRow fills the fields the row lacks with NULL and hands off a full
// batch.
func (w *scanWorker) endRow(found int) error {
	l, b := w.l, w.b
	if found < len(l.fieldCols) {
		for _, j := range l.fieldCols {
			if !w.set[j] {
				appendNull(&b.Cols[j])
			}
		}
	}
	b.Len++
	if b.Len == scanBatchRows {
		nb, err := w.emit(b)
		if err != nil {
			return err
		}
		w.b = nb
	}
	return nil
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
	if l.filterOf != nil && !passFieldFilters(val, w.filters, l.filterOf, w.passed) {
		return nil
	}
	w.startRow(sid, t)
	b := w.b
	// Decode only the requested fields, and stop once all are found.
	found := 0
	for rest := val; len(rest) > 0 && found < len(l.fieldCols); {
		id, typ, payload, r, err := storage.NextField(rest)
		if err != nil {
			return fmt.Errorf("engine: table %q series %d time %d: %w", l.spec.Table, sid, t, err)
		}
		rest = r
		if int(id) >= len(l.fieldSlot) {
			continue
		}
		j := l.fieldSlot[id]
		if j < 0 || w.set[j] {
			continue
		}
		if appendCast(&b.Cols[j], storage.FieldFromPayload(id, typ, payload)) {
			w.set[j] = true
			found++
		}
	}
	return w.endRow(found)
}

// rowFields adds one point given as decoded fields (a segment row, or a
// point merged from both tiers).
func (w *scanWorker) rowFields(sid uint64, t int64, fields []storage.FieldValue) error {
	l := w.l
	if err := w.tick(); err != nil {
		return err
	}
	if w.keepLast != nil {
		w.recordLast(sid, t, fields)
		return nil
	}
	if l.filterOf != nil && !passFieldFilterValues(fields, w.filters, l.filterOf, w.passed) {
		return nil
	}
	w.startRow(sid, t)
	b := w.b
	found := 0
	for i := range fields {
		f := &fields[i]
		if int(f.ID) >= len(l.fieldSlot) {
			continue
		}
		j := l.fieldSlot[f.ID]
		if j < 0 || w.set[j] {
			continue
		}
		if appendCast(&b.Cols[j], *f) {
			w.set[j] = true
			found++
		}
	}
	return w.endRow(found)
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
		if err := tasks[0](w); err != nil {
			return err
		}
		if w.b.Len > 0 {
			return fn(w.b)
		}
		return nil
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
			if w.b.Len > 0 && !stop.Load() {
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
