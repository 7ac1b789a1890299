-- Differential queries: each runs against fineod and PostgreSQL 15 loaded
-- with the same DevOps cpu data (table cpu: time, 10 tags, 10 bigint
-- usage_* fields; plus table mem: time, hostname, used, free doubles).
-- Results are compared row for row (as multisets unless the query orders
-- them completely). One query per statement, separated by semicolons at
-- line ends.

-- single-groupby: max cpu per minute for one host over an hour
SELECT date_trunc('minute', time) AS minute, max(usage_user) AS max_usage_user
FROM cpu WHERE hostname = 'host_3' AND time >= '2016-01-01T01:00:00Z' AND time < '2016-01-01T02:00:00Z'
GROUP BY 1 ORDER BY 1;

-- single-groupby over 5 metrics, 8 hosts
SELECT date_trunc('minute', time) AS minute, max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait)
FROM cpu WHERE hostname IN ('host_0','host_1','host_2','host_3','host_4','host_5','host_6','host_7')
  AND time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'
GROUP BY 1 ORDER BY 1;

-- double-groupby: avg per host per hour
SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) AS mean_usage_user
FROM cpu WHERE time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T06:00:00Z'
GROUP BY 1, 2 ORDER BY 1, 2;

-- double-groupby-all
SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user), avg(usage_system), avg(usage_idle), avg(usage_nice),
       avg(usage_iowait), avg(usage_irq), avg(usage_softirq), avg(usage_steal), avg(usage_guest), avg(usage_guest_nice)
FROM cpu GROUP BY 1, 2 ORDER BY 1, 2;

-- cpu-max-all: every metric, hourly, 8 hosts
SELECT date_trunc('hour', time) AS hour, max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait),
       max(usage_irq), max(usage_softirq), max(usage_steal), max(usage_guest), max(usage_guest_nice)
FROM cpu WHERE hostname IN ('host_1','host_2','host_3','host_4','host_5','host_6','host_7','host_8')
GROUP BY 1 ORDER BY 1;

-- high-cpu-1
SELECT time, hostname, usage_user, usage_system FROM cpu
WHERE usage_user > 90 AND time >= '2016-01-01T02:00:00Z' AND time < '2016-01-01T03:00:00Z' AND hostname = 'host_5'
ORDER BY time;

-- high-cpu-all
SELECT count(*) FROM cpu WHERE usage_user > 90;

-- lastpoint: last row per host
SELECT DISTINCT ON (hostname) hostname, time, usage_user FROM cpu ORDER BY hostname, time DESC;

-- groupby-orderby-limit
SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu
WHERE time < '2016-01-01T03:00:00Z' GROUP BY 1 ORDER BY 1 DESC LIMIT 5;

-- time_bucket equivalent in PostgreSQL: date_bin
SELECT date_bin('15 minutes', time, '2016-01-01T00:00:00Z') AS b, hostname, min(usage_idle), max(usage_idle)
FROM cpu WHERE hostname = 'host_2' GROUP BY 1, 2 ORDER BY 1;

-- counts and sums
SELECT hostname, count(*), sum(usage_user), min(usage_user), max(usage_user) FROM cpu GROUP BY hostname ORDER BY hostname;

SELECT count(DISTINCT hostname), count(DISTINCT region), count(DISTINCT datacenter) FROM cpu;

SELECT region, count(*) FROM cpu GROUP BY region ORDER BY region;

-- filters
SELECT count(*) FROM cpu WHERE usage_user BETWEEN 20 AND 40;

SELECT count(*) FROM cpu WHERE usage_user > 50 AND (usage_system < 30 OR usage_idle >= 70);

SELECT count(*) FROM cpu WHERE NOT (usage_user > 50);

SELECT count(*) FROM cpu WHERE hostname <> 'host_0';

SELECT count(*) FROM cpu WHERE hostname NOT IN ('host_0', 'host_1');

SELECT count(*) FROM cpu WHERE hostname LIKE 'host_1%';

SELECT count(*) FROM cpu WHERE region ILIKE 'US-%';

SELECT hostname, time, usage_user FROM cpu WHERE time = '2016-01-01T00:00:00Z' ORDER BY hostname;

-- expressions and casts
SELECT hostname, avg(usage_user + usage_system) AS busy, avg(usage_user * 1.0 / 100) AS frac FROM cpu GROUP BY hostname ORDER BY hostname;

SELECT hostname, max(usage_user)::double precision / 2 AS half, CAST(min(usage_idle) AS text) AS idle_text FROM cpu GROUP BY hostname ORDER BY hostname;

SELECT time, CASE WHEN usage_user > 50 THEN 'high' ELSE 'low' END AS level FROM cpu WHERE hostname = 'host_1' ORDER BY time LIMIT 20;

SELECT coalesce(NULL, usage_user) FROM cpu WHERE hostname = 'host_4' ORDER BY time LIMIT 10;

-- extract and time arithmetic
SELECT extract(hour FROM time) AS h, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

