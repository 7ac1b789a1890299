package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fineod/fineod/ingest/lineprotocol"
	"github.com/fineod/fineod/internal/metrics"
	"github.com/fineod/fineod/schema"
)

// Writer is what the HTTP endpoints write to. The engine implements it.
type Writer interface {
	// WriteBatch makes the rows and error rows of b durable; it returns
	// after they are.
	WriteBatch(ctx context.Context, tenant string, b *schema.Builder) error
	// Databases lists a tenant's databases.
	Databases(tenant string) []string
	// CreateDatabase creates a database if it does not exist.
	CreateDatabase(ctx context.Context, tenant, name string) error
}

// RejectedRows is an error of WriteBatch that refused some rows and wrote
// the others (rows naming tables a strict tenant does not have). The
// refused rows are in the errors table; RejectedLines gives them as line
// protocol.
type RejectedRows interface {
	error
	RejectedLines() []string
}

// DefaultMaxBodyBytes is the default limit of one request body (after gzip
// decompression).
const DefaultMaxBodyBytes = 10 << 20

// Config configures the HTTP endpoints. Zero fields mean the default.
type Config struct {
	// MaxBodyBytes limits one request body, after decompression. Default
	// 10 MB; a larger body gets 413.
	MaxBodyBytes int64
	// Logger receives request errors. Default: discard.
	Logger *slog.Logger
	// Metrics is where the endpoints register their counters. Default: a
	// private registry.
	Metrics *metrics.Registry
	// Version is reported by /ping and /health.
	Version string
	// Now is the clock for points without a timestamp. Default time.Now.
	Now func() time.Time
	// EventTableKeys are the keys of a JSON event that name its table, in
	// order. Default DefaultEventTableKeys.
	EventTableKeys []string
	// EventTimeKey is the key of a JSON event's time. Default
	// DefaultEventTimeKey.
	EventTimeKey string
	// EventTimePatterns maps a table name to the pattern its JSON events'
	// times are written in (see events.go for the patterns); the key "*"
	// applies to tables not listed. A table without a pattern uses the
	// default rules (epoch by magnitude, or RFC 3339).
	EventTimePatterns map[string]string
}

// Validate reports the first invalid setting of c. NewHandler accepts an
// invalid configuration (events of a table whose pattern is invalid are
// rejected one by one, naming the problem); servers call Validate first
// to refuse it at startup instead.
func (c Config) Validate() error {
	for _, k := range c.EventTableKeys {
		if k == "" {
			return errors.New("event table keys: empty key")
		}
	}
	tables := make([]string, 0, len(c.EventTimePatterns))
	for t := range c.EventTimePatterns {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if err := CheckTimePattern(c.EventTimePatterns[t]); err != nil {
			return fmt.Errorf("event time pattern of table %q: %v", t, err)
		}
	}
	return nil
}

// Handler serves the InfluxDB-compatible write endpoints. It is safe for
// concurrent use.
type Handler struct {
	w   Writer
	cfg Config
	log *slog.Logger

	parsers  sync.Pool // *lineprotocol.Parser
	builders sync.Pool // *schema.Builder
	bufs     sync.Pool // *bytes.Buffer

	timePatterns map[string]*timePattern // Config.EventTimePatterns, compiled

	requests     *metrics.Counter
	bytesIn      *metrics.Counter
	pointsIn     *metrics.Counter
	valuesIn     *metrics.Counter
	rejected     *metrics.Counter
	tooLarge     *metrics.Counter
	writeFailure *metrics.Counter
}

// NewHandler returns the write endpoints for w.
func NewHandler(w Writer, cfg Config) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	r := cfg.Metrics
	h := &Handler{
		w: w, cfg: cfg, log: cfg.Logger,
		requests:     r.Counter("fineo_http_write_requests_total", "Write requests received."),
		bytesIn:      r.Counter("fineo_ingest_bytes_total", "Bytes of line protocol received (after decompression)."),
		pointsIn:     r.Counter("fineo_ingest_points_total", "Points accepted and acknowledged."),
		valuesIn:     r.Counter("fineo_ingest_values_total", "Field values accepted and acknowledged."),
		rejected:     r.Counter("fineo_errors_total", "Rows written to the errors table.", "stage", "ingest", "kind", "bad_input"),
		tooLarge:     r.Counter("fineo_http_write_too_large_total", "Write requests rejected for their size."),
		writeFailure: r.Counter("fineo_http_write_failures_total", "Write requests that failed with a server error."),
	}
	h.timePatterns = make(map[string]*timePattern, len(cfg.EventTimePatterns))
	for table, src := range cfg.EventTimePatterns {
		p, err := compileTimePattern(src)
		if err != nil {
			h.log.Error("invalid event time pattern; events of the table are rejected", "table", table, "err", err)
			p = &timePattern{src: src, err: fmt.Errorf("the configured time pattern of table %q is invalid: %v", table, err)}
		}
		h.timePatterns[table] = p
	}
	h.parsers.New = func() any { return new(lineprotocol.Parser) }
	h.builders.New = func() any { return schema.NewBuilder("") }
	h.bufs.New = func() any { return new(bytes.Buffer) }
	return h
}

