package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/schema"
)

// JSON events (POST /api/v1/events): the IoT API. The body is one JSON
// object or an array of them; each object is one row:
//
//   - its table is the value of the first of the table keys it has: the
//     request's table_key parameter (comma separated), else
//     Config.EventTableKeys (default "metrictype", then "table");
//   - its time is the value of the time key: the request's time_key
//     parameter, else Config.EventTimeKey (default "timestamp"); absent or
//     null means the server's time. How the time is read is decided by a
//     time pattern (below): the request's time_format parameter, else
//     Config.EventTimePatterns[table], else Config.EventTimePatterns["*"],
//     else the default rules;
//   - the keys named in the tags query parameter (comma separated), and
//     every key of a "tags" object, are tags (their values as text);
//   - every other key is a field: numbers as double precision, strings as
//     text, booleans as boolean; nested objects are flattened with "."
//     ("gps": {"lat": 1} is the field "gps.lat"); arrays are kept as their
//     JSON text; null means no value.
//
// Default time rules (no pattern): a JSON number, or a string that holds
// exactly a JSON number ("1700000000"), is a time since the epoch whose
// unit is told by magnitude: below 1e10 seconds, below 1e13 milliseconds,
// below 1e16 microseconds, else nanoseconds (so a millisecond time before
// 1970-04-26 reads as seconds; decimal fractions are exact to the
// nanosecond). Any other string must be RFC 3339.
//
// A time pattern is one of
//
//   - a name: "rfc3339" (an RFC 3339 string only), or "epoch_s",
//     "epoch_ms", "epoch_us", "epoch_ns" (a number, or a string holding
//     one, in that unit, whatever its magnitude);
//   - a strftime-style pattern, told by a "%": %Y year, %y two-digit
//     year (69-99 are 19xx), %m month, %d day, %e space-padded day, %j day
//     of the year, %H hour, %I hour of 12, %p AM/PM, %M minute, %S second,
//     %f fraction of a second (after a '.' or ',', any number of digits,
//     may be absent), %b or %h month name (Jan), %B full month name, %a /
//     %A weekday name, %z numeric zone (Z, +0200 or +02:00), %Z zone name
//     (only UTC and GMT offsets are applied; other names read as UTC), %%
//     a literal %. Other text is literal; a pattern whose literal text Go
//     would read as a layout element (a digit 1-6, "Jan", "Mon", "PM",
//     "MST") is refused;
//   - otherwise a Go reference layout ("2006-01-02 15:04:05"), which must
//     contain at least one element of the reference time.
//
// A time without a zone is UTC. Layout patterns read a string, or a JSON
// number by its digits (20240601 with "%Y%m%d"). Times must fall within
// the years 1678 to 2262 (int64 nanoseconds).
//
// The answer lists each event's result by position. Events that cannot be
// stored (no table, a time that does not match its pattern, not an object)
// are rejected one by one, stored in the errors table and counted in
// fineo_errors_total{stage="ingest",kind="bad_input"}; the others are
// written. A time_format that is not a valid pattern, or a body that is
// not JSON, fails the whole request with 400.

// DefaultEventTableKeys and DefaultEventTimeKey are the keys events use by
// default.
var (
	DefaultEventTableKeys = []string{"metrictype", "table"}
	DefaultEventTimeKey   = "timestamp"
)

type eventResult struct {
	Index  int    `json:"index"`
	Status string `json:"status"` // "ok" or "error"
	Table  string `json:"table,omitempty"`
	Error  string `json:"error,omitempty"`
}

// eventOptions are the per-request rules for reading events.
type eventOptions struct {
	tableKeys []string
	timeKey   string
	tagKeys   map[string]bool
	pattern   *timePattern // time_format, or nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func (h *Handler) eventOptions(q url.Values) (eventOptions, error) {
	o := eventOptions{tableKeys: h.cfg.EventTableKeys, timeKey: h.cfg.EventTimeKey, tagKeys: map[string]bool{}}
	if ks := splitList(q.Get("table_key")); len(ks) > 0 {
		o.tableKeys = ks
	}
	if k := strings.TrimSpace(q.Get("time_key")); k != "" {
		o.timeKey = k
	}
	for _, k := range splitList(q.Get("tags")) {
		o.tagKeys[k] = true
	}
	if f := q.Get("time_format"); f != "" {
		p, err := compileTimePattern(f)
		if err != nil {
			return o, fmt.Errorf("invalid time_format: %v", err)
		}
		o.pattern = p
	}
	return o, nil
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	h.requests.Inc()
	q := r.URL.Query()
	database := databaseName(q.Get("db"))
	opts, err := h.eventOptions(q)
	if err != nil {
		h.fail(w, http.StatusBadRequest, err.Error())
		return
	}
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
	h.bytesIn.Add(uint64(buf.Len()))
	raws, err := splitEvents(buf.Bytes())
	if err != nil {
		h.fail(w, http.StatusBadRequest, "the body is not a JSON object or array of objects: "+err.Error())
		return
	}
	now := h.cfg.Now()
	b := schema.NewBuilder(database)
	results := make([]eventResult, len(raws))
	rejected := 0
	for i, raw := range raws {
		table, err := h.addEvent(b, raw, &opts, now)
		results[i] = eventResult{Index: i, Status: "ok", Table: table}
		if err != nil {
			rejected++
			results[i] = eventResult{Index: i, Status: "error", Table: table, Error: err.Error()}
			b.AddError(schema.ErrorRow{
				Time: now.UnixNano(), Stage: schema.StageIngest, Kind: schema.KindBadInput,
				Database: database, Table: table, Message: fmt.Sprintf("event %d: %v", i, err),
				Raw: append([]byte(nil), raw...),
			})
		}
	}
	if err := h.w.WriteBatch(r.Context(), h.tenant(r), b); err != nil {
		h.writeFailure.Inc()
		h.log.Error("events write failed", "database", database, "err", err)
		h.fail(w, http.StatusInternalServerError, "write failed; nothing from this request was acknowledged: "+err.Error())
		return
	}
	h.pointsIn.Add(uint64(b.Rows()))
	h.valuesIn.Add(uint64(b.Values()))
	h.rejected.Add(uint64(rejected))
	writeJSON(w, http.StatusOK, map[string]any{"written": len(raws) - rejected, "rejected": rejected, "results": results})
}