SELECT date_part('minute', time) AS m, avg(usage_user) FROM cpu WHERE hostname = 'host_0' GROUP BY 1 ORDER BY 1;

SELECT time + interval '1 hour' AS later, usage_user FROM cpu WHERE hostname = 'host_2' ORDER BY time LIMIT 5;

SELECT count(*) FROM cpu WHERE time > '2016-01-01T03:00:00Z'::timestamptz - interval '30 minutes';

-- HAVING, ORDER BY with NULLS, OFFSET
SELECT hostname, avg(usage_user) AS a FROM cpu GROUP BY hostname HAVING avg(usage_user) > 40 ORDER BY a DESC;

SELECT hostname, max(usage_steal) FROM cpu GROUP BY hostname ORDER BY 2 DESC NULLS LAST, 1 LIMIT 3 OFFSET 2;

-- DISTINCT
SELECT DISTINCT region, datacenter FROM cpu ORDER BY region, datacenter;

-- statistics
SELECT hostname, stddev(usage_user) FROM cpu GROUP BY hostname ORDER BY hostname;

SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY usage_user), percentile_disc(0.9) WITHIN GROUP (ORDER BY usage_user) FROM cpu;

-- subqueries and CTEs
SELECT hostname, m FROM (SELECT hostname, max(usage_user) AS m FROM cpu GROUP BY hostname) s WHERE m > 95 ORDER BY hostname;

WITH hourly AS (SELECT date_trunc('hour', time) AS h, hostname, avg(usage_user) AS a FROM cpu GROUP BY 1, 2)
SELECT h, max(a), min(a) FROM hourly GROUP BY h ORDER BY h;

SELECT count(*) FROM cpu WHERE hostname IN (SELECT hostname FROM cpu WHERE region = 'eu-west-1');

SELECT hostname, usage_user, (SELECT max(usage_user) FROM cpu) AS global_max FROM cpu WHERE time = '2016-01-01T00:10:00Z' ORDER BY hostname;

-- joins
SELECT c.hostname, c.time, c.usage_user, m.used FROM cpu c JOIN mem m ON m.hostname = c.hostname AND m.time = c.time
WHERE c.hostname = 'host_1' ORDER BY c.time LIMIT 20;

SELECT c.hostname, count(m.used) FROM cpu c LEFT JOIN mem m ON m.hostname = c.hostname AND m.time = c.time GROUP BY c.hostname ORDER BY 1;

-- UNION ALL
SELECT hostname, max(usage_user) FROM cpu WHERE hostname = 'host_1' GROUP BY hostname
UNION ALL SELECT hostname, min(usage_user) FROM cpu WHERE hostname = 'host_2' GROUP BY hostname;

-- windows
SELECT hostname, time, usage_user, row_number() OVER (PARTITION BY hostname ORDER BY time) AS rn
FROM cpu WHERE time < '2016-01-01T00:01:00Z' ORDER BY hostname, time;

SELECT hostname, time, usage_user - lag(usage_user) OVER (PARTITION BY hostname ORDER BY time) AS delta
FROM cpu WHERE hostname = 'host_3' ORDER BY time LIMIT 30;

SELECT hostname, time, avg(usage_user) OVER (PARTITION BY hostname ORDER BY time ROWS BETWEEN 5 PRECEDING AND CURRENT ROW) AS moving
FROM cpu WHERE hostname = 'host_0' ORDER BY time LIMIT 30;

SELECT hostname, a, rank() OVER (ORDER BY a DESC) FROM (SELECT hostname, avg(usage_user) AS a FROM cpu GROUP BY hostname) s ORDER BY 3, 1;

-- NULLs (mem has rows with a NULL used)
SELECT count(*), count(used), sum(used), avg(used) FROM mem;

SELECT hostname, count(*) FROM mem WHERE used IS NULL GROUP BY hostname ORDER BY 1;

-- empty inputs
SELECT count(*), max(usage_user), avg(usage_user) FROM cpu WHERE hostname = 'no_such_host';

SELECT hostname, max(usage_user) FROM cpu WHERE hostname = 'no_such_host' GROUP BY hostname;

-- NULL handling (mem.used is NULL on every 7th row)
SELECT hostname, time, used FROM mem WHERE hostname = 'host_3' ORDER BY used NULLS FIRST, time LIMIT 12;

SELECT hostname, time, used FROM mem WHERE hostname = 'host_3' ORDER BY used DESC NULLS LAST, time LIMIT 12;

SELECT used IS NULL AS missing, count(*), min(free), max(free) FROM mem GROUP BY 1 ORDER BY 1;

SELECT count(DISTINCT used), count(*) - count(used) FROM mem;

SELECT hostname, coalesce(used, -1) AS u, used + free AS total, used > 50 AS high FROM mem WHERE hostname = 'host_6' ORDER BY time LIMIT 15;

SELECT hostname, time, used, lag(used) OVER (PARTITION BY hostname ORDER BY time) AS prev,
       sum(used) OVER (PARTITION BY hostname ORDER BY time) AS running
