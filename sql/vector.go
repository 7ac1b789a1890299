package sql

// Vector is one column of a Batch. Exactly one of the value slices is used,
// chosen by Type: F64 for float types and numeric, I64 for integer types,
// timestamps (ns since the epoch) and intervals (ns), Str for text types,
// Bool for boolean. Null[i] marks row i NULL (nil = no NULLs).
type Vector struct {
	Type Type
	F64  []float64
	I64  []int64
	Str  []string
	Bool []bool
	Null []bool
}

// Batch is a set of rows in columns. Every vector has Len rows.
type Batch struct {
	Len  int
	Cols []Vector
}
