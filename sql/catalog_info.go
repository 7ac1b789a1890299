package sql

import "strconv"

// information_schema: tables, columns and schemata with real rows (the
// SQL-standard view of the same relations pg_catalog lists), and empty
// views and constraint tables for tools that look for keys. Column types
// are text and int4 where PostgreSQL uses its information_schema domains.

func registerInfoSchema() {
	const i = "information_schema"
	defSys(i, "schemata", "v", `catalog_name:name schema_name:name schema_owner:name
		default_character_set_catalog:name default_character_set_schema:name
		default_character_set_name:name sql_path:text`, infoSchemataRows)
	defSys(i, "tables", "v", `table_catalog:name table_schema:name table_name:name table_type:text
		self_referencing_column_name:name reference_generation:text user_defined_type_catalog:name
		user_defined_type_schema:name user_defined_type_name:name is_insertable_into:text is_typed:text
		commit_action:text`, infoTablesRows)
	defSys(i, "columns", "v", `table_catalog:name table_schema:name table_name:name column_name:name
		ordinal_position:int4 column_default:text is_nullable:text data_type:text
		character_maximum_length:int4 character_octet_length:int4 numeric_precision:int4
		numeric_precision_radix:int4 numeric_scale:int4 datetime_precision:int4 interval_type:text
		interval_precision:int4 character_set_catalog:name character_set_schema:name
		character_set_name:name collation_catalog:name collation_schema:name collation_name:name
		domain_catalog:name domain_schema:name domain_name:name udt_catalog:name udt_schema:name
		udt_name:name scope_catalog:name scope_schema:name scope_name:name maximum_cardinality:int4
		dtd_identifier:name is_self_referencing:text is_identity:text identity_generation:text
		identity_start:text identity_increment:text identity_maximum:text identity_minimum:text
		identity_cycle:text is_generated:text generation_expression:text is_updatable:text`, infoColumnsRows)
	defSys(i, "views", "v", `table_catalog:name table_schema:name table_name:name view_definition:text
		check_option:text is_updatable:text is_insertable_into:text is_trigger_updatable:text
		is_trigger_deletable:text is_trigger_insertable_into:text`, nil)
	defSys(i, "table_constraints", "v", `constraint_catalog:name constraint_schema:name
		constraint_name:name table_catalog:name table_schema:name table_name:name constraint_type:text
		is_deferrable:text initially_deferred:text enforced:text nulls_distinct:text`, nil)
	defSys(i, "key_column_usage", "v", `constraint_catalog:name constraint_schema:name
		constraint_name:name table_catalog:name table_schema:name table_name:name column_name:name
		ordinal_position:int4 position_in_unique_constraint:int4`, nil)
	defSys(i, "routines", "v", `specific_catalog:name specific_schema:name specific_name:name
		routine_catalog:name routine_schema:name routine_name:name routine_type:text data_type:text`, nil)
}

func infoSchemataRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, n := range pgNamespaces {
		out = append(out, []any{cc.database, n.name, cc.user, nil, nil, nil, nil})
	}
	return out, nil
}

func infoTablesRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, r := range cc.relations() {
		typ, ins := "BASE TABLE", "YES"
		if r.kind == "v" {
			typ, ins = "VIEW", "NO"
		}
		if r.schema != "public" {
			ins = "NO"
		}
		out = append(out, []any{cc.database, r.schema, r.name, typ, nil, nil, nil, nil, nil, ins, "NO", nil})
	}
	return out, nil
}

func infoColumnsRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, r := range cc.relations() {
		for i, c := range r.cols {
			pt, _ := pgTypeOf(c.Type)
			nullable := "YES"
			if r.schema == "public" && c.Kind == KindTime {
				nullable = "NO"
			}
			var prec, radix, scale, dtprec any
			switch c.Type {
			case TypeInt2:
				prec, radix, scale = int64(16), int64(2), int64(0)
			case TypeInt4, TypeOID:
				prec, radix, scale = int64(32), int64(2), int64(0)
			case TypeInt8:
				prec, radix, scale = int64(64), int64(2), int64(0)
			case TypeFloat4:
				prec, radix = int64(24), int64(2)
			case TypeFloat8:
				prec, radix = int64(53), int64(2)
			case TypeNumeric:
				radix = int64(10)
			case TypeTimestamp, TypeTimestamptz, TypeInterval:
				dtprec = int64(6)
			}
			var collName any
			if typeCollation(c.Type) != 0 {
				collName = "default"
			}
			updatable := "NO"
			if r.schema == "public" {
				updatable = "YES"
			}
			out = append(out, []any{
				cc.database, r.schema, r.name, c.Name,
				int64(i + 1), nil, nullable, formatType(c.Type),
				nil, nil, prec,
				radix, scale, dtprec, nil,
				nil, nil, nil,
				nil, nil, nil, collName,
				nil, nil, nil, cc.database, "pg_catalog",
				pt.name, nil, nil, nil, nil,
				strconv.Itoa(i + 1), "NO", "NO", nil,
				nil, nil, nil, nil,
				"NO", "NEVER", nil, updatable,
			})
		}
	}
	return out, nil
}
