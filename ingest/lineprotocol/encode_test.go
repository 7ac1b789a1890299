package lineprotocol

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestAppendPoint(t *testing.T) {
	tests := map[string]struct {
		m      string
		tags   []Tag
		fields []Field
		want   string
	}{
		"plain": {"cpu", []Tag{{[]byte("host"), []byte("a")}},
			[]Field{{Key: []byte("v"), Type: Float, F: 1.5}}, "cpu,host=a v=1.5 7\n"},
		"all types": {"m", nil, []Field{
			{Key: []byte("f"), Type: Float, F: 1},
			{Key: []byte("i"), Type: Int, I: -3},
			{Key: []byte("u"), Type: Uint, U: math.MaxUint64},
			{Key: []byte("s"), Type: String, S: []byte(`a "q" \ b`)},
			{Key: []byte("b"), Type: Bool, B: true},
			{Key: []byte("c"), Type: Bool},
		}, `m f=1,i=-3i,u=18446744073709551615u,s="a \"q\" \\ b",b=true,c=false 7` + "\n"},
		"float forms": {"m", nil, []Field{
			{Key: []byte("a"), Type: Float, F: 1e21},
			{Key: []byte("b"), Type: Float, F: -1e-7},
			{Key: []byte("c"), Type: Float, F: math.Copysign(0, -1)},
		}, "m a=1e+21,b=-1e-07,c=-0 7\n"},
		"escapes": {"a b,c=d", []Tag{{[]byte("k ,="), []byte("v ,=")}},
			[]Field{{Key: []byte("f ,="), Type: Int, I: 1}}, `a\ b\,c=d,k\ \,\==v\ \,\= f\ \,\==1i 7` + "\n"},
		"backslashes": {`C:\dir\`, []Tag{{[]byte(`a\\b`), []byte(`x\,`)}},
			[]Field{{Key: []byte(`k\`), Type: Int, I: 1}}, `C:\dir\\,a\\\b=x\\\, k\\=1i 7` + "\n"},
		"newline in string": {"m", nil, []Field{{Key: []byte("s"), Type: String, S: []byte("a\nb")}},
			"m s=\"a\nb\" 7\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AppendPoint([]byte("prefix\n"), []byte(tc.m), tc.tags, tc.fields, 7)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix\n"+tc.want {
				t.Fatalf("got  %q\nwant %q", got, "prefix\n"+tc.want)
			}
			var p Parser
			p.Reset(got, Nanosecond, 0)
			p.Next() // prefix: missing fields
			if !p.Next() || p.Err() != nil {
				t.Fatalf("reparse: %v", p.Err())
			}
			if p.LineNumber() != 2 || string(p.Measurement()) != tc.m || p.Time() != 7 ||
				!equalTags(p.Tags(), sortedCopy(tc.tags)) || !equalFields(p.Fields(), tc.fields) {
				t.Errorf("reparse gave %s", describe(&p))
			}
		})
	}
}

func TestAppendPointRejects(t *testing.T) {
	one := []Field{{Key: []byte("v"), Type: Float, F: 1}}
	tests := map[string]struct {
		m      string
		tags   []Tag
		fields []Field
	}{
		"empty measurement":      {"", nil, one},
		"comment measurement":    {"#m", nil, one},
		"tab measurement":        {"\tm", nil, one},
		"newline in measurement": {"a\nb", nil, one},
		"no fields":              {"m", nil, nil},
		"empty tag key":          {"m", []Tag{{nil, []byte("v")}}, one},
		"empty tag value":        {"m", []Tag{{[]byte("k"), nil}}, one},
		"tag named time":         {"m", []Tag{{[]byte("time"), []byte("v")}}, one},
		"newline in tag":         {"m", []Tag{{[]byte("k"), []byte("a\nb")}}, one},
		"empty field key":        {"m", nil, []Field{{Type: Int}}},
		"field named time":       {"m", nil, []Field{{Key: []byte("time"), Type: Int}}},
		"newline in field key":   {"m", nil, []Field{{Key: []byte("a\n"), Type: Int}}},
		"NaN":                    {"m", nil, []Field{{Key: []byte("v"), Type: Float, F: math.NaN()}}},
		"infinity":               {"m", nil, []Field{{Key: []byte("v"), Type: Float, F: math.Inf(-1)}}},
		"zero type":              {"m", nil, []Field{{Key: []byte("v")}}},
		"unknown type":           {"m", nil, []Field{{Key: []byte("v"), Type: Bool + 1}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendPoint(dst, []byte(tc.m), tc.tags, tc.fields, 0)
			if !errors.Is(err, ErrUnencodable) {
				t.Errorf("err = %v, want ErrUnencodable", err)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed to %q", got)
			}
		})
	}
}

// TestRoundTripValidLines re-encodes every valid line of TestParseValid and
// checks that it parses to the same point.
func TestRoundTripValidLines(t *testing.T) {
	for _, in := range []string{
		`cpu,host=a,region=eu v=1 5`, `c\,pu,a\ b=c\,d,e\=f=g\=h a\ b=1,c\,d=2,e\=f=3`,
		`c\\ v=1`, `c\pu,x\y=\z v="\\\"" 1`, "m s=\"a\r\nb\" 1", `m a=1,b=2i,c=3u,d="x",e=t 7`,
		`m,t="x" a"b=1,c=-0,d=1e-300,e=18446744073709551615u,f=-9223372036854775808i`,
		`"m",t=x\ v=FALSE`, `m\  v=1`,
	} {
		checkRoundTrip(t, []byte(in))
	}
}

// checkRoundTrip parses body and checks that every point it yields encodes to
// a line that parses back to the same point.
func checkRoundTrip(t *testing.T, body []byte) {
	t.Helper()
	var p, q Parser
	p.Reset(body, Nanosecond, 99)
	var enc []byte
	lastLine := 0
	for p.Next() {
		if p.LineNumber() <= lastLine {
			t.Fatalf("line numbers not increasing: %d after %d", p.LineNumber(), lastLine)
		}
		lastLine = p.LineNumber()
		if p.Err() != nil {
			continue
		}
		tags, fields := p.Tags(), p.Fields()
		for i := 1; i < len(tags); i++ {
			if bytes.Compare(tags[i-1].Key, tags[i].Key) >= 0 {
				t.Fatalf("%q: tags not sorted and unique: %s", p.Raw(), describe(&p))
			}
		}
		for i := range fields {
			for j := i + 1; j < len(fields); j++ {
				if bytes.Equal(fields[i].Key, fields[j].Key) {
					t.Fatalf("%q: duplicate field %q", p.Raw(), fields[i].Key)
				}
			}
		}
		var err error
		enc, err = AppendPoint(enc[:0], p.Measurement(), tags, fields, p.Time())
		if err != nil {
			t.Fatalf("%q: parsed %s but cannot encode it: %v", p.Raw(), describe(&p), err)
		}
		q.Reset(enc, Nanosecond, 0)
		if !q.Next() || q.Err() != nil {
			t.Fatalf("%q: encoded as %q which does not parse: %v", p.Raw(), enc, q.Err())
		}
		if !bytes.Equal(q.Measurement(), p.Measurement()) || !equalTags(q.Tags(), tags) ||
			!equalFields(q.Fields(), fields) || q.Time() != p.Time() {
			t.Fatalf("%q: round trip through %q\n got %s\nwant %s", p.Raw(), enc, describe(&q), describe(&p))
		}
		if q.Next() {
			t.Fatalf("%q: encoded as %q which holds more than one line", p.Raw(), enc)
		}
	}
}

func equalTags(a, b []Tag) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func equalFields(a, b []Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !bytes.Equal(x.Key, y.Key) || x.Type != y.Type || math.Float64bits(x.F) != math.Float64bits(y.F) ||
			x.I != y.I || x.U != y.U || !bytes.Equal(x.S, y.S) || x.B != y.B {
			return false
		}
	}
	return true
}

func sortedCopy(tags []Tag) []Tag {
	c := append([]Tag(nil), tags...)
	sortTags(c)
	return c
}

func TestRoundTripGenerated(t *testing.T) {
	checkRoundTrip(t, makeCPUBody(50, true))
	checkRoundTrip(t, []byte(strings.Repeat("we\\ ather,lo\\,c=us\\ west,z=1 te\\=mp=82.5,msg=\"a \\\"b\\\"\" 1\n", 3)))
}
