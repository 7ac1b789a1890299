package sql

// The pg_catalog tables and views, with the columns PostgreSQL 15 gives
// them (those clients read; array columns are text and NULL). See
// catalog_pg.go for how they are named and planned.

func registerPgCatalog() {
	const c = "pg_catalog"
	defSys(c, "pg_namespace", "r", "oid:oid nspname:name nspowner:oid nspacl:text", pgNamespaceRows)
	defSys(c, "pg_class", "r", `oid:oid relname:name relnamespace:oid reltype:oid reloftype:oid relowner:oid
		relam:oid relfilenode:oid reltablespace:oid relpages:int4 reltuples:float4 relallvisible:int4
		reltoastrelid:oid relhasindex:bool relisshared:bool relpersistence:char relkind:char relnatts:int2
		relchecks:int2 relhasrules:bool relhastriggers:bool relhassubclass:bool relrowsecurity:bool
		relforcerowsecurity:bool relispopulated:bool relreplident:char relispartition:bool relrewrite:oid
		relacl:text reloptions:text relpartbound:text`, pgClassRows)
	defSys(c, "pg_attribute", "r", `attrelid:oid attname:name atttypid:oid attstattarget:int4 attlen:int2
		attnum:int2 attndims:int4 attcacheoff:int4 atttypmod:int4 attbyval:bool attalign:char attstorage:char
		attcompression:char attnotnull:bool atthasdef:bool atthasmissing:bool attidentity:char
		attgenerated:char attisdropped:bool attislocal:bool attinhcount:int4 attcollation:oid attacl:text
		attoptions:text attfdwoptions:text attmissingval:text`, pgAttributeRows)
	defSys(c, "pg_type", "r", `oid:oid typname:name typnamespace:oid typowner:oid typlen:int2 typbyval:bool
		typtype:char typcategory:char typispreferred:bool typisdefined:bool typdelim:char typrelid:oid
		typsubscript:text typelem:oid typarray:oid typinput:text typoutput:text typreceive:text typsend:text
		typmodin:text typmodout:text typanalyze:text typalign:char typstorage:char typnotnull:bool
		typbasetype:oid typtypmod:int4 typndims:int4 typcollation:oid typdefaultbin:text typdefault:text
		typacl:text`, pgTypeRows)
	defSys(c, "pg_database", "r", `oid:oid datname:name datdba:oid encoding:int4 datlocprovider:char
		datistemplate:bool datallowconn:bool datconnlimit:int4 dattablespace:oid datcollate:text
		datctype:text daticulocale:text datcollversion:text datacl:text`, pgDatabaseRows)
	defSys(c, "pg_settings", "v", `name:text setting:text unit:text category:text short_desc:text
		extra_desc:text context:text vartype:text source:text min_val:text max_val:text enumvals:text
		boot_val:text reset_val:text sourcefile:text sourceline:int4 pending_restart:bool`, pgSettingsRows)
	defSys(c, "pg_roles", "v", `oid:oid rolname:name rolsuper:bool rolinherit:bool rolcreaterole:bool
		rolcreatedb:bool rolcanlogin:bool rolreplication:bool rolconnlimit:int4 rolpassword:text
		rolvaliduntil:timestamptz rolbypassrls:bool rolconfig:text`, pgRolesRows)
	defSys(c, "pg_user", "v", `usename:name usesysid:oid usecreatedb:bool usesuper:bool userepl:bool
		usebypassrls:bool passwd:text valuntil:timestamptz useconfig:text`, func(cc *catCtx) ([][]any, error) {
		return [][]any{{cc.user, int64(oidOwner), true, true, false, true, "********", nil, nil}}, nil
	})
	defSys(c, "pg_am", "r", "oid:oid amname:name amhandler:text amtype:char", func(*catCtx) ([][]any, error) {
		return [][]any{{int64(oidHeapAM), "heap", "heap_tableam_handler", "t"}, {int64(403), "btree", "bthandler", "i"}}, nil
	})
	defSys(c, "pg_tablespace", "r", "oid:oid spcname:name spcowner:oid spcacl:text spcoptions:text", func(*catCtx) ([][]any, error) {
		return [][]any{{int64(oidDefaultTS), "pg_default", int64(oidOwner), nil, nil}, {int64(1664), "pg_global", int64(oidOwner), nil, nil}}, nil
	})
	defSys(c, "pg_tables", "v", `schemaname:name tablename:name tableowner:name tablespace:name
		hasindexes:bool hasrules:bool hastriggers:bool rowsecurity:bool`, pgTablesRows)

	// Always empty: fineod has no indexes, defaults, constraints,
	// inheritance, policies, triggers, rules, extended statistics,
	// publications, collations beyond the default, or user functions.
	empty := func(name, spec string) { defSys(c, name, "r", spec, nil) }
	empty("pg_index", `indexrelid:oid indrelid:oid indnatts:int2 indnkeyatts:int2 indisunique:bool
		indnullsnotdistinct:bool indisprimary:bool indisexclusion:bool indimmediate:bool indisclustered:bool
		indisvalid:bool indcheckxmin:bool indisready:bool indislive:bool indisreplident:bool indkey:text
		indcollation:text indclass:text indoption:text indexprs:text indpred:text`)
	empty("pg_description", "objoid:oid classoid:oid objsubid:int4 description:text")
	empty("pg_shdescription", "objoid:oid classoid:oid description:text")
	empty("pg_attrdef", "oid:oid adrelid:oid adnum:int2 adbin:text")
	empty("pg_constraint", `oid:oid conname:name connamespace:oid contype:char condeferrable:bool
		condeferred:bool convalidated:bool conrelid:oid contypid:oid conindid:oid conparentid:oid
		confrelid:oid confupdtype:char confdeltype:char confmatchtype:char conislocal:bool coninhcount:int4
		connoinherit:bool conkey:text confkey:text conpfeqop:text conppeqop:text conffeqop:text
		confdelsetcols:text conexclop:text conbin:text`)
	empty("pg_inherits", "inhrelid:oid inhparent:oid inhseqno:int4 inhdetachpending:bool")
	empty("pg_policy", `oid:oid polname:name polrelid:oid polcmd:char polpermissive:bool polroles:text
		polqual:text polwithcheck:text`)
	empty("pg_trigger", `oid:oid tgrelid:oid tgparentid:oid tgname:name tgfoid:oid tgtype:int2
		tgenabled:char tgisinternal:bool tgconstrrelid:oid tgconstrindid:oid tgconstraint:oid
		tgdeferrable:bool tginitdeferred:bool tgnargs:int2 tgattr:text tgargs:text tgqual:text
		tgoldtable:name tgnewtable:name`)
	empty("pg_rewrite", `oid:oid rulename:name ev_class:oid ev_type:char ev_enabled:char is_instead:bool
		ev_qual:text ev_action:text`)
	empty("pg_statistic_ext", `oid:oid stxrelid:oid stxname:name stxnamespace:oid stxowner:oid
		stxstattarget:int4 stxkeys:text stxkind:text stxexprs:text`)
	empty("pg_publication", `oid:oid pubname:name pubowner:oid puballtables:bool pubinsert:bool
		pubupdate:bool pubdelete:bool pubtruncate:bool pubviaroot:bool`)
	empty("pg_publication_namespace", "oid:oid pnpubid:oid pnnspid:oid")
	empty("pg_publication_rel", "oid:oid prpubid:oid prrelid:oid prqual:text prattrs:text")
	empty("pg_collation", `oid:oid collname:name collnamespace:oid collowner:oid collprovider:char
		collisdeterministic:bool collencoding:int4 collcollate:text collctype:text colliculocale:text
		collversion:text`)
	empty("pg_proc", `oid:oid proname:name pronamespace:oid proowner:oid prolang:oid procost:float4
		prorows:float4 provariadic:oid prosupport:text prokind:char prosecdef:bool proleakproof:bool
		proisstrict:bool proretset:bool provolatile:char proparallel:char pronargs:int2
		pronargdefaults:int2 prorettype:oid proargtypes:text proallargtypes:text proargmodes:text
		proargnames:text proargdefaults:text protrftypes:text prosrc:text probin:text prosqlbody:text
		proconfig:text proacl:text`)
	empty("pg_extension", `oid:oid extname:name extowner:oid extnamespace:oid extrelocatable:bool
		extversion:text extconfig:text extcondition:text`)
	empty("pg_sequence", `seqrelid:oid seqtypid:oid seqstart:int8 seqincrement:int8 seqmax:int8
		seqmin:int8 seqcache:int8 seqcycle:bool`)
	empty("pg_enum", "oid:oid enumtypid:oid enumsortorder:float4 enumlabel:name")
	empty("pg_depend", `classid:oid objid:oid objsubid:int4 refclassid:oid refobjid:oid
		refobjsubid:int4 deptype:char`)
	empty("pg_foreign_table", "ftrelid:oid ftserver:oid ftoptions:text")
	empty("pg_partitioned_table", `partrelid:oid partstrat:char partnatts:int2 partdefid:oid
		partattrs:text partclass:text partcollation:text partexprs:text`)
	empty("pg_event_trigger", `oid:oid evtname:name evtevent:name evtowner:oid evtfoid:oid
		evtenabled:char evttags:text`)
	empty("pg_operator", `oid:oid oprname:name oprnamespace:oid oprowner:oid oprkind:char
		oprcanmerge:bool oprcanhash:bool oprleft:oid oprright:oid oprresult:oid oprcom:oid
		oprnegate:oid oprcode:text oprrest:text oprjoin:text`)
	empty("pg_cast", "oid:oid castsource:oid casttarget:oid castfunc:oid castcontext:char castmethod:char")
	empty("pg_views", "schemaname:name viewname:name viewowner:name definition:text")
	empty("pg_matviews", `schemaname:name matviewname:name matviewowner:name tablespace:name
		hasindexes:bool ispopulated:bool definition:text`)
	empty("pg_indexes", "schemaname:name tablename:name indexname:name tablespace:name indexdef:text")
}

