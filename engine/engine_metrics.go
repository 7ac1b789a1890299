package engine

import "github.com/fineod/fineod/internal/metrics"

type engineMetrics struct {
	rowsWritten   *metrics.Counter
	valuesWritten *metrics.Counter
	batchBytes    *metrics.Counter
	appliedRows   *metrics.Counter
	schemaChanges *metrics.Counter
	applyErrors   *metrics.Counter
	checkpoints   *metrics.Counter
	// proposalRetries counts proposals raft dropped for backpressure and
	// the write retried.
	proposalRetries *metrics.Counter
	compactions     *metrics.Counter
	compactedRows   *metrics.Counter
	compactErrors   *metrics.Counter
	retentionDrops  *metrics.Counter
	readErrors      *metrics.Counter
}

func (m *engineMetrics) register(r *metrics.Registry, db *DB) {
	m.rowsWritten = r.Counter("fineo_rows_written_total", "Rows acknowledged as durable.")
	m.valuesWritten = r.Counter("fineo_values_written_total", "Field values acknowledged as durable.")
	m.batchBytes = r.Counter("fineo_log_payload_bytes_total", "Bytes of encoded write batches proposed to the log.")
	m.appliedRows = r.Counter("fineo_applied_rows_total", "Rows applied to the row store (including replay).")
	m.schemaChanges = r.Counter("fineo_schema_changes_total", "Schema changes proposed by writes.")
	m.applyErrors = r.Counter("fineo_errors_total", "Rows written to the errors table.", "stage", "apply", "kind", "processing")
	m.proposalRetries = r.Counter("fineo_log_proposal_retries_total", "Writes retried because the log pushed back (too many uncommitted bytes).")
	m.compactions = r.Counter("fineo_compactions_total", "Partition compactions that published a segment.")
	m.compactedRows = r.Counter("fineo_compacted_rows_total", "Points moved from the row store into segments.")
	m.compactErrors = r.Counter("fineo_errors_total", "Rows written to the errors table.", "stage", "compact", "kind", "processing")
	m.readErrors = r.Counter("fineo_errors_total", "Rows written to the errors table.", "stage", "read", "kind", "bad_input")
	m.retentionDrops = r.Counter("fineo_retention_dropped_partitions_total", "Partitions dropped because their table's TTL passed.")
	r.GaugeFunc("fineo_segments", "Live Parquet segments.", func() float64 {
		n, _ := db.segmentTotals()
		return float64(n)
	})
	r.GaugeFunc("fineo_segment_bytes", "Bytes of live Parquet segments.", func() float64 {
		_, b := db.segmentTotals()
		return float64(b)
	})
	m.checkpoints = r.Counter("fineo_checkpoints_total", "Row store flushes that released log segments.")
	r.CounterFunc("fineo_log_fsyncs_total", "Log fsyncs (group commit: many writes share one).", func() float64 {
		return float64(db.node.Stats().Fsyncs)
	})
	r.GaugeFunc("fineo_log_size_bytes", "Bytes of log segments on disk.", func() float64 {
		return float64(db.node.Stats().WALBytes)
	})
	r.GaugeFunc("fineo_apply_lag_entries", "Committed log entries not yet applied to the row store.", func() float64 {
		s := db.node.Stats()
		if s.CommitIndex < s.AppliedIndex {
			return 0
		}
		return float64(s.CommitIndex - s.AppliedIndex)
	})
	r.CounterFunc("fineo_log_repairs_total", "Torn log tails repaired when the log was opened.", func() float64 {
		return float64(db.node.Stats().Repairs)
	})
	r.GaugeFunc("fineo_applied_index", "Log index applied to the row store.", func() float64 {
		return float64(db.rows.AppliedIndex())
	})
	r.GaugeFunc("fineo_rowstore_disk_bytes", "Bytes of the Pebble row store on disk.", func() float64 {
		return float64(db.rows.Metrics().DiskBytes)
	})
	r.GaugeFunc("fineo_series", "Series in the row store.", func() float64 {
		return float64(db.rows.Metrics().Series)
	})
}
