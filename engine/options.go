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
	return r
}
