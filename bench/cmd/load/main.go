// Command load posts line protocol to an HTTP write endpoint (InfluxDB v1
// /write?db=, InfluxDB v2 /api/v2/write?bucket=, or anything compatible) with a
// fixed batch size and a fixed number of concurrent workers, and reports the
// ingest rate.
//
// The data comes from a file (made by bench/cmd/gen or any other tool) or is
// generated in memory. Either way it is read, split into batches and, with
// -gzip, compressed before the clock starts, so only sending and the server's
// work are timed. Failed batches are counted and not retried.
//
//	go run ./bench/cmd/load -file /tmp/cpu.lp \
//	    -url 'http://127.0.0.1:8086/write?db=benchmark&precision=ns'
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fineod/fineod/bench/gen"
)

type options struct {
	file    string
	url     string
	name    string
	batch   int
	workers int
	gzip    bool
	token   string
	timeout time.Duration
	format  string
	quiet   bool
}

type batch struct {
	body   []byte // what is sent (compressed with -gzip)
	raw    int    // uncompressed size
	rows   int
	values int
}

// Result is what one run measured; -json prints it.
type Result struct {
	Name          string  `json:"name,omitempty"`
	URL           string  `json:"url"`
	BatchSize     int     `json:"batch_size"`
	Workers       int     `json:"workers"`
	Gzip          bool    `json:"gzip"`
	Batches       int     `json:"batches"`
	FailedBatches int     `json:"failed_batches"`
	Rows          int64   `json:"rows"`
	Values        int64   `json:"values"`
	FailedRows    int64   `json:"failed_rows"`
	Bytes         int64   `json:"bytes"`
	WireBytes     int64   `json:"wire_bytes"`
	WallSeconds   float64 `json:"wall_seconds"`
	RowsPerSec    float64 `json:"rows_per_sec"`
	ValuesPerSec  float64 `json:"values_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	LatencyP50ms  float64 `json:"batch_latency_p50_ms"`
	LatencyP99ms  float64 `json:"batch_latency_p99_ms"`
	LatencyMaxms  float64 `json:"batch_latency_max_ms"`
	ClientCPUSec  float64 `json:"client_cpu_seconds"`  // the loader's own CPU time while timed
	MachineCPUSec float64 `json:"machine_cpu_seconds"` // all processes' CPU time while timed (Linux; 0 elsewhere)
	StealSec      float64 `json:"steal_seconds"`       // CPU time the hypervisor took while timed
	FirstError    string  `json:"first_error,omitempty"`
}

func main() {
	cfg := gen.DefaultConfig()
	var o options
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	fs.StringVar(&o.file, "file", "", "line-protocol file to load (- for standard input); empty: generate with the data set flags")
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8086/write?db=benchmark&precision=ns", "write URL: .../write?db=NAME or .../api/v2/write?bucket=NAME, with precision=ns")
	fs.StringVar(&o.name, "name", "", "label for the report")
	fs.IntVar(&o.batch, "batch", 5000, "lines per request")
	fs.IntVar(&o.workers, "workers", 2, "concurrent requests")
	fs.BoolVar(&o.gzip, "gzip", false, "gzip request bodies (compressed before timing)")
	fs.StringVar(&o.token, "token", "", "send 'Authorization: Token TOKEN' (InfluxDB v2 style)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per-request timeout")
	fs.StringVar(&o.format, "format", "text", "result format: text, json (one object) or tsv (header and one row)")
	jsonOut := fs.Bool("json", false, "same as -format json")
	fs.BoolVar(&o.quiet, "q", false, "no progress messages on standard error")
	cfg.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: load [flags]\n\nData set flags (-use-case, -scale, ...) apply only without -file.\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if *jsonOut {
		o.format = "json"
	}
	if fs.NArg() > 0 || o.batch <= 0 || o.workers <= 0 || (o.format != "text" && o.format != "json" && o.format != "tsv") {
		fs.Usage()
		os.Exit(2)
	}
	res, err := run(cfg, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	switch o.format {
	case "json":
		_ = json.NewEncoder(os.Stdout).Encode(res)
	case "tsv":
		printTSV(os.Stdout, res)
	default:
		printText(os.Stdout, res)
	}
	if res.FailedBatches > 0 {
		os.Exit(3)
	}
}

func logf(o options, format string, args ...any) {
	if !o.quiet {
		fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	}
}

func run(cfg gen.Config, o options) (*Result, error) {
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/write") {
		return nil, fmt.Errorf("url path %q: want .../write or .../api/v2/write", u.Path)
	}

	t0 := time.Now()
	var data []byte
	switch o.file {
	case "":
		data, err = gen.Bytes(cfg)
		logf(o, "generated %s scale=%d duration=%s seed=%d: %d bytes in %s", cfg.UseCase, cfg.Scale, cfg.Duration, cfg.Seed, len(data), time.Since(t0).Round(time.Millisecond))
	case "-":
		data, err = io.ReadAll(os.Stdin)
	default:
		data, err = os.ReadFile(o.file)
	}
	if err != nil {
		return nil, err
	}
	batches, bad, err := split(data, o.batch, o.gzip)
	if err != nil {
		return nil, err
	}
	if bad != "" {
		logf(o, "warning: local check rejected a line (sent anyway): %s", bad)
	}
	if len(batches) == 0 {
		return nil, errors.New("no lines to load")
	}
	logf(o, "prepared %d batches of up to %d lines in %s; posting with %d workers to %s", len(batches), o.batch, time.Since(t0).Round(time.Millisecond), o.workers, o.url)
	return post(batches, o), nil
}

// split cuts data into batches of n lines, skipping empty and comment lines,
// and counts rows and field values with the local checker.
func split(data []byte, n int, gz bool) ([]batch, string, error) {
	var out []batch
	var firstBad string
	start := 0 // start of the current batch
	var cur batch
	flush := func(end int) error {
		if cur.rows == 0 {
			return nil
		}
		raw := data[start:end]
		cur.raw = len(raw)
		cur.body = raw
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			if _, err := zw.Write(raw); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			cur.body = buf.Bytes()
		}
		out = append(out, cur)
		cur = batch{}
		return nil
	}
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(data)
		}
		line := bytes.TrimSuffix(data[pos:end], []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			if cur.rows == 0 {
				start = next
			}
			pos = next
			continue
		}
		nf, err := gen.CountFields(line)
		if err != nil && firstBad == "" {
			firstBad = fmt.Sprintf("%v: %.200q", err, line)
		}
		cur.rows++
		cur.values += nf
		pos = next
		if cur.rows == n {
			if err := flush(pos); err != nil {
				return nil, "", err
			}
			start = pos
		}
	}
	if err := flush(len(data)); err != nil {
		return nil, "", err
	}
	return out, firstBad, nil
}

func post(batches []batch, o options) *Result {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        o.workers,
		MaxIdleConnsPerHost: o.workers,
		DisableCompression:  true,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{Transport: tr, Timeout: o.timeout}
	defer tr.CloseIdleConnections()

	res := &Result{Name: o.name, URL: o.url, BatchSize: o.batch, Workers: o.workers, Gzip: o.gzip, Batches: len(batches)}
	lat := make([]time.Duration, len(batches))
	failed := make([]bool, len(batches))
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup

	cpu0 := selfCPU()
	busy0, steal0 := machineCPU()
	start := time.Now()
	for range o.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(batches) {
					return
				}
				t := time.Now()
				msg := send(client, o, batches[i].body)
				lat[i] = time.Since(t)
				if msg != "" {
					failed[i] = true
					mu.Lock()
					if res.FirstError == "" {
						res.FirstError = fmt.Sprintf("batch %d: %s", i, msg)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	res.ClientCPUSec = selfCPU() - cpu0
	busy1, steal1 := machineCPU()
	res.MachineCPUSec, res.StealSec = busy1-busy0, steal1-steal0

	var okBytes int64
	for i, b := range batches {
		res.Bytes += int64(b.raw)
		res.WireBytes += int64(len(b.body))
		if !failed[i] {
			okBytes += int64(b.raw)
		}
		if failed[i] {
			res.FailedBatches++
			res.FailedRows += int64(b.rows)
			continue
		}
		res.Rows += int64(b.rows)
		res.Values += int64(b.values)
	}
	res.WallSeconds = wall.Seconds()
	res.RowsPerSec = float64(res.Rows) / res.WallSeconds
	res.ValuesPerSec = float64(res.Values) / res.WallSeconds
	res.MBPerSec = float64(okBytes) / 1e6 / res.WallSeconds // accepted bytes only, like rows/s
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.LatencyP50ms = ms(lat[len(lat)/2])
	res.LatencyP99ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	res.LatencyMaxms = ms(lat[len(lat)-1])
	return res
}

// selfCPU returns the user+system CPU seconds this process has used.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU returns the busy (user, nice, system, irq, softirq) and steal CPU
// seconds of the whole machine so far, from /proc/stat, assuming the usual 100
// ticks per second; zeros where /proc/stat is missing.
func machineCPU() (busy, steal float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	v := make([]float64, len(f))
	for i := 1; i < len(f); i++ {
		fmt.Sscan(f[i], &v[i])
	}
	const hz = 100
	return (v[1] + v[2] + v[3] + v[6] + v[7]) / hz, v[8] / hz
}

// send posts one body and returns "" on a 2xx answer, or a description of the
// failure (status and the start of the response body).
func send(client *http.Client, o options, body []byte) string {
	req, err := http.NewRequest(http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if o.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if o.token != "" {
		req.Header.Set("Authorization", "Token "+o.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return ""
}

func printText(w io.Writer, r *Result) {
	if r.Name != "" {
		fmt.Fprintf(w, "target:        %s\n", r.Name)
	}
	fmt.Fprintf(w, "url:           %s\n", r.URL)
	fmt.Fprintf(w, "batches:       %d x %d lines, %d workers, gzip=%v\n", r.Batches, r.BatchSize, r.Workers, r.Gzip)
	fmt.Fprintf(w, "rows:          %d (failed %d in %d batches)\n", r.Rows, r.FailedRows, r.FailedBatches)
	fmt.Fprintf(w, "values:        %d\n", r.Values)
	fmt.Fprintf(w, "wall time:     %.3f s\n", r.WallSeconds)
	fmt.Fprintf(w, "rows/s:        %.0f\n", r.RowsPerSec)
	fmt.Fprintf(w, "values/s:      %.0f\n", r.ValuesPerSec)
	fmt.Fprintf(w, "MB/s:          %.1f (line protocol, uncompressed; %.1f MB on the wire)\n", r.MBPerSec, float64(r.WireBytes)/1e6)
	fmt.Fprintf(w, "batch latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", r.LatencyP50ms, r.LatencyP99ms, r.LatencyMaxms)
	fmt.Fprintf(w, "CPU while timed: loader %.2f s, whole machine %.2f s (steal %.2f s)\n", r.ClientCPUSec, r.MachineCPUSec, r.StealSec)
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error:   %s\n", r.FirstError)
	}
}

func printTSV(w io.Writer, r *Result) {
	name := r.Name
	if name == "" {
		name = "-"
	}
	fmt.Fprintln(w, "name\trows\tvalues\tfailed_batches\twall_s\trows_per_s\tvalues_per_s\tmb_per_s\tp50_ms\tp99_ms\tfirst_error\tclient_cpu_s\tmachine_cpu_s\tsteal_s")
	firstErr := strings.Join(strings.Fields(r.FirstError), " ")
	if firstErr == "" {
		firstErr = "-"
	}
	fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.3f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%s\t%.2f\t%.2f\t%.2f\n", name, r.Rows, r.Values, r.FailedBatches,
		r.WallSeconds, r.RowsPerSec, r.ValuesPerSec, r.MBPerSec, r.LatencyP50ms, r.LatencyP99ms, firstErr, r.ClientCPUSec, r.MachineCPUSec, r.StealSec)
}
