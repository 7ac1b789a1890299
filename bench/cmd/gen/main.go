// Command gen writes a deterministic benchmark data set (TSBS-style DevOps cpu
// or IoT trucks) in InfluxDB line protocol to a file or to standard output.
//
//	go run ./bench/cmd/gen -use-case cpu-only -scale 100 -duration 24h -o /tmp/cpu.lp
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/fineod/fineod/bench/gen"
)

func main() {
	cfg := gen.DefaultConfig()
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	cfg.RegisterFlags(fs)
	out := fs.String("o", "-", "output file; - for standard output")
	quiet := fs.Bool("q", false, "do not print a summary to standard error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gen [flags]\n\nWrites line protocol, one row per line.\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	if err := run(cfg, *out, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(cfg gen.Config, out string, quiet bool) error {
	g, err := gen.New(cfg)
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		f, err = os.Create(out)
		if err != nil {
			return err
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 4<<20)
	t0 := time.Now()
	n, err := g.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	if !quiet {
		fmt.Fprintf(os.Stderr, "gen: %s scale=%d start=%s duration=%s interval=%s seed=%d: %d rows, %d values, %d bytes in %s\n",
			cfg.UseCase, cfg.Scale, cfg.Start.Format(time.RFC3339), cfg.Duration, cfg.Interval, cfg.Seed,
			cfg.Rows(), cfg.Values(), n, time.Since(t0).Round(time.Millisecond))
	}
	return nil
}
