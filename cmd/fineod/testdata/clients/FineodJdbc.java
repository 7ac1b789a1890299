import java.sql.*;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.*;

/**
 * pgjdbc against fineod. Run: java -cp postgresql.jar:. FineodJdbc jdbc:postgresql://host:port/db
 * Prints one line per check and exits non-zero on the first failure.
 */
public class FineodJdbc {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAIL " + what);
            System.exit(1);
        }
        System.out.println("ok " + what);
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", "fineo");
        props.setProperty("prepareThreshold", "2");
        try (Connection c = DriverManager.getConnection(args[0], props)) {
            DatabaseMetaData md = c.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "product name " + md.getDatabaseProductName());

            // Metadata: the table written over HTTP, its columns, the schemas.
            Set<String> tables = new HashSet<>();
            try (ResultSet rs = md.getTables(null, null, "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            check(tables.contains("jdbc_cpu"), "getTables lists jdbc_cpu: " + tables);
            Map<String, String> cols = new LinkedHashMap<>();
            try (ResultSet rs = md.getColumns(null, null, "jdbc_cpu", "%")) {
                while (rs.next()) cols.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
            }
            check(cols.containsKey("time") && cols.containsKey("host") && cols.containsKey("usage"), "getColumns: " + cols);
            Set<String> schemas = new HashSet<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            check(schemas.contains("public"), "getSchemas: " + schemas);

            // Prepared statement executed past prepareThreshold: server-side
            // named statement, binary results.
            try (PreparedStatement ps = c.prepareStatement("SELECT time, host, usage FROM jdbc_cpu WHERE host = ? ORDER BY time")) {
                for (int i = 0; i < 5; i++) {
                    ps.setString(1, "h1");
                    int n = 0;
                    double sum = 0;
                    OffsetDateTime first = null;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (n == 0) first = rs.getObject(1, OffsetDateTime.class);
                            n++;
                            sum += rs.getDouble(3);
                        }
                    }
                    check(n == 50 && Math.abs(sum - 1250.0) < 1e-9, "prepared run " + i + ": " + n + " rows, sum " + sum);
                    check(first != null && first.toInstant().equals(OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC).toInstant()),
                        "timestamptz " + first);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM jdbc_cpu WHERE time >= ? AND usage > ?")) {
                ps.setTimestamp(1, Timestamp.from(java.time.Instant.parse("2024-01-01T00:00:10Z")));
                ps.setDouble(2, 10.0);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    check(rs.getLong(1) > 0, "timestamp and double parameters: " + rs.getLong(1));
                }
            }

            // Fetch size with autocommit off: the driver fetches through a
            // portal in chunks.
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.setFetchSize(7);
                int n = 0;
                try (ResultSet rs = st.executeQuery("SELECT host, usage FROM jdbc_cpu")) {
                    while (rs.next()) n++;
                }
                check(n == 100, "fetch size 7 read " + n + " rows");
            }
            c.commit();
            c.setAutoCommit(true);

            // An error, then a good query on the same connection.
            try (Statement st = c.createStatement()) {
                try {
                    st.executeQuery("SELECT no_such_column FROM jdbc_cpu");
                    check(false, "error expected");
                } catch (SQLException e) {
                    check("42703".equals(e.getSQLState()), "undefined column SQLSTATE " + e.getSQLState());
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM jdbc_cpu")) {
                    rs.next();
                    check(rs.getLong(1) == 100, "query after error: " + rs.getLong(1));
                }
            }
        }
        System.out.println("PASS");
    }
}
