// Package engine is the embeddable fineod database: the same engine the
// server runs, without the servers.
//
//	db, err := engine.Open(dir, nil)
//	err = db.Write(ctx, points)        // durable when it returns
//	err = db.Scan(ctx, req, fn)        // read back
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
// Files (filenames.go): <dir>/wal, <dir>/rows, <dir>/LOCK (an flock that
// keeps a second process out).
//
// DB is safe for concurrent use.
package engine
