package ingest

import (
	"fmt"
	"net/http"
	"strings"
)

// query serves /query for the few InfluxQL statements that writers send
// before they write (Telegraf and TSBS's loader create their database and
// list databases). Queries themselves are SQL: /api/v1/sql or the Postgres
// wire protocol.
func (h *Handler) query(w http.ResponseWriter, r *http.Request) {
	h.versionHeaders(w)
	q := r.FormValue("q")
	if strings.TrimSpace(q) == "" {
		h.fail(w, http.StatusBadRequest, `missing required parameter "q"`)
		return
	}
	tenant := h.tenant(r)
	var results []map[string]any
	for i, stmt := range splitStatements(q) {
		res := map[string]any{"statement_id": i}
		words := strings.Fields(stmt)
		switch {
		case len(words) >= 3 && strings.EqualFold(words[0], "create") && strings.EqualFold(words[1], "database"):
			name, err := unquoteIdent(words[2])
			if err != nil {
				h.fail(w, http.StatusBadRequest, err.Error())
				return
			}
			if err := h.w.CreateDatabase(r.Context(), tenant, name); err != nil {
				h.fail(w, http.StatusInternalServerError, "create database: "+err.Error())
				return
			}
		case len(words) == 2 && strings.EqualFold(words[0], "show") && strings.EqualFold(words[1], "databases"):
			var values [][]any
			for _, d := range h.w.Databases(tenant) {
				values = append(values, []any{d})
			}
			if values == nil {
				values = [][]any{}
			}
			res["series"] = []map[string]any{{"name": "databases", "columns": []string{"name"}, "values": values}}
		default:
			h.fail(w, http.StatusBadRequest, fmt.Sprintf(
				"unsupported InfluxQL statement %q: fineod accepts only CREATE DATABASE and SHOW DATABASES here; "+
					"query with SQL over the Postgres wire protocol (port 5433) or POST /api/v1/sql", stmt))
			return
		}
		results = append(results, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// splitStatements splits InfluxQL text on semicolons outside quotes.
func splitStatements(q string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ';':
			if s := strings.TrimSpace(q[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(q[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func unquoteIdent(s string) (string, error) {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	if s == "" {
		return "", fmt.Errorf("database name is empty")
	}
	return s, nil
}
