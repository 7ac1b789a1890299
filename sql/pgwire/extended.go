package pgwire

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// This file answers the extended-query messages: Parse, Bind, Describe,
// Execute and Close. An error returned by these methods is sent by the loop,
// which then discards messages until Sync.

func stmtDesc(name string) string {
	if name == "" {
		return "unnamed prepared statement"
	}
	return fmt.Sprintf("prepared statement %q", name)
}

func portalDesc(name string) string {
	if name == "" {
		return "unnamed portal"
	}
	return fmt.Sprintf("portal %q", name)
}

func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	if m.Name != "" && c.stmts[m.Name] != nil {
		return newError(codeDuplicatePreparedStatement, stmtDesc(m.Name)+" already exists")
	}
	ps := &prepared{query: m.Query, end: txnEnd(m.Query)}
	if c.txn == 'E' && ps.end == notTxnEnd {
		return errInFailedTxn()
	}
	switch {
	case isEmptyQuery(m.Query):
		ps.empty = true
	case copyDirection(m.Query) != notCopy:
		ps.copy = copyDirection(m.Query)
	default:
		qctx, cancel := c.startQuery(ctx)
		c.setRunning(cancel)
		stmt, err := c.sess.Prepare(qctx, m.Query, append([]OID(nil), m.ParameterOIDs...))
		c.setRunning(nil)
		cancel(nil)
		if err != nil {
			return err
		}
		ps.stmt = stmt
		ps.params = stmt.ParamTypes()
		ps.cols = stmt.Columns()
	}
	c.dropStmt(m.Name)
	c.stmts[m.Name] = ps
	c.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	ps := c.stmts[m.PreparedStatement]
	if ps == nil {
		return newError(codeInvalidStatementName, stmtDesc(m.PreparedStatement)+" does not exist")
	}
	if m.DestinationPortal != "" && c.portals[m.DestinationPortal] != nil {
		return newError(codeDuplicateCursor, portalDesc(m.DestinationPortal)+" already exists")
	}
	if c.txn == 'E' && ps.end == notTxnEnd {
		return errInFailedTxn()
	}
	if len(m.Parameters) != len(ps.params) {
		return newError(codeProtocolViolation, fmt.Sprintf("bind message supplies %d parameters, but %s requires %d",
			len(m.Parameters), stmtDesc(m.PreparedStatement), len(ps.params)))
	}
	pf := m.ParameterFormatCodes
	if len(pf) > 1 && len(pf) != len(m.Parameters) {
		return newError(codeProtocolViolation, fmt.Sprintf("bind message has %d parameter formats but %d parameters",
			len(pf), len(m.Parameters)))
	}
	params := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		f := formatText
		switch len(pf) {
		case 0:
		case 1:
			f = pf[0]
		default:
			f = pf[i]
		}
		v, err := decodeValue(ps.params[i], f, raw, c.loc)
		if err != nil {
			return wrapParamError(i, err)
		}
		params[i] = v
	}
	formats, err := resultFormats(m.ResultFormatCodes, ps.cols)
	if err != nil {
		return err
	}
	c.dropPortal(m.DestinationPortal)
	c.portals[m.DestinationPortal] = &portal{ps: ps, params: params, formats: formats}
	c.send(&pgproto3.BindComplete{})
	return nil
}

// paramError is a parameter decoding error; it keeps the SQLSTATE.
type paramError struct {
	n   int
	err error
}

func (e *paramError) Error() string {
	return fmt.Sprintf("parameter $%d: %s", e.n, e.err.Error())
}
func (e *paramError) Unwrap() error { return e.err }

func wrapParamError(i int, err error) error { return &paramError{n: i + 1, err: err} }

