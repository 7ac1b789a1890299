package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// conn is one client connection. Everything but the fields under mu and
// closing belongs to the connection's goroutine.
type conn struct {
	srv *Server
	nc  net.Conn
	log *slog.Logger
	rd  *pgproto3.Backend

	wbuf     []byte
	writeErr error

	key  cancelKey
	info StartupInfo
	sess Session

	// txn is the transaction status byte of ReadyForQuery: 'I' idle, 'T' in
	// a transaction block, 'E' in a failed transaction block.
	txn byte
	// ignoreTillSync is set by an error in extended-protocol mode: messages
	// are then discarded until Sync.
	ignoreTillSync bool

	stmts   map[string]*prepared
	portals map[string]*portal

	// reported holds the values last sent in ParameterStatus.
	reported map[string]string
	loc      *time.Location

	// closing is set by Server.Shutdown.
	closing atomic.Bool

	mu struct {
		sync.Mutex
		// cancel cancels the running query; nil when none runs.
		cancel context.CancelCauseFunc
	}
}

// prepared is a prepared statement of the connection.
type prepared struct {
	query  string
	stmt   Stmt // nil for empty and COPY statements
	params []OID
	cols   []Column
	empty  bool
	copy   copyKind
	end    txnEndKind
}

// portal is a bound statement, possibly partly executed.
type portal struct {
	ps      *prepared
	params  []any
	formats []int16 // one per column

	ctx    context.Context
	cancel context.CancelCauseFunc
	res    Result // nil until the first Execute
	done   bool
	tag    string
}

// connError is an error after which the connection is closed.
type connError struct{ err error }

func (e connError) Error() string { return e.err.Error() }
func (e connError) Unwrap() error { return e.err }

// flushThreshold is the buffered output size at which rows are written out
// without waiting for the end of the command.
const flushThreshold = 32 << 10

// startupTimeout bounds the time a client has to complete its startup, as
// PostgreSQL's authentication_timeout does.
const startupTimeout = time.Minute

// serveConn runs one connection to its end and closes nc.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	c := &conn{
		srv:     s,
		nc:      nc,
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		txn:     'I',
		stmts:   make(map[string]*prepared),
		portals: make(map[string]*portal),
		loc:     time.UTC,
	}
	c.rd = pgproto3.NewBackend(nc, nil)
	c.rd.SetMaxBodyLen(s.cfg.MaxMessageSize)
	if !s.track(c) {
		c.send(fatalResponse(codeAdminShutdown, "the database system is shutting down"))
		c.flush()
		nc.Close()
		return
	}
	defer func() {
		s.untrack(c)
		c.closeAllPortals()
		if sc, ok := c.sess.(io.Closer); ok {
			_ = sc.Close()
		} else if sc, ok := c.sess.(interface{ Close() }); ok {
			sc.Close()
		}
		nc.Close()
	}()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("connection panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()

	_ = nc.SetReadDeadline(time.Now().Add(startupTimeout))
	if c.closing.Load() { // Shutdown's deadline may have been overwritten
		return
	}
	ok := c.startup(ctx)
	_ = nc.SetReadDeadline(time.Time{})
	if !ok {
		return
	}
	if c.closing.Load() {
		c.send(fatalResponse(codeAdminShutdown, "terminating connection due to administrator command"))
		c.flush()
		return
	}
	c.loop(ctx)
}

// interrupt makes the connection's next (or current) read fail, so it
// notices Shutdown. Safe to call from any goroutine.
func (c *conn) interrupt() {
	c.closing.Store(true)
	_ = c.nc.SetReadDeadline(time.Now())
}

// cancelQuery cancels the running query, if any. Safe to call from any
// goroutine.
func (c *conn) cancelQuery() {
	c.mu.Lock()
	cancel := c.mu.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(errCanceled)
	}
}

// setRunning records the cancel function of the running query (nil: none).
func (c *conn) setRunning(cancel context.CancelCauseFunc) {
	c.mu.Lock()
	c.mu.cancel = cancel
	c.mu.Unlock()
}

// send buffers a message, writing the buffer out when it grows large.
func (c *conn) send(msg pgproto3.BackendMessage) {
	if c.writeErr != nil {
		return
	}
	b, err := msg.Encode(c.wbuf)
	if err != nil {
		c.log.Error("encode message", "type", fmt.Sprintf("%T", msg), "err", err)
		return
	}
	c.wbuf = b
	if len(c.wbuf) >= flushThreshold {
		c.flush()
	}
}

// flush writes the buffered messages.
func (c *conn) flush() {
	if c.writeErr != nil || len(c.wbuf) == 0 {
		c.wbuf = c.wbuf[:0]
		return
	}
	_, err := c.nc.Write(c.wbuf)
	if err != nil {
		c.writeErr = err
		c.cancelQuery()
	}
	if cap(c.wbuf) > 4*flushThreshold {
		c.wbuf = nil
	} else {
		c.wbuf = c.wbuf[:0]
	}
}

