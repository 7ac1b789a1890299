package pgwire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// streamConn is a net.Conn whose reads come from a fixed stream (then EOF)
// and whose writes are discarded.
type streamConn struct {
	r      io.Reader
	mu     sync.Mutex
	closed bool
	wrote  int
}

func (c *streamConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.wrote += len(p)
	return len(p), nil
}
func (c *streamConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}
func (c *streamConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

func startupBytes() []byte {
	b, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "fuzz", "database": "db"}}).Encode(nil)
	return b
}

func encodeMsgs(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = m.Encode(b)
	}
	return b
}

// FuzzServerMessages feeds arbitrary bytes as a connection's stream after a
// valid startup: the connection must end (at EOF or on an error) without a
// panic or a hang.
func FuzzServerMessages(f *testing.F) {
	seeds := [][]byte{
		encodeMsgs(&pgproto3.Query{String: "select 1"}),
		encodeMsgs(&pgproto3.Query{String: "select * from types; select 1/0"}),
		encodeMsgs(&pgproto3.Parse{Name: "s", Query: "select $1::int8, $2::numeric"},
			&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1},
				Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}, {0, 1, 0, 0, 0, 0, 0, 0, 0, 5}}, ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{}),
		encodeMsgs(&pgproto3.Query{String: "copy target from stdin"}, &pgproto3.CopyData{Data: []byte("1\ta\t1.5\t\\N\n")}, &pgproto3.CopyDone{}),
		encodeMsgs(&pgproto3.Query{String: "copy target from stdin binary"},
			&pgproto3.CopyData{Data: append(append([]byte{}, binaryCopySignature...), 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1)},
			&pgproto3.CopyDone{}),
		encodeMsgs(&pgproto3.Query{String: "copy target (a, b) from stdin csv header"}, &pgproto3.CopyData{Data: []byte("a,b\n1,\"x\"\"y\"\n")}, &pgproto3.CopyFail{Message: "no"}),
		encodeMsgs(&pgproto3.Query{String: "begin"}, &pgproto3.Query{String: "select 1/0"}, &pgproto3.Query{String: "commit"}),
		encodeMsgs(&pgproto3.Parse{Query: "select generate_series(1, 10)"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 3},
			&pgproto3.Flush{}, &pgproto3.Close{ObjectType: 'P'}, &pgproto3.Sync{}, &pgproto3.Terminate{}),
		{'B', 0, 0, 0, 4},
		{'Q', 0xff, 0xff, 0xff, 0xff},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		srv := NewServer(Config{Backend: newFixtureBackend(), Logger: logger, MaxMessageSize: 1 << 20})
		nc := &streamConn{r: io.MultiReader(bytes.NewReader(startupBytes()), bytes.NewReader(data))}
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.serveConn(context.Background(), nc)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("connection did not end on input %x", data)
		}
		if n := len(srv.mu.conns); n != 0 {
			t.Fatalf("%d connections left registered", n)
		}
	})
}

// TestMalformedMessages checks that bad input closes only its own
// connection: the server keeps serving others.
func TestMalformedMessages(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxMessageSize = 1024 })
	good := connect(t, ts, "")
	bad := map[string][]byte{
		"unknown type":        {'z', 0, 0, 0, 4},
		"negative length":     {'Q', 0xff, 0xff, 0xff, 0xff},
		"oversized":           append([]byte{'Q', 0, 0, 8, 0}, bytes.Repeat([]byte{'x'}, 2044)...),
		"truncated bind":      {'B', 0, 0, 0, 6, 0, 0},
		"bad startup":         {0, 0, 0, 8, 0, 9, 9, 9},
		"huge startup length": {0x7f, 0, 0, 0},
	}
	for name, raw := range bad {
		t.Run(name, func(t *testing.T) {
			var nc net.Conn
			if name == "bad startup" || name == "huge startup length" {
				var err error
				if nc, err = net.Dial("tcp", ts.addr); err != nil {
					t.Fatal(err)
				}
			} else {
				nc, _ = rawConnect(t, ts.addr)
			}
			defer nc.Close()
			if _, err := nc.Write(raw); err != nil {
				t.Fatal(err)
			}
			_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			out, err := io.ReadAll(nc)
			if err != nil && !isReset(err) {
				t.Fatalf("connection not closed: %v", err)
			}
			if name != "huge startup length" && !bytes.Contains(out, []byte("08P01")) {
				t.Errorf("no 08P01 in %q", out)
			}
		})
	}
	var one int32
	if err := good.QueryRow(context.Background(), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("other connection broken: %v", err)
	}
	connect(t, ts, "")
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}
