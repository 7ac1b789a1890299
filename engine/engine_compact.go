package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/storage"
)

// Compaction moves points older than the hot window from the row store
// into Parquet segments, one partition (table, UTC day) at a time, and
// retention drops whole partitions older than a table's TTL. The steps of
// one partition's compaction, and why a crash at any of them loses and
// duplicates nothing, are in storage/compact.go; this file decides what
// to compact and when.
//
// Policy, per partition with work:
//   - A partition that still takes writes (its day ends after the
//     cutoff) gets a new segment with just its points older than the
//     cutoff, until it has MaxSegmentsPerPartition segments; then the
//     newest small segments are merged with the new points into one.
//   - A partition wholly older than the cutoff is merged: its newest
//     segments smaller than SegmentTargetBytes and its row-store points
//     (late writes) become one segment. A closed day ends as one segment.
//   - A failed partition compaction leaves everything as it was, records a
//     processing error in the tenant's errors table, and is retried on the
//     next pass; a conflict with a concurrent compaction is retried at once.

type compactState struct {
	mu      sync.Mutex // one pass at a time
	pending struct {
		sync.Mutex
		files []storage.SegmentMeta // segments of dropped tables, to delete
	}
}

// CompactRequest selects what DB.Compact compacts.
type CompactRequest struct {
	// Tenant, Database and Table restrict the pass ("" = every one).
	Tenant, Database, Table string
	// Cutoff: points older than it move to segments. Zero means now minus
	// Options.HotWindow.
	Cutoff time.Time
	// Progress, if set, is called after each partition.
	Progress func(CompactProgress)
}

// CompactProgress reports one partition's compaction.
type CompactProgress struct {
	Tenant, Database, Table string
	Partition               string // YYYY-MM-DD
	Done, Total             int    // partitions done (this one included) and to do
	Rows                    int64  // rows in the new segment
	RowStoreRows            int64  // points moved from the row store
	Segments                int    // segments it replaced
	Bytes                   int64  // size of the new segment
	Err                     error  // the compaction failed (it will be retried)
}

// CompactSummary is what one DB.Compact pass did.
type CompactSummary struct {
	Partitions   int   // partitions compacted
	Failed       int   // partitions whose compaction failed
	Segments     int   // segments written
	Rows         int64 // rows written into segments
	RowStoreRows int64 // points moved out of the row store
	Dropped      int   // partitions dropped by retention
}

type partitionJob struct {
	ten   *schema.Tenant
	table *schema.Table
	day   int32
	merge bool // closed day or too many segments: merge small segments
}

// Compact runs one compaction pass now and returns when it is done.
func (db *DB) Compact(ctx context.Context, req CompactRequest) (CompactSummary, error) {
	var sum CompactSummary
	if err := db.check(ctx); err != nil {
		return sum, err
	}
	db.compact.mu.Lock()
	defer db.compact.mu.Unlock()
	db.removePending()
	cutoff := time.Now().Add(-db.opts.HotWindow).UnixNano()
	if !req.Cutoff.IsZero() {
		cutoff = req.Cutoff.UnixNano()
	}
	jobs, err := db.compactionJobs(req, cutoff)
	if err != nil {
		return sum, err
	}
	var mu sync.Mutex
	sem := make(chan struct{}, db.opts.CompactionConcurrency)
	var wg sync.WaitGroup
	done := 0
	for _, j := range jobs {
		if err := db.check(ctx); err != nil {
			wg.Wait()
			return sum, err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := db.compactPartition(j, cutoff)
			mu.Lock()
			defer mu.Unlock()
			done++
			p := CompactProgress{Tenant: j.ten.Name, Database: j.table.Database, Table: j.table.Name,
				Partition: storage.DayString(j.day), Done: done, Total: len(jobs), Err: err}
			if err != nil {
				sum.Failed++
			} else if res.Segment != nil {
				sum.Partitions++
				sum.Segments++
				sum.Rows += res.Rows
				sum.RowStoreRows += res.Deleted
				p.Rows, p.RowStoreRows, p.Segments, p.Bytes = res.Rows, res.Deleted, len(res.Removed), res.Segment.Bytes
			}
			if req.Progress != nil {
				req.Progress(p)
			}
		}()
	}
	wg.Wait()
	// Let Pebble drop the points the pass deleted, table by table.
	compacted := map[[2]uint32]bool{}
	for _, j := range jobs {
		k := [2]uint32{j.ten.ID, j.table.ID}
		if compacted[k] {
			continue
		}
		compacted[k] = true
		if err := db.rows.CompactDeleted(ctx, j.ten.ID, j.table.ID); err != nil && !errors.Is(err, context.Canceled) {
			db.log.Warn("row store compaction after moving points failed", "table", j.table.Name, "err", err)
		}
	}
	dropped, err := db.applyRetention(ctx, req)
	sum.Dropped = dropped
	if err == nil && db.opts.ErrorRetention > 0 {
		before := time.Now().Add(-db.opts.ErrorRetention).UnixNano()
		for _, ten := range db.cat.Tenants() {
			if req.Tenant != "" && ten.Name != req.Tenant {
				continue
			}
			if err := db.rows.DeleteErrorsBefore(ten.ID, before); err != nil {
				return sum, err
			}
		}
	}
	return sum, err
}