func pgNamespaceRows(*catCtx) ([][]any, error) {
	var out [][]any
	for _, n := range pgNamespaces {
		out = append(out, []any{n.oid, n.name, int64(oidOwner), nil})
	}
	return out, nil
}

func pgClassRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, r := range cc.relations() {
		am := int64(0)
		if r.kind == "r" {
			am = oidHeapAM
		}
		out = append(out, []any{
			r.oid, r.name, nspOID(r.schema), int64(0), int64(0), int64(oidOwner),
			am, int64(0), int64(0), int64(0), float64(-1), int64(0),
			int64(0), false, false, "p", r.kind, int64(len(r.cols)),
			int64(0), false, false, false, false,
			false, true, "d", false, int64(0),
			nil, nil, nil,
		})
	}
	return out, nil
}

func pgAttributeRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, r := range cc.relations() {
		for i, c := range r.cols {
			pt, _ := pgTypeOf(c.Type)
			storage, align := "p", "c"
			switch {
			case pt.len == -1:
				storage, align = "x", "i"
			case pt.len == 8:
				align = "d"
			case pt.len == 4:
				align = "i"
			case pt.len == 2:
				align = "s"
			}
			notNull := r.schema == "public" && c.Kind == KindTime
			out = append(out, []any{
				r.oid, c.Name, int64(c.Type), int64(-1), pt.len,
				int64(i + 1), int64(0), int64(-1), int64(-1), pt.byval, align, storage,
				"", notNull, false, false, "",
				"", false, true, int64(0), typeCollation(c.Type), nil,
				nil, nil, nil,
			})
		}
	}
	return out, nil
}

