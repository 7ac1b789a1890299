package sql

import (
	"strconv"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file implements SQL-level cursors, as psycopg2's named cursors and
// other clients use them:
//
//	DECLARE name [BINARY] [NO] [SCROLL] CURSOR [WITH[OUT] HOLD] FOR query
//	FETCH [direction] [FROM | IN] name
//	MOVE  [direction] [FROM | IN] name
//	CLOSE name | ALL
//
// A cursor belongs to its Session. DECLARE runs the query to completion
// and keeps its rows (materialised in columns, as every fineod result is),
// so FETCH only slices them. Every direction PostgreSQL has works (NEXT,
// PRIOR, FIRST, LAST, ABSOLUTE n, RELATIVE n, [FORWARD|BACKWARD] n | ALL);
// moving backwards fails with 55000 only for a NO SCROLL cursor. A cursor
// without HOLD can only be declared inside BEGIN ... COMMIT (25P01) and
// ends at COMMIT or ROLLBACK; a WITH HOLD cursor lives until CLOSE or the
// end of the session. BINARY cursors are not supported (0A000).

// Cursor option bits of DeclareCursorStmt.Options (PostgreSQL's
// CURSOR_OPT_*).
const (
	cursorOptBinary   = 0x01
	cursorOptScroll   = 0x02
	cursorOptNoScroll = 0x04
	cursorOptHold     = 0x20
)

// SQLSTATEs of cursor errors.
const (
	CodeDuplicateCursor     = "42P03"
	CodeInvalidCursorName   = "34000"
	CodeNoActiveTransaction = "25P01"
	CodeObjectState         = "55000"
)

// cursorStmt is a planned DECLARE, FETCH/MOVE or CLOSE.
type cursorStmt struct {
	name string // "" in CLOSE = ALL
	// DECLARE
	plan     plan
	hold     bool
	noScroll bool
	// FETCH / MOVE
	dir   pg.FetchDirection
	count int64
	move  bool
}

// cursor is an open cursor of a session.
type cursor struct {
	cols     []ResultColumn
	rows     *rowTable
	pos      int // 0 = before the first row, rows.n+1 = after the last
	hold     bool
	noScroll bool
}

func (s *Session) buildDeclare(d *pg.DeclareCursorStmt, query string, paramTypes []Type) (*prepared, error) {
	if d.Options&cursorOptBinary != 0 {
		return nil, errorf(CodeFeatureNotSupported, "BINARY cursors are not supported")
	}
	if d.Query.GetSelectStmt() == nil {
		return nil, errorf(CodeSyntaxError, "DECLARE CURSOR must be followed by SELECT or VALUES")
	}
	var p plan
	b, err := s.bindTwice(query, paramTypes, func(b *binder) error {
		var err error
		p, err = b.planQuery(d.Query)
		return err
	})
	if err != nil {
		return nil, err
	}
	cs := &cursorStmt{name: d.Portalname, plan: p, hold: d.Options&cursorOptHold != 0,
		noScroll: d.Options&cursorOptNoScroll != 0 && d.Options&cursorOptScroll == 0}
	return &prepared{kind: kindDeclare, cursor: cs, cols: nil, params: b.paramTypes(), tag: "DECLARE CURSOR"}, nil
}

func buildFetch(f *pg.FetchStmt) *prepared {
	cs := &cursorStmt{name: f.Portalname, dir: f.Direction, count: f.HowMany, move: f.Ismove}
	return &prepared{kind: kindFetch, cursor: cs}
}

func buildClose(c *pg.ClosePortalStmt) *prepared {
	return &prepared{kind: kindClose, cursor: &cursorStmt{name: c.Portalname}, tag: "CLOSE CURSOR"}
}

// newStmt wraps a prepared statement for the session. FETCH returns the
// columns of the session's cursor, so its (shared, cached) plan gets a
// private copy with them; a FETCH prepared before its cursor exists
// describes no columns.
func (s *Session) newStmt(p *prepared) *Stmt {
	if p.kind == kindFetch && !p.cursor.move {
		cp := *p
		cp.cols = nil
		if c, ok := s.cursors[p.cursor.name]; ok {
			cp.cols = c.cols
		}
		p = &cp
	}
	return &Stmt{sess: s, prep: p}
}

// execCursor runs DECLARE, FETCH/MOVE or CLOSE.
func (s *Session) execCursor(ec *execCtx, p *prepared, res *Result) error {
	cs := p.cursor
	switch p.kind {
	case kindDeclare:
		if !cs.hold && !s.inTx {
			return errorf(CodeNoActiveTransaction, "DECLARE CURSOR can only be used in transaction blocks")
		}
		if _, ok := s.cursors[cs.name]; ok {
			return errorf(CodeDuplicateCursor, "cursor %q already exists", cs.name)
		}
		cols := planColumns(cs.plan)
		types := make([]Type, len(cols))
		for i, c := range cols {
			types[i] = c.Type
		}
		rt := newRowTable(types)
		err := cs.plan.run(ec, func(b *Batch) error {
			if err := ec.check(); err != nil {
				return err
			}
			rt.appendBatch(b)
			return nil
		})
		if err != nil && err != errStop {
			return err
		}
		if s.cursors == nil {
			s.cursors = map[string]*cursor{}
		}
		s.cursors[cs.name] = &cursor{cols: cols, rows: rt, hold: cs.hold, noScroll: cs.noScroll}
	case kindFetch:
		c, ok := s.cursors[cs.name]
		if !ok {
			return errorf(CodeInvalidCursorName, "cursor %q does not exist", cs.name)
		}
		if !cs.move && len(p.cols) != len(c.cols) {
			return errorf(CodeFeatureNotSupported, "cursor %q was declared after this FETCH was prepared; prepare it again", cs.name)
		}
		sel, err := c.fetch(cs.dir, cs.count)
		if err != nil {
			return err
		}
		if cs.move {
			res.tag = "MOVE " + strconv.Itoa(len(sel))
			return nil
		}
		if err := c.rows.emitRows(sel, func(b *Batch) error {
			res.batches = append(res.batches, copyBatch(b))
			return nil
		}); err != nil {
			return err
		}
		res.rows = len(sel)
		res.tag = "FETCH " + strconv.Itoa(len(sel))
	case kindClose:
		if cs.name == "" {
			s.cursors = nil
			return nil
		}
		if _, ok := s.cursors[cs.name]; !ok {
			return errorf(CodeInvalidCursorName, "cursor %q does not exist", cs.name)
		}
		delete(s.cursors, cs.name)
	}
	return nil
}

// endTransaction closes the cursors a COMMIT or ROLLBACK ends: those
// without HOLD.
func (s *Session) endTransaction() {
	for name, c := range s.cursors {
		if !c.hold {
			delete(s.cursors, name)
		}
	}
}

// fetch moves the cursor as FETCH dir count does and returns the indexes of
// the rows it passes over, in the order FETCH returns them.
func (c *cursor) fetch(dir pg.FetchDirection, count int64) ([]int32, error) {
	n := int64(c.rows.n)
	pos := int64(c.pos)
	var sel []int32
	target := func(t int64) { // ABSOLUTE / RELATIVE: land on row t
		t = max(0, min(t, n+1))
		if t >= 1 && t <= n {
			sel = append(sel, int32(t-1))
		}
		pos = t
	}
	backward := false
	switch dir {
	case pg.FetchDirection_FETCH_FORWARD, pg.FetchDirection_FETCH_BACKWARD:
		if dir == pg.FetchDirection_FETCH_BACKWARD {
			count = -count // BACKWARD ALL: -MaxInt64, no overflow
		}
		switch {
		case count == 0: // the current row
			if pos >= 1 && pos <= n {
				sel = append(sel, int32(pos-1))
			}
		case count > 0:
			for k := min(count, n+1); k > 0 && pos <= n; k-- {
				pos++
				if pos <= n {
					sel = append(sel, int32(pos-1))
				}
			}
		default:
			backward = true
			for k := min(-count, n+1); k > 0 && pos >= 1; k-- {
				pos--
				if pos >= 1 {
					sel = append(sel, int32(pos-1))
				}
			}
		}
	case pg.FetchDirection_FETCH_ABSOLUTE:
		t := count
		if t < 0 {
			t = n + 1 + t
		}
		backward = max(0, min(t, n+1)) < pos
		target(t)
	case pg.FetchDirection_FETCH_RELATIVE:
		if count == 0 {
			if pos >= 1 && pos <= n {
				sel = append(sel, int32(pos-1))
			}
			break
		}
		backward = count < 0
		target(pos + count)
	default:
		return nil, errorf(CodeSyntaxError, "unknown FETCH direction")
	}
	if backward && c.noScroll {
		return nil, &Error{Code: CodeObjectState, Message: "cursor can only scan forward",
			Hint: "Declare it with SCROLL option to enable backward scan."}
	}
	c.pos = int(pos)
	return sel, nil
}