// compactionJobs lists the partitions with work: days with row-store
// points older than the cutoff, and closed days with segments to merge.
func (db *DB) compactionJobs(req CompactRequest, cutoff int64) ([]partitionJob, error) {
	var jobs []partitionJob
	for _, ten := range db.cat.Tenants() {
		if req.Tenant != "" && ten.Name != req.Tenant {
			continue
		}
		for _, tbl := range db.cat.Tables(ten.ID, req.Database) {
			if req.Table != "" && tbl.Name != req.Table {
				continue
			}
			days, err := db.rows.PointDays(ten.ID, tbl.ID, cutoff)
			if err != nil {
				return nil, err
			}
			segs, err := db.rows.Segments(ten.ID, tbl.ID)
			if err != nil {
				return nil, err
			}
			perDay := map[int32][]storage.SegmentMeta{}
			for _, m := range segs {
				perDay[m.Day] = append(perDay[m.Day], m)
			}
			want := map[int32]bool{}
			for _, d := range days {
				want[d] = true
			}
			for d, ms := range perDay {
				_, hi := storage.DayRange(d)
				if hi < cutoff && db.mergeable(ms) >= 2 {
					want[d] = true
				}
			}
			for d := range want {
				_, hi := storage.DayRange(d)
				merge := hi < cutoff || len(perDay[d]) >= db.opts.MaxSegmentsPerPartition
				jobs = append(jobs, partitionJob{ten: ten, table: tbl, day: d, merge: merge})
			}
		}
	}
	// Oldest partitions first: they free the most row-store space for good.
	sortJobs(jobs)
	return jobs, nil
}

func sortJobs(jobs []partitionJob) {
	less := func(a, b partitionJob) bool {
		if a.day != b.day {
			return a.day < b.day
		}
		return a.table.ID < b.table.ID
	}
	for i := 1; i < len(jobs); i++ {
		for j := i; j > 0 && less(jobs[j], jobs[j-1]); j-- {
			jobs[j], jobs[j-1] = jobs[j-1], jobs[j]
		}
	}
}

// mergeable is the number of a partition's newest segments that are
// smaller than the target size (the run a merge would take).
func (db *DB) mergeable(ms []storage.SegmentMeta) int {
	n := 0
	for i := len(ms) - 1; i >= 0 && ms[i].Bytes < db.opts.SegmentTargetBytes; i-- {
		n++
	}
	return n
}

// errTableDropped stops a compaction whose table was dropped meanwhile.
var errTableDropped = errors.New("engine: table was dropped during compaction")

// compactPartition compacts one partition, retrying a conflict.
func (db *DB) compactPartition(j partitionJob, cutoff int64) (storage.CompactResult, error) {
	var filter func(storage.SegmentMeta) bool
	if j.merge {
		filter = func(m storage.SegmentMeta) bool { return m.Bytes < db.opts.SegmentTargetBytes }
	} else {
		filter = func(storage.SegmentMeta) bool { return false }
	}
	var segOpts *storage.SegmentWriterOptions
	if db.opts.RowGroupRows > 0 {
		segOpts = &storage.SegmentWriterOptions{RowGroupRows: db.opts.RowGroupRows}
	}
	opts := &storage.CompactOptions{
		Segment:        segOpts,
		MergeFilter:    filter,
		RemoveSegments: db.segs.remove,
		Hook:           db.opts.CompactionHook,
		Exclusive: func(publish func() error) error {
			db.applyMu.Lock()
			defer db.applyMu.Unlock()
			if _, ok := db.cat.TableByID(j.table.ID); !ok {
				return errTableDropped
			}
			return publish()
		},
	}
	req := storage.CompactRequest{
		Root: db.dir, TenantName: j.ten.Name, Table: j.table, Day: j.day, Cutoff: cutoff,
		TableFunc: func() *schema.Table {
			t, _ := db.cat.TableByID(j.table.ID)
			return t
		},
	}
	var res storage.CompactResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		res, err = db.rows.CompactPartition(req, opts)
		if !errors.Is(err, storage.ErrManifestConflict) {
			break
		}
	}
	if errors.Is(err, errTableDropped) {
		return res, nil
	}
	if err != nil {
		db.m.compactErrors.Inc()
		db.log.Error("compaction failed; it will be retried", "tenant", j.ten.Name, "database", j.table.Database,
			"table", j.table.Name, "partition", storage.DayString(j.day), "err", err)
		db.recordError(j.ten.ID, schema.ErrorRow{
			Time: time.Now().UnixNano(), Stage: schema.StageCompact, Kind: schema.KindProcessing,
			Database: j.table.Database, Table: j.table.Name,
			Message: fmt.Sprintf("compaction of partition %s failed (it will be retried): %v", storage.DayString(j.day), err),
		})
		return res, err
	}
	for _, e := range res.RemoveErrors {
		db.log.Warn("could not delete a replaced segment; it is removed on the next open", "err", e)
	}
	if res.Segment != nil {
		db.m.compactions.Inc()
		db.m.compactedRows.Add(uint64(res.Deleted))
		db.log.Debug("compacted", "table", j.table.Name, "partition", storage.DayString(j.day),
			"rows", res.Rows, "from_row_store", res.Deleted, "replaced", len(res.Removed), "bytes", res.Segment.Bytes)
	}
	return res, nil
}

