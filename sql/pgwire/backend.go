package pgwire

import (
	"context"
	"net"
)

// This file declares what the server needs of the SQL engine. The engine
// does not import pgwire; cmd/fineod wires an adapter (a few lines per
// method) from the engine's session to these interfaces.

// OID is a PostgreSQL type OID. The constants below are the types whose text
// and binary encodings this package knows; any other OID is sent and
// received as text.
type OID = uint32

// Type OIDs with a wire encoding in this package.
const (
	OIDUnknown     OID = 0
	OIDBool        OID = 16
	OIDBytea       OID = 17
	OIDChar        OID = 18
	OIDName        OID = 19
	OIDInt8        OID = 20
	OIDInt2        OID = 21
	OIDInt4        OID = 23
	OIDText        OID = 25
	OIDOid         OID = 26
	OIDJSON        OID = 114
	OIDFloat4      OID = 700
	OIDFloat8      OID = 701
	OIDBPChar      OID = 1042
	OIDVarchar     OID = 1043
	OIDDate        OID = 1082
	OIDTimestamp   OID = 1114
	OIDTimestamptz OID = 1184
	OIDInterval    OID = 1186
	OIDNumeric     OID = 1700
	OIDJSONB       OID = 3802
)

// StartupInfo is what the client said in its StartupMessage, plus what the
// server resolved from it.
type StartupInfo struct {
	// Tenant is the tenant the connection works in, as resolved by
	// Config.Tenant (default "default").
	Tenant string
	// User and Database are the "user" and "database" startup parameters;
	// Database defaults to User as in PostgreSQL.
	User, Database string
	// Params holds every startup parameter, including user, database,
	// application_name and options. The session may keep the map.
	Params map[string]string
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
}

// Backend opens sessions. It must be safe for concurrent use: every
// connection calls NewSession from its own goroutine.
type Backend interface {
	// NewSession opens the session of one connection. An error is sent to
	// the client as a FATAL ErrorResponse and the connection is closed.
	NewSession(ctx context.Context, info StartupInfo) (Session, error)
}

// Session is the SQL state of one connection. The server calls it from a
// single goroutine at a time; it need not be safe for concurrent use.
//
// A Session may also implement Copier (COPY FROM STDIN / TO STDOUT) and
// io.Closer or interface{ Close() } (called once when the connection ends).
type Session interface {
	// Split splits the text of a simple Query message into statements. Empty
	// text yields no statements (the server answers EmptyQueryResponse).
	Split(query string) ([]string, error)
	// Prepare parses and plans one statement. paramTypes has the types the
	// client declared, by position; 0 or a missing entry means "infer".
	Prepare(ctx context.Context, query string, paramTypes []OID) (Stmt, error)
	// Settings returns the session's current settings by name (TimeZone,
	// DateStyle, application_name, ...). The server sends ParameterStatus for
	// the reported ones when they change, and reads TimeZone to format
	// timestamptz values. The server does not modify the map.
	Settings() map[string]string
}

// Stmt is a prepared statement. A Stmt may be executed several times, but
// never concurrently.
type Stmt interface {
	// ParamTypes returns the type of every parameter ($1 first). Parameters
	// are decoded to Go values of these types before Execute.
	ParamTypes() []OID
	// Columns returns the result columns, or nil if the statement returns no
	// rows (the server then answers Describe with NoData).
	Columns() []Column
	// Execute runs the statement. params has one value per ParamTypes
	// entry: nil, bool, int64, float64, string, time.Time or []byte (the
	// table in decode.go says which type gives which). ctx is cancelled when the
	// client sends a CancelRequest for the connection; the error returned
	// then is reported as 57014 whatever it is.
	Execute(ctx context.Context, params []any) (Result, error)
}

// Column is one result column.
type Column struct {
	Name string
	Type OID
}

// Result is the outcome of one execution: rows (possibly none) and a
// command tag. The server calls Next until it returns false, then Err and
// Tag, and always Close, even after a partial read (a portal closed early or
// a cancelled query).
type Result interface {
	// Next advances to the next row.
	Next() bool
	// Row returns the current row, one value per column: nil, bool, int64,
	// float64, string, time.Time, []byte or an interval (Interval, or any
	// value with an IntervalParts method). The slice is only read until the
	// next call to Next.
	Row() []any
	// Err returns the error that stopped Next, if any.
	Err() error
	// Tag is the CommandComplete tag ("SELECT 3", "INSERT 0 5", "BEGIN",
	// "SET", ...). Valid after Next returned false with a nil Err. The
	// server tracks the transaction status from the tags BEGIN, COMMIT and
	// ROLLBACK.
	Tag() string
	// Close releases the result.
	Close()
}

// SQLStateError is how the server learns the SQLSTATE of an error returned
// by the backend: it looks for it with errors.As. Errors without one are
// reported as XX000 (internal_error). The optional methods ErrorDetail,
// ErrorHint (string) and ErrorPosition (int, 1-based character position in
// the statement, 0 = none) fill the matching ErrorResponse fields.
type SQLStateError interface {
	error
	SQLState() string
}

// Interval is a PostgreSQL interval. Result rows may hold it (or any type
// with the same IntervalParts method); binary interval parameters are
// decoded to its text form, a string.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// IntervalParts returns the three fields of the interval.
func (iv Interval) IntervalParts() (months, days int32, micros int64) {
	return iv.Months, iv.Days, iv.Micros
}

// intervalValue is implemented by the interval types the server encodes.
type intervalValue interface {
	IntervalParts() (months, days int32, micros int64)
}

// Copier is implemented by sessions that support COPY. The server calls it
// instead of Prepare for a statement that is COPY ... FROM STDIN or
// COPY ... TO STDOUT: the words FROM STDIN or TO STDOUT outside
// parentheses, quotes and comments.
type Copier interface {
	// CopyIn starts COPY ... FROM STDIN. The server then reads CopyData,
	// decodes rows with the sink's Options and Columns, and hands them to
	// WriteRows in batches.
	CopyIn(ctx context.Context, query string) (CopyInSink, error)
	// CopyOut starts COPY ... TO STDOUT. The server encodes the source's rows
	// in its Options' format and sends them as CopyData.
	CopyOut(ctx context.Context, query string) (CopyOutSource, error)
}

// CopyInSink receives the rows of a COPY FROM STDIN. The steps are:
//
//  1. the server calls Columns and Options and sends CopyInResponse;
//  2. it calls WriteRows with each batch of decoded rows (the rows are
//     only valid during the call);
//  3. on CopyDone it calls Done, whose tag ("COPY n") completes the command;
//  4. on CopyFail, a decoding error, a WriteRows error or a lost
//     connection it calls Abort instead of Done.
type CopyInSink interface {
	Columns() []Column
	Options() CopyOptions
	WriteRows(ctx context.Context, rows [][]any) error
	Done(ctx context.Context) (tag string, err error)
	Abort(reason string)
}

// CopyOutSource is the rows of a COPY TO STDOUT: a Result (whose Tag is
// "COPY n") with its columns and format.
type CopyOutSource interface {
	Result
	Columns() []Column
	Options() CopyOptions
}