// tablePattern is the configured time pattern of table's events, or nil.
func (h *Handler) tablePattern(table string) *timePattern {
	if p, ok := h.timePatterns[table]; ok {
		return p
	}
	return h.timePatterns["*"]
}

// Register adds the endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /write", h.writeV1)
	mux.HandleFunc("POST /api/v2/write", h.writeV2)
	mux.HandleFunc("GET /ping", h.ping)
	mux.HandleFunc("HEAD /ping", h.ping)
	mux.HandleFunc("GET /health", h.health)
	mux.HandleFunc("POST /api/v1/events", h.events)
	mux.HandleFunc("GET /query", h.query)
	mux.HandleFunc("POST /query", h.query)
}

func (h *Handler) ping(w http.ResponseWriter, r *http.Request) {
	h.versionHeaders(w)
	if r.URL.Query().Get("verbose") == "true" {
		writeJSON(w, http.StatusOK, map[string]string{"version": h.cfg.Version})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) versionHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Influxdb-Version", "1.8.10")
	w.Header().Set("X-Influxdb-Build", "OSS")
	w.Header().Set("X-Fineod-Version", h.cfg.Version)
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	h.versionHeaders(w)
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "fineod", "message": "ready for queries and writes", "status": "pass",
		"checks": []any{}, "version": h.cfg.Version,
	})
}

// writeV1 is InfluxDB 1.x POST /write?db=&rp=&precision=&u=&p=.
func (h *Handler) writeV1(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prec, err := lineprotocol.ParsePrecision(q.Get("precision"))
	if err != nil {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("invalid precision %q (want n, ns, u, us, ms, s, m or h)", q.Get("precision")))
		return
	}
	h.write(w, r, databaseName(q.Get("db")), prec)
}

// writeV2 is InfluxDB 2.x POST /api/v2/write?org=&bucket=&precision=.
func (h *Handler) writeV2(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := q.Get("precision")
	switch p {
	case "", "ns", "us", "ms", "s":
	default:
		h.failV2(w, http.StatusBadRequest, "invalid", fmt.Sprintf("invalid precision %q (want ns, us, ms or s)", p))
		return
	}
	prec, _ := lineprotocol.ParsePrecision(p)
	// A v2 bucket may carry a retention policy suffix ("db/rp"), as the
	// InfluxDB 1.8 compatibility API allows.
	bucket, _, _ := strings.Cut(q.Get("bucket"), "/")
	h.write(w, r, databaseName(bucket), prec)
}

func databaseName(s string) string {
	if s == "" {
		return schema.DefaultDatabase
	}
	return s
}

// tenant is the tenant of a request. Until authentication exists every
// request belongs to the default tenant.
func (h *Handler) tenant(r *http.Request) string { return schema.DefaultTenant }

// lineReport is one rejected line in a 400 response.
type lineReport struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxReportedLines bounds the per-line detail of one response; every bad
// line still goes to the errors table.
const maxReportedLines = 100

