package schema

import (
	"errors"
	"fmt"
	"io"

	"github.com/hamba/avro/v2"
)

// A log entry payload starts with two bytes, kind and version, followed by
// the Avro encoding of that kind's record:
//
//	+------+---------+------------------------------+
//	| kind | version | Avro record (schema below)   |
//	+------+---------+------------------------------+
//
// kind 1 = write batch (Batch), kind 2 = schema change (Ensure), kind 3 =
// table drop (Drop), kind 4 = logical schema change (Alter).
// These constants and the Avro schemas are part of the on-disk format.
const (
	EntryBatch  byte = 1
	EntrySchema byte = 2
	EntryDrop   byte = 3
	EntryAlter  byte = 4

	batchVersion  byte = 1
	schemaVersion byte = 1
	dropVersion   byte = 1
	alterVersion  byte = 1
)

// ErrUnknownEntry is returned for a payload of an unknown kind or version.
var ErrUnknownEntry = errors.New("schema: unknown log entry kind or version")

const batchSchemaJSON = `{
 "type": "record", "name": "Batch", "namespace": "fineo.v1",
 "fields": [
  {"name": "tenant", "type": "long"},
  {"name": "tables", "type": {"type": "array", "items": {
    "type": "record", "name": "TableBatch", "fields": [
     {"name": "table", "type": "long"},
     {"name": "series", "type": {"type": "array", "items": {
       "type": "record", "name": "Series", "fields": [
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "times", "type": {"type": "array", "items": "long"}},
        {"name": "fields", "type": {"type": "array", "items": {
          "type": "record", "name": "Column", "fields": [
           {"name": "id", "type": "long"},
           {"name": "type", "type": "int"},
           {"name": "present", "type": "bytes"},
           {"name": "f", "type": {"type": "array", "items": "double"}},
           {"name": "i", "type": {"type": "array", "items": "long"}},
           {"name": "s", "type": {"type": "array", "items": "bytes"}},
           {"name": "b", "type": {"type": "array", "items": "boolean"}}
          ]}}}
       ]}}}
    ]}}},
  {"name": "errors", "type": {"type": "array", "items": {
    "type": "record", "name": "ErrorRow", "fields": [
     {"name": "time", "type": "long"},
     {"name": "stage", "type": "string"},
     {"name": "kind", "type": "string"},
     {"name": "database", "type": "string"},
     {"name": "table_name", "type": "string"},
     {"name": "message", "type": "string"},
     {"name": "raw", "type": "bytes"}
    ]}}}
 ]}`

const ensureSchemaJSON = `{
 "type": "record", "name": "Ensure", "namespace": "fineo.v1",
 "fields": [
  {"name": "tenant", "type": "string"},
  {"name": "database", "type": "string"},
  {"name": "table", "type": "string"},
  {"name": "tag_keys", "type": {"type": "array", "items": "string"}},
  {"name": "fields", "type": {"type": "array", "items": {
    "type": "record", "name": "FieldSpec", "fields": [
     {"name": "name", "type": "string"},
     {"name": "type", "type": "int"}
    ]}}}
 ]}`

const dropSchemaJSON = `{
 "type": "record", "name": "Drop", "namespace": "fineo.v1",
 "fields": [
  {"name": "tenant", "type": "string"},
  {"name": "database", "type": "string"},
  {"name": "table", "type": "string"}
 ]}`

const alterSchemaJSON = `{
 "type": "record", "name": "Alter", "namespace": "fineo.v1",
 "fields": [
  {"name": "tenant", "type": "string"},
  {"name": "database", "type": "string"},
  {"name": "table", "type": "string"},
  {"name": "user", "type": "string"},
  {"name": "statement", "type": "string"},
  {"name": "time", "type": "long"},
  {"name": "ops", "type": {"type": "array", "items": {
    "type": "record", "name": "AlterOp", "fields": [
     {"name": "op", "type": "string"},
     {"name": "column", "type": "string"},
     {"name": "name", "type": "string"},
     {"name": "type", "type": "int"},
     {"name": "expr", "type": "string"},
     {"name": "ref", "type": "string"},
     {"name": "int", "type": "long"},
     {"name": "enabled", "type": "boolean"}
    ]}}}
 ]}`

var (
	alterSchema  = avro.MustParse(alterSchemaJSON)
	dropSchema   = avro.MustParse(dropSchemaJSON)
	batchSchema  = avro.MustParse(batchSchemaJSON)
	ensureSchema = avro.MustParse(ensureSchemaJSON)
	avroAPI      = avro.Config{}.Freeze()
)