// resultFormats expands Bind's result format codes to one per column; nil
// means all text.
func resultFormats(codes []int16, cols []Column) ([]int16, error) {
	for _, f := range codes {
		if f != formatText && f != formatBinary {
			return nil, newError(codeProtocolViolation, fmt.Sprintf("unsupported format code: %d", f))
		}
	}
	switch {
	case len(codes) == 0 || len(cols) == 0:
		return nil, nil
	case len(codes) != 1 && len(codes) != len(cols):
		return nil, newError(codeProtocolViolation, fmt.Sprintf("bind message has %d result formats but query has %d columns",
			len(codes), len(cols)))
	}
	formats := make([]int16, len(cols))
	for i := range formats {
		if len(codes) == 1 {
			formats[i] = codes[0]
		} else {
			formats[i] = codes[i]
		}
		if formats[i] == formatBinary && !hasBinary(cols[i].Type) {
			return nil, newError(codeFeatureNotSupported, fmt.Sprintf("no binary output function available for type %s", typeName(cols[i].Type)))
		}
	}
	return formats, nil
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		ps := c.stmts[m.Name]
		if ps == nil {
			return newError(codeInvalidStatementName, stmtDesc(m.Name)+" does not exist")
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: ps.params})
		if ps.cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(ps.cols, nil))
		}
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return newError(codeInvalidCursorName, portalDesc(m.Name)+" does not exist")
		}
		if p.ps.cols == nil {
			c.send(&pgproto3.NoData{})
		} else {
			c.send(rowDescription(p.ps.cols, p.formats))
		}
	default:
		return newError(codeProtocolViolation, fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType))
	}
	return nil
}

func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	p := c.portals[m.Portal]
	if p == nil {
		return newError(codeInvalidCursorName, portalDesc(m.Portal)+" does not exist")
	}
	ps := p.ps
	if c.txn == 'E' && ps.end == notTxnEnd {
		return errInFailedTxn()
	}
	switch {
	case ps.empty:
		c.send(&pgproto3.EmptyQueryResponse{})
		return nil
	case p.done:
		// A finished portal runs again with no rows.
		tag := p.tag
		if strings.HasPrefix(tag, "SELECT ") {
			tag = "SELECT 0"
		}
		c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return nil
	case ps.copy != notCopy:
		qctx, cancel := c.startQuery(ctx)
		c.setRunning(cancel)
		err := c.runCopy(qctx, ps.query, ps.copy)
		c.setRunning(nil)
		defer cancel(nil)
		if err != nil {
			return c.executeFailed(qctx, m.Portal, err)
		}
		p.done = true
		return nil
	}

	if p.res == nil {
		p.ctx, p.cancel = c.startQuery(ctx)
		c.setRunning(p.cancel)
		res, err := ps.stmt.Execute(p.ctx, p.params)
		c.setRunning(nil)
		if err != nil {
			return c.executeFailed(p.ctx, m.Portal, err)
		}
		p.res = res
	}
	c.setRunning(p.cancel)
	_, suspended, err := c.sendRows(p.ctx, p.res, ps.cols, p.formats, int(m.MaxRows))
	c.setRunning(nil)
	if err == nil && !suspended {
		err = p.res.Err()
	}
	if err != nil {
		return c.executeFailed(p.ctx, m.Portal, err)
	}
	if suspended {
		c.send(&pgproto3.PortalSuspended{})
		return nil
	}
	tag := p.res.Tag()
	p.res.Close()
	p.res = nil
	p.done = true
	tag = c.afterCommand(tag, ps.end)
	p.tag = tag
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}

// executeFailed reports the error of an Execute (with the query context
// ctx, so a cancelled query reports 57014), drops the portal and starts
// skipping to Sync. A connError is returned as is.
func (c *conn) executeFailed(ctx context.Context, portal string, err error) error {
	if _, ok := err.(connError); ok {
		return err
	}
	c.sendError(ctx, err)
	c.dropPortal(portal)
	c.failed()
	c.ignoreTillSync = true
	return nil
}

func (c *conn) closeObject(m *pgproto3.Close) {
	switch m.ObjectType {
	case 'S':
		c.dropStmt(m.Name)
	case 'P':
		c.dropPortal(m.Name)
	}
	c.send(&pgproto3.CloseComplete{})
}
