package lineprotocol

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

var (
	cpuTagKeys = []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team",
		"service", "service_version", "service_environment"}
	cpuFieldKeys = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	regions = []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1",
		"ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
)

// makeCPUBody returns n lines shaped like the TSBS DevOps "cpu" measurement:
// 10 tags in TSBS order (not sorted), 10 usage fields (integers as TSBS
// writes them, or floats with full precision) and a nanosecond timestamp.
// Hosts repeat every 1000 lines, like a TSBS run with 1000 hosts.
func makeCPUBody(n int, floats bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var (
		buf    []byte
		tags   = make([]Tag, len(cpuTagKeys))
		fields = make([]Field, len(cpuFieldKeys))
		err    error
	)
	for i := 0; i < n; i++ {
		host := i % 1000
		region := regions[host%len(regions)]
		values := []string{
			"host_" + strconv.Itoa(host), region, region + string(rune('a'+host%3)),
			strconv.Itoa(host % 100), []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}[host%3],
			[]string{"x64", "x86"}[host%2], []string{"SF", "NYC", "LON", "CHI"}[host%4],
			strconv.Itoa(host % 20), strconv.Itoa(host % 2), []string{"production", "staging", "test"}[host%3],
		}
		for j, k := range cpuTagKeys {
			tags[j] = Tag{Key: []byte(k), Value: []byte(values[j])}
		}
		for j, k := range cpuFieldKeys {
			if floats {
				fields[j] = Field{Key: []byte(k), Type: Float, F: r.Float64() * 100}
			} else {
				fields[j] = Field{Key: []byte(k), Type: Int, I: r.Int64N(100)}
			}
		}
		if buf, err = AppendPoint(buf, []byte("cpu"), tags, fields, 1451606400000000000+int64(i/1000)*10e9); err != nil {
			panic(err)
		}
	}
	return buf
}

func benchmarkParse(b *testing.B, body []byte, lines int) {
	var p Parser
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset(body, Nanosecond, 0)
		for p.Next() {
			if p.Err() != nil {
				b.Fatal(p.Err())
			}
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseCPU parses TSBS DevOps cpu lines with integer fields, as
// TSBS generates them.
func BenchmarkParseCPU(b *testing.B) {
	benchmarkParse(b, makeCPUBody(10000, false), 10000)
}

// BenchmarkParseCPUFloat is BenchmarkParseCPU with full-precision floats.
func BenchmarkParseCPUFloat(b *testing.B) {
	benchmarkParse(b, makeCPUBody(10000, true), 10000)
}

// BenchmarkParseEscaped parses lines that need unescaping and hold strings.
func BenchmarkParseEscaped(b *testing.B) {
	var body []byte
	for i := 0; i < 10000; i++ {
		body = append(body, "we\\ ather,lo\\,c=us\\ west,z=1 te\\=mp=82.5,msg=\"a \\\"b\\\"\",n=3i,ok=t 1465839830100400200\n"...)
	}
	benchmarkParse(b, body, 10000)
}

func BenchmarkAppendPoint(b *testing.B) {
	body := makeCPUBody(1, false)
	var p Parser
	p.Reset(body, Nanosecond, 0)
	p.Next()
	m, tags, fields, t := p.Measurement(), p.Tags(), p.Fields(), p.Time()
	var dst []byte
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendPoint(dst[:0], m, tags, fields, t)
	}
}
