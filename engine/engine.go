package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fineod/fineod/cluster"
	"github.com/fineod/fineod/internal/metrics"
	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// ErrClosed is returned by DB methods called after Close.
var ErrClosed = errors.New("engine: closed")

// DB is an open fineod database: the replicated log, the row store and the
// catalog, with the background jobs that keep them. DB is safe for
// concurrent use.
type DB struct {
	dir    string
	opts   Options
	log    *slog.Logger
	lock   *os.File
	cat    *schema.Catalog
	rows   *storage.RowStore
	node   *cluster.Node
	m      engineMetrics
	closed atomic.Bool

	stop chan struct{}
	bg   sync.WaitGroup

	ckptMu sync.Mutex // serializes checkpoints

	// applyMu is held while a batch of log entries is applied; compaction
	// and retention hold it while they publish (see exclusive).
	applyMu sync.Mutex
	segs    *segCache
	compact compactState
	binds   bindCache

	sqlOnce sync.Once
	sqlEng  *sql.Engine
}

// Open opens (or creates) the database in dir. It replays the log from the
// row store's applied index before it returns, so every write acknowledged
// before a crash is visible.
func Open(dir string, opts *Options) (*DB, error) {
	o := opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, opts: o, log: o.Logger, lock: lock, cat: schema.NewCatalog(), stop: make(chan struct{})}
	db.segs = newSegCache(dir)
	storage.SetDecodedCacheSize(max(o.SegmentCacheSize, 0))
	db.rows, err = storage.OpenRowStore(rowsDir(dir), &storage.Options{CacheSize: o.CacheSize, Logger: o.Logger})
	if err != nil {
		lock.Close()
		return nil, err
	}
	if err := db.rows.LoadCatalog(db.cat); err != nil {
		db.rows.Close()
		lock.Close()
		return nil, err
	}
	// What a crash during a compaction can leave: temporary files and
	// files the manifest does not list. Nothing compacts yet.
	if removed, err := db.rows.RemoveOrphanSegments(dir); err != nil {
		db.rows.Close()
		lock.Close()
		return nil, err
	} else if len(removed) > 0 {
		o.Logger.Info("removed files a crash left behind", "files", removed)
	}
	db.m.register(o.Metrics, db)
	start := time.Now()
	applied := db.rows.AppliedIndex()
	db.node, err = cluster.Start(cluster.Config{
		Dir:          walDir(dir),
		NodeID:       1,
		AppliedIndex: applied,
		SM:           (*applier)(db),
		SegmentSize:  o.WALSegmentSize,
		Logger:       o.Logger.With("component", "cluster"),
	})
	if err != nil {
		db.rows.Close()
		lock.Close()
		return nil, fmt.Errorf("engine: start log: %w", err)
	}
	db.log.Info("opened", "dir", dir, "applied_before_replay", applied,
		"applied", db.rows.AppliedIndex(), "replay", time.Since(start).Round(time.Millisecond))
	if o.CheckpointInterval > 0 {
		db.bg.Add(1)
		go db.checkpointLoop(o.CheckpointInterval)
	}
	if o.CompactionInterval > 0 {
		db.bg.Add(1)
		go db.compactionLoop(o.CompactionInterval)
	}
	return db, nil
}

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(lockPath(dir), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("engine: data directory %s is in use by another process: %w", dir, err)
	}
	return f, nil
}

// Close checkpoints and closes the database. It is safe to call twice; other
// methods return ErrClosed after it.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	close(db.stop)
	db.bg.Wait()
	var errs []error
	if err := db.node.Stop(); err != nil {
		errs = append(errs, err)
	}
	// Every proposal has been applied or abandoned; flush so the next Open
	// replays little.
	if idx, err := db.rows.Flush(); err != nil {
		errs = append(errs, err)
	} else {
		db.log.Debug("closed", "applied", idx)
	}
	db.segs.close()
	errs = append(errs, db.rows.Close(), db.lock.Close())
	return errors.Join(errs...)
}

// Checkpoint flushes the row store and releases the log before the flushed
// index (whole log segments are deleted).
func (db *DB) Checkpoint() error {
	if db.closed.Load() {
		return ErrClosed
	}
	db.ckptMu.Lock()
	defer db.ckptMu.Unlock()
	idx, err := db.rows.Flush()
	if err != nil {
		return err
	}
	if err := db.node.Checkpoint(idx); err != nil {
		return fmt.Errorf("engine: checkpoint at %d: %w", idx, err)
	}
	db.m.checkpoints.Inc()
	return nil
}

func (db *DB) checkpointLoop(every time.Duration) {
	defer db.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			if err := db.Checkpoint(); err != nil && !errors.Is(err, ErrClosed) {
				db.log.Error("checkpoint failed", "err", err)
			}
		}
	}
}

// Catalog is the database's physical schema.
func (db *DB) Catalog() *schema.Catalog { return db.cat }

// Metrics is the registry holding the database's metrics.
func (db *DB) Metrics() *metrics.Registry { return db.opts.Metrics }

func (db *DB) check(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return ctx.Err()
}
