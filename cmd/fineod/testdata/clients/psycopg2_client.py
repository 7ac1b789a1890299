"""psycopg2 against fineod: parameters, a server-side (named) cursor, errors.

Run: python3 psycopg2_client.py 'host=127.0.0.1 port=N dbname=db user=fineo'
Prints one line per check; exits non-zero on the first failure.
"""
import datetime
import sys

import psycopg2


def check(ok, what):
    if not ok:
        print("FAIL", what)
        sys.exit(1)
    print("ok", what)


conn = psycopg2.connect(sys.argv[1])
cur = conn.cursor()

cur.execute("SELECT count(*) FROM py_cpu WHERE host = %s AND usage >= %s", ("h1", 10.5))
n = cur.fetchone()[0]
check(n == 40, "parameters: %d rows" % n)

cur.execute("SELECT time, host, usage FROM py_cpu WHERE host = %s ORDER BY time LIMIT 1", ("h0",))
t, host, usage = cur.fetchone()
check(t == datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), "timestamptz %r" % (t,))
check(host == "h0" and usage == 0.0, "row %r %r" % (host, usage))

# A named cursor is a server-side cursor: DECLARE ... CURSOR, FETCH FORWARD.
named = conn.cursor(name="big")
named.itersize = 7
named.execute("SELECT host, usage FROM py_cpu ORDER BY host, time")
rows = list(named)
check(len(rows) == 100, "server-side cursor read %d rows" % len(rows))
named.close()
conn.commit()

try:
    cur.execute("SELECT * FROM no_such_table")
    check(False, "error expected")
except psycopg2.Error as e:
    check(e.pgcode == "42P01", "undefined table pgcode %s" % e.pgcode)
    conn.rollback()

cur.execute("SELECT count(*) FROM py_cpu")
check(cur.fetchone()[0] == 100, "query after error")
conn.close()
print("PASS")
