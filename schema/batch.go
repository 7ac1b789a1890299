package schema

// The write batch is what one log entry carries: rows grouped by table and
// series, one array per field (columnar), plus the error rows of the
// request that produced it. It is encoded with Avro (codec.go).

// Batch is a decoded write batch with physical ids resolved.
type Batch struct {
	Tenant uint32       `avro:"tenant"`
	Tables []TableBatch `avro:"tables"`
	Errors []ErrorRow   `avro:"errors"`
}

// TableBatch holds one table's rows in a batch.
type TableBatch struct {
	Table  uint32   `avro:"table"`
	Series []Series `avro:"series"`
}

// Series holds one series' rows: Tags is key, value, key, value... sorted by key.
type Series struct {
	Tags   []string `avro:"tags"`
	Times  []int64  `avro:"times"`
	Fields []Column `avro:"fields"`
}

// Column holds one physical field's values for the rows of a series.
// Present is a bitmap over rows (bit i of byte i/8 set = row i has a value);
// empty means every row has one. Only the slice of the field's type is used,
// and it holds values of present rows only.
type Column struct {
	ID      uint32    `avro:"id"`
	Type    Type      `avro:"type"`
	Present []byte    `avro:"present"`
	F       []float64 `avro:"f"`
	I       []int64   `avro:"i"` // TypeInt, and TypeUint as the uint64's bits
	S       [][]byte  `avro:"s"`
	B       []bool    `avro:"b"`
}

// Has reports whether row i has a value.
func (c *Column) Has(i int) bool {
	if len(c.Present) == 0 {
		return true
	}
	return c.Present[i>>3]&(1<<(uint(i)&7)) != 0
}

// Len is the number of values in the column.
func (c *Column) Len() int {
	switch c.Type {
	case TypeFloat:
		return len(c.F)
	case TypeInt, TypeUint:
		return len(c.I)
	case TypeString:
		return len(c.S)
	case TypeBool:
		return len(c.B)
	}
	return 0
}

// Error stages and kinds, as stored in the errors table.
const (
	StageIngest  = "ingest"
	StageApply   = "apply"
	StageCompact = "compact"
	StageRead    = "read"

	KindBadInput   = "bad_input"
	KindProcessing = "processing"
)

// ErrorRow is one row of a tenant's errors table.
type ErrorRow struct {
	Time     int64  `avro:"time" json:"time"`
	Stage    string `avro:"stage" json:"stage"`
	Kind     string `avro:"kind" json:"kind"`
	Database string `avro:"database" json:"database"`
	Table    string `avro:"table_name" json:"table_name"`
	Message  string `avro:"message" json:"message"`
	Raw      []byte `avro:"raw" json:"raw"`
}

// Rows is the number of rows in the batch.
func (b *Batch) Rows() int {
	n := 0
	for i := range b.Tables {
		for j := range b.Tables[i].Series {
			n += len(b.Tables[i].Series[j].Times)
		}
	}
	return n
}