func pgTypeRows(*catCtx) ([][]any, error) {
	var out [][]any
	for _, t := range pgTypeList {
		align, storage := "i", "p"
		switch {
		case t.len == -1:
			storage = "x"
		case t.len == 8:
			align = "d"
		case t.len == 1:
			align = "c"
		case t.len == 2:
			align = "s"
		}
		typtype := "b"
		if t.oid == TypeUnknown {
			typtype = "p"
		}
		out = append(out, []any{
			int64(t.oid), t.name, int64(oidNspCatalog), int64(oidOwner), t.len, t.byval,
			typtype, t.category, false, true, ",", int64(0),
			nil, int64(0), t.array, t.input, nil, nil, nil,
			nil, nil, nil, align, storage, false,
			int64(0), int64(-1), int64(0), typeCollation(t.oid), nil, nil,
			nil,
		})
	}
	return out, nil
}

func pgDatabaseRows(cc *catCtx) ([][]any, error) {
	dbs := cc.ec.eng.cat.Databases(cc.tenant)
	seen := false
	for _, d := range dbs {
		seen = seen || d == cc.database
	}
	if !seen {
		dbs = append(dbs, cc.database)
	}
	var out [][]any
	for _, d := range dbs {
		out = append(out, []any{databaseOID(d), d, int64(oidOwner), int64(encodingUTF8), "c",
			false, true, int64(-1), int64(oidDefaultTS), "C",
			"C", nil, nil, nil})
	}
	return out, nil
}

func pgSettingsRows(cc *catCtx) ([][]any, error) {
	s := cc.ec.sess
	var out [][]any
	for _, n := range settingNames(s) {
		v, _ := s.setting(n)
		out = append(out, []any{n, v, nil, "", "", nil, "user", "string", "default", nil, nil, nil,
			v, v, nil, nil, false})
	}
	return out, nil
}

func pgRolesRows(cc *catCtx) ([][]any, error) {
	return [][]any{{int64(oidOwner), cc.user, true, true, true, true, true, false, int64(-1), "********", nil, true, nil}}, nil
}

func pgTablesRows(cc *catCtx) ([][]any, error) {
	var out [][]any
	for _, r := range cc.relations() {
		if r.kind != "r" {
			continue
		}
		out = append(out, []any{r.schema, r.name, cc.user, nil, false, false, false, false})
	}
	return out, nil
}
