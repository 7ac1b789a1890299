package pgwire

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Server. A zero field means its default.
type Config struct {
	// Backend opens the session of each connection. Required.
	Backend Backend
	// Logger receives connection-level events (malformed messages, backend
	// errors at startup). Default: slog.Default().
	Logger *slog.Logger
	// MaxMessageSize is the largest frontend message body accepted, in
	// bytes. A larger message closes the connection with 08P01. Default
	// (zero or negative): 64 MiB.
	MaxMessageSize int
	// Tenant resolves the tenant of a connection from its startup
	// parameters. Default (nil): every connection is in tenant "default". An
	// error is sent as a FATAL 28000 and closes the connection.
	Tenant func(info StartupInfo) (string, error)
	// Authenticate, if set, makes the server ask for a cleartext password
	// and calls it with the tenant-resolved startup info; a non-nil error
	// rejects the connection with 28P01. Default (nil): trust, no password.
	Authenticate func(ctx context.Context, info StartupInfo, password string) error
	// ServerVersion is reported as the server_version parameter. Default:
	// "15.0 (fineod)"; clients parse the leading number.
	ServerVersion string
}

// DefaultMaxMessageSize is the default Config.MaxMessageSize.
const DefaultMaxMessageSize = 64 << 20

// Server serves the PostgreSQL v3 wire protocol. It is safe for concurrent
// use: Serve may be called for several listeners, and Shutdown from any
// goroutine.
type Server struct {
	cfg    Config
	log    *slog.Logger
	nextID atomic.Uint32

	mu struct {
		sync.Mutex
		closed    bool
		listeners map[net.Listener]struct{}
		// conns holds every open connection, for Shutdown.
		conns map[*conn]struct{}
		// keys finds a connection by its BackendKeyData, for CancelRequest.
		keys map[cancelKey]*conn
	}
	wg sync.WaitGroup // one per connection goroutine
}

// cancelKey identifies a connection in CancelRequest: its BackendKeyData.
type cancelKey struct {
	pid    uint32
	secret uint32
}

// NewServer returns a server for cfg. It panics if cfg.Backend is nil.
func NewServer(cfg Config) *Server {
	if cfg.Backend == nil {
		panic("pgwire: Config.Backend is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.ServerVersion == "" {
		cfg.ServerVersion = "15.0 (fineod)"
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("component", "pgwire")}
	s.mu.listeners = make(map[net.Listener]struct{})
	s.mu.conns = make(map[*conn]struct{})
	s.mu.keys = make(map[cancelKey]*conn)
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	s.nextID.Store(binary.BigEndian.Uint32(seed[:]) >> 8)
	return s
}

// Serve accepts connections on ln and serves each in its own goroutine
// until ln fails or Shutdown is called. It always returns a non-nil error:
// ErrServerClosed after Shutdown. Serve closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.mu.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.mu.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.mu.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(context.Background(), nc)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.closed
}

// Shutdown stops the server gracefully:
//
//  1. it closes every listener, so Serve returns ErrServerClosed;
//  2. idle connections get a FATAL 57P01 and are closed; busy ones finish
//     the message they are processing, then are closed the same way;
//  3. if ctx ends first, running queries are cancelled and every
//     connection is closed, and Shutdown returns ctx's error.
//
// Shutdown is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.mu.closed = true
	for ln := range s.mu.listeners {
		ln.Close()
	}
	for c := range s.mu.conns {
		c.interrupt()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.mu.conns {
		c.cancelQuery()
		c.nc.Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

// track adds c to the server's connections and assigns its
// BackendKeyData. It returns false if the server is shutting down.
func (s *Server) track(c *conn) bool {
	var b [4]byte
	_, _ = rand.Read(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return false
	}
	for {
		c.key = cancelKey{pid: s.nextID.Add(1), secret: binary.BigEndian.Uint32(b[:])}
		if _, dup := s.mu.keys[c.key]; !dup && c.key.pid != 0 {
			break
		}
	}
	s.mu.keys[c.key] = c
	s.mu.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.keys[c.key] == c {
		delete(s.mu.keys, c.key)
	}
	delete(s.mu.conns, c)
}

// cancel handles a CancelRequest: it cancels the running query of the
// connection with that key, if any. As in PostgreSQL, nothing is answered.
func (s *Server) cancel(pid uint32, secret []byte) {
	if len(secret) != 4 {
		return
	}
	key := cancelKey{pid: pid, secret: binary.BigEndian.Uint32(secret)}
	s.mu.Lock()
	c := s.mu.keys[key]
	s.mu.Unlock()
	if c != nil {
		c.cancelQuery()
	} else {
		s.log.Debug("cancel request for unknown connection", "pid", pid)
	}
}