// recordError stores an error row outside the log (compaction and
// retention errors are local to this node).
func (db *DB) recordError(tenant uint32, r schema.ErrorRow) {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	if err := db.rows.PutErrors(tenant, []schema.ErrorRow{r}); err != nil {
		db.log.Error("cannot record error row", "err", err)
	}
}

// removePending deletes the segment files of dropped tables once the
// drops are durable.
func (db *DB) removePending() {
	db.compact.pending.Lock()
	files := db.compact.pending.files
	db.compact.pending.files = nil
	db.compact.pending.Unlock()
	if len(files) == 0 {
		return
	}
	if _, err := db.rows.Flush(); err != nil {
		db.log.Error("flush before deleting dropped segments failed; they are removed on the next open", "err", err)
		return
	}
	for _, err := range db.segs.remove(db.dir, files) {
		db.log.Warn("could not delete a dropped table's segment; it is removed on the next open", "err", err)
	}
}

// applyRetention drops the partitions of tables with a TTL that ended
// before now minus the TTL.
func (db *DB) applyRetention(ctx context.Context, req CompactRequest) (int, error) {
	dropped := 0
	now := time.Now().UnixNano()
	for _, ten := range db.cat.Tenants() {
		if req.Tenant != "" && ten.Name != req.Tenant {
			continue
		}
		for _, tbl := range db.cat.Tables(ten.ID, req.Database) {
			if req.Table != "" && tbl.Name != req.Table {
				continue
			}
			ttl := tableTTL(tbl)
			if ttl <= 0 {
				ttl = int64(db.opts.RetentionDefault)
			}
			if ttl <= 0 {
				continue
			}
			n, err := db.dropExpired(ctx, ten, tbl, now-ttl)
			dropped += n
			if err != nil {
				return dropped, err
			}
		}
	}
	return dropped, nil
}

// dropExpired drops every partition of a table whose whole day is older
// than expiry.
func (db *DB) dropExpired(ctx context.Context, ten *schema.Tenant, tbl *schema.Table, expiry int64) (int, error) {
	days := map[int32]bool{}
	segs, err := db.rows.Segments(ten.ID, tbl.ID)
	if err != nil {
		return 0, err
	}
	for _, m := range segs {
		days[m.Day] = true
	}
	pdays, err := db.rows.PointDays(ten.ID, tbl.ID, expiry)
	if err != nil {
		return 0, err
	}
	for _, d := range pdays {
		days[d] = true
	}
	n := 0
	for d := range days {
		if _, hi := storage.DayRange(d); hi >= expiry {
			continue
		}
		if err := db.check(ctx); err != nil {
			return n, err
		}
		res, err := db.rows.DropPartition(db.dir, ten.ID, tbl.ID, d, func(f func() error) error {
			db.applyMu.Lock()
			defer db.applyMu.Unlock()
			return f()
		}, db.segs.remove)
		if err != nil {
			return n, err
		}
		n++
		db.m.retentionDrops.Inc()
		db.log.Info("retention dropped a partition", "tenant", ten.Name, "database", tbl.Database,
			"table", tbl.Name, "partition", storage.DayString(d), "segments", len(res.Segments))
	}
	return n, nil
}

func (db *DB) compactionLoop(every time.Duration) {
	defer db.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				select {
				case <-db.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			if _, err := db.Compact(ctx, CompactRequest{}); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled) {
				db.log.Error("compaction pass failed", "err", err)
			}
			cancel()
		}
	}
}

// segmentTotals counts the live segments and their bytes.
func (db *DB) segmentTotals() (n int, bytes int64) {
	all, err := db.rows.AllSegments()
	if err != nil {
		return 0, 0
	}
	for _, m := range all {
		bytes += m.Bytes
	}
	return len(all), bytes
}

// tableTTL is a table's retention in nanoseconds (0 = none set).
func tableTTL(t *schema.Table) int64 { return t.TTL }
