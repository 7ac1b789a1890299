package storage

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Segment files: the history tier. A segment is a Parquet file holding the
// points of one partition (one table, one UTC day), sorted by series tags
// then time. Any Parquet reader can read it; fineod maps its columns back to
// physical fields with the file's key-value metadata.
//
//	+----------------------------------------------------------------------+
//	| "PAR1"                                                               |
//	| row group 0 .. n-1 (SegmentWriterOptions.RowGroupRows rows each,     |
//	|   128Ki by default), zstd, column statistics (min/max, nulls),       |
//	|   column and offset indexes (page index)                             |
//	| footer: schema, row-group metadata, key-value metadata               |
//	| "PAR1"                                                               |
//	+----------------------------------------------------------------------+
//
//	column        physical    logical               encoding             repetition
//	time          INT64       TIMESTAMP(NANOS, UTC) DELTA_BINARY_PACKED  required
//	<tag key>     BYTE_ARRAY  STRING                RLE_DICTIONARY       optional
//	<float field> DOUBLE      -                     BYTE_STREAM_SPLIT    optional
//	<int field>   INT64       INT(64, signed)       DELTA_BINARY_PACKED  optional
//	<uint field>  INT64       INT(64, unsigned)     DELTA_BINARY_PACKED  optional
//	<text field>  BYTE_ARRAY  STRING                RLE_DICTIONARY       optional
//	<bool field>  BOOLEAN     -                     PLAIN                optional
//
// Columns come in that order: time, then the tag keys sorted, then the
// physical fields by id. A series' tags are the non-null tag columns of a
// row; a missing tag is NULL (line protocol has no empty tag values, and an
// empty string is stored as an empty string). Field columns carry the
// physical field id as their Parquet field_id too.
//
// Column names (segmentLayout), chosen so that a generic reader sees the
// names users wrote:
//   - "time"; a tag key is its own name, or "<key>__tag" if the key is "time".
//   - A physical field is named over the whole table schema, fields in id
//     order: its raw name if no earlier column has it; otherwise
//     "<name>__<type>" with type one of float, integer, unsigned, string,
//     boolean (so a field "temp" first sent as a float and later as a string
//     gives columns "temp" and "temp__string"); otherwise
//     "<name>__<type>__<id>". A name stays the same for the life of the
//     table unless a tag key of the same name appears later.
//
// Key-value metadata (the authority for mapping columns to fields):
//
//	fineod.segment.version  "1"
//	fineod.segment.columns  JSON [{"name","kind":"time"|"tag"|"field","tag","field_id","type"}]
//	fineod.segment.table    JSON {"tenant_id","table_id","database","name"}
//	fineod.segment.day      YYYY-MM-DD (UTC)
//	fineod.segment.groups   JSON [{"k": tag string, "t": time}], the first row of each
//	                        row group (optional: a reader that lacks it or finds it
//	                        inconsistent does not split the segment between row groups)
//	fineod.segment.series   JSON [{"k": tag string, "r": first row, "n": rows}], each series'
//	                        rows, in order (optional; absent over 50,000 series): readers
//	                        find a series' rows without decoding the tag columns
//
// A file without these keys, or with another version, is rejected by
// OpenSegment. These constants are part of the on-disk format.
const (
	segmentVersion     = "1"
	metaSegmentVersion = "fineod.segment.version"
	metaSegmentColumns = "fineod.segment.columns"
	metaSegmentTable   = "fineod.segment.table"
	metaSegmentDay     = "fineod.segment.day"
	metaSegmentGroups  = "fineod.segment.groups"
	metaSegmentSeries  = "fineod.segment.series"
	// metaSegmentCheckpoints: for the DELTA_BINARY_PACKED columns (time,
	// integer and unsigned fields), per row group, the value at every
	// checkpointEvery-th non-null value of the chunk (segmentCheckpoints).
	// A range read starts decoding at the checkpoint before its first row
	// instead of at the start of the page.
	metaSegmentCheckpoints = "fineod.segment.checkpoints"

	colKindTime  = "time"
	colKindTag   = "tag"
	colKindField = "field"

	timeColumnName = "time"
)

// SegmentColumn describes one column of a segment.
type SegmentColumn struct {
	Name    string      `json:"name"`
	Kind    string      `json:"kind"`               // "time", "tag" or "field"
	Tag     string      `json:"tag,omitempty"`      // kind "tag": the tag key
	FieldID uint32      `json:"field_id,omitempty"` // kind "field": the physical field id
	Type    schema.Type `json:"type,omitempty"`     // kind "field": the physical type
}

// segmentTable is the fineod.segment.table metadata value.
type segmentTable struct {
	TenantID uint32 `json:"tenant_id"`
	TableID  uint32 `json:"table_id"`
	Database string `json:"database"`
	Name     string `json:"name"`
}

