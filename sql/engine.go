package sql

import (
	"container/list"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// Options configure an Engine. A nil *Options or a zero field means the
// default.
type Options struct {
	// PlanCacheSize is the number of parsed and planned statements the
	// Engine keeps, by query text (LRU). Default 1024; negative disables
	// the cache.
	PlanCacheSize int
	// Now returns the current time, used for now() and for INSERT rows
	// without a time. Default time.Now.
	Now func() time.Time
}

// VersionedCatalog is a Catalog that can tell when its tables or columns
// changed. Cached plans are reused only while Version is unchanged; with
// a plain Catalog only parse trees are cached and every Prepare binds
// again.
type VersionedCatalog interface {
	Catalog
	Version() uint64
}

// Engine parses, plans and executes SQL over a Catalog, Scanner and
// Writer. It is safe for concurrent use; each connection uses its own
// Session.
type Engine struct {
	cat  Catalog
	scan Scanner
	w    Writer
	now  func() time.Time

	pid atomic.Int32

	parses atomic.Int64 // statements parsed (a cache miss), for tests

	mu struct {
		sync.Mutex
		cap   int
		lru   *list.List // of *cacheEntry, most recent first
		byKey map[string]*list.Element
	}
}

type cacheEntry struct {
	key     string
	tree    *pg.RawStmt
	prep    *prepared // nil until bound; rebuilt when version changes
	version uint64
}

// NewEngine returns an engine over a catalog, a scanner and a writer (w may
// be nil: INSERT then fails with 0A000).
func NewEngine(cat Catalog, sc Scanner, w Writer, opts *Options) *Engine {
	e := &Engine{cat: cat, scan: sc, w: w, now: time.Now}
	e.mu.cap = 1024
	if opts != nil {
		if opts.PlanCacheSize != 0 {
			e.mu.cap = opts.PlanCacheSize
		}
		if opts.Now != nil {
			e.now = opts.Now
		}
	}
	e.mu.lru = list.New()
	e.mu.byKey = map[string]*list.Element{}
	return e
}

func (e *Engine) catalogVersion() (uint64, bool) {
	if v, ok := e.cat.(VersionedCatalog); ok {
		return v.Version(), true
	}
	return 0, false
}

// cached returns the cache entry for key, or nil.
func (e *Engine) cached(key string) *cacheEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	el, ok := e.mu.byKey[key]
	if !ok {
		return nil
	}
	e.mu.lru.MoveToFront(el)
	ce := *el.Value.(*cacheEntry)
	return &ce
}

func (e *Engine) store(ce *cacheEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.cap <= 0 {
		return
	}
	if el, ok := e.mu.byKey[ce.key]; ok {
		el.Value = ce
		e.mu.lru.MoveToFront(el)
		return
	}
	e.mu.byKey[ce.key] = e.mu.lru.PushFront(ce)
	for e.mu.lru.Len() > e.mu.cap {
		last := e.mu.lru.Back()
		delete(e.mu.byKey, last.Value.(*cacheEntry).key)
		e.mu.lru.Remove(last)
	}
}

// parseError turns a pg_query error into a 42601 with its position.
func parseError(err error) error {
	var pe *pgparser.Error
	if errors.As(err, &pe) {
		return &Error{Code: CodeSyntaxError, Message: pe.Message, Position: pe.Cursorpos}
	}
	return errorf(CodeSyntaxError, "%v", err)
}

// Session is one connection's state: tenant, database, user and session
// parameters. It is not safe for concurrent use.
type Session struct {
	eng      *Engine
	tenant   string
	database string
	user     string
	pid      int32
	settings map[string]string
	loc      *time.Location // TimeZone; nil = UTC
	inTx     bool
	cursors  map[string]*cursor // open cursors by name (cursor.go)
}

// NewSession starts a session.
func (e *Engine) NewSession(tenant, database, user string) *Session {
	s := &Session{eng: e, tenant: tenant, database: database, user: user, pid: e.pid.Add(1)}
	s.settings = defaultSettings(user)
	return s
}

