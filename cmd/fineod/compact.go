package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/schema"
)

// compactLine is one line of POST /api/v1/compact's answer (NDJSON): a
// partition's progress, then a final summary.
type compactLine struct {
	Database  string `json:"database,omitempty"`
	Table     string `json:"table,omitempty"`
	Partition string `json:"partition,omitempty"`
	Done      int    `json:"done,omitempty"`
	Total     int    `json:"total,omitempty"`
	Rows      int64  `json:"rows,omitempty"`
	Moved     int64  `json:"moved,omitempty"`
	Replaced  int    `json:"replaced,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	Error     string `json:"error,omitempty"`

	Summary *engine.CompactSummary `json:"summary,omitempty"`
}

func progressLine(p engine.CompactProgress) compactLine {
	l := compactLine{Database: p.Database, Table: p.Table, Partition: p.Partition, Done: p.Done, Total: p.Total,
		Rows: p.Rows, Moved: p.RowStoreRows, Replaced: p.Segments, Bytes: p.Bytes}
	if p.Err != nil {
		l.Error = p.Err.Error()
	}
	return l
}

// compactHandler serves POST /api/v1/compact?db=&table=&hot_window=: one
// compaction pass now, answered with a line of JSON per partition as it
// finishes and a summary line. before=<RFC 3339 time> compacts the points
// older than that time instead of those older than the hot window.
func compactHandler(db *engine.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := engine.CompactRequest{Tenant: schema.DefaultTenant, Database: q.Get("db"), Table: q.Get("table")}
		if b := q.Get("before"); b != "" {
			t, err := time.Parse(time.RFC3339Nano, b)
			if err != nil {
				http.Error(w, fmt.Sprintf("invalid before %q: want an RFC 3339 time", b), http.StatusBadRequest)
				return
			}
			req.Cutoff = t
		}
		if hw := q.Get("hot_window"); hw != "" {
			d, err := time.ParseDuration(hw)
			if err != nil || d < 0 {
				http.Error(w, fmt.Sprintf("invalid hot_window %q: want a duration such as 0s or 15m", hw), http.StatusBadRequest)
				return
			}
			req.Cutoff = time.Now().Add(-d)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		flusher, _ := w.(http.Flusher)
		send := func(l compactLine) {
			_ = enc.Encode(l)
			if flusher != nil {
				flusher.Flush()
			}
		}
		req.Progress = func(p engine.CompactProgress) { send(progressLine(p)) }
		sum, err := db.Compact(r.Context(), req)
		if err != nil {
			send(compactLine{Error: err.Error()})
			return
		}
		send(compactLine{Summary: &sum})
	})
}

func newCompactCmd() *cobra.Command {
	var addr, database, table, dataDir string
	var hotWindow time.Duration
	var offline bool
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Compact now: move points older than the hot window into Parquet segments",
		Long: `Run one compaction pass now and print its progress, one line per partition
(table and day). By default it asks the server at --http-addr; with --offline
it opens --data-dir itself (the server must not be running).

  fineod compact                     # the server's hot window (15m by default)
  fineod compact --hot-window 0s     # everything, up to now
  fineod compact --offline --data-dir ./fineo-data --table cpu`,
		Args: cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			out := cmd.OutOrStdout()
			hw := ""
			if cmd.Flags().Changed("hot-window") {
				hw = hotWindow.String()
			}
			if offline {
				return compactOffline(ctx, dataDir, database, table, hw, hotWindow, out)
			}
			return compactRemote(ctx, addr, database, table, hw, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "http-addr", "127.0.0.1:8086", "the server's HTTP address")
	f.StringVar(&database, "db", "", "only this database")
	f.StringVar(&table, "table", "", "only this table")
	f.DurationVar(&hotWindow, "hot-window", 15*time.Minute, "compact points older than now minus this (default: the server's setting)")
	f.BoolVar(&offline, "offline", false, "open --data-dir directly instead of asking a server")
	f.StringVar(&dataDir, "data-dir", "./fineo-data", "the data directory (with --offline)")
	return cmd
}

func printProgress(out io.Writer, l compactLine) {
	switch {
	case l.Summary != nil:
		s := l.Summary
		fmt.Fprintf(out, "done: %d partitions compacted, %d segments written, %d rows, %d points moved from the row store, %d failed, %d dropped by retention\n",
			s.Partitions, s.Segments, s.Rows, s.RowStoreRows, s.Failed, s.Dropped)
	case l.Partition == "" && l.Error != "":
		fmt.Fprintf(out, "error: %s\n", l.Error)
	case l.Error != "":
		fmt.Fprintf(out, "[%d/%d] %s.%s %s: FAILED (retried later): %s\n", l.Done, l.Total, l.Database, l.Table, l.Partition, l.Error)
	case l.Rows == 0:
		fmt.Fprintf(out, "[%d/%d] %s.%s %s: nothing to do\n", l.Done, l.Total, l.Database, l.Table, l.Partition)
	default:
		fmt.Fprintf(out, "[%d/%d] %s.%s %s: %d rows (%d from the row store, %d segments merged), %d bytes\n",
			l.Done, l.Total, l.Database, l.Table, l.Partition, l.Rows, l.Moved, l.Replaced, l.Bytes)
	}
}

func compactRemote(ctx context.Context, addr, database, table, hotWindow string, out io.Writer) error {
	v := url.Values{}
	if database != "" {
		v.Set("db", database)
	}
	if table != "" {
		v.Set("table", table)
	}
	if hotWindow != "" {
		v.Set("hot_window", hotWindow)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v1/compact?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the server at %s: %w (is it running? --offline opens a data directory instead)", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("server: %s: %s", resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	var last compactLine
	for sc.Scan() {
		var l compactLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("server answered %q: %w", sc.Text(), err)
		}
		printProgress(out, l)
		last = l
	}
	if err := sc.Err(); err != nil {
		return err
	}
	switch {
	case last.Summary == nil && last.Error != "":
		return errors.New(last.Error)
	case last.Summary == nil:
		return errors.New("the server stopped answering before the pass ended")
	case last.Summary.Failed > 0:
		return fmt.Errorf("%d partitions failed to compact (see fineo.errors)", last.Summary.Failed)
	}
	return nil
}

func compactOffline(ctx context.Context, dataDir, database, table, hw string, hotWindow time.Duration, out io.Writer) error {
	db, err := engine.Open(dataDir, &engine.Options{CompactionInterval: -1, CheckpointInterval: -1})
	if err != nil {
		return err
	}
	req := engine.CompactRequest{Tenant: schema.DefaultTenant, Database: database, Table: table,
		Progress: func(p engine.CompactProgress) { printProgress(out, progressLine(p)) }}
	if hw != "" {
		req.Cutoff = time.Now().Add(-hotWindow)
	}
	sum, err := db.Compact(ctx, req)
	cerr := db.Close()
	if err != nil {
		return err
	}
	printProgress(out, compactLine{Summary: &sum})
	if sum.Failed > 0 {
		return fmt.Errorf("%d partitions failed to compact (see fineo.errors)", sum.Failed)
	}
	return cerr
}
