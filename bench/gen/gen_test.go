package gen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"
)

func small(uc UseCase) Config {
	c := DefaultConfig()
	c.UseCase = uc
	c.Scale = 7
	c.Duration = 10 * time.Minute
	return c
}

func TestDeterministic(t *testing.T) {
	for _, uc := range []UseCase{CPUOnly, IoT} {
		c := small(uc)
		a, err := Bytes(c)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Bytes(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: same seed gave different bytes", uc)
		}
		// WriteTo must give the same bytes as Bytes.
		g, _ := New(c)
		var buf bytes.Buffer
		n, err := g.WriteTo(&buf)
		if err != nil || n != int64(len(a)) || !bytes.Equal(buf.Bytes(), a) {
			t.Fatalf("%s: WriteTo differs from Bytes (n=%d err=%v)", uc, n, err)
		}
		c.Seed++
		d, _ := Bytes(c)
		if bytes.Equal(a, d) {
			t.Fatalf("%s: different seeds gave identical bytes", uc)
		}
	}
}

// TestGolden pins the output of the default seed so that a change to the
// generator that alters the data set is noticed (benchmark results are only
// comparable on identical data).
func TestGolden(t *testing.T) {
	c := small(CPUOnly)
	c.Scale = 2
	c.Duration = 20 * time.Second
	b, _ := Bytes(c)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines", len(lines))
	}
	if !strings.HasPrefix(lines[0], "cpu,hostname=host_0,region=") || !strings.HasSuffix(lines[0], " 1451606400000000000") {
		t.Errorf("line 0 = %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "cpu,hostname=host_1,") || !strings.HasSuffix(lines[1], " 1451606400000000000") {
		t.Errorf("line 1 = %q", lines[1])
	}
	if !strings.HasSuffix(lines[3], " 1451606410000000000") {
		t.Errorf("line 3 = %q", lines[3])
	}
	// Pinned digests: if one changes, the data set changed and results measured
	// before the change are no longer comparable. Update RESULTS.md when you
	// change them on purpose.
	pins := map[UseCase]string{
		CPUOnly: "a26c35f300d1ade20b50d1fc803ad2bbd3ccb2bd404aa9e3af3531d17ec37650",
		IoT:     "5ce3768b76bf9e2884b2779eae6cd2cfcf6417debd94ebfaabad5fbd3e55ee73",
	}
	for uc, want := range pins {
		b, _ := Bytes(small(uc))
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != want {
			t.Errorf("%s: sha256 %s, want %s", uc, got, want)
		}
	}
	if testing.Short() {
		return
	}
	full, _ := Bytes(DefaultConfig())
	const wantFull = "12cbc92bcf5ab58f4f86e5e5a6c1d6fdbf4653b29d01dde4a68b6e2494e8024a"
	if got := fmt.Sprintf("%x", sha256.Sum256(full)); got != wantFull || len(full) != 298438704 {
		t.Errorf("default data set: %d bytes, sha256 %s; want 298438704 bytes, %s", len(full), got, wantFull)
	}
}

func TestRowsAndParse(t *testing.T) {
	for _, uc := range []UseCase{CPUOnly, IoT} {
		c := small(uc)
		b, err := Bytes(c)
		if err != nil {
			t.Fatal(err)
		}
		var rows, values int64
		meas := map[string]int{}
		hosts := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		var lastTS int64
		for sc.Scan() {
			l, err := Parse(sc.Bytes())
			if err != nil {
				t.Fatalf("%s line %d %q: %v", uc, rows+1, sc.Text(), err)
			}
			n, err := CountFields(sc.Bytes())
			if err != nil || n != len(l.Fields) {
				t.Fatalf("CountFields = %d, %v; Parse found %d", n, err, len(l.Fields))
			}
			rows++
			values += int64(len(l.Fields))
			meas[l.Measurement]++
			if !l.HasTimestamp {
				t.Fatalf("no timestamp: %q", sc.Text())
			}
			if l.Timestamp < lastTS {
				t.Fatalf("timestamps go backwards at row %d", rows)
			}
			lastTS = l.Timestamp
			if (l.Timestamp-DefaultStart.UnixNano())%int64(c.Interval) != 0 {
				t.Fatalf("timestamp %d not on the interval grid", l.Timestamp)
			}
			hosts[l.Tags[0].Value] = true
			switch l.Measurement {
			case "cpu":
				if len(l.Tags) != 10 || len(l.Fields) != 10 {
					t.Fatalf("cpu: %d tags, %d fields", len(l.Tags), len(l.Fields))
				}
				if l.Tags[0].Key != "hostname" || l.Tags[9].Key != "service_environment" {
					t.Fatalf("cpu tags %v", l.Tags)
				}
				for _, f := range l.Fields {
					if !strings.HasSuffix(f.Value, "i") {
						t.Fatalf("cpu field %v is not an integer", f)
					}
				}
			case "readings":
				if len(l.Tags) != 8 || len(l.Fields) != 7 {
					t.Fatalf("readings: %d tags, %d fields", len(l.Tags), len(l.Fields))
				}
			case "diagnostics":
				if len(l.Tags) != 8 || len(l.Fields) != 3 {
					t.Fatalf("diagnostics: %d tags, %d fields", len(l.Tags), len(l.Fields))
				}
			default:
				t.Fatalf("unexpected measurement %q", l.Measurement)
			}
		}
		if rows != c.Rows() || values != c.Values() {
			t.Fatalf("%s: %d rows / %d values, want %d / %d", uc, rows, values, c.Rows(), c.Values())
		}
		if len(hosts) != c.Scale {
			t.Fatalf("%s: %d distinct entities, want %d", uc, len(hosts), c.Scale)
		}
		wantLast := DefaultStart.Add(c.Duration - c.Interval).UnixNano()
		if lastTS != wantLast {
			t.Fatalf("%s: last timestamp %d, want %d", uc, lastTS, wantLast)
		}
		if uc == IoT && (meas["readings"] != meas["diagnostics"] || meas["readings"] == 0) {
			t.Fatalf("iot measurement counts %v", meas)
		}
	}
}

