package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// testTable has two physical fields named temp (float, then string), one
// of each other type, and a field whose name is also a tag key.
func testTable() *schema.Table {
	return &schema.Table{
		ID: 7, TenantID: 1, Database: "plant", Name: "sensors/α b",
		TagKeys: []string{"region", "host"},
		Fields: []schema.Field{
			{ID: 1, Name: "temp", Type: schema.TypeFloat},
			{ID: 2, Name: "temp", Type: schema.TypeString},
			{ID: 3, Name: "n", Type: schema.TypeInt},
			{ID: 4, Name: "u", Type: schema.TypeUint},
			{ID: 5, Name: "ok", Type: schema.TypeBool},
			{ID: 6, Name: "host", Type: schema.TypeString},
		},
	}
}

// segRow is a test row in a comparable form.
type segRow struct {
	tags   string // key=value,...
	t      int64
	fields string // id:value,... by id
}

func fmtTags(tags []string) string {
	var parts []string
	for i := 0; i+1 < len(tags); i += 2 {
		parts = append(parts, tags[i]+"="+tags[i+1])
	}
	return strings.Join(parts, ",")
}

func fmtFields(fields []FieldValue) string {
	var parts []string
	for _, f := range fields {
		parts = append(parts, fmt.Sprintf("%d:%v", f.ID, f.Value()))
	}
	return strings.Join(parts, ",")
}

type inRow struct {
	tags   []string
	t      int64
	fields []FieldValue
}

func testRows(day int32) []inRow {
	t0, _ := DayRange(day)
	var rows []inRow
	a := []string{"host", "a", "region", "eu"}
	b := []string{"host", "b"} // no region: NULL in the region column
	c := []string{"host", "c", "region", "us"}
	rows = append(rows,
		inRow{a, t0, []FieldValue{{ID: 1, Type: schema.TypeFloat, F: 21.5}, {ID: 3, Type: schema.TypeInt, I: math.MinInt64}}},
		inRow{a, t0 + 1, []FieldValue{{ID: 2, Type: schema.TypeString, S: []byte("warm")}, {ID: 4, Type: schema.TypeUint, I: -1}}},
		inRow{a, t0 + 2, []FieldValue{{ID: 3, Type: schema.TypeInt, I: math.MaxInt64}, {ID: 5, Type: schema.TypeBool, B: true}, {ID: 6, Type: schema.TypeString, S: []byte("")}}},
		inRow{b, t0 + 5, []FieldValue{{ID: 1, Type: schema.TypeFloat, F: math.Inf(-1)}, {ID: 5, Type: schema.TypeBool, B: false}}},
		inRow{c, t0 + 3, []FieldValue{{ID: 6, Type: schema.TypeString, S: []byte("h\x00st")}}},
		inRow{c, t0 + dayNanos - 1, []FieldValue{{ID: 1, Type: schema.TypeFloat, F: -0.25}, {ID: 4, Type: schema.TypeUint, I: 42}}},
	)
	return rows
}

