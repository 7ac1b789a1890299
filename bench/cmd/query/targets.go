package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Mode is how a SQL query is sent.
type Mode int

const (
	// Literal: the query text with its values written in, sent with the
	// simple query protocol (one round trip; the server parses and plans
	// every text it has not seen).
	Literal Mode = iota
	// Prepared: the text with $n placeholders, prepared once per connection
	// (pgx's statement cache) and executed with the values as parameters.
	Prepared
)

func (m Mode) String() string {
	if m == Prepared {
		return "prepared"
	}
	return "literal"
}

// Target is one system under test.
type Target struct {
	Name string
	URL  string
	Kind string // "sql" (Postgres wire) or "influxql" (InfluxDB 1.x HTTP)
	run  runner
}

type runner interface {
	// Run sends q and reads the whole answer; it returns the number of result
	// rows and the time from sending to the end of the answer.
	Run(ctx context.Context, t QueryType, q Query, m Mode) (rows int, d time.Duration, err error)
	Version(ctx context.Context) string
	// Count returns the number of cpu rows the target answers for.
	Count(ctx context.Context) (int64, error)
	Close()
}

// ParseTarget parses NAME=URL; postgres:// and postgresql:// URLs are SQL
// targets, http:// and https:// InfluxDB 1.x (db from the ?db= parameter).
func ParseTarget(s string) (Target, error) {
	name, u, ok := strings.Cut(s, "=")
	if !ok || name == "" || u == "" {
		return Target{}, fmt.Errorf("target %q: want NAME=URL", s)
	}
	t := Target{Name: name, URL: u}
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		t.Kind = "sql"
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		t.Kind = "influxql"
	default:
		return Target{}, fmt.Errorf("target %q: URL must start with postgres:// or http://", s)
	}
	return t, nil
}

// Connect opens the target's connection (one, used sequentially).
func (t *Target) Connect(ctx context.Context) error {
	switch t.Kind {
	case "sql":
		cfg, err := pgx.ParseConfig(t.URL)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		t.run = &pgRunner{conn: conn}
	case "influxql":
		r, err := newInfluxRunner(t.URL)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		t.run = r
	}
	return nil
}

type pgRunner struct{ conn *pgx.Conn }

func (p *pgRunner) Run(ctx context.Context, t QueryType, q Query, m Mode) (int, time.Duration, error) {
	var text string
	var args []any
	if m == Prepared {
		text, args = t.SQLParams(q)
		args = append([]any{pgx.QueryExecModeCacheStatement}, args...)
	} else {
		text = t.SQL(q)
		args = []any{pgx.QueryExecModeSimpleProtocol}
	}
	start := time.Now()
	rows, err := p.conn.Query(ctx, text, args...)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	d := time.Since(start)
	return n, d, rows.Err()
}

func (p *pgRunner) Version(ctx context.Context) string {
	var v string
	if err := p.conn.QueryRow(ctx, "SELECT version()", pgx.QueryExecModeSimpleProtocol).Scan(&v); err != nil {
		return "?"
	}
	return v
}

func (p *pgRunner) Count(ctx context.Context) (int64, error) {
	var n int64
	err := p.conn.QueryRow(ctx, "SELECT count(*) FROM cpu", pgx.QueryExecModeSimpleProtocol).Scan(&n)
	return n, err
}

func (p *pgRunner) Close() { p.conn.Close(context.Background()) }

type influxRunner struct {
	base string // scheme://host:port
	db   string
	hc   *http.Client
}

func newInfluxRunner(raw string) (*influxRunner, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	db := u.Query().Get("db")
	if db == "" {
		return nil, fmt.Errorf("%s: no ?db= parameter", raw)
	}
	return &influxRunner{
		base: u.Scheme + "://" + u.Host,
		db:   db,
		hc:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}},
	}, nil
}

// influxAnswer is the part of an InfluxDB 1.x /query answer that is checked.
type influxAnswer struct {
	Error   string `json:"error"`
	Results []struct {
		Error  string `json:"error"`
		Series []struct {
			Values []json.RawMessage `json:"values"`
		} `json:"series"`
	} `json:"results"`
}

// countInfluxRows returns the number of rows (values of every series) in an
// InfluxDB answer, or its error.
func countInfluxRows(body []byte) (int, error) {
	var a influxAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("decoding answer: %w (%.200s)", err, body)
	}
	if a.Error != "" {
		return 0, fmt.Errorf("influxdb: %s", a.Error)
	}
	n := 0
	for _, r := range a.Results {
		if r.Error != "" {
			return 0, fmt.Errorf("influxdb: %s", r.Error)
		}
		for _, s := range r.Series {
			n += len(s.Values)
		}
	}
	return n, nil
}

// Run sends the query as TSBS does (GET /query, JSON answer, times as RFC 3339)
// and times until the body is read; decoding and counting are not timed.
func (r *influxRunner) Run(ctx context.Context, t QueryType, q Query, _ Mode) (int, time.Duration, error) {
	v := url.Values{"db": {r.db}, "q": {t.InfluxQL(q)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/query?"+v.Encode(), nil)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode/100 != 2 {
		return 0, 0, fmt.Errorf("influxdb: HTTP %d: %.300s", resp.StatusCode, body)
	}
	n, err := countInfluxRows(body)
	return n, d, err
}

func (r *influxRunner) Version(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/ping", nil)
	if err != nil {
		return "?"
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return "?"
	}
	resp.Body.Close()
	if v := resp.Header.Get("X-Influxdb-Version"); v != "" {
		return "InfluxDB " + v
	}
	return "?"
}

func (r *influxRunner) Count(ctx context.Context) (int64, error) {
	v := url.Values{"db": {r.db}, "q": {"SELECT count(usage_user) FROM cpu"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/query?"+v.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var a struct {
		Error   string `json:"error"`
		Results []struct {
			Error  string `json:"error"`
			Series []struct {
				Values [][]any `json:"values"`
			} `json:"series"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return 0, err
	}
	if a.Error != "" {
		return 0, errors.New(a.Error)
	}
	var n int64
	for _, res := range a.Results {
		if res.Error != "" {
			return 0, errors.New(res.Error)
		}
		for _, s := range res.Series {
			for _, row := range s.Values {
				if len(row) == 2 {
					if f, ok := row[1].(float64); ok {
						n += int64(f)
					}
				}
			}
		}
	}
	return n, nil
}

func (r *influxRunner) Close() { r.hc.CloseIdleConnections() }
