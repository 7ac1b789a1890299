package engine

import "path/filepath"

// On-disk layout of a data directory:
//
//	<dir>/wal/      the replicated log (package wal, via package cluster)
//	<dir>/rows/     the Pebble row store (package storage)
//	<dir>/LOCK      held while a process has the directory open
const (
	walDirName  = "wal"
	rowsDirName = "rows"
	lockName    = "LOCK"
)

func walDir(dir string) string   { return filepath.Join(dir, walDirName) }
func rowsDir(dir string) string  { return filepath.Join(dir, rowsDirName) }
func lockPath(dir string) string { return filepath.Join(dir, lockName) }
