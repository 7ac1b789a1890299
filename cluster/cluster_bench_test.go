package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countSM applies nothing and remembers the last index, for benchmarks.
type countSM struct{ last atomic.Uint64 }

func (s *countSM) Apply(ents []Applied) []error {
	s.last.Store(ents[len(ents)-1].Index)
	return nil
}

// BenchmarkPropose measures Propose with concurrent proposers of ~100 KB
// payloads: each op is one proposal made durable, committed and applied.
// A background checkpoint keeps memory and the wal bounded, as the engine
// will.
func BenchmarkPropose(b *testing.B) {
	const payloadSize = 100 << 10
	for _, proposers := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("proposers=%d", proposers), func(b *testing.B) {
			sm := &countSM{}
			n, err := Start(Config{Dir: b.TempDir(), SM: sm})
			if err != nil {
				b.Fatal(err)
			}
			stopCkpt := make(chan struct{})
			var ckptDone sync.WaitGroup
			ckptDone.Go(func() {
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stopCkpt:
						return
					case <-t.C:
						_ = n.Checkpoint(sm.last.Load())
					}
				}
			})
			payload := make([]byte, payloadSize)
			b.SetBytes(payloadSize)
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range proposers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := n.Propose(context.Background(), payload); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := n.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "proposals/s")
			b.ReportMetric(float64(st.Proposals)/float64(max(st.Fsyncs, 1)), "proposals/fsync")
			close(stopCkpt)
			ckptDone.Wait()
			if err := n.Stop(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