// EncodeBatch appends the log entry payload of b to dst.
func EncodeBatch(b *Batch) ([]byte, error) {
	body, err := avroAPI.Marshal(batchSchema, b)
	if err != nil {
		return nil, fmt.Errorf("schema: encode batch: %w", err)
	}
	out := make([]byte, 2+len(body))
	out[0], out[1] = EntryBatch, batchVersion
	copy(out[2:], body)
	return out, nil
}

// EncodeEnsure returns the log entry payload of a schema change.
func EncodeEnsure(e *Ensure) ([]byte, error) {
	body, err := avroAPI.Marshal(ensureSchema, e)
	if err != nil {
		return nil, fmt.Errorf("schema: encode change: %w", err)
	}
	out := make([]byte, 2+len(body))
	out[0], out[1] = EntrySchema, schemaVersion
	copy(out[2:], body)
	return out, nil
}

// EntryKind returns the kind of a log entry payload, or an error if the
// payload is not one this version understands.
func EntryKind(p []byte) (byte, error) {
	if len(p) < 2 {
		return 0, ErrUnknownEntry
	}
	switch {
	case p[0] == EntryBatch && p[1] == batchVersion,
		p[0] == EntrySchema && p[1] == schemaVersion,
		p[0] == EntryDrop && p[1] == dropVersion,
		p[0] == EntryAlter && p[1] == alterVersion:
		return p[0], nil
	}
	return 0, fmt.Errorf("%w: kind %d version %d", ErrUnknownEntry, p[0], p[1])
}

// DecodeBatch decodes a write batch payload.
func DecodeBatch(p []byte, b *Batch) error {
	if k, err := EntryKind(p); err != nil {
		return err
	} else if k != EntryBatch {
		return fmt.Errorf("%w: want batch, got kind %d", ErrUnknownEntry, k)
	}
	if err := decode(batchSchema, p[2:], b); err != nil {
		return fmt.Errorf("schema: decode batch: %w", err)
	}
	return nil
}

// DecodeEnsure decodes a schema change payload.
func DecodeEnsure(p []byte, e *Ensure) error {
	if k, err := EntryKind(p); err != nil {
		return err
	} else if k != EntrySchema {
		return fmt.Errorf("%w: want schema change, got kind %d", ErrUnknownEntry, k)
	}
	if err := decode(ensureSchema, p[2:], e); err != nil {
		return fmt.Errorf("schema: decode change: %w", err)
	}
	return nil
}

// decode is avro.Unmarshal that reports a payload cut short (Unmarshal
// treats io.EOF as success).
func decode(s avro.Schema, data []byte, v any) error {
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(avroAPI)).Reset(data)
	r.ReadVal(s, v)
	if r.Error != nil {
		if errors.Is(r.Error, io.EOF) {
			return fmt.Errorf("payload truncated: %w", io.ErrUnexpectedEOF)
		}
		return r.Error
	}
	return nil
}

// EncodeDrop returns the log entry payload of a table drop.
func EncodeDrop(d *Drop) ([]byte, error) {
	body, err := avroAPI.Marshal(dropSchema, d)
	if err != nil {
		return nil, fmt.Errorf("schema: encode drop: %w", err)
	}
	return append([]byte{EntryDrop, dropVersion}, body...), nil
}

// DecodeDrop decodes a table drop payload.
func DecodeDrop(p []byte, d *Drop) error {
	if k, err := EntryKind(p); err != nil {
		return err
	} else if k != EntryDrop {
		return fmt.Errorf("%w: want drop, got kind %d", ErrUnknownEntry, k)
	}
	if err := decode(dropSchema, p[2:], d); err != nil {
		return fmt.Errorf("schema: decode drop: %w", err)
	}
	return nil
}

// EncodeAlter returns the log entry payload of a logical schema change.
func EncodeAlter(a *Alter) ([]byte, error) {
	body, err := avroAPI.Marshal(alterSchema, a)
	if err != nil {
		return nil, fmt.Errorf("schema: encode alter: %w", err)
	}
	return append([]byte{EntryAlter, alterVersion}, body...), nil
}

// DecodeAlter decodes a logical schema change payload.
func DecodeAlter(p []byte, a *Alter) error {
	if k, err := EntryKind(p); err != nil {
		return err
	} else if k != EntryAlter {
		return fmt.Errorf("%w: want alter, got kind %d", ErrUnknownEntry, k)
	}
	if err := decode(alterSchema, p[2:], a); err != nil {
		return fmt.Errorf("schema: decode alter: %w", err)
	}
	return nil
}