func TestDefaultRows(t *testing.T) {
	c := DefaultConfig()
	if c.Rows() != 864000 || c.Values() != 8640000 {
		t.Fatalf("default: %d rows %d values", c.Rows(), c.Values())
	}
	c.Duration = 25 * time.Second // partial last interval still yields a row
	if c.Steps() != 3 {
		t.Fatalf("steps = %d", c.Steps())
	}
}

func TestCPUFloat(t *testing.T) {
	c := small(CPUOnly)
	c.CPUFloat = true
	b, _ := Bytes(c)
	line, _, _ := bytes.Cut(b, []byte("\n"))
	l, err := Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range l.Fields {
		if strings.HasSuffix(f.Value, "i") {
			t.Fatalf("float mode emitted integer %v", f)
		}
	}
}

func TestEscaping(t *testing.T) {
	var b []byte
	b = AppendMeasurement(b, "my meas,x=1")
	b = AppendTag(b, "tag key", "a=b,c d")
	b = AppendTag(b, "k", `back\slash`)
	b = append(b, ' ')
	b = AppendKey(b, "field,key=")
	b = append(b, '=')
	b = AppendStringValue(b, `say "hi" \o/`)
	b = append(b, ",n=-3i,u=4u,b=true,f=1.5e-3 123"...)
	want := `my\ meas\,x=1,tag\ key=a\=b\,c\ d,k=back\slash field\,key\==` + `"say \"hi\" \\o/",n=-3i,u=4u,b=true,f=1.5e-3 123`
	if string(b) != want {
		t.Fatalf("escaped:\n got %s\nwant %s", b, want)
	}
	l, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if l.Measurement != "my meas,x=1" {
		t.Errorf("measurement %q", l.Measurement)
	}
	if len(l.Tags) != 2 || l.Tags[0] != (KV{"tag key", "a=b,c d"}) || l.Tags[1] != (KV{"k", `back\slash`}) {
		t.Errorf("tags %q", l.Tags)
	}
	if len(l.Fields) != 5 || l.Fields[0] != (KV{"field,key=", `"say "hi" \o/"`}) {
		t.Errorf("fields %q", l.Fields)
	}
	if l.Timestamp != 123 {
		t.Errorf("timestamp %d", l.Timestamp)
	}
}

func TestParseRejects(t *testing.T) {
	bad := []string{
		"",
		"cpu",
		"cpu,host=a",
		"cpu usage",
		"cpu,host usage=1 1",
		"cpu,=a usage=1 1",
		"cpu, usage=1 1",
		"cpu usage=abc 1",
		"cpu usage=1 12x",
		`cpu s="open 1`,
		"cpu usage=1i2 1",
		",host=a usage=1 1",
	}
	for _, s := range bad {
		if _, err := Parse([]byte(s)); err == nil {
			t.Errorf("Parse(%q) accepted a bad line", s)
		}
	}
	good := []string{
		"cpu usage=1",
		"cpu usage=1 1",
		"cpu,host=a usage=1,x=2i,y=-3,z=F,s=\"a b,c\" -5",
		"cpu usage=.5",
	}
	for _, s := range good {
		if _, err := Parse([]byte(s)); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
}

func BenchmarkGenerateCPU(b *testing.B) {
	c := DefaultConfig()
	c.Duration = time.Hour
	all, _ := Bytes(c)
	b.SetBytes(int64(len(all)))
	b.ReportAllocs()
	for b.Loop() {
		g, _ := New(c)
		buf := make([]byte, 0, 1024)
		for {
			var ok bool
			buf, ok = g.AppendNext(buf[:0])
			if !ok {
				break
			}
		}
	}
}