// splitEvents returns the raw JSON of each event of a body that is one
// object or an array.
func splitEvents(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body")
	}
	if body[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(body, &arr); err != nil {
			return nil, err
		}
		return arr, nil
	}
	var one json.RawMessage
	if err := json.Unmarshal(body, &one); err != nil {
		return nil, err
	}
	return []json.RawMessage{one}, nil
}

// addEvent adds one event as a row of b and returns its table.
func (h *Handler) addEvent(b *schema.Builder, raw json.RawMessage, o *eventOptions, now time.Time) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return "", fmt.Errorf("not a JSON object")
	}
	table := ""
	tableKeys := o.tableKeys
	if len(tableKeys) == 0 {
		tableKeys = DefaultEventTableKeys
	}
	for _, k := range tableKeys {
		if s, ok := ev[k].(string); ok && s != "" {
			table = s
			delete(ev, k)
			break
		}
	}
	if table == "" {
		return "", fmt.Errorf("no table: the event needs a non-empty string %q", strings.Join(tableKeys, `" or "`))
	}
	timeKey := o.timeKey
	if timeKey == "" {
		timeKey = DefaultEventTimeKey
	}
	t := now.UnixNano()
	if v, ok := ev[timeKey]; ok && v != nil {
		p := o.pattern
		if p == nil {
			p = h.tablePattern(table)
		}
		if p != nil && p.err != nil {
			return table, p.err
		}
		ts, err := parseEventTime(v, p)
		if err != nil {
			return table, fmt.Errorf("%s: %v", timeKey, err)
		}
		t = ts
		delete(ev, timeKey)
	}
	type kv struct {
		k string
		v any
	}
	var fields []kv
	var tags []kv
	var flatten func(prefix string, m map[string]any)
	flatten = func(prefix string, m map[string]any) {
		for k, v := range m {
			name := prefix + k
			if sub, ok := v.(map[string]any); ok {
				flatten(name+".", sub)
				continue
			}
			if prefix == "" && o.tagKeys[k] {
				tags = append(tags, kv{k, v})
				continue
			}
			fields = append(fields, kv{name, v})
		}
	}
	if tm, ok := ev["tags"].(map[string]any); ok {
		for k, v := range tm {
			tags = append(tags, kv{k, v})
		}
		delete(ev, "tags")
	}
	flatten("", ev)
	sort.Slice(fields, func(i, j int) bool { return fields[i].k < fields[j].k })
	b.StartRow([]byte(table), t)
	for _, tg := range tags {
		if tg.v == nil {
			continue
		}
		s := scalarText(tg.v)
		if s == "" {
			continue
		}
		b.AddTag([]byte(tg.k), []byte(s))
	}
	n := 0
	for _, f := range fields {
		switch x := f.v.(type) {
		case nil:
			continue
		case json.Number:
			v, err := x.Float64()
			if err != nil || math.IsInf(v, 0) {
				return table, fmt.Errorf("field %q: %s is not a finite number", f.k, x)
			}
			b.AddFloat([]byte(f.k), v)
		case string:
			b.AddString([]byte(f.k), []byte(x))
		case bool:
			b.AddBool([]byte(f.k), x)
		default: // arrays: kept as their JSON text
			js, _ := json.Marshal(x)
			b.AddString([]byte(f.k), js)
		}
		n++
	}
	if n == 0 {
		return table, errors.New("no fields: the event has no value besides its table and time")
	}
	b.EndRow()
	return table, nil
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	js, _ := json.Marshal(v)
	return string(js)
}