// FieldColumnNames returns the segment column name of every physical field
// of a table, by field id (the naming rule above).
func FieldColumnNames(tbl *schema.Table) map[uint32]string {
	taken := map[string]bool{timeColumnName: true}
	for _, k := range tbl.TagKeys {
		taken[tagColumnName(k)] = true
	}
	fields := slices.Clone(tbl.Fields)
	slices.SortFunc(fields, func(a, b schema.Field) int { return int(a.ID) - int(b.ID) })
	out := make(map[uint32]string, len(fields))
	for _, f := range fields {
		name := f.Name
		if taken[name] {
			name = f.Name + "__" + f.Type.String()
		}
		if taken[name] {
			name = f.Name + "__" + f.Type.String() + "__" + strconv.FormatUint(uint64(f.ID), 10)
		}
		for taken[name] {
			name += "_"
		}
		taken[name] = true
		out[f.ID] = name
	}
	return out
}

func tagColumnName(key string) string {
	if key == timeColumnName {
		return key + "__tag"
	}
	return key
}

// segmentLayout returns the columns of a segment of tbl holding the given
// tag keys (nil = all of the table's) and field ids (nil = all).
func segmentLayout(tbl *schema.Table, tagKeys []string, fieldIDs []uint32) ([]SegmentColumn, error) {
	if tagKeys == nil {
		tagKeys = tbl.TagKeys
	}
	tagKeys = slices.Clone(tagKeys)
	slices.Sort(tagKeys)
	tagKeys = slices.Compact(tagKeys)
	if fieldIDs == nil {
		for _, f := range tbl.Fields {
			fieldIDs = append(fieldIDs, f.ID)
		}
	}
	fieldIDs = slices.Clone(fieldIDs)
	slices.Sort(fieldIDs)
	fieldIDs = slices.Compact(fieldIDs)

	cols := []SegmentColumn{{Name: timeColumnName, Kind: colKindTime}}
	for _, k := range tagKeys {
		cols = append(cols, SegmentColumn{Name: tagColumnName(k), Kind: colKindTag, Tag: k})
	}
	names := FieldColumnNames(tbl)
	for _, id := range fieldIDs {
		f, ok := tbl.FieldByID(id)
		if !ok {
			return nil, fmt.Errorf("storage: segment: table %q has no field %d", tbl.Name, id)
		}
		cols = append(cols, SegmentColumn{Name: names[id], Kind: colKindField, FieldID: id, Type: f.Type})
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			// Only a tag key added after a field of the same name can do this.
			return nil, fmt.Errorf("storage: segment: column name %q used twice in table %q", c.Name, tbl.Name)
		}
		seen[c.Name] = true
	}
	return cols, nil
}

// parquetNode is the Parquet schema node of a column.
func parquetNode(c SegmentColumn) (parquet.Node, error) {
	switch c.Kind {
	case colKindTime:
		return parquet.Encoded(parquet.Timestamp(parquet.Nanosecond), &parquet.DeltaBinaryPacked), nil
	case colKindTag:
		return parquet.Optional(parquet.Encoded(parquet.String(), &parquet.RLEDictionary)), nil
	}
	var n parquet.Node
	switch c.Type {
	case schema.TypeFloat:
		n = parquet.Encoded(parquet.Leaf(parquet.DoubleType), &parquet.ByteStreamSplit)
	case schema.TypeInt:
		n = parquet.Encoded(parquet.Int(64), &parquet.DeltaBinaryPacked)
	case schema.TypeUint:
		n = parquet.Encoded(parquet.Uint(64), &parquet.DeltaBinaryPacked)
	case schema.TypeString:
		n = parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
	case schema.TypeBool:
		n = parquet.Leaf(parquet.BooleanType)
	default:
		return nil, fmt.Errorf("storage: segment: field %d has unknown type %d", c.FieldID, c.Type)
	}
	return parquet.FieldID(parquet.Optional(n), int(c.FieldID)), nil
}

// segmentSchema builds the Parquet schema of a layout. parquet.Group sorts
// its fields by name, so the root is an orderedGroup that keeps the layout's
// order (time, tags, fields).
func segmentSchema(cols []SegmentColumn) (*parquet.Schema, error) {
	g := make(orderedGroup, len(cols))
	for i, c := range cols {
		n, err := parquetNode(c)
		if err != nil {
			return nil, err
		}
		g[i] = &orderedField{Node: n, name: c.Name}
	}
	return parquet.NewSchema("fineod_segment", g), nil
}

func marshalLayout(cols []SegmentColumn) string {
	b, _ := json.Marshal(cols)
	return string(b)
}

// orderedGroup is a Parquet group whose fields keep the given order.
type orderedGroup []parquet.Field

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return "fineod_segment" }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Fields() []parquet.Field     { return g }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }

type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string { return f.name }

// Value is only used to write Go values through the schema; segments are
// written as parquet.Row, so it returns the map entry like parquet.Group.
func (f *orderedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}