func (h *Handler) write(w http.ResponseWriter, r *http.Request, database string, prec lineprotocol.Precision) {
	h.requests.Inc()
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 4*int(h.cfg.MaxBodyBytes) {
			h.bufs.Put(buf)
		}
	}()
	if err := h.readBody(buf, r); err != nil {
		var tooLarge *tooLargeError
		if errors.As(err, &tooLarge) {
			h.tooLarge.Inc()
			h.fail(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		h.fail(w, http.StatusBadRequest, "cannot read request body: "+err.Error())
		return
	}
	body := buf.Bytes()
	h.bytesIn.Add(uint64(len(body)))

	tenant := h.tenant(r)
	p := h.parsers.Get().(*lineprotocol.Parser)
	defer h.parsers.Put(p)
	b := h.builders.Get().(*schema.Builder)
	defer h.builders.Put(b)
	b.Reset(database)

	now := h.cfg.Now()
	p.Reset(body, prec, now.UnixNano())
	var bad []lineReport
	nbad := 0
	for p.Next() {
		if le := p.Err(); le != nil {
			nbad++
			if len(bad) < maxReportedLines {
				bad = append(bad, lineReport{Line: le.Line, Reason: le.Reason})
			}
			b.AddError(schema.ErrorRow{
				Time: now.UnixNano(), Stage: schema.StageIngest, Kind: schema.KindBadInput,
				Database: database, Table: measurementOf(le.Raw),
				Message: fmt.Sprintf("line %d: %s", le.Line, le.Reason),
				Raw:     append([]byte(nil), le.Raw...),
			})
			continue
		}
		b.StartRow(p.Measurement(), p.Time())
		for _, t := range p.Tags() {
			b.AddTag(t.Key, t.Value)
		}
		for _, f := range p.Fields() {
			switch f.Type {
			case lineprotocol.Float:
				b.AddFloat(f.Key, f.F)
			case lineprotocol.Int:
				b.AddInt(f.Key, f.I)
			case lineprotocol.Uint:
				b.AddUint(f.Key, f.U)
			case lineprotocol.String:
				b.AddString(f.Key, f.S)
			case lineprotocol.Bool:
				b.AddBool(f.Key, f.B)
			}
		}
		b.EndRow()
	}
	err := h.w.WriteBatch(r.Context(), tenant, b)
	var rej RejectedRows
	if errors.As(err, &rej) {
		// Rows the database refused (tables a strict tenant does not
		// have): the others were written; answer as for bad lines.
		lines := rej.RejectedLines()
		h.rejected.Add(uint64(nbad + len(lines)))
		msg := fmt.Sprintf("partial write: %d of %d lines rejected (the other %d were written): %v",
			nbad+len(lines), nbad+len(lines)+b.Rows(), b.Rows(), err)
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"code": "invalid", "error": msg, "message": msg,
			"written": b.Rows(), "rejected": nbad + len(lines), "lines": bad,
		})
		return
	}
	if err != nil {
		h.writeFailure.Inc()
		h.log.Error("write failed", "database", database, "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusServiceUnavailable
		}
		h.fail(w, status, "write failed; nothing from this request was acknowledged: "+err.Error())
		return
	}
	h.pointsIn.Add(uint64(b.Rows()))
	h.valuesIn.Add(uint64(b.Values()))
	if nbad > 0 {
		h.rejected.Add(uint64(nbad))
		msg := fmt.Sprintf("partial write: %d of %d lines rejected (the other %d were written); first: %s",
			nbad, nbad+b.Rows(), b.Rows(), errorsFirst(b.Errors()))
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"code": "invalid", "error": msg, "message": msg,
			"written": b.Rows(), "rejected": nbad, "lines": bad,
		})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func errorsFirst(rows []schema.ErrorRow) string {
	if len(rows) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: unable to parse '%s'", rows[0].Message, truncate(rows[0].Raw, 200))
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// measurementOf returns the measurement of a (possibly malformed) line,
// as far as it can be told: everything up to the first unescaped comma or
// space.
func measurementOf(raw []byte) string {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case ',', ' ':
			return strings.ReplaceAll(strings.ReplaceAll(string(raw[:i]), `\,`, ","), `\ `, " ")
		}
	}
	return ""
}

type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("request body too large: the limit is %d bytes (after decompression)", e.limit)
}

// readBody reads the request body, gunzipping it if needed, into buf, up to
// the configured limit.
func (h *Handler) readBody(buf *bytes.Buffer, r *http.Request) error {
	limit := h.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return &tooLargeError{limit}
	}
	var src io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// The compressed body is bounded too, so a slow client cannot
		// stream forever.
		zr, err := gzip.NewReader(io.LimitReader(r.Body, limit+1))
		if err != nil {
			return fmt.Errorf("invalid gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	if r.ContentLength > 0 && r.Header.Get("Content-Encoding") == "" {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return &tooLargeError{limit}
	}
	return nil
}

func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	h.failV2(w, status, codeFor(status), msg)
}

func (h *Handler) failV2(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Influxdb-Error", msg)
	writeJSON(w, status, map[string]string{"code": code, "error": msg, "message": msg})
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "internal error"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
