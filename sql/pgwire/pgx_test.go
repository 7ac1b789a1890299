package pgwire

import (
	"context"
	"errors"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

func connect(t *testing.T, ts *testServer, params string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.url(params))
	if err != nil {
		t.Fatal(err)
	}
	// Cancel a query with a CancelRequest and keep the connection, rather
	// than pgx's default of breaking the connection with a deadline.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wantTypesRow is the fixture's "types" row as pgx decodes it.
func checkTypesRow(t *testing.T, vals []any) {
	t.Helper()
	want := []any{
		true, int16(-2), int32(40000), int64(1) << 40, float32(1.25), 0.1,
		"12345.678900", "héllo", "vc", "nm",
		time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC), fixtureT0,
		pgtype.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5*60e6 + 6e6 + 500000, Valid: true},
		map[string]any{"a": float64(1)}, uint32(26), []byte{0xde, 0xad},
		time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	if len(vals) != len(want) {
		t.Fatalf("got %d values, want %d", len(vals), len(want))
	}
	for i, w := range want {
		got := vals[i]
		switch g := got.(type) {
		case pgtype.Numeric:
			f, _ := g.Value()
			got = f
		case time.Time:
			if wt, ok := w.(time.Time); ok && g.Equal(wt) {
				got = w
			}
		}
		if !equalValue(got, w) {
			t.Errorf("column %d: got %#v (%T), want %#v (%T)", i, got, got, w, w)
		}
	}
}

func equalValue(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && len(x) == len(y) && x["a"] == y["a"]
	}
	return a == b
}

func TestPgxTypes(t *testing.T) {
	ts := startServer(t, nil)
	for _, mode := range []pgx.QueryExecMode{
		pgx.QueryExecModeSimpleProtocol, // text
		pgx.QueryExecModeCacheStatement, // binary where pgx can
		pgx.QueryExecModeDescribeExec,
		pgx.QueryExecModeExec,
	} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, ts, "")
			rows, err := conn.Query(context.Background(), "select * from types", mode)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				checkTypesRow(t, vals)
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if n != 1 || rows.CommandTag().String() != "SELECT 1" {
				t.Fatalf("rows %d, tag %q", n, rows.CommandTag())
			}
		})
	}
}

