package engine

import (
	"log/slog"
	"time"

	"github.com/fineod/fineod/internal/metrics"
)

// Options configure a DB. A nil *Options or a zero field means the default.
type Options struct {
	// Logger receives structured logs. Default: discard.
	Logger *slog.Logger
	// Metrics is the registry the DB registers its metrics in. Default: a
	// private registry (see DB.Metrics).
	Metrics *metrics.Registry
	// CheckpointInterval is how often the row store is flushed and the log
	// before the flushed index released. Default 30s; negative disables the
	// background checkpoint (Close still checkpoints).
	CheckpointInterval time.Duration
	// WALSegmentSize is the size at which log segments rotate. Default 64 MiB.
	WALSegmentSize int64
	// CacheSize is the row store's block cache in bytes. Default 256 MiB.
	CacheSize int64
	// MaxSchemaRetries bounds the schema-change rounds of one write. Default 4.
	MaxSchemaRetries int

	// HotWindow is how long points stay in the row store before
	// compaction moves them into Parquet segments. Default 15 minutes.
	HotWindow time.Duration
	// CompactionInterval is how often the background compaction looks for
	// work. Default 1 minute; negative disables it (DB.Compact still works).
	CompactionInterval time.Duration
	// CompactionConcurrency is how many partitions compact at once.
	// Default 1.
	CompactionConcurrency int
	// SegmentTargetBytes: segments smaller than this are merged with newer
	// ones of their partition into one. Default 256 MiB.
	SegmentTargetBytes int64
	// MaxSegmentsPerPartition: a partition that still takes writes gets a
	// new small segment per compaction until it has this many; then they
	// are merged. A partition wholly older than the hot window is merged
	// into one segment (up to SegmentTargetBytes). Default 8.
	MaxSegmentsPerPartition int
	// RowGroupRows is the number of rows in a segment row group. Default
	// storage.DefaultRowGroupRows.
	RowGroupRows int
	// RetentionDefault is the TTL of tables that set none: whole day
	// partitions older than now minus it are dropped. Default 0, keep
	// forever.
	RetentionDefault time.Duration
	// SegmentCacheSize bounds the cache of decoded segment columns (shared
	// by every DB of the process). Default 128 MiB; negative disables it.
	SegmentCacheSize int64
	// ErrorRetention is how long rows stay in the errors table. Default
	// 30 days; negative keeps them forever.
	ErrorRetention time.Duration
	// CompactionHook, if set, is called after each step of every partition
	// compaction with the step's name (see storage.CompactOptions.Hook).
	// For crash tests.
	CompactionHook func(step string)
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Metrics == nil {
		r.Metrics = metrics.NewRegistry()
	}
	if r.CheckpointInterval == 0 {
		r.CheckpointInterval = 30 * time.Second
	}
	if r.MaxSchemaRetries <= 0 {
		r.MaxSchemaRetries = 4
	}
	if r.HotWindow == 0 {
		r.HotWindow = 15 * time.Minute
	}
	if r.CompactionInterval == 0 {
		r.CompactionInterval = time.Minute
	}
	if r.CompactionConcurrency <= 0 {
		r.CompactionConcurrency = 1
	}
	if r.SegmentTargetBytes <= 0 {
		r.SegmentTargetBytes = 256 << 20
	}
	if r.SegmentCacheSize == 0 {
		r.SegmentCacheSize = 128 << 20
	}
	if r.ErrorRetention == 0 {
		r.ErrorRetention = 30 * 24 * time.Hour
	}
	if r.MaxSegmentsPerPartition <= 0 {
		r.MaxSegmentsPerPartition = 8
	}
	return r
}
