package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/schema"
)

// JSON events (POST /api/v1/events): the IoT API. The body is one JSON
// object or an array of them; each object is one row:
//
//   - its table is the value of the first of Config.EventTableKeys it has
//     (default "metrictype", then "table");
//   - its time is the value of Config.EventTimeKey (default "timestamp"): a
//     number of seconds, milliseconds, microseconds or nanoseconds since the
//     epoch, told apart by magnitude (below 1e10 seconds, below 1e13
//     milliseconds, below 1e16 microseconds, else nanoseconds — so a
//     millisecond time before 1970-04-26 reads as seconds; decimal
//     fractions are exact to the nanosecond), or an RFC 3339 string;
//     absent means the server's time;
//   - the keys named in the tags query parameter (comma separated), and
//     every key of a "tags" object, are tags (their values as text);
//   - every other key is a field: numbers as double precision, strings as
//     text, booleans as boolean; nested objects are flattened with "."
//     ("gps": {"lat": 1} is the field "gps.lat"); arrays are kept as their
//     JSON text; null means no value.
//
// The answer lists each event's result by position. Events that cannot be
// stored (no table, a bad time, not an object) are rejected one by one and
// stored in the errors table; the others are written.

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

func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	h.requests.Inc()
	q := r.URL.Query()
	database := databaseName(q.Get("db"))
	tagKeys := map[string]bool{}
	for _, k := range strings.Split(q.Get("tags"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			tagKeys[k] = true
		}
	}
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer h.bufs.Put(buf)
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
		table, err := h.addEvent(b, raw, tagKeys, now)
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
func (h *Handler) addEvent(b *schema.Builder, raw json.RawMessage, tagKeys map[string]bool, now time.Time) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil || ev == nil {
		return "", fmt.Errorf("not a JSON object")
	}
	table := ""
	tableKeys := h.cfg.EventTableKeys
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
	timeKey := h.cfg.EventTimeKey
	if timeKey == "" {
		timeKey = DefaultEventTimeKey
	}
	t := now.UnixNano()
	if v, ok := ev[timeKey]; ok && v != nil {
		ts, err := eventTime(v)
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
			if prefix == "" && tagKeys[k] {
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

// eventTime reads an event's time: epoch seconds, milliseconds,
// microseconds or nanoseconds by magnitude, or RFC 3339.
func eventTime(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return epochInt(i)
		}
		if ns, ok, err := epochDecimal(string(x)); ok {
			return ns, err
		}
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%s is not a time", x)
		}
		return epochFloat(f)
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return 0, fmt.Errorf("%q is neither epoch time nor RFC 3339", x)
		}
		return t.UnixNano(), nil
	}
	return 0, fmt.Errorf("%v is not a time", v)
}

// epochUnit is the nanoseconds per unit of an epoch number of magnitude a.
func epochUnit(a float64) int64 {
	switch {
	case a < 1e10:
		return 1e9 // seconds
	case a < 1e13:
		return 1e6 // milliseconds
	case a < 1e16:
		return 1e3 // microseconds
	}
	return 1 // nanoseconds
}

var errTimeRange = errors.New("time out of range (years 1678 to 2262)")

// epochInt scales an integer epoch time to nanoseconds exactly.
func epochInt(i int64) (int64, error) {
	a := math.Abs(float64(i))
	u := epochUnit(a)
	if a > float64(math.MaxInt64/u) {
		return 0, errTimeRange
	}
	return i * u, nil
}

// epochDecimal reads a plain decimal ("1717200000.25") exactly: the
// integer part picks the unit, the fraction is kept to the nanosecond. ok
// is false for other forms (exponents), which epochFloat reads.
func epochDecimal(s string) (ns int64, ok bool, err error) {
	ip, fp, found := strings.Cut(s, ".")
	if !found || strings.ContainsAny(s, "eE") {
		return 0, false, nil
	}
	neg := strings.HasPrefix(ip, "-")
	i, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return 0, false, nil
	}
	base, err := epochInt(i)
	if err != nil {
		return 0, true, err
	}
	u := epochUnit(math.Abs(float64(i)))
	// fraction of one unit, in nanoseconds: digits beyond the
	// nanosecond are dropped.
	var frac int64
	scale := u
	for _, c := range fp {
		if c < '0' || c > '9' {
			return 0, false, nil
		}
		scale /= 10
		frac += int64(c-'0') * scale
		if scale == 0 {
			break
		}
	}
	if neg {
		return base - frac, true, nil
	}
	return base + frac, true, nil
}

// epochFloat scales a fractional epoch time to nanoseconds.
func epochFloat(f float64) (int64, error) {
	ns := f * float64(epochUnit(math.Abs(f)))
	if math.Abs(ns) >= math.MaxInt64 {
		return 0, errTimeRange
	}
	return int64(math.Round(ns)), nil
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
