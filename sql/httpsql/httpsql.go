// Package httpsql serves SQL over HTTP: GET or POST /api/v1/sql with the
// query in the q parameter or the request body, answered as JSON (columns
// with their types, rows, command tag) or, with Accept: text/csv, as CSV.
// It opens one sql.Session per request.
package httpsql

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

// Config configures the handler. Zero fields mean the default.
type Config struct {
	// MaxQueryBytes limits the query text. Default 1 MiB.
	MaxQueryBytes int64
	// Logger receives internal errors. Default: discard.
	Logger *slog.Logger
	// Tenant returns the tenant of a request. Default: schema.DefaultTenant.
	Tenant func(r *http.Request) string
}

// Handler serves /api/v1/sql. It is safe for concurrent use.
type Handler struct {
	eng *sql.Engine
	cfg Config
}

// NewHandler returns the SQL endpoint for eng.
func NewHandler(eng *sql.Engine, cfg Config) *Handler {
	if cfg.MaxQueryBytes <= 0 {
		cfg.MaxQueryBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tenant == nil {
		cfg.Tenant = func(*http.Request) string { return schema.DefaultTenant }
	}
	return &Handler{eng: eng, cfg: cfg}
}

// Register adds GET and POST /api/v1/sql to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/sql", h)
	mux.Handle("POST /api/v1/sql", h)
}

// result is one statement's outcome in the JSON answer.
type result struct {
	Columns []column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Tag     string   `json:"tag"`
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ServeHTTP runs the statements of the request. The query comes from the
// q parameter, or from the body of a POST that is not a form; db selects
// the database (default schema.DefaultDatabase).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	query, err := h.queryText(r)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "22023", err.Error(), 0)
		return
	}
	if strings.TrimSpace(query) == "" {
		h.fail(w, http.StatusBadRequest, "42601", `no query: pass it in the "q" parameter or the request body`, 0)
		return
	}
	db := r.URL.Query().Get("db")
	if db == "" {
		db = schema.DefaultDatabase
	}
	s := h.eng.NewSession(h.cfg.Tenant(r), db, "http")
	stmts, err := s.Split(query)
	if err != nil {
		h.sqlFail(w, err)
		return
	}
	var results []result
	for _, q := range stmts {
		res, err := h.run(r.Context(), s, q)
		if err != nil {
			h.sqlFail(w, err)
			return
		}
		results = append(results, res)
	}
	if wantsCSV(r) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		if len(results) == 0 {
			return
		}
		last := results[len(results)-1]
		cw := csv.NewWriter(w)
		head := make([]string, len(last.Columns))
		for i, c := range last.Columns {
			head[i] = c.Name
		}
		cw.Write(head)
		rec := make([]string, len(last.Columns))
		for _, row := range last.Rows {
			for i, v := range row {
				rec[i] = csvValue(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"results": results})
}

func (h *Handler) run(ctx context.Context, s *sql.Session, q string) (result, error) {
	st, err := s.Prepare(ctx, q, nil)
	if err != nil {
		return result{}, err
	}
	res, err := st.Execute(ctx, nil)
	if err != nil {
		return result{}, err
	}
	defer res.Close()
	out := result{Columns: []column{}, Rows: [][]any{}}
	for _, c := range res.Columns() {
		out.Columns = append(out.Columns, column{Name: c.Name, Type: c.Type.String()})
	}
	for res.Next() {
		row := res.Row()
		vals := make([]any, len(row))
		for i, v := range row {
			vals[i] = jsonValue(v)
		}
		out.Rows = append(out.Rows, vals)
	}
	if err := res.Err(); err != nil {
		return result{}, err
	}
	out.Tag = res.Tag()
	return out, nil
}

func (h *Handler) queryText(r *http.Request) (string, error) {
	if q := r.URL.Query().Get("q"); q != "" {
		return q, nil
	}
	if r.Method != http.MethodPost {
		return "", nil
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, h.cfg.MaxQueryBytes)
		if err := r.ParseForm(); err != nil {
			return "", fmt.Errorf("cannot read form: %v", err)
		}
		return r.PostForm.Get("q"), nil
	}
	if strings.HasPrefix(ct, "application/json") {
		var body struct {
			Q     string `json:"q"`
			Query string `json:"query"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, h.cfg.MaxQueryBytes)).Decode(&body); err != nil {
			return "", fmt.Errorf(`cannot decode JSON body {"q": "..."}: %v`, err)
		}
		if body.Q != "" {
			return body.Q, nil
		}
		return body.Query, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxQueryBytes+1))
	if err != nil {
		return "", fmt.Errorf("cannot read body: %v", err)
	}
	if int64(len(b)) > h.cfg.MaxQueryBytes {
		return "", fmt.Errorf("query longer than %d bytes", h.cfg.MaxQueryBytes)
	}
	return string(b), nil
}

func wantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv") || r.URL.Query().Get("format") == "csv"
}

func (h *Handler) sqlFail(w http.ResponseWriter, err error) {
	var se *sql.Error
	if errors.As(err, &se) {
		status := http.StatusBadRequest
		switch {
		case se.Code == "57014":
			status = http.StatusServiceUnavailable
		case strings.HasPrefix(se.Code, "XX"), strings.HasPrefix(se.Code, "58"):
			status = http.StatusInternalServerError
		}
		h.fail(w, status, se.Code, se.Message, se.Position)
		return
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		h.fail(w, http.StatusServiceUnavailable, "57014", err.Error(), 0)
		return
	}
	h.cfg.Logger.Error("sql over http", "err", err)
	h.fail(w, http.StatusInternalServerError, "XX000", err.Error(), 0)
}

func (h *Handler) fail(w http.ResponseWriter, status int, code, msg string, pos int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	body := map[string]any{"error": msg, "code": code}
	if pos > 0 {
		body["position"] = pos
	}
	json.NewEncoder(w).Encode(body)
}

// jsonValue is how a SQL value appears in JSON: numbers as numbers (NaN
// and infinities as strings, which JSON lacks), times as RFC 3339 with
// nanoseconds, intervals as PostgreSQL shows them.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case sql.Interval:
		return intervalText(x)
	}
	return v
}

func csvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case sql.Interval:
		return intervalText(x)
	}
	return fmt.Sprint(v)
}

func intervalText(iv sql.Interval) string {
	var parts []string
	if iv.Months != 0 {
		parts = append(parts, fmt.Sprintf("%d mons", iv.Months))
	}
	if iv.Days != 0 {
		parts = append(parts, fmt.Sprintf("%d days", iv.Days))
	}
	if iv.Micros != 0 || len(parts) == 0 {
		d := time.Duration(iv.Micros) * time.Microsecond
		sign := ""
		if d < 0 {
			sign, d = "-", -d
		}
		h := int64(d / time.Hour)
		m := int64(d/time.Minute) % 60
		s := d % time.Minute
		parts = append(parts, fmt.Sprintf("%s%02d:%02d:%s", sign, h, m, strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%09.6f", s.Seconds()), "0"), ".")))
	}
	return strings.Join(parts, " ")
}