// sendError sends err as an ErrorResponse. ctx, if not nil, is the context
// of the query that failed: when the client cancelled it, the error is
// reported as 57014 whatever the backend said.
func (c *conn) sendError(ctx context.Context, err error) {
	if ctx != nil && context.Cause(ctx) == errCanceled {
		err = newError(codeQueryCanceled, "canceling statement due to user request")
	}
	r := errorResponse(err)
	if r.Code == codeInternal {
		c.log.Warn("internal error", "err", err)
	}
	c.send(r)
	// PostgreSQL flushes errors at once, so a client waiting without a Sync
	// (after Flush, or mid-pipeline) learns of them.
	c.flush()
}

// readyForQuery sends ReadyForQuery and flushes.
func (c *conn) readyForQuery() {
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.txn})
	c.flush()
}

// receive reads the next message. Any error is a connError.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	msg, err := c.rd.Receive()
	if err == nil {
		return msg, nil
	}
	var ne net.Error
	switch {
	case c.closing.Load():
		c.send(fatalResponse(codeAdminShutdown, "terminating connection due to administrator command"))
		c.flush()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.As(err, &ne):
		c.log.Debug("connection closed by client", "err", err)
	default:
		c.log.Warn("malformed message; closing connection", "err", err)
		c.send(fatalResponse(codeProtocolViolation, "invalid frontend message: "+err.Error()))
		c.flush()
	}
	return nil, connError{err}
}

