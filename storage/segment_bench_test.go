package storage

import (
	"cmp"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/fineod/fineod/schema"
)

// The TSBS DevOps "cpu" shape: per host 10 tags and 10 integer usage
// fields (random walks in [0, 100]), one row every 10 s. One partition =
// one day = 8640 rows per host.
var (
	devopsTagKeys = []string{"arch", "datacenter", "hostname", "os", "rack", "region", "service", "service_environment", "service_version", "team"}
	devopsFields  = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
)

const devopsStep = int64(10e9)

func devopsTable() *schema.Table {
	tbl := &schema.Table{ID: 1, TenantID: 1, Database: "benchmark", Name: "cpu", TagKeys: devopsTagKeys}
	for i, f := range devopsFields {
		tbl.Fields = append(tbl.Fields, schema.Field{ID: uint32(i + 1), Name: f, Type: schema.TypeInt})
	}
	return tbl
}

type devopsHost struct {
	tags []string // sorted by key
	key  string
	seed uint64
}

func devopsHosts(n int) []devopsHost {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	var hosts []devopsHost
	for i := range n {
		region := pick("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1")
		vals := map[string]string{
			"arch": pick("x64", "x86"), "datacenter": region + pick("a", "b", "c"), "hostname": "host_" + strconv.Itoa(i),
			"os": pick("Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"), "rack": strconv.Itoa(r.IntN(100)), "region": region,
			"service": strconv.Itoa(r.IntN(20)), "service_environment": pick("production", "staging", "test"),
			"service_version": strconv.Itoa(r.IntN(2)), "team": pick("SF", "NYC", "LON", "CHI"),
		}
		var tags []string
		for _, k := range devopsTagKeys {
			tags = append(tags, k, vals[k])
		}
		hosts = append(hosts, devopsHost{tags: tags, key: string(appendTagString(nil, tags)), seed: uint64(i)})
	}
	slices.SortFunc(hosts, func(a, b devopsHost) int { return cmp.Compare(a.key, b.key) })
	return hosts
}

// writeDevopsSegment writes hosts x one day of the cpu shape and returns
// the file's path, rows and size.
func writeDevopsSegment(tb testing.TB, dir string, hosts int, opts *SegmentWriterOptions) (string, int64, int64) {
	tbl := devopsTable()
	day := int32(19000)
	rel := SegmentRelPath("default", tbl.Database, tbl.Name, day, 1)
	f, err := CreateSegmentFile(dir, rel, tbl, day, nil, nil, opts)
	if err != nil {
		tb.Fatal(err)
	}
	t0, _ := DayRange(day)
	fields := make([]FieldValue, len(devopsFields))
	for _, h := range devopsHosts(hosts) {
		r := rand.New(rand.NewPCG(h.seed, 7))
		var walk [10]float64
		for i := range walk {
			walk[i] = r.Float64() * 100
		}
		for ts := t0; ts < t0+dayNanos; ts += devopsStep {
			for i := range fields {
				walk[i] = min(100, max(0, walk[i]+r.NormFloat64()))
				fields[i] = FieldValue{ID: uint32(i + 1), Type: schema.TypeInt, I: int64(walk[i])}
			}
			if err := f.Add(h.tags, ts, fields); err != nil {
				tb.Fatal(err)
			}
		}
	}
	st, err := f.Publish()
	if err != nil {
		tb.Fatal(err)
	}
	return segmentAbsPath(dir, rel), st.Rows, st.Bytes
}

// BenchmarkSegmentWriteDevOps writes 100 hosts x 1 day of TSBS DevOps cpu
// rows (864,000 rows, 8.64M field values) and reports the file's bytes per
// field value.
func BenchmarkSegmentWriteDevOps(b *testing.B) {
	dir := b.TempDir()
	b.ReportAllocs()
	var rows, size int64
	for i := 0; i < b.N; i++ {
		os.RemoveAll(filepath.Join(dir, segmentsDirName))
		_, rows, size = writeDevopsSegment(b, dir, 100, nil)
	}
	values := rows * int64(len(devopsFields))
	b.ReportMetric(float64(size)/float64(values), "bytes/value")
	b.ReportMetric(float64(size), "file-bytes")
	b.ReportMetric(float64(rows*int64(b.N))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSegmentScanSum sums one field column over every row group of the
// DevOps segment (ScanColumn, page path) and reports values per second.
func BenchmarkSegmentScanSum(b *testing.B) {
	path, rows, _ := writeDevopsSegment(b, b.TempDir(), 100, nil)
	seg, err := OpenSegment(path)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Close()
	b.ReportAllocs()
	b.ResetTimer()
	var sum int64
	for i := 0; i < b.N; i++ {
		sum = 0
		_, err := seg.ScanColumn(1, AllTime, func(c *ColumnBatch) error {
			for _, v := range c.I {
				sum += v
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*int64(b.N))/b.Elapsed().Seconds(), "values/s")
	b.SetBytes(rows * 8)
	if sum == 0 {
		b.Fatal("empty sum")
	}
}

// BenchmarkSegmentScanRows reads every row of the DevOps segment through
// the row iterator (tags, time, all 10 fields), the path compaction and
// merged reads use.
func BenchmarkSegmentScanRows(b *testing.B) {
	path, rows, _ := writeDevopsSegment(b, b.TempDir(), 100, nil)
	seg, err := OpenSegment(path)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := int64(0)
		if _, err := seg.Scan(AllTime, func(tags []string, t int64, fields []FieldValue) error {
			n += int64(len(fields))
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != rows*10 {
			b.Fatalf("%d values", n)
		}
	}
	b.ReportMetric(float64(rows*10*int64(b.N))/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkSegmentSeriesHour reads one field of one series over one hour,
// a new series and hour each time, with the decoded-column cache off: the
// cold read of a dashboard panel over history.
func BenchmarkSegmentSeriesHour(b *testing.B) {
	path, _, _ := writeDevopsSegment(b, b.TempDir(), 100, nil)
	seg, err := OpenSegment(path)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Close()
	hosts := devopsHosts(100)
	t0, _ := DayRange(19000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := hosts[i*37%len(hosts)]
		lo := t0 + int64(i%23)*3600e9
		it := seg.Rows(SegmentQuery{MinTime: lo, MaxTime: lo + 3600e9 - 1, Fields: []uint32{1}, Series: []string{h.key}, NoCache: true})
		n := 0
		for it.Next() {
			if _, ok := it.Field(1); ok {
				n++
			}
		}
		if err := it.Err(); err != nil || n != 360 {
			b.Fatal(n, err)
		}
		it.Close()
	}
}
