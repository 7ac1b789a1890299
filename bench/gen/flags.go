package gen

import (
	"flag"
	"time"
)

// RegisterFlags adds the generator's options to fs, with c's current values as
// defaults; parsing fs updates c.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Func("use-case", "data set: cpu-only (DevOps cpu) or iot (trucks) (default "+string(c.UseCase)+")", func(s string) error {
		uc, err := ParseUseCase(s)
		c.UseCase = uc
		return err
	})
	fs.IntVar(&c.Scale, "scale", c.Scale, "number of hosts (cpu-only) or trucks (iot)")
	fs.Func("start", "first timestamp, RFC 3339 (default "+c.Start.Format(time.RFC3339)+")", func(s string) error {
		t, err := time.Parse(time.RFC3339Nano, s)
		c.Start = t
		return err
	})
	fs.DurationVar(&c.Duration, "duration", c.Duration, "time span to generate")
	fs.DurationVar(&c.Interval, "interval", c.Interval, "time between two rows of one host or truck")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed; the same seed gives the same bytes")
	fs.BoolVar(&c.CPUFloat, "cpu-float", c.CPUFloat, "emit cpu usage_* fields as floats instead of integers")
}
