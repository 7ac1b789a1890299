// Package sql is fineod's SQL engine: it parses PostgreSQL-dialect SQL with
// pg_query_go (the real PostgreSQL grammar), binds names against a
// tenant's tables, plans, and executes with column-batch operators.
//
// # Contracts
//
// api.go is the contract with the two sides. Below: Catalog (tables and
// columns), Scanner (column batches for a ScanSpec) and Writer (INSERT),
// implemented by package engine; a Writer may also implement SchemaWriter
// (CREATE TABLE), TableDropper (DROP TABLE) and SchemaAlterer (ALTER TABLE,
// fineo.* schema functions). Above: Engine, Session, Stmt and Result,
// used by sql/pgwire, HTTP SQL and the Go API:
//
//	eng := sql.NewEngine(cat, scanner, writer, nil)
//	s := eng.NewSession(tenant, database, user)  // one per connection
//	for _, q := range s.Split(text) { st, _ := s.Prepare(ctx, q, nil); res, _ := st.Execute(ctx, nil) ... }
//
// Every error the package returns is an *Error with a SQLSTATE.
//
// # Pipeline and files
//
//	engine.go, stmt.go, settings.go   Engine (plan cache), Session, Stmt, Result, SET/SHOW
//	bind.go, bind_select.go           parse tree -> typed expressions and plans
//	join.go, subquery.go, window.go   joins, subqueries, window binding
//	expr.go, funcs.go, timeparse.go   vectorised expressions, functions, time parsing
//	timezone.go, tz/                  session time zone: conversions, zone names
//	plan.go, agg.go, window_exec.go   operators: scan, filter, project, hash aggregate,
//	                                  sort / top-N, limit, distinct, union, join, window
//	pushdown.go                       time range and tag predicates into ScanSpec
//	insert.go                         INSERT through Writer (schema.Builder)
//	cursor.go                         DECLARE / FETCH / MOVE / CLOSE cursors
//	copy.go                           COPY TO STDOUT sources, COPY FROM STDIN sinks
//	ddl.go                            CREATE TABLE (through SchemaWriter), DROP TABLE
//	alter.go                          ALTER TABLE and the fineo.* schema functions
//	                                  (through SchemaAlterer)
//	conversion.go                     CompileConversion: late-binding conversions the
//	                                  engine's scan evaluates; ParseType
//	vec.go, types.go, errors.go       vectors, hash tables, types, SQLSTATEs
//	catalog_pg.go, catalog_pgtables.go  virtual pg_catalog tables (computed per query)
//	catalog_info.go, catalog_fineo.go   information_schema; fineo.errors / fineo.series
//	                                  (through the optional SystemSource interface)
//	catalog_funcs.go                  functions and reg* casts clients use on the catalog
//
// Plans are immutable trees of operators; execution is push-based: a plan
// runs its input and emits *Batch values downstream, so scan -> filter ->
// project -> hash aggregate evaluates every expression over whole vectors.
// Results become rows only in Result.Row. A statement runs to completion
// inside Execute (its result is held in batches).
//
// Binding runs twice per statement: the first pass records the columns
// each table reference uses, the second builds scans that fetch only
// those. Parsed and planned statements are cached per Engine by (tenant,
// database, parameter types, text) in an LRU; a VersionedCatalog's
// Version invalidates plans (the parse tree is kept and re-bound).
//
// # Names
//
// Table and column names resolve as in PostgreSQL: unquoted identifiers
// fold to lower case and must match exactly, quoted ones match exactly.
// Because line-protocol writers use mixed case, an unquoted table name
// with no exact match falls back to the unique case-insensitive match (a
// quoted name never does); column names fall back the same way. The schema
// "public" (or none) is the session's database; another schema name that
// is one of the tenant's databases selects that database.
//
// # Supported
//
//   - SELECT without FROM; FROM tables, subqueries, CTEs (WITH, not
//     RECURSIVE), VALUES; inner, left and right hash joins (ON, USING),
//     cross joins; UNION [ALL].
//   - Expressions: arithmetic, comparisons, ||, AND/OR/NOT with
//     three-valued NULL logic, IN lists, BETWEEN [SYMMETRIC], LIKE/ILIKE,
//     ~ regular expressions, IS [NOT] NULL/TRUE/FALSE/DISTINCT FROM, CASE
//     (branches evaluated only on their rows), COALESCE, NULLIF, GREATEST,
//     LEAST, casts (:: and CAST), $n parameters (types inferred), scalar
//     subqueries, IN (subquery), EXISTS (uncorrelated only).
//   - WHERE, GROUP BY (columns, expressions, ordinals, output aliases),
//     HAVING, aggregates count(*), count(x), count(DISTINCT x) (DISTINCT
//     works for every aggregate), sum, avg, min, max, first(v, t),
//     last(v, t), stddev/stddev_samp/stddev_pop, variance/var_samp/var_pop,
//     bool_and/bool_or, percentile_cont/percentile_disc WITHIN GROUP,
//     FILTER (WHERE ...).
//   - ORDER BY (ASC/DESC, NULLS FIRST/LAST, alias, ordinal, expression)
//     with a top-N heap under LIMIT; LIMIT/OFFSET; DISTINCT, DISTINCT ON.
//   - Windows: row_number, rank, dense_rank, lag, lead, first_value,
//     last_value and aggregates OVER (PARTITION BY ... ORDER BY ...) with
//     the default frame, ROWS/RANGE UNBOUNDED PRECEDING / CURRENT ROW /
//     UNBOUNDED FOLLOWING and ROWS n PRECEDING/FOLLOWING.
//   - Time: now() / current_timestamp (statement start), localtimestamp,
//     date_trunc(unit, ts [, zone]), date_bin, time_bucket(width, ts [,
//     offset | origin | zone]) (TimescaleDB order and default origin
//     2000-01-03; an unknown literal third argument is an offset when it
//     reads as an interval, else a zone), extract / date_part,
//     to_timestamp(double), AT TIME ZONE / timezone(zone, ts), interval
//     literals, ts ± interval, ts - ts, timestamp[tz] literals in ISO forms
//     (with an offset, Z, an abbreviation or a zone name).
//   - Time zones (timezone.go), as PostgreSQL 15: SET TimeZone takes IANA
//     names (matched regardless of case), POSIX TZ strings ('UTC+3' is
//     three hours west of Greenwich, '+05:30' five and a half hours west)
//     and numbers of hours east (SET TimeZone = 5, shown as <+05>-05). The
//     session's zone governs timestamptz: literals and text without an
//     offset are read in it, text output shows it, date_trunc truncates
//     and extract takes fields in it (epoch is absolute), casts to and
//     from timestamp convert through it, and ts ± interval adds months
//     and days in local time (across DST) and the time part as an
//     absolute duration. AT TIME ZONE, date_trunc's and time_bucket's zone
//     arguments also accept PostgreSQL's fixed abbreviations (EST, CEST,
//     ...). date_bin and time_bucket without a zone are zone-independent.
//     Plans do not depend on the zone: zone-dependent constants are not
//     folded at bind time but evaluated when the statement runs, so cached
//     plans are shared across sessions and SET TimeZone.
//   - Functions: abs, round, trunc, floor, ceil, sqrt, cbrt, exp, ln, log,
//     log10, power, mod, sign, pi, degrees, radians, lower, upper, length,
//     concat, substr, replace, split_part, starts_with, strpos, left,
//     right, trim/btrim/ltrim/rtrim, reverse, version(),
//     current_database(), current_schema(), current_user,
//     current_setting(), pg_backend_pid().
//   - Statements: SELECT, EXPLAIN (plan text with what was pushed into
//     each scan), INSERT ... VALUES / INSERT ... SELECT, SET / SET ... TO
//     / RESET / SHOW, BEGIN / START TRANSACTION / COMMIT / ROLLBACK /
//     SAVEPOINT (accepted; every statement applies on its own, there is no
//     multi-statement atomicity or rollback), DISCARD ALL; DECLARE CURSOR,
//     FETCH, MOVE, CLOSE (cursor.go); CREATE TABLE ... WITH (tags = '...')
//     (ddl.go); ALTER TABLE ... RENAME [COLUMN], ADD / DROP COLUMN, ALTER
//     COLUMN ... TYPE ... USING, SET / RESET (ttl, strict), and SELECT
//     fineo.add_alias(...) and the other schema functions (alter.go);
//     COPY through Session.CopyIn / CopyOut (copy.go).
//   - Pushdown: see pushdown.go.
//   - Catalog for clients (enough for psql \dt, \d, \l, \dn, \dt+ and
//     pgjdbc DatabaseMetaData): pg_catalog tables (pg_class, pg_attribute,
//     pg_type, pg_namespace, pg_database, pg_settings, pg_roles, pg_am,
//     pg_tables, and empty pg_index, pg_attrdef, pg_description, pg_proc,
//     pg_constraint, pg_inherits, pg_policy, ...), information_schema
//     tables, columns and schemata, and the tenant's fineo.errors and
//     fineo.series; functions pg_table_is_visible, pg_get_userbyid,
//     format_type, pg_get_expr, obj_description, col_description,
//     pg_encoding_to_char, has_*_privilege, current_schemas, quote_ident,
//     array_to_string, pg_size_pretty, to_regclass; ::regclass,
//     ::regtype, ::regnamespace casts; OPERATOR(pg_catalog.~); COLLATE
//     (ignored). See catalog_pg.go for naming, OIDs and how blocks over
//     always-empty catalogs are planned.
//
// # Not supported (yet)
//
// UPDATE, DELETE (0A000); correlated
// subqueries; FULL and NATURAL joins; INTERSECT/EXCEPT; GROUPING SETS;
// recursive CTEs; arrays, json operators, date/time types other than
// timestamp[tz] and interval; to_timestamp(text, fmt); named windows,
// GROUPS frames and RANGE offsets; arrays in the catalog (current_schemas
// returns the text form '{pg_catalog,public}'; ::regclass of an OID gives
// text). Time zones: SET TIME ZONE INTERVAL, POSIX zones in timestamp
// literals ('2016-01-01 00:00 UTC+3'), abbreviations outside the common
// fixed ones, and the timezone_abbreviations setting. numeric is double
// precision underneath. Integer arithmetic does not detect overflow.
// Intervals are kept in nanoseconds inside the engine (a day is 24 hours;
// interval constants and parameters keep months and days apart, which ts
// ± interval uses; other intervals are all time); Result.Row splits them
// into days and microseconds (an interval's months read as 30 days).
package sql