FROM mem WHERE hostname = 'host_2' ORDER BY time LIMIT 20;

SELECT m.hostname, m.time, m.used, c.usage_user FROM mem m LEFT JOIN cpu c ON c.hostname = m.hostname AND c.time = m.time
WHERE m.hostname = 'host_9' AND m.used IS NULL ORDER BY m.time LIMIT 10;

SELECT DISTINCT used IS NULL FROM mem ORDER BY 1;

SELECT max(used) FILTER (WHERE hostname = 'host_1'), min(used) FILTER (WHERE used IS NOT NULL AND hostname = 'host_2') FROM mem;

SELECT nullif(usage_user, 0) AS nz, count(*) FROM cpu WHERE hostname = 'host_0' GROUP BY 1 ORDER BY 1 NULLS FIRST LIMIT 5;

SELECT greatest(usage_user, usage_system), least(usage_user, usage_system) FROM cpu WHERE hostname = 'host_7' ORDER BY time LIMIT 10;

-- edge cases of LIMIT/OFFSET and empty inputs
SELECT hostname FROM cpu ORDER BY hostname LIMIT 0;

SELECT hostname, time FROM cpu ORDER BY time, hostname OFFSET 21595;

SELECT sum(usage_user), min(time), max(time), stddev(usage_user), count(DISTINCT hostname) FROM cpu WHERE time < '2015-01-01T00:00:00Z';

SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY used) FROM mem WHERE hostname = 'nobody';

-- errors must carry PostgreSQL's SQLSTATE
SELECT no_such_column FROM cpu;

SELECT * FROM no_such_table;

SELECT usage_user / 0 FROM cpu LIMIT 1;

SELECT 'abc'::bigint;

SELECT hostname + 1 FROM cpu LIMIT 1;

SELECT no_such_function(usage_user) FROM cpu;

SELECT hostname, max(usage_user) FROM cpu;

-- time zones: the session's TimeZone governs date_trunc, extract, literals
-- without an offset, AT TIME ZONE, text output and calendar arithmetic
SET TimeZone = 'America/New_York';

SELECT date_trunc('day', time) AS day, count(*), max(usage_user), min(time) FROM cpu GROUP BY 1 ORDER BY 1;

SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) FROM cpu WHERE hostname IN ('host_0', 'host_1') GROUP BY 1, 2 ORDER BY 1, 2;

SELECT extract(hour FROM time) AS h, count(*), sum(usage_system) FROM cpu GROUP BY 1 ORDER BY 1;

SELECT date_part('day', time) AS d, extract(dow FROM time) AS dow, extract(epoch FROM date_trunc('day', time)) AS e, count(*) FROM cpu GROUP BY 1, 2, 3 ORDER BY 1, 2;

SELECT hostname, time, usage_user FROM cpu WHERE time >= '2015-12-31 23:00:00' AND time < '2015-12-31 23:01:00' AND hostname = 'host_2' ORDER BY time;

SELECT count(*), min(time), max(time) FROM cpu WHERE time < '2016-01-01';

SELECT count(*) FROM cpu WHERE time BETWEEN '2015-12-31 20:00' AND '2015-12-31 21:00:00-05' AND hostname = 'host_5';

SELECT time AT TIME ZONE 'UTC' AS utc_wall, time AT TIME ZONE 'Europe/Berlin' AS berlin, hostname FROM cpu WHERE hostname = 'host_3' ORDER BY time LIMIT 5;

SELECT date_trunc('day', time AT TIME ZONE 'Asia/Tokyo') AS tokyo_day, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

SELECT time::text AS t, (time + interval '1 day')::text AS tomorrow, (time - interval '1 month')::text AS month_ago FROM cpu WHERE hostname = 'host_4' ORDER BY time LIMIT 3;

SELECT date_trunc('day', time, 'Asia/Kolkata') AS d, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

SELECT '2016-01-01 00:00'::timestamptz AS midnight, '2016-01-01 00:00'::timestamp AT TIME ZONE 'America/Los_Angeles' AS la, extract(timezone FROM '2016-07-01'::timestamptz) AS summer;

RESET TimeZone;

SELECT date_trunc('day', time) AS day, count(*) FROM cpu GROUP BY 1 ORDER BY 1;

-- last point per series, optimized to one reverse seek per series
SELECT DISTINCT ON (hostname) hostname, time, usage_user, usage_idle FROM cpu WHERE time < '2016-01-01T03:00:00Z' ORDER BY hostname, time DESC;

SELECT DISTINCT ON (region) region, hostname, time, usage_user FROM cpu ORDER BY region, time DESC, hostname;

SELECT DISTINCT ON (hostname) hostname, time, used FROM mem ORDER BY hostname, time DESC;

-- real keeps float32 precision
SELECT 16777217::float4 = 16777216::float4, 16777217::bigint::real > 16777216, 0.1::real::float8 = 0.1::float8, usage_user::real FROM cpu WHERE hostname = 'host_1' ORDER BY time LIMIT 3;