func TestPgxParams(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	ctx := context.Background()
	ts0 := time.Date(2023, 12, 31, 23, 59, 59, 999999000, time.UTC)
	cases := []struct {
		typ string
		in  any
		out any
	}{
		{"bool", true, true},
		{"int2", int16(-300), int16(-300)},
		{"int4", int32(1 << 30), int32(1 << 30)},
		{"int8", int64(math.MinInt64), int64(math.MinInt64)},
		{"float4", float32(0.5), float32(0.5)},
		{"float8", math.Inf(-1), math.Inf(-1)},
		{"text", "a\tb'c", "a\tb'c"},
		{"varchar", "v", "v"},
		{"timestamptz", ts0, ts0},
		{"timestamp", ts0, ts0},
		{"date", time.Date(1999, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(1999, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"bytea", []byte{0, 1, 255}, []byte{0, 1, 255}},
		{"oid", uint32(4000000000), uint32(4000000000)},
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
		for _, c := range cases {
			var got any
			err := conn.QueryRow(ctx, "select $1::"+c.typ, mode, c.in).Scan(&got)
			if err != nil {
				t.Errorf("%v %s: %v", mode, c.typ, err)
				continue
			}
			if tm, ok := got.(time.Time); ok {
				got = tm.UTC()
			}
			if !equalValue(got, c.out) {
				t.Errorf("%v %s: got %#v, want %#v", mode, c.typ, got, c.out)
			}
		}
	}
	// numeric and interval in binary, both directions.
	var num pgtype.Numeric
	if err := conn.QueryRow(ctx, "select $1::numeric", "-1234567.000089").Scan(&num); err != nil {
		t.Fatal(err)
	}
	if v, _ := num.Value(); v != "-1234567.000089" {
		t.Errorf("numeric: %v", v)
	}
	var iv pgtype.Interval
	in := pgtype.Interval{Months: -3, Days: 2, Microseconds: -5e6, Valid: true}
	if err := conn.QueryRow(ctx, "select $1::interval", in).Scan(&iv); err != nil {
		t.Fatal(err)
	}
	// interval parameters reach the backend as text and come back as text.
	if iv != in {
		t.Errorf("interval: got %+v want %+v", iv, in)
	}
	// A bad text parameter is 22P02, and the connection goes on.
	_, err := conn.Exec(ctx, "select $1::int4", pgx.QueryExecModeExec, "x1")
	if pgCode(err) != "22P02" {
		t.Errorf("bad int param: %v", err)
	}
	var one int32
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("after error: %v %v", one, err)
	}
}

func TestPgxBatch(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	b := &pgx.Batch{}
	b.Queue("select 1")
	b.Queue("select generate_series(1, 5)")
	b.Queue("insert into target values (1)")
	b.Queue("select $1::int8", int64(9))
	br := conn.SendBatch(context.Background(), b)
	var one int32
	if err := br.QueryRow().Scan(&one); err != nil || one != 1 {
		t.Fatalf("q1: %v %v", one, err)
	}
	rows, err := br.Query()
	if err != nil {
		t.Fatal(err)
	}
	sum := int64(0)
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if rows.Err() != nil || sum != 15 {
		t.Fatalf("series sum %d err %v", sum, rows.Err())
	}
	tag, err := br.Exec()
	if err != nil || tag.String() != "INSERT 0 1" {
		t.Fatalf("insert: %q %v", tag, err)
	}
	var nine int64
	if err := br.QueryRow().Scan(&nine); err != nil || nine != 9 {
		t.Fatalf("q4: %v %v", nine, err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPgxCopyFrom(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	rows := [][]any{
		{int64(1), "one", 1.5, fixtureT0},
		{int64(2), nil, nil, nil},
		{int64(3), "tab\tnew\nline", math.NaN(), fixtureT0.Add(time.Hour)},
	}
	n, err := conn.CopyFrom(context.Background(), pgx.Identifier{"target"}, []string{"a", "b", "c", "ts"}, pgx.CopyFromRows(rows))
	if err != nil || n != 3 {
		t.Fatalf("copy: %d %v", n, err)
	}
	got := ts.backend.table("target").rows
	if len(got) != 3 || got[2][1] != "tab\tnew\nline" || got[1][1] != nil || !got[0][3].(time.Time).Equal(fixtureT0) {
		t.Fatalf("rows: %v", got)
	}
	// A rejected row aborts the copy with the sink's error.
	_, err = conn.CopyFrom(context.Background(), pgx.Identifier{"target"}, []string{"a", "b"},
		pgx.CopyFromRows([][]any{{int64(4), "reject"}}))
	if pgCode(err) != "23514" {
		t.Fatalf("rejected copy: %v", err)
	}
	if len(ts.backend.table("target").rows) != 3 {
		t.Fatal("aborted copy wrote rows")
	}
}

func TestPgxCopyTo(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	var sb strings.Builder
	tag, err := conn.PgConn().CopyTo(context.Background(), &sb, "copy metrics to stdout")
	if err != nil || tag.String() != "COPY 3" {
		t.Fatalf("copy to: %q %v", tag, err)
	}
	want := "2024-03-01 12:00:00+00\ta\t1.5\t1\n" +
		"2024-03-01 12:00:01+00\tb\t2.25\t\\N\n" +
		"2024-03-01 12:00:02+00\ttab\\there\t-3e+20\t-7\n"
	if sb.String() != want {
		t.Fatalf("got %q\nwant %q", sb.String(), want)
	}
	sb.Reset()
	if _, err := conn.PgConn().CopyTo(context.Background(), &sb, "copy metrics (host, n) to stdout with (format csv, header)"); err != nil {
		t.Fatal(err)
	}
	if want := "host,n\na,1\nb,\ntab\there,-7\n"; sb.String() != want {
		t.Fatalf("csv got %q want %q", sb.String(), want)
	}
}

func TestCancel(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	// Through pgx: a context deadline sends a CancelRequest.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start := time.Now()
	_, err := conn.Exec(ctx, "select pg_sleep(30)")
	cancel()
	if pgCode(err) != "57014" {
		t.Fatalf("want 57014, got %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("cancel took too long")
	}
	// The connection still works.
	var one int32
	if err := conn.QueryRow(context.Background(), "select 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("after cancel: %v %v", one, err)
	}
	// A CancelRequest from another goroutine, in the simple protocol.
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "select pg_sleep(30)", pgx.QueryExecModeSimpleProtocol)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := conn.PgConn().CancelRequest(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if pgCode(err) != "57014" {
			t.Fatalf("want 57014, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("query not cancelled")
	}
	// A CancelRequest with a wrong key does nothing.
	bad := &pgproto3.CancelRequest{ProcessID: conn.PgConn().PID() + 1, SecretKey: []byte{1, 2, 3, 4}}
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := bad.Encode(nil)
	nc.Write(buf)
	nc.Close()
	if err := conn.QueryRow(context.Background(), "select 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionStatus(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	ctx := context.Background()
	pc := conn.PgConn()
	exec := func(q string) (string, error) {
		tag, err := conn.Exec(ctx, q)
		return tag.String(), err
	}
	if _, err := exec("begin"); err != nil || pc.TxStatus() != 'T' {
		t.Fatalf("begin: %v %c", err, pc.TxStatus())
	}
	if _, err := exec("select 1/0"); pgCode(err) != "22012" || pc.TxStatus() != 'E' {
		t.Fatalf("error: %v %c", err, pc.TxStatus())
	}
	if _, err := exec("select 1"); pgCode(err) != "25P02" || pc.TxStatus() != 'E' {
		t.Fatalf("in failed txn: %v %c", err, pc.TxStatus())
	}
	if tag, err := exec("commit"); err != nil || tag != "ROLLBACK" || pc.TxStatus() != 'I' {
		t.Fatalf("commit: %q %v %c", tag, err, pc.TxStatus())
	}
	// pgx's transaction API.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "insert into target values (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil || pc.TxStatus() != 'I' {
		t.Fatalf("commit: %v %c", err, pc.TxStatus())
	}
	// An error outside a block leaves the status idle.
	if _, err := exec("select 1/0"); pgCode(err) != "22012" || pc.TxStatus() != 'I' {
		t.Fatalf("error outside txn: %v %c", err, pc.TxStatus())
	}
}

func TestParameterStatus(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "application_name=app1")
	pc := conn.PgConn()
	for k, want := range map[string]string{
		"server_version": "15.0 (fineod)", "server_encoding": "UTF8", "client_encoding": "UTF8",
		"DateStyle": "ISO, MDY", "TimeZone": "UTC", "integer_datetimes": "on",
		"standard_conforming_strings": "on", "application_name": "app1", "IntervalStyle": "postgres",
		"is_superuser": "on", "session_authorization": "tester",
	} {
		if got := pc.ParameterStatus(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	ctx := context.Background()
	if _, err := conn.Exec(ctx, "set timezone = 'America/New_York'"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("TimeZone"); got != "America/New_York" {
		t.Fatalf("TimeZone after SET: %q", got)
	}
	var s string
	if err := conn.QueryRow(ctx, "select now_text()", pgx.QueryExecModeSimpleProtocol).Scan(&s); err != nil {
		t.Fatal(err)
	}
	// The text was parsed by pgx; check the offset via a text read instead.
	res := pc.Exec(ctx, "select now_text()")
	rr, err := res.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(rr[0].Rows[0][0]); got != "2024-03-01 07:00:00-05" {
		t.Fatalf("timestamptz in New York: %q", got)
	}
}

func TestErrorResponse(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	_, err := conn.Exec(context.Background(), "select * from nope")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || pe.Position != 15 || pe.Severity != "ERROR" {
		t.Fatalf("got %#v", err)
	}
	// A non-SQLSTATE error at the end of a result set is XX000.
	_, err = conn.Exec(context.Background(), "select fail_after(3)")
	if pgCode(err) != "22000" {
		t.Fatalf("fail_after: %v", err)
	}
	var one int32
	if err := conn.QueryRow(context.Background(), "select 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestSessionRejected(t *testing.T) {
	ts := startServer(t, nil)
	_, err := pgx.Connect(context.Background(), "postgres://tester@"+ts.addr+"/nodb?sslmode=disable")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" || pe.Severity != "FATAL" {
		t.Fatalf("got %v", err)
	}
}

func TestSSLRequestRefused(t *testing.T) {
	ts := startServer(t, nil)
	// sslmode=prefer sends SSLRequest first; 'N' makes pgx go on in plain text.
	conn, err := pgx.Connect(context.Background(), "postgres://tester@"+ts.addr+"/db?sslmode=prefer")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = pgx.Connect(context.Background(), "postgres://tester@"+ts.addr+"/db?sslmode=require")
	if err == nil {
		t.Fatal("sslmode=require connected without TLS")
	}
}

func TestPasswordAuth(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Authenticate = func(ctx context.Context, info StartupInfo, pw string) error {
			if info.User == "tester" && pw == "secret" && info.Tenant == "acme" {
				return nil
			}
			return errors.New("bad password")
		}
		c.Tenant = func(info StartupInfo) (string, error) { return "acme", nil }
	})
	conn, err := pgx.Connect(context.Background(), "postgres://tester:secret@"+ts.addr+"/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	_, err = pgx.Connect(context.Background(), "postgres://tester:wrong@"+ts.addr+"/db?sslmode=disable")
	if pgCode(err) != "28P01" {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestShutdownClosesIdleConnections(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(context.Background()); err == nil {
		t.Fatal("ping after shutdown succeeded")
	}
	ts.backend.mu.Lock()
	opened, closed := ts.backend.sessions, ts.backend.closed
	ts.backend.mu.Unlock()
	if opened != 1 || closed != 1 {
		t.Fatalf("sessions opened %d, closed %d", opened, closed)
	}
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Fatal("server still accepting")
	}
}

func TestShutdownCancelsRunningQueries(t *testing.T) {
	ts := startServer(t, nil)
	conn := connect(t, ts, "")
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Exec(context.Background(), "select pg_sleep(30)")
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("query survived shutdown")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("query not stopped by shutdown")
	}
}

func TestTenantRejected(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Tenant = func(info StartupInfo) (string, error) { return "", errors.New("unknown tenant") }
	})
	_, err := pgx.Connect(context.Background(), ts.url(""))
	if pgCode(err) != "28000" {
		t.Fatalf("got %v", err)
	}
}
