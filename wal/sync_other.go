//go:build !linux

package wal

import "os"

// fdatasync flushes f to stable storage. Without fdatasync, fsync.
func fdatasync(f *os.File) error { return f.Sync() }