// InTransaction reports whether BEGIN was run without COMMIT or ROLLBACK.
func (s *Session) InTransaction() bool { return s.inTx }

// Split splits simple-query text into statements (empty statements are
// dropped). A syntax error anywhere fails the whole text, as in
// PostgreSQL.
func (s *Session) Split(query string) ([]string, error) {
	parts, err := pg.SplitWithParser(query, true)
	if err != nil {
		return nil, parseError(err)
	}
	out := parts[:0]
	for _, p := range parts {
		if strings.TrimSpace(strings.TrimRight(p, "; \t\n")) != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// Prepare parses and plans one statement. paramTypes gives the types of
// $1, $2, ...; a zero entry (or a missing one) is inferred from the
// statement, and parameters whose type cannot be inferred are text.
// Statements are cached by text per Engine, so preparing the same text
// again skips parsing and planning.
func (s *Session) Prepare(ctx context.Context, query string, paramTypes []Type) (*Stmt, error) {
	if err := ctx.Err(); err != nil {
		return nil, asError(err)
	}
	e := s.eng
	var kb strings.Builder
	kb.WriteString(s.tenant)
	kb.WriteByte(0)
	kb.WriteString(s.database)
	kb.WriteByte(0)
	for _, t := range paramTypes {
		kb.WriteString(strconv.Itoa(int(t)))
		kb.WriteByte(',')
	}
	kb.WriteByte(0)
	kb.WriteString(query)
	key := kb.String()
	version, versioned := e.catalogVersion()
	ce := e.cached(key)
	if ce != nil && ce.prep != nil && versioned && ce.version == version {
		return s.stmtOf(ce.prep, query, paramTypes, version), nil
	}
	if ce == nil {
		tree, err := pg.Parse(query)
		if err != nil {
			return nil, parseError(err)
		}
		e.parses.Add(1)
		switch len(tree.Stmts) {
		case 0:
			return &Stmt{sess: s, prep: &prepared{kind: kindEmpty}}, nil
		case 1:
		default:
			return nil, errorf(CodeSyntaxError, "cannot insert multiple commands into a prepared statement")
		}
		ce = &cacheEntry{key: key, tree: tree.Stmts[0]}
	}
	prep, err := s.build(ce.tree.Stmt, query, paramTypes)
	if err != nil {
		// keep the parse tree: the statement may bind once tables exist
		e.store(&cacheEntry{key: key, tree: ce.tree})
		return nil, err
	}
	e.store(&cacheEntry{key: key, tree: ce.tree, prep: prep, version: version})
	return s.stmtOf(prep, query, paramTypes, version), nil
}

// stmtOf is newStmt remembering what the statement was prepared from, so
// that it can be planned again when the catalog changes.
func (s *Session) stmtOf(p *prepared, query string, paramTypes []Type, version uint64) *Stmt {
	st := s.newStmt(p)
	st.query, st.paramTypes, st.version = query, append([]Type(nil), paramTypes...), version
	return st
}

// newBinder returns a binder for one statement.
func (s *Session) newBinder(query string, paramTypes []Type) *binder {
	b := &binder{eng: s.eng, tenant: s.tenant, database: s.database, query: query, used: map[int]map[string]bool{}}
	for _, t := range paramTypes {
		tt := t
		b.params = append(b.params, &tt)
	}
	b.fixed = len(paramTypes)
	return b
}

// bindTwice binds a statement in two passes (see binder.pass) and returns
// the second pass's binder.
func (s *Session) bindTwice(query string, paramTypes []Type, fn func(b *binder) error) (*binder, error) {
	b := s.newBinder(query, paramTypes)
	b.pass = 1
	if err := fn(b); err != nil {
		return nil, err
	}
	used := b.used
	b = s.newBinder(query, paramTypes)
	b.pass, b.used = 2, used
	if err := fn(b); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *binder) paramTypes() []Type {
	out := make([]Type, len(b.params))
	for i, t := range b.params {
		out[i] = *t
		if out[i] == TypeUnknown {
			out[i] = TypeText
			*t = TypeText
		}
	}
	return out
}
