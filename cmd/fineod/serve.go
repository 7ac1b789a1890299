package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/ingest"
	"github.com/fineod/fineod/internal/metrics"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/sql/httpsql"
	"github.com/fineod/fineod/sql/pgwire"
)

type serveConfig struct {
	dataDir      string
	httpAddr     string
	pgAddr       string
	logLevel     string
	logFormat    string
	maxBodyBytes int64
	checkpoint   time.Duration
	walSegment   int64
	compact      compactConfig

	eventTableKeys    []string
	eventTimeKey      string
	eventTimePatterns []string
}

// compactConfig is the columnar tier's part of the server configuration.
type compactConfig struct {
	hotWindow    time.Duration
	interval     time.Duration
	concurrency  int
	targetBytes  int64
	retention    time.Duration
	rowGroupRows int
	errRetention time.Duration
	segCache     int64
}

func (c compactConfig) options(o *engine.Options) {
	o.HotWindow = c.hotWindow
	o.CompactionInterval = c.interval
	o.CompactionConcurrency = c.concurrency
	o.SegmentTargetBytes = c.targetBytes
	o.RetentionDefault = c.retention
	o.RowGroupRows = c.rowGroupRows
	o.ErrorRetention = c.errRetention
	o.SegmentCacheSize = c.segCache
	// For crash tests only: kill the process at a compaction step.
	if step := os.Getenv("FINEOD_TEST_CRASH_AT_COMPACTION_STEP"); step != "" {
		o.CompactionHook = func(s string) {
			if s == step {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}
	}
}

func addCompactFlags(f *pflag.FlagSet, c *compactConfig) {
	f.DurationVar(&c.hotWindow, "hot-window", 15*time.Minute, "how long points stay in the row store before compaction moves them into Parquet segments")
	f.DurationVar(&c.interval, "compaction-interval", time.Minute, "how often background compaction looks for work (negative: never; fineod compact still works)")
	f.IntVar(&c.concurrency, "compaction-concurrency", 1, "partitions compacted at once")
	f.Int64Var(&c.targetBytes, "segment-target-bytes", 256<<20, "segments smaller than this are merged into larger ones")
	f.DurationVar(&c.retention, "retention", 0, "default TTL of tables that set none (0: keep forever); whole expired days are dropped")
	f.IntVar(&c.rowGroupRows, "row-group-rows", 0, "rows per Parquet row group (0: the default, 16384)")
	f.Int64Var(&c.segCache, "segment-cache-bytes", 128<<20, "memory for decoded segment columns, so repeated reads of history skip decompression (negative: none)")
	f.DurationVar(&c.errRetention, "errors-retention", 30*24*time.Hour, "how long rows stay in fineo.errors (negative: forever)")
}

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the fineod server",
		Long: `Run the fineod server.

Every flag can also be set with an environment variable: FINEOD_ and the flag
name in upper case with dashes as underscores (FINEOD_DATA_DIR, FINEOD_HTTP_ADDR, ...).
A flag given on the command line wins over the environment.`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd.Context(), c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.dataDir, "data-dir", "./fineo-data", "directory for the log, the row store and segments")
	f.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:8086", "HTTP listen address (InfluxDB line protocol, /metrics, /health)")
	f.StringVar(&c.pgAddr, "pg-addr", "127.0.0.1:5433", `Postgres wire protocol listen address ("" = none)`)
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	f.Int64Var(&c.maxBodyBytes, "max-body-bytes", ingest.DefaultMaxBodyBytes, "largest accepted write request body, after decompression")
	f.DurationVar(&c.checkpoint, "checkpoint-interval", 30*time.Second, "how often the row store is flushed and old log segments released")
	f.Int64Var(&c.walSegment, "wal-segment-size", 64<<20, "size at which log segment files rotate")
	f.StringSliceVar(&c.eventTableKeys, "event-table-keys", ingest.DefaultEventTableKeys, "JSON event keys that name the table, in order")
	f.StringVar(&c.eventTimeKey, "event-time-key", ingest.DefaultEventTimeKey, "JSON event key of the time")
	f.StringArrayVar(&c.eventTimePatterns, "event-time-pattern", nil, "table=pattern for event times (Go layout, strftime, rfc3339 or epoch_s/ms/us/ns); repeatable; table * for the rest")
	addCompactFlags(f, &c.compact)
	return cmd
}

