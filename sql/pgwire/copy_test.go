package pgwire

import (
	"math"
	"reflect"
	"testing"
	"time"
)

var copyTestCols = []Column{
	{"a", OIDInt8}, {"b", OIDText}, {"c", OIDFloat8}, {"ts", OIDTimestamptz}, {"ok", OIDBool}, {"by", OIDBytea},
}

var copyTestRows = [][]any{
	{int64(1), "plain", 1.5, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true, []byte{0, 1}},
	{int64(-2), nil, nil, nil, nil, nil},
	{int64(3), "tab\there\nnew line \\ back, comma \"quote\"", math.Inf(-1), time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC), false, []byte{}},
	{int64(4), "", 0.0, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), true, []byte(`\.`)},
	{int64(5), `\.`, -0.25, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), true, nil},
}

// decodeAll feeds data in pieces of size n (0: all at once).
func decodeAll(t *testing.T, cols []Column, opts CopyOptions, data []byte, n int) [][]any {
	t.Helper()
	d := NewCopyDecoder(cols, opts, nil)
	var out [][]any
	if n <= 0 {
		n = len(data) + 1
	}
	for len(data) > 0 {
		k := min(n, len(data))
		rows, err := d.Feed(data[:k])
		if err != nil {
			t.Fatalf("feed: %v", err)
		}
		out = append(out, rows...)
		data = data[k:]
	}
	rows, err := d.Finish()
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	return append(out, rows...)
}

func normalizeRows(rows [][]any) [][]any {
	out := make([][]any, len(rows))
	for i, r := range rows {
		out[i] = make([]any, len(r))
		for j, v := range r {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC()
			}
			out[i][j] = v
		}
	}
	return out
}

// TestCopyRoundTrip encodes rows in every format and decodes them back,
// feeding the data in every piece size so rows split across CopyData
// messages are covered.
func TestCopyRoundTrip(t *testing.T) {
	for _, opts := range []CopyOptions{
		{Format: CopyText},
		{Format: CopyText, Delimiter: '|', Null: "NULL"},
		{Format: CopyCSV},
		{Format: CopyCSV, Header: true},
		{Format: CopyCSV, Delimiter: ';', Null: "-"},
		{Format: CopyBinary},
	} {
		enc := NewCopyEncoder(copyTestCols, opts, nil)
		data := enc.AppendHeader(nil)
		for _, r := range copyTestRows {
			var err error
			if data, err = enc.AppendRow(data, r); err != nil {
				t.Fatal(err)
			}
		}
		data = enc.AppendTrailer(data)
		for n := 0; n <= len(data); n += max(1, n) {
			got := normalizeRows(decodeAll(t, copyTestCols, opts, data, n))
			if !reflect.DeepEqual(got, copyTestRows) {
				t.Fatalf("%+v piece %d:\n got %#v\nwant %#v\ndata %q", opts, n, got, copyTestRows, data)
			}
		}
	}
}

func TestCopyTextFormat(t *testing.T) {
	cols := []Column{{"a", OIDText}, {"b", OIDInt4}}
	got := decodeAll(t, cols, CopyOptions{}, []byte("x\\ty\\x41\\101\\q\t1\r\n\\N\t\\N\nlast\t3"), 0)
	want := [][]any{{"x\tyAAq", int64(1)}, {nil, nil}, {"last", int64(3)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v want %#v", got, want)
	}
	// The end marker stops decoding.
	got = decodeAll(t, cols, CopyOptions{}, []byte("a\t1\n\\.\nb\t2\n"), 0)
	if len(got) != 1 {
		t.Fatalf("rows after \\.: %v", got)
	}
	for name, bad := range map[string]string{
		"extra":   "a\t1\t2\n",
		"missing": "a\n",
		"type":    "a\tx\n",
	} {
		d := NewCopyDecoder(cols, CopyOptions{}, nil)
		_, err := d.Feed([]byte(bad))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCopyCSVFormat(t *testing.T) {
	cols := []Column{{"a", OIDText}, {"b", OIDText}}
	got := decodeAll(t, cols, CopyOptions{Format: CopyCSV, Header: true},
		[]byte("h1,h2\r\n\"a,b\",\"\"\"q\"\"\"\r\n,\"\"\n\"multi\nline\",x"), 0)
	want := [][]any{{"a,b", `"q"`}, {nil, ""}, {"multi\nline", "x"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v want %#v", got, want)
	}
	d := NewCopyDecoder(cols, CopyOptions{Format: CopyCSV}, nil)
	if _, err := d.Feed([]byte("\"open,x")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Finish(); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestCopyBinaryErrors(t *testing.T) {
	cols := []Column{{"a", OIDInt4}}
	header := append(append([]byte{}, binaryCopySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
	for name, data := range map[string][]byte{
		"bad signature": []byte("PGCOPY\nxxxxxxxxxxxxxxxxxxxx"),
		"oids":          append(append([]byte{}, binaryCopySignature...), 0, 1, 0, 0, 0, 0, 0, 0),
		"field count":   append(append([]byte{}, header...), 0, 2),
		"field size":    append(append([]byte{}, header...), 0, 1, 0, 0, 0, 3, 1, 2, 3),
		"truncated":     append(append([]byte{}, header...), 0, 1, 0, 0, 0, 4, 1),
		"negative size": append(append([]byte{}, header...), 0, 1, 0xff, 0xff, 0xff, 0xf0),
	} {
		d := NewCopyDecoder(cols, CopyOptions{Format: CopyBinary}, nil)
		_, err := d.Feed(data)
		if err == nil {
			_, err = d.Finish()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestScanStatements(t *testing.T) {
	for q, want := range map[string]copyKind{
		"COPY t FROM STDIN":                             copyIn,
		"copy t (a, b) from stdin with (format csv)":    copyIn,
		"copy (select * from stdin_x) to stdout":        copyOut,
		"  /* c */ copy t to stdout csv header":         copyOut,
		"copy t to '/tmp/x'":                            notCopy,
		"select 'copy t from stdin'":                    notCopy,
		"copy t from '/f' -- from stdin":                notCopy,
		`copy "from" to stdout`:                         copyOut,
		"copy (select $$ to stdout $$) to '/tmp/f'":     notCopy,
		"copy (select e'\\' to stdout') to program 'x'": notCopy,
	} {
		if got := copyDirection(q); got != want {
			t.Errorf("copyDirection(%q) = %d, want %d", q, got, want)
		}
	}
	for q, want := range map[string]txnEndKind{
		"COMMIT":                  txnCommit,
		"end work":                txnCommit,
		" rollback;":              txnRollback,
		"abort":                   txnRollback,
		"rollback to savepoint a": notTxnEnd,
		"commit prepared 'x'":     notTxnEnd,
		"select 1":                notTxnEnd,
		"-- c\nrollback":          txnRollback,
	} {
		if got := txnEnd(q); got != want {
			t.Errorf("txnEnd(%q) = %d, want %d", q, got, want)
		}
	}
	for q, want := range map[string]bool{"": true, " ;; ": true, "-- x\n/* y */": true, "select": false} {
		if isEmptyQuery(q) != want {
			t.Errorf("isEmptyQuery(%q) != %v", q, want)
		}
	}
}
