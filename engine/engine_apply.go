package engine

import (
	"fmt"
	"time"

	"github.com/fineod/fineod/cluster"
	"github.com/fineod/fineod/schema"
)

// applier is the state machine the log applies to: it decodes each
// committed entry and writes it to the row store, in log order. It is
// deterministic: the same log always yields the same row store, catalog and
// series ids.
type applier DB

// Apply implements cluster.StateMachine. All entries go into one Pebble
// batch with the last index, so the row store always holds a prefix of the log.
func (a *applier) Apply(entries []cluster.Applied) []error {
	db := (*DB)(a)
	results := make([]error, len(entries))
	if len(entries) == 0 {
		return results
	}
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	ap := db.rows.NewApply()
	catChanged := false
	var batch schema.Batch
	for i, e := range entries {
		kind, err := schema.EntryKind(e.Data)
		if err != nil {
			results[i] = db.applyFailed(ap, e, err)
			continue
		}
		switch kind {
		case schema.EntryBatch:
			batch = schema.Batch{}
			if err := schema.DecodeBatch(e.Data, &batch); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			// A table dropped after the writer resolved it (the drop came
			// first in the log): the rows must not land under the dropped
			// table's keys, and the writer must not be told they are stored.
			if err := db.checkTables(&batch); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			if err := ap.AddBatch(&batch, e.Index); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			rows := batch.Rows()
			db.m.appliedRows.Add(uint64(rows))
		case schema.EntrySchema:
			var ch schema.Ensure
			if err := schema.DecodeEnsure(e.Data, &ch); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			changed, err := db.cat.Apply(&ch, e.Index)
			if err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			catChanged = catChanged || changed
		case schema.EntryAlter:
			var a schema.Alter
			if err := schema.DecodeAlter(e.Data, &a); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			// A change the catalog refuses (unknown column, name taken)
			// is the user's error, answered to the proposer; nothing
			// changes and nothing is recorded.
			if _, err := db.cat.ApplyAlter(&a, e.Index); err != nil {
				results[i] = &AlterError{Err: err}
				continue
			}
			catChanged = true
		case schema.EntryDrop:
			var d schema.Drop
			if err := schema.DecodeDrop(e.Data, &d); err != nil {
				results[i] = db.applyFailed(ap, e, err)
				continue
			}
			if t, ok := db.cat.ApplyDrop(&d); ok {
				// The drop deletes the table's manifest keys; its files
				// go once that is durable (see removePending).
				if segs, err := db.rows.Segments(t.TenantID, t.ID); err == nil && len(segs) > 0 {
					db.compact.pending.Lock()
					db.compact.pending.files = append(db.compact.pending.files, segs...)
					db.compact.pending.Unlock()
				}
				if err := ap.DropTable(t.TenantID, t.ID); err != nil {
					results[i] = db.applyFailed(ap, e, err)
					continue
				}
				catChanged = true
			}
		}
	}
	if catChanged {
		if err := ap.SetCatalog(db.cat); err != nil {
			return fill(results, err)
		}
	}
	if err := ap.Commit(entries[len(entries)-1].Index); err != nil {
		db.log.Error("apply commit failed", "err", err, "index", entries[len(entries)-1].Index)
		return fill(results, err)
	}
	return results
}

// applyFailed records an entry that could not be applied as a processing
// error of the default tenant, and returns the error for its proposer.
func (db *DB) applyFailed(ap interface {
	AddErrors(uint32, []schema.ErrorRow, uint64)
}, e cluster.Applied, err error) error {
	db.m.applyErrors.Inc()
	db.log.Error("cannot apply log entry", "index", e.Index, "err", err)
	if t, ok := db.cat.Tenant(schema.DefaultTenant); ok {
		ap.AddErrors(t.ID, []schema.ErrorRow{{
			Time:    time.Now().UnixNano(),
			Stage:   schema.StageApply,
			Kind:    schema.KindProcessing,
			Message: fmt.Sprintf("log entry %d: %v", e.Index, err),
		}}, e.Index)
	}
	return fmt.Errorf("engine: apply log entry %d: %w", e.Index, err)
}

func fill(errs []error, err error) []error {
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// checkTables reports an error if a batch writes to a table the catalog no
// longer has (it was dropped between the write's schema resolution and its
// apply). The check runs in log order, so replay decides the same way.
func (db *DB) checkTables(b *schema.Batch) error {
	for i := range b.Tables {
		if _, ok := db.cat.TableByID(b.Tables[i].Table); !ok {
			return fmt.Errorf("table id %d was dropped before this write was applied; nothing of it was stored", b.Tables[i].Table)
		}
	}
	return nil
}
