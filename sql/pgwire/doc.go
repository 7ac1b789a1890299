// Package pgwire is fineod's PostgreSQL server: it speaks the v3 wire
// protocol (PostgreSQL 7.4 and later, what psql, libpq, pgx, pgjdbc and
// psycopg use) and hands the SQL to a Backend, the SQL engine behind an
// adapter. It owns everything about the protocol — framing, the connection
// state machine, the text and binary encodings of values and the COPY data
// formats — and nothing about SQL: it never parses a statement beyond
// recognising COPY and COMMIT/ROLLBACK.
//
// # Files
//
//   - backend.go: the interfaces the server needs (Backend, Session, Stmt,
//     Result, Copier, CopyInSink, CopyOutSource) and the value types.
//   - server.go: Server, Config, Serve, Shutdown, the BackendKeyData ->
//     connection map that CancelRequest uses.
//   - startup.go: SSLRequest/GSSEncRequest, StartupMessage, authentication,
//     ParameterStatus.
//   - conn.go: the per-connection message loop, simple query, rows.
//   - extended.go: Parse, Bind, Describe, Execute, Close.
//   - conn_copy.go: copy-in and copy-out modes; copy.go: the COPY text, CSV
//     and binary formats (CopyDecoder, CopyEncoder).
//   - encode.go, decode.go: text and binary encodings of values.
//   - scan.go: the few statement keywords the server must see.
//
// # Connection state machine
//
// Each connection is served by one goroutine, which owns all its state: the
// Session, the prepared statements and portals, the transaction status and
// the output buffer. Another goroutine touches a connection only to cancel
// its running query (CancelRequest, Shutdown) or to interrupt its read
// (Shutdown). The states:
//
//	         accept
//	           |
//	           v
//	+--------------------+  SSLRequest / GSSEncRequest: answer 'N', stay
//	|      startup       |  CancelRequest: cancel the target, close
//	+--------------------+  bad packet, timeout (1 min): close
//	           | StartupMessage
//	           v
//	authentication (trust, or cleartext password with Config.Authenticate)
//	Backend.NewSession; ParameterStatus...; BackendKeyData
//	           |
//	           v
//	+--------------------+ <---------------------------------------------+
//	|       ready        |  ReadyForQuery(status) sent, output flushed     |
//	+--------------------+                                                |
//	  | Query                  | Parse/Bind/Describe/Execute/Close          |
//	  v                        v                                            |
//	simple query:            extended: each message answered in order,     |
//	for each statement:      output buffered until Sync or Flush.           |
//	 RowDescription,         An error sends ErrorResponse and sets          |
//	 DataRow..., Command-    ignoreTillSync: every message but Sync is      |
//	 Complete; an error      discarded.                                     |
//	 skips the rest.           | Sync: close the portals of an implicit    |
//	  |                        | transaction, clear ignoreTillSync          |
//	  +------------------------+--------------------------------------------+
//
//	COPY FROM STDIN (from either mode): CopyInResponse, then CopyData* and
//	CopyDone (or CopyFail) -> CommandComplete (or ErrorResponse); Flush and
//	Sync are ignored meanwhile. COPY TO STDOUT: CopyOutResponse, CopyData*,
//	CopyDone, CommandComplete.
//	Terminate, EOF, a malformed or oversized message (FATAL 08P01, logged),
//	or Shutdown (FATAL 57P01) end the connection; never the server.
//
// # Transactions
//
// fineod has no multi-statement transactions: the backend executes BEGIN,
// COMMIT and ROLLBACK as no-ops returning those command tags, and the
// server derives the transaction status byte of ReadyForQuery from them:
// 'I' idle, 'T' after BEGIN, 'E' after an error inside a block. In state
// 'E' every statement except COMMIT/END/ROLLBACK/ABORT fails with 25P02 and
// is not sent to the backend; COMMIT of a failed block reports ROLLBACK, as
// in PostgreSQL. Portals are closed at Sync outside a block and at the end
// of a block.
//
// # Extended protocol
//
// Parse calls Session.Prepare with the client's parameter type hints (0 =
// infer); the unnamed statement is replaced by each Parse and by each
// simple Query. Bind decodes the parameters (text or binary, per parameter)
// to Go values by the statement's ParamTypes and records per-column result
// formats. Execute runs the statement on its first call and sends at most
// MaxRows rows, then PortalSuspended; the next Execute continues the same
// Result. Describe answers ParameterDescription and RowDescription (or
// NoData) for a statement, RowDescription with the bound formats for a
// portal.
//
// # Cancellation
//
// Every connection gets a BackendKeyData (process id, 4-byte secret). A
// CancelRequest on a new connection with the same key cancels the context
// of the query running on the first connection, if any (queries and COPY;
// a suspended portal counts only while an Execute runs). The query then
// fails with 57014 whatever error the backend returns; the server also
// stops sending rows on its own.
//
// # Values
//
// Result values are encoded by their column's type OID: bool, int2/4/8,
// float4/8, numeric (binary numeric too), text/varchar/name/bpchar/char,
// bytea, json/jsonb, oid, date, timestamp and timestamptz (binary:
// microseconds since 2000-01-01), interval. Text output follows
// PostgreSQL's output functions with DateStyle ISO, IntervalStyle postgres,
// shortest-exact floats, and timestamptz in the session's TimeZone.
package pgwire