// loop reads and answers messages until the connection ends.
func (c *conn) loop(ctx context.Context) {
	for {
		if c.writeErr != nil {
			return
		}
		msg, err := c.receive()
		if err != nil {
			return
		}
		if c.ignoreTillSync {
			switch msg.(type) {
			case *pgproto3.Sync:
			case *pgproto3.Terminate:
				return
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			err = c.simpleQuery(ctx, m.String)
		case *pgproto3.Parse:
			err = c.parse(ctx, m)
		case *pgproto3.Bind:
			err = c.bind(m)
		case *pgproto3.Describe:
			err = c.describe(m)
		case *pgproto3.Execute:
			err = c.execute(ctx, m)
		case *pgproto3.Close:
			c.closeObject(m)
		case *pgproto3.Sync:
			c.sync()
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.Terminate:
			return
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Ignored outside copy mode, as the protocol says: they may be
			// the tail of a COPY that failed.
		case *pgproto3.FunctionCall:
			c.sendError(nil, newError(codeFeatureNotSupported, "function call messages are not supported"))
			c.readyForQuery()
		default:
			c.log.Warn("unexpected message; closing connection", "type", fmt.Sprintf("%T", msg))
			c.send(fatalResponse(codeProtocolViolation, fmt.Sprintf("unexpected message %T", msg)))
			c.flush()
			return
		}
		var ce connError
		if errors.As(err, &ce) {
			return
		}
		if err != nil {
			// An extended-protocol error: report it and skip to Sync.
			c.sendError(nil, err)
			c.failed()
			c.ignoreTillSync = true
		}
	}
}

// failed records that a statement failed: a transaction block becomes
// failed.
func (c *conn) failed() {
	if c.txn == 'T' {
		c.txn = 'E'
	}
}

// errInFailedTxn is the error of every statement but COMMIT and ROLLBACK in
// a failed transaction block.
func errInFailedTxn() error {
	return newError(codeInFailedTransaction, "current transaction is aborted, commands ignored until end of transaction block")
}

// startQuery returns the context of a query, cancelled by a CancelRequest
// while the query is marked running with setRunning.
func (c *conn) startQuery(ctx context.Context) (context.Context, context.CancelCauseFunc) {
	return context.WithCancelCause(ctx)
}

// afterCommand updates the transaction status from a command tag and sends
// ParameterStatus for settings the command changed. It returns the tag to
// report.
func (c *conn) afterCommand(tag string, end txnEndKind) string {
	switch {
	case c.txn == 'E' && end != notTxnEnd:
		c.txn = 'I'
		c.closeAllPortals()
		return "ROLLBACK"
	case tag == "BEGIN" || strings.HasPrefix(tag, "START"):
		c.txn = 'T'
	case tag == "COMMIT" || tag == "ROLLBACK":
		c.txn = 'I'
		c.closeAllPortals()
	}
	if !strings.HasPrefix(tag, "SELECT") && !strings.HasPrefix(tag, "INSERT") && !strings.HasPrefix(tag, "COPY") && !strings.HasPrefix(tag, "FETCH") {
		c.reportSettings()
	}
	return tag
}

// simpleQuery answers a Query message: every statement in turn, each with
// its own RowDescription, DataRows and CommandComplete; the first error
// skips the rest.
func (c *conn) simpleQuery(ctx context.Context, text string) error {
	c.dropPortal("")
	c.dropStmt("")
	stmts, err := c.sess.Split(text)
	if err != nil {
		c.sendError(nil, err)
		c.failed()
		c.readyForQuery()
		return nil
	}
	ran := false
	for _, q := range stmts {
		if isEmptyQuery(q) {
			continue
		}
		ran = true
		qctx, cancel := c.startQuery(ctx)
		c.setRunning(cancel)
		err := c.simpleStatement(qctx, q)
		c.setRunning(nil)
		if err != nil {
			var ce connError
			if errors.As(err, &ce) {
				cancel(nil)
				return err
			}
			c.sendError(qctx, err)
			cancel(nil)
			c.failed()
			break
		}
		cancel(nil)
		if c.writeErr != nil {
			return connError{c.writeErr}
		}
	}
	if !ran {
		c.send(&pgproto3.EmptyQueryResponse{})
	}
	c.readyForQuery()
	return nil
}

// simpleStatement runs one statement of a simple query.
func (c *conn) simpleStatement(ctx context.Context, q string) error {
	end := txnEnd(q)
	if c.txn == 'E' && end == notTxnEnd {
		return errInFailedTxn()
	}
	if kind := copyDirection(q); kind != notCopy {
		return c.runCopy(ctx, q, kind)
	}
	stmt, err := c.sess.Prepare(ctx, q, nil)
	if err != nil {
		return err
	}
	cols := stmt.Columns()
	if cols != nil {
		c.send(rowDescription(cols, nil))
	}
	res, err := stmt.Execute(ctx, nil)
	if err != nil {
		return err
	}
	defer res.Close()
	if _, _, err := c.sendRows(ctx, res, cols, nil, 0); err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	tag := c.afterCommand(res.Tag(), end)
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// sendRows sends up to limit rows of res (all if limit <= 0) as DataRows,
// in the given formats (nil: all text). It returns the number sent and
// whether the limit stopped it (res may have more rows).
func (c *conn) sendRows(ctx context.Context, res Result, cols []Column, formats []int16, limit int) (n int, suspended bool, err error) {
	for limit <= 0 || n < limit {
		if ctx.Err() != nil {
			return n, false, context.Cause(ctx)
		}
		if c.writeErr != nil {
			return n, false, connError{c.writeErr}
		}
		if !res.Next() {
			return n, false, nil
		}
		row := res.Row()
		if len(row) != len(cols) {
			return n, false, fmt.Errorf("pgwire: row has %d values for %d columns", len(row), len(cols))
		}
		if c.wbuf, err = appendDataRow(c.wbuf, cols, formats, row, c.loc); err != nil {
			return n, false, err
		}
		n++
		if len(c.wbuf) >= flushThreshold {
			c.flush()
		}
	}
	return n, true, nil
}

// rowDescription describes cols with the given formats (nil: all text).
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		f := pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  col.Type,
			DataTypeSize: typeSize(col.Type),
			TypeModifier: -1,
		}
		if formats != nil {
			f.Format = formats[i]
		}
		fields[i] = f
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// typeSize is pg_type.typlen: the size of fixed-size types, -1 otherwise.
func typeSize(typ OID) int16 {
	switch typ {
	case OIDBool, OIDChar:
		return 1
	case OIDInt2:
		return 2
	case OIDInt4, OIDOid, OIDFloat4, OIDDate:
		return 4
	case OIDInt8, OIDFloat8, OIDTimestamp, OIDTimestamptz:
		return 8
	case OIDInterval:
		return 16
	case OIDName:
		return 64
	}
	return -1
}

// appendDataRow appends a DataRow message for row.
func appendDataRow(b []byte, cols []Column, formats []int16, row []any, loc *time.Location) ([]byte, error) {
	start := len(b)
	b = append(b, 'D', 0, 0, 0, 0, byte(len(row)>>8), byte(len(row)))
	for i, v := range row {
		if v == nil {
			b = append(b, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		f := formatText
		if formats != nil {
			f = formats[i]
		}
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		nb, err := appendValue(b, cols[i].Type, f, v, loc)
		if err != nil {
			return b[:start], fmt.Errorf("column %q: %w", cols[i].Name, err)
		}
		b = nb
		putUint32(b[lenAt:], uint32(len(b)-lenAt-4))
	}
	putUint32(b[start+1:], uint32(len(b)-start-1))
	return b, nil
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// sync answers Sync: it ends the skip after an error, closes the portals
// of an implicit transaction and sends ReadyForQuery.
func (c *conn) sync() {
	c.ignoreTillSync = false
	if c.txn == 'I' {
		c.closeAllPortals()
	}
	c.readyForQuery()
}

// closeAllPortals closes every portal, releasing their results.
func (c *conn) closeAllPortals() {
	for name := range c.portals {
		c.dropPortal(name)
	}
}

func (c *conn) dropPortal(name string) {
	p := c.portals[name]
	if p == nil {
		return
	}
	delete(c.portals, name)
	if p.res != nil {
		p.res.Close()
		p.res = nil
	}
	if p.cancel != nil {
		p.cancel(nil)
	}
}

func (c *conn) dropStmt(name string) {
	ps := c.stmts[name]
	if ps == nil {
		return
	}
	delete(c.stmts, name)
	if sc, ok := ps.stmt.(interface{ Close() }); ok {
		sc.Close()
	}
}
