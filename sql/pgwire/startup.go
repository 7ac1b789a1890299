package pgwire

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/fineod/fineod/sql/tz"
)

// reportedParams are the settings PostgreSQL reports with ParameterStatus
// (GUC_REPORT), by lower-cased name, with their canonical spelling.
var reportedParams = map[string]string{
	"server_version":                "server_version",
	"server_encoding":               "server_encoding",
	"client_encoding":               "client_encoding",
	"application_name":              "application_name",
	"default_transaction_read_only": "default_transaction_read_only",
	"in_hot_standby":                "in_hot_standby",
	"is_superuser":                  "is_superuser",
	"session_authorization":         "session_authorization",
	"datestyle":                     "DateStyle",
	"intervalstyle":                 "IntervalStyle",
	"timezone":                      "TimeZone",
	"integer_datetimes":             "integer_datetimes",
	"standard_conforming_strings":   "standard_conforming_strings",
}

// startup runs the startup phase: SSL and GSS encryption requests (both
// refused), CancelRequest, the StartupMessage, authentication, the session,
// and the initial ParameterStatus, BackendKeyData and ReadyForQuery. It
// returns false if the connection must be closed.
func (c *conn) startup(ctx context.Context) bool {
	for {
		msg, err := c.rd.ReceiveStartupMessage()
		if err != nil {
			if !isDisconnect(err) {
				c.log.Warn("malformed startup message; closing connection", "err", err)
				c.send(fatalResponse(codeProtocolViolation, "invalid startup packet: "+err.Error()))
				c.flush()
			}
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// Encryption is not configured: 'N' and the client goes on in
			// plain text on the same connection.
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false
		case *pgproto3.StartupMessage:
			return c.accept(ctx, m)
		default:
			return false
		}
	}
}

func isDisconnect(err error) bool {
	var ce connError
	if errors.As(err, &ce) {
		return true
	}
	return strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "closed") ||
		strings.Contains(err.Error(), "timeout") || strings.Contains(err.Error(), "reset")
}

// accept authenticates the client of m and opens its session.
func (c *conn) accept(ctx context.Context, m *pgproto3.StartupMessage) bool {
	params := make(map[string]string, len(m.Parameters))
	var unrecognized []string
	for k, v := range m.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unrecognized = append(unrecognized, k)
			continue
		}
		params[k] = v
	}
	if minor := m.ProtocolVersion & 0xffff; minor != 0 || len(unrecognized) > 0 {
		sort.Strings(unrecognized)
		c.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unrecognized})
	}
	info := StartupInfo{
		User:       params["user"],
		Database:   params["database"],
		Params:     params,
		RemoteAddr: c.nc.RemoteAddr(),
	}
	if info.User == "" {
		c.send(fatalResponse(codeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
		c.flush()
		return false
	}
	if info.Database == "" {
		info.Database = info.User
	}
	info.Tenant = "default"
	if c.srv.cfg.Tenant != nil {
		t, err := c.srv.cfg.Tenant(info)
		if err != nil {
			c.log.Info("tenant resolution failed", "user", info.User, "err", err)
			c.send(fatalResponse(codeInvalidAuthorization, err.Error()))
			c.flush()
			return false
		}
		info.Tenant = t
	}
	c.log = c.log.With("tenant", info.Tenant, "user", info.User, "database", info.Database)

	if auth := c.srv.cfg.Authenticate; auth != nil {
		c.send(&pgproto3.AuthenticationCleartextPassword{})
		c.flush()
		if err := c.rd.SetAuthType(pgproto3.AuthTypeCleartextPassword); err != nil {
			return false
		}
		msg, err := c.receive()
		if err != nil {
			return false
		}
		pw, ok := msg.(*pgproto3.PasswordMessage)
		if !ok {
			c.send(fatalResponse(codeProtocolViolation, "expected password response"))
			c.flush()
			return false
		}
		if err := auth(ctx, info, pw.Password); err != nil {
			c.log.Info("password authentication failed", "err", err)
			c.send(fatalResponse(codeInvalidPassword, "password authentication failed for user \""+info.User+"\""))
			c.flush()
			return false
		}
	}
	c.send(&pgproto3.AuthenticationOk{})

	sess, err := c.srv.cfg.Backend.NewSession(ctx, info)
	if err != nil {
		r := errorResponse(err)
		r.Severity, r.SeverityUnlocalized = "FATAL", "FATAL"
		c.send(r)
		c.flush()
		c.log.Info("session rejected", "err", err)
		return false
	}
	c.info, c.sess = info, sess

	c.reported = make(map[string]string)
	cur := c.currentParams()
	names := make([]string, 0, len(cur))
	for k := range cur {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c.send(&pgproto3.ParameterStatus{Name: k, Value: cur[k]})
		c.reported[k] = cur[k]
	}
	c.setLocation(cur["TimeZone"])
	c.send(&pgproto3.BackendKeyData{ProcessID: c.key.pid, SecretKey: []byte{
		byte(c.key.secret >> 24), byte(c.key.secret >> 16), byte(c.key.secret >> 8), byte(c.key.secret)}})
	c.readyForQuery()
	return c.writeErr == nil
}

// currentParams returns the reported parameters: the server's defaults,
// overridden by the startup parameters for application_name and by the
// session's settings.
func (c *conn) currentParams() map[string]string {
	p := map[string]string{
		"server_version":                c.srv.cfg.ServerVersion,
		"server_encoding":               "UTF8",
		"client_encoding":               "UTF8",
		"application_name":              c.info.Params["application_name"],
		"default_transaction_read_only": "off",
		"in_hot_standby":                "off",
		"is_superuser":                  "on",
		"session_authorization":         c.info.User,
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"TimeZone":                      "UTC",
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
	}
	for k, v := range c.sess.Settings() {
		if name, ok := reportedParams[strings.ToLower(k)]; ok {
			p[name] = v
		}
	}
	return p
}

// reportSettings sends ParameterStatus for every reported parameter whose
// value changed since it was last sent.
func (c *conn) reportSettings() {
	cur := c.currentParams()
	var changed []string
	for k, v := range cur {
		if old, ok := c.reported[k]; !ok || old != v {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	for _, k := range changed {
		c.send(&pgproto3.ParameterStatus{Name: k, Value: cur[k]})
		c.reported[k] = cur[k]
		if k == "TimeZone" {
			c.setLocation(cur[k])
		}
	}
}

// setLocation sets the zone timestamptz values are shown in: IANA names,
// POSIX TZ strings ("UTC+3") and PostgreSQL's offset form ("<+05>-05"),
// resolved as the SQL engine resolves them. Unknown names fall back to
// UTC (the backend validates SET TimeZone).
func (c *conn) setLocation(name string) {
	loc, _, err := tz.LoadSetting(name)
	if err != nil {
		if name != "" {
			c.log.Debug("unknown time zone; using UTC", "zone", name)
		}
		loc = time.UTC
	}
	c.loc = loc
}