func writeTestSegment(t testing.TB, root string, tbl *schema.Table, day int32, id uint64, rows []inRow, opts *SegmentWriterOptions) (string, SegmentStats) {
	t.Helper()
	rel := SegmentRelPath("default", tbl.Database, tbl.Name, day, id)
	f, err := CreateSegmentFile(root, rel, tbl, day, nil, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	var scratch []byte
	for _, r := range rows {
		// Reuse string memory between rows: the writer must copy.
		fields := append([]FieldValue(nil), r.fields...)
		for i := range fields {
			if fields[i].Type == schema.TypeString {
				scratch = append(scratch[:0], fields[i].S...)
				fields[i].S = scratch
			}
		}
		if err := f.Add(r.tags, r.t, fields); err != nil {
			t.Fatal(err)
		}
		for i := range scratch {
			scratch[i] = 'X'
		}
	}
	st, err := f.Publish()
	if err != nil {
		t.Fatal(err)
	}
	return rel, st
}

func TestSegmentLayoutNames(t *testing.T) {
	cols, err := segmentLayout(testTable(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cols {
		names = append(names, c.Name)
	}
	want := []string{"time", "host", "region", "temp", "temp__string", "n", "u", "ok", "host__string"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("columns %q, want %q", names, want)
	}
}

func TestSegmentPathEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cpu", "cpu"},
		{"a/b", "a%2Fb"},
		{"x=1%", "x%3D1%25"},
		{"sensors/α b", "sensors%2F%CE%B1%20b"},
		{"..", ".."},
		{"", "__HIVE_DEFAULT_PARTITION__"},
	} {
		if got := escapePathValue(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := escapePathValue(strings.Repeat("é", 200))
	if len(long) > maxPathValue+17 || !strings.Contains(long, "~") {
		t.Errorf("long name escaped to %d bytes: %q", len(long), long)
	}
	if got := SegmentRelPath("default", "db", "t", DayOf(-1), 255); got != "segments/tenant=default/database=db/table=t/date=1969-12-31/00000000000000ff.parquet" {
		t.Errorf("path %q", got)
	}
}

// TestSegmentGenericReader reads a segment with nothing but parquet-go's
// generic reader and the file's own schema, as any Parquet tool would.
func TestSegmentGenericReader(t *testing.T) {
	root := t.TempDir()
	tbl := testTable()
	day := DayOf(1_700_000_000_000_000_000)
	in := testRows(day)
	rel, st := writeTestSegment(t, root, tbl, day, 1, in, &SegmentWriterOptions{RowGroupRows: 4})
	if st.Rows != int64(len(in)) || st.RowGroups != 2 {
		t.Fatalf("stats: %d rows, %d row groups", st.Rows, st.RowGroups)
	}
	if !strings.Contains(rel, "table=sensors%2F%CE%B1%20b/date=2023-11-14/") {
		t.Fatalf("path %q", rel)
	}
	if _, err := os.Stat(segmentAbsPath(root, rel) + segmentTmpSuffix); !os.IsNotExist(err) {
		t.Fatalf("tmp file left behind: %v", err)
	}

	osf, err := os.Open(segmentAbsPath(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	fi, _ := osf.Stat()
	if fi.Size() != st.Bytes {
		t.Fatalf("size %d, stats say %d", fi.Size(), st.Bytes)
	}
	file, err := parquet.OpenFile(osf, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	sch := file.Schema()
	fields := sch.Fields()
	if fields[0].Name() != "time" {
		t.Fatalf("first column %q", fields[0].Name())
	}
	if ts, ok := fields[0].Type().LogicalType().Value.(*format.TimestampType); !ok || !ts.IsAdjustedToUTC {
		t.Fatalf("time logical type %v", fields[0].Type().LogicalType())
	} else if _, nanos := ts.Unit.Value.(*format.NanoSeconds); !nanos {
		t.Fatalf("time unit %v", ts.Unit)
	}
	if fields[4].Name() != "temp__string" || fields[4].ID() != 2 || !fields[4].Optional() {
		t.Fatalf("column 4: %s id %d", fields[4].Name(), fields[4].ID())
	}
	// Encodings and compression as documented.
	for _, cc := range file.Metadata().RowGroups[0].Columns {
		md := cc.MetaData
		if md.Codec != format.Zstd {
			t.Errorf("%v: codec %v", md.PathInSchema, md.Codec)
		}
		want := map[string]format.Encoding{"time": format.DeltaBinaryPacked, "host": format.RLEDictionary, "temp": format.ByteStreamSplit, "n": format.DeltaBinaryPacked}[md.PathInSchema[0]]
		if want != 0 && !containsEnc(md.Encoding, want) {
			t.Errorf("%v: encodings %v, want %v", md.PathInSchema, md.Encoding, want)
		}
		if md.Statistics.MinValue == nil && md.Statistics.NullCount < int64(md.NumValues) {
			t.Errorf("%v: no min/max statistics", md.PathInSchema)
		}
	}
	if ci, _, err := file.ReadPageIndex(); err != nil || len(ci) == 0 {
		t.Errorf("page index: %d column indexes, %v", len(ci), err)
	}
	if v, ok := file.Lookup(metaSegmentColumns); !ok || !strings.Contains(v, `"field_id":2`) {
		t.Errorf("columns metadata %q", v)
	}

	// Read every row generically and rebuild the points by column name.
	names := sch.Columns()
	var got []string
	for _, rg := range file.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 10)
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				var parts []string
				for _, v := range row {
					if v.IsNull() {
						continue
					}
					name := names[v.Column()][0]
					var s string
					switch v.Kind() {
					case parquet.ByteArray:
						s = fmt.Sprintf("%q", v.ByteArray())
					default:
						s = v.String()
					}
					parts = append(parts, name+"="+s)
				}
				got = append(got, strings.Join(parts, " "))
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	t0, _ := DayRange(day)
	want := []string{
		fmt.Sprintf(`time=%d host="a" region="eu" temp=21.5 n=%d`, t0, int64(math.MinInt64)),
		fmt.Sprintf(`time=%d host="a" region="eu" temp__string="warm" u=-1`, t0+1),
		fmt.Sprintf(`time=%d host="a" region="eu" n=%d ok=true host__string=""`, t0+2, int64(math.MaxInt64)),
		fmt.Sprintf(`time=%d host="b" temp=-Inf ok=false`, t0+5),
		fmt.Sprintf(`time=%d host="c" region="us" host__string="h\x00st"`, t0+3),
		fmt.Sprintf(`time=%d host="c" region="us" temp=-0.25 u=42`, t0+dayNanos-1),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("generic read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The unsigned column is typed as such, so tools show 2^64-1, not -1.
	if it, ok := fields[6].Type().LogicalType().Value.(*format.IntType); !ok || it.IsSigned || it.BitWidth != 64 {
		t.Errorf("u logical type %v", fields[6].Type().LogicalType())
	}
}

func containsEnc(encs []format.Encoding, e format.Encoding) bool {
	for _, x := range encs {
		if x == e {
			return true
		}
	}
	return false
}

func TestSegmentReaderRoundTrip(t *testing.T) {
	root := t.TempDir()
	tbl := testTable()
	day := int32(19000)
	in := testRows(day)
	rel, _ := writeTestSegment(t, root, tbl, day, 1, in, nil)
	seg, err := OpenSegment(segmentAbsPath(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var got, want []segRow
	for _, r := range in {
		want = append(want, segRow{fmtTags(r.tags), r.t, fmtFields(r.fields)})
	}
	st, err := seg.Scan(AllTime, func(tags []string, ts int64, fields []FieldValue) error {
		got = append(got, segRow{fmtTags(tags), ts, fmtFields(fields)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%v\nwant\n%v", got, want)
	}
	if st.Rows != int64(len(in)) || st.Scanned != 1 || st.Pruned != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Projection: only field 1.
	got = nil
	if _, err := seg.Scan(SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Fields: []uint32{1}}, func(tags []string, ts int64, fields []FieldValue) error {
		got = append(got, segRow{fmtTags(tags), ts, fmtFields(fields)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) || got[0].fields != "1:21.5" || got[1].fields != "" {
		t.Fatalf("projected %v", got)
	}
}

func TestSegmentWriterRejectsDisorder(t *testing.T) {
	tbl := testTable()
	w, err := NewSegmentWriter(&bytes.Buffer{}, tbl, 0, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := []string{"host", "a"}, []string{"host", "b"}
	if err := w.Add(b, 5, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tags []string
		t    int64
	}{{b, 5}, {b, 4}, {a, 9}} {
		if err := w.Add(tc.tags, tc.t, nil); !errors.Is(err, ErrSegmentOrder) {
			t.Errorf("Add(%v, %d) = %v, want ErrSegmentOrder", tc.tags, tc.t, err)
		}
	}
	if err := w.Add(b, 6, []FieldValue{{ID: 99, Type: schema.TypeInt}}); err == nil {
		t.Error("unknown field accepted")
	}
	if err := w.Add(b, 7, []FieldValue{{ID: 1, Type: schema.TypeInt}}); err == nil {
		t.Error("field of the wrong type accepted")
	}
}

// TestSegmentPruning checks that row groups are skipped by time and by tag
// (min/max and dictionary) and that rows are still filtered exactly.
func TestSegmentPruning(t *testing.T) {
	root := t.TempDir()
	tbl := &schema.Table{ID: 1, TenantID: 1, Database: "db", Name: "cpu",
		TagKeys: []string{"host", "zone"},
		Fields:  []schema.Field{{ID: 1, Name: "v", Type: schema.TypeInt}}}
	day := int32(20000)
	t0, _ := DayRange(day)
	// 4 hosts x 100 points, 50 rows per row group: each group holds half of
	// one host's day, so host min/max prunes exactly.
	var rows []inRow
	for h := range 4 {
		tags := []string{"host", fmt.Sprintf("h%d", h), "zone", []string{"x", "z", "x", "y"}[h]}
		for i := range 100 {
			rows = append(rows, inRow{tags, t0 + int64(i)*1e9, []FieldValue{{ID: 1, Type: schema.TypeInt, I: int64(h*1000 + i)}}})
		}
	}
	rel, st := writeTestSegment(t, root, tbl, day, 3, rows, &SegmentWriterOptions{RowGroupRows: 50})
	if st.RowGroups != 8 {
		t.Fatalf("%d row groups", st.RowGroups)
	}
	// The same rows in groups of 200: {h0 x, h1 z} and {h2 x, h3 y}. zone=y
	// is inside [x, z] in both, so only the dictionary prunes the first.
	relBig, _ := writeTestSegment(t, root, tbl, day, 4, rows, &SegmentWriterOptions{RowGroupRows: 200})
	big, err := OpenSegment(segmentAbsPath(root, relBig))
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	n := 0
	bst, err := big.Scan(SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"zone", "y"}}}, func([]string, int64, []FieldValue) error { n++; return nil })
	if err != nil || n != 100 || bst.Scanned != 1 || bst.Pruned != 1 {
		t.Fatalf("zone=y by dictionary: %d rows, %+v, %v", n, bst, err)
	}
	seg, err := OpenSegment(segmentAbsPath(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	count := func(q SegmentQuery) (int, int64, SegmentScanStats) {
		n, sum := 0, int64(0)
		st, err := seg.Scan(q, func(tags []string, ts int64, fields []FieldValue) error {
			n++
			for _, f := range fields {
				sum += f.I
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, sum, st
	}
	for _, tc := range []struct {
		name          string
		q             SegmentQuery
		rows, scanned int
		pruned        int
	}{
		{"all", AllTime, 400, 8, 0},
		{"first half of the day by time", SegmentQuery{MinTime: t0, MaxTime: t0 + 49e9}, 200, 4, 4},
		{"time inside second halves", SegmentQuery{MinTime: t0 + 60e9, MaxTime: t0 + 70e9}, 44, 4, 4},
		{"host by min/max", SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"host", "h2"}}}, 100, 2, 6},
		{"zone by min/max", SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"zone", "z"}}}, 100, 2, 6},
		{"absent tag value", SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"host", "h9"}}}, 0, 0, 8},
		{"absent tag key", SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"rack", "1"}}}, 0, 0, 8},
		{"time outside the segment", SegmentQuery{MinTime: t0 - 10, MaxTime: t0 - 1}, 0, 0, 8},
		{"host and time", SegmentQuery{MinTime: t0 + 10e9, MaxTime: t0 + 19e9, Tags: []TagMatch{{"host", "h3"}}}, 10, 1, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, _, st := count(tc.q)
			if n != tc.rows || st.Scanned != tc.scanned || st.Pruned != tc.pruned || st.RowGroups != 8 {
				t.Fatalf("rows %d scanned %d pruned %d; want %d %d %d", n, st.Scanned, st.Pruned, tc.rows, tc.scanned, tc.pruned)
			}
		})
	}
	_, sum, _ := count(SegmentQuery{MinTime: math.MinInt64, MaxTime: math.MaxInt64, Tags: []TagMatch{{"host", "h1"}}})
	if sum != 100*1000+99*100/2 {
		t.Fatalf("sum of h1 = %d", sum)
	}
	// ScanColumn agrees with Scan, on whole row groups (page path) and on
	// partly covered or tag-filtered ones (row path).
	for _, q := range []SegmentQuery{
		AllTime,
		{MinTime: t0 + 10e9, MaxTime: t0 + 75e9},
		{MinTime: t0 + 10e9, MaxTime: t0 + 75e9, Tags: []TagMatch{{"zone", "x"}}},
	} {
		n, want, _ := count(q)
		var got, rows int64
		st, err := seg.ScanColumn(1, q, func(b *ColumnBatch) error {
			rows += int64(b.Rows)
			for _, v := range b.I {
				got += v
			}
			return nil
		})
		if err != nil || got != want || rows != int64(n) || st.Rows != int64(n) {
			t.Fatalf("ScanColumn(%+v): sum %d rows %d (%+v, %v), want %d %d", q, got, rows, st, err, want, n)
		}
	}
}
