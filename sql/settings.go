package sql

import (
	"sort"
	"strings"
	"time"

	"github.com/fineod/fineod/sql/tz"
)

// reportedSettings are the parameters a server reports to clients
// (ParameterStatus), in their canonical spelling.
var reportedSettings = []string{
	"application_name", "client_encoding", "DateStyle", "default_transaction_read_only",
	"in_hot_standby", "integer_datetimes", "IntervalStyle", "is_superuser", "search_path",
	"server_encoding", "server_version", "session_authorization", "standard_conforming_strings",
	"TimeZone",
}

// settingDefaults are the session parameters and their defaults. Any
// other name with a dot (a custom parameter) may be set too.
var settingDefaults = map[string]string{
	"application_name":                    "",
	"client_encoding":                     "UTF8",
	"DateStyle":                           "ISO, MDY",
	"default_transaction_read_only":       "off",
	"in_hot_standby":                      "off",
	"integer_datetimes":                   "on",
	"IntervalStyle":                       "postgres",
	"is_superuser":                        "on",
	"search_path":                         "\"$user\", public",
	"server_encoding":                     "UTF8",
	"server_version":                      ServerVersion,
	"server_version_num":                  "150000",
	"session_authorization":               "",
	"standard_conforming_strings":         "on",
	"TimeZone":                            "UTC",
	"extra_float_digits":                  "1",
	"statement_timeout":                   "0",
	"lock_timeout":                        "0",
	"idle_in_transaction_session_timeout": "0",
	"transaction_isolation":               "read committed",
	"default_transaction_isolation":       "read committed",
	"transaction_read_only":               "off",
	"max_identifier_length":               "63",
	"bytea_output":                        "hex",
	"lc_messages":                         "C",
	"lc_monetary":                         "C",
	"lc_numeric":                          "C",
	"lc_time":                             "C",
	"lc_collate":                          "C",
	"lc_ctype":                            "C",
	"datestyle":                           "",
	"geqo":                                "on",
	"jit":                                 "off",
	"work_mem":                            "4MB",
	"synchronous_commit":                  "on",
	"row_security":                        "on",
	"client_min_messages":                 "notice",
	"timezone_abbreviations":              "Default",
	"max_index_keys":                      "32",
	"block_size":                          "8192",
	"default_with_oids":                   "off",
	"escape_string_warning":               "on",
	"intervalstyle":                       "",
}

// readOnlySettings cannot be changed with SET.
var readOnlySettings = map[string]bool{
	"server_version": true, "server_version_num": true, "server_encoding": true,
	"integer_datetimes": true, "max_identifier_length": true, "in_hot_standby": true,
	"is_superuser": true, "lc_collate": true, "lc_ctype": true, "block_size": true, "max_index_keys": true,
}

func init() {
	delete(settingDefaults, "datestyle")
	delete(settingDefaults, "intervalstyle")
}

// canonicalSetting maps a (lower-cased) name to its canonical spelling.
func canonicalSetting(name string) string {
	switch name {
	case "time zone", "timezone":
		return "TimeZone"
	}
	for k := range settingDefaults {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func defaultSettings(user string) map[string]string {
	m := make(map[string]string, len(settingDefaults))
	for k, v := range settingDefaults {
		m[k] = v
	}
	m["session_authorization"] = user
	return m
}

func (s *Session) setting(name string) (string, bool) {
	v, ok := s.settings[canonicalSetting(strings.ToLower(name))]
	if !ok {
		v, ok = s.settings[name]
	}
	return v, ok
}

// Settings returns the parameters reported to clients (ParameterStatus):
// server_version, client_encoding, DateStyle, TimeZone, integer_datetimes,
// standard_conforming_strings, application_name, search_path, ... The map
// is a copy.
func (s *Session) Settings() map[string]string {
	out := make(map[string]string, len(reportedSettings))
	for _, k := range reportedSettings {
		out[k] = s.settings[k]
	}
	return out
}

// Set changes a session parameter, as SET does (servers call it for the
// parameters a client sends at startup). TimeZone takes an IANA name, a
// POSIX TZ string ('UTC+3' is three hours west of Greenwich) or a number
// of hours east; it governs timestamptz computations (timezone.go).
func (s *Session) Set(name, value string) error {
	canon := canonicalSetting(strings.ToLower(name))
	if _, ok := settingDefaults[canon]; !ok && !strings.Contains(canon, ".") {
		return errorf(CodeUndefinedObject, "unrecognized configuration parameter %q", name)
	}
	if readOnlySettings[canon] {
		return errorf("55P02", "parameter %q cannot be changed", canon)
	}
	switch canon {
	case "client_encoding":
		u := strings.ToUpper(strings.ReplaceAll(value, "-", ""))
		if u != "UTF8" && u != "UNICODE" && u != "SQL_ASCII" {
			return errorf(CodeFeatureNotSupported, "client_encoding %q is not supported (only UTF8)", value)
		}
		value = "UTF8"
	case "DateStyle":
		if !strings.Contains(strings.ToUpper(value), "ISO") {
			return errorf(CodeFeatureNotSupported, "DateStyle %q is not supported (only ISO)", value)
		}
		value = "ISO, MDY"
	case "standard_conforming_strings":
		if b, ok := parseBool(value); !ok || !b {
			return errorf(CodeFeatureNotSupported, "standard_conforming_strings must be on")
		}
		value = "on"
	case "TimeZone":
		loc, canonValue, err := tz.LoadSetting(value)
		if err != nil {
			return errorf(CodeInvalidParameter, "invalid value for parameter \"TimeZone\": %q", value)
		}
		s.loc, value = loc, canonValue
	}
	s.settings[canon] = value
	return nil
}

// location is the session's TimeZone.
func (s *Session) location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// reset restores a parameter ("" = all) to its default.
func (s *Session) reset(name string) {
	if name == "" {
		app := s.settings["application_name"]
		s.settings = defaultSettings(s.user)
		s.settings["application_name"] = app
		s.loc = nil
		return
	}
	if name == "TimeZone" {
		s.loc = nil
	}
	if v, ok := settingDefaults[name]; ok {
		s.settings[name] = v
	} else {
		delete(s.settings, name)
	}
}

func settingNames(s *Session) []string {
	names := make([]string, 0, len(s.settings))
	for k := range s.settings {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