// applyEnv sets every flag not given on the command line from FINEOD_<NAME>.
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		env := "FINEOD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: want text or json", format)
}

// requireLoopback refuses to listen beyond this machine while fineod has no
// authentication: an open database on a network is worse than no database.
func requireLoopback(flag, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --%s %q: %w", flag, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--%s %s is not a loopback address: listening on a network needs authentication, which this build does not have yet; use 127.0.0.1", flag, addr)
}

func serve(ctx context.Context, c serveConfig) error {
	log, err := newLogger(c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	if err := requireLoopback("http-addr", c.httpAddr); err != nil {
		return err
	}
	if c.pgAddr != "" {
		if err := requireLoopback("pg-addr", c.pgAddr); err != nil {
			return err
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	reg := metrics.NewRegistry()
	opts := &engine.Options{
		Logger:             log.With("component", "engine"),
		Metrics:            reg,
		CheckpointInterval: c.checkpoint,
		WALSegmentSize:     c.walSegment,
	}
	c.compact.options(opts)
	db, err := engine.Open(c.dataDir, opts)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close", "err", err)
		}
	}()

	sqlEng := db.SQLEngine()
	mux := http.NewServeMux()
	icfg := ingest.Config{
		MaxBodyBytes:   c.maxBodyBytes,
		Logger:         log.With("component", "http"),
		Metrics:        reg,
		Version:        fineodVersion(),
		EventTableKeys: c.eventTableKeys,
		EventTimeKey:   c.eventTimeKey,
	}
	if len(c.eventTimePatterns) > 0 {
		icfg.EventTimePatterns = map[string]string{}
		for _, p := range c.eventTimePatterns {
			table, pattern, ok := strings.Cut(p, "=")
			if !ok || table == "" {
				return fmt.Errorf("invalid --event-time-pattern %q: want table=pattern", p)
			}
			icfg.EventTimePatterns[table] = pattern
		}
	}
	if err := icfg.Validate(); err != nil {
		return err
	}
	ingest.NewHandler(db, icfg).Register(mux)
	httpsql.NewHandler(sqlEng, httpsql.Config{Logger: log.With("component", "http-sql")}).Register(mux)
	mux.Handle("POST /api/v1/compact", compactHandler(db))
	registerSchemaAPI(mux, db)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = reg.WriteText(w)
	})
	// Go profiling, as InfluxDB serves it: /debug/pprof/.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.httpAddr, err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	var pg *pgwire.Server
	pgListen := "off"
	if c.pgAddr != "" {
		pln, err := net.Listen("tcp", c.pgAddr)
		if err != nil {
			srv.Close()
			return fmt.Errorf("listen on %s: %w", c.pgAddr, err)
		}
		pg = pgwire.NewServer(pgwire.Config{
			Backend:       pgBackend{sqlEng},
			Logger:        log.With("component", "pgwire"),
			ServerVersion: sql.ServerVersion,
		})
		go func() {
			if err := pg.Serve(pln); err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
				errc <- fmt.Errorf("postgres wire server: %w", err)
			}
		}()
		pgListen = pln.Addr().String()
	}
	log.Info("fineod serving", "version", fineodVersion(), "http", ln.Addr().String(), "pg", pgListen,
		"data_dir", c.dataDir, "pid", strconv.Itoa(os.Getpid()))

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if pg != nil {
		if err := pg.Shutdown(sctx); err != nil {
			log.Warn("postgres wire shutdown", "err", err)
		}
	}
	return nil
}
