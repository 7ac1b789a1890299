package pgwire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a server on 127.0.0.1 with a fixture backend.
type testServer struct {
	srv     *Server
	backend *fixtureBackend
	addr    string
	done    chan error
}

func startServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := newFixtureBackend()
	cfg := Config{Backend: b, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		cfg.Logger = slog.Default()
	}
	if mod != nil {
		mod(&cfg)
	}
	ts := &testServer{srv: NewServer(cfg), backend: b, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { ts.done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve returned %v", err)
		}
	})
	return ts
}

func (ts *testServer) url(params string) string {
	u := "postgres://tester@" + ts.addr + "/db?sslmode=disable"
	if params != "" {
		u += "&" + params
	}
	return u
}
