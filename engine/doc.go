// Package engine is the embeddable fineod database: the same engine the
// server runs, without the servers.
//
//	db, err := engine.Open(dir, nil)
//	err = db.Write(ctx, points)        // durable when it returns
//	rows, err := db.Query(ctx, "SELECT ...", args...)
//	err = db.Scan(ctx, req, fn)        // read back without SQL
//	err = db.Close()
//
// Write path (engine_write.go): rows are grouped by a schema.Builder;
// missing tables and fields are first proposed as schema changes; the batch
// is encoded (Avro) and proposed to the raft log (package cluster), which
// fsyncs it with other concurrent writes (group commit), commits it, and
// applies it through the applier (engine_apply.go) to the row store. Write
// returns after the apply, so reads that start after it see the data.
//
// Recovery (engine.go): Open opens the row store, reads its applied index,
// and starts the raft node, which replays every committed entry after that
// index before Open returns. A background checkpoint flushes the row store
// and lets the log release the segments before the flushed index.
//
// SQL (engine_sql.go, engine_sqlscan.go, engine_bind.go, engine_query.go):
// the DB implements the catalog and column-batch scanner package sql
// declares. Late binding (engine_bind.go): a logical table is bound at
// each catalog version — its SQL columns are its tags and its members',
// its visible logical columns (with their aliases) and _unmapped; every
// physical field of it and its member tables feeds columns by source rank,
// raw (cast on read) or through a compiled conversion that the scan
// evaluates per batch. The first non-null source wins; a value that does
// not convert reads as NULL and is written once to the errors table (a
// marker key per value). Also: tag and time
// pushdown through the series and tag indexes, field-filter hints,
// last-point-per-series seeks, two scan workers for large scans — and
// db.Query runs SQL on it. Over segments (engine_segscan.go) each day's
// segments are merged with its row-store points by point identity; a plain
// scan of one segment (no field filter, conversion or _unmapped) copies
// runs of a series' rows into the batch column by column (bulkPlan), up to
// the next row-store point of that series. engine_systables.go serves fineo.errors and
// fineo.series; engine_ddl.go logs CREATE and DROP TABLE.
//
// Files (filenames.go): <dir>/wal, <dir>/rows, <dir>/segments, <dir>/LOCK
// (an flock that keeps a second process out). Open removes what a crash
// during compaction can leave under segments/ before anything compacts.
//
// DB is safe for concurrent use.
package engine
