// ViewsOverJdbc: read every view of a schema as a BI tool does, through the
// PostgreSQL JDBC driver, and print one line per finding:
//   view <name> <columns> <rows>       a view read completely
//   FAIL <view>.<column>: <why>        a column a chart tool cannot use,
//                                      a remark that is not the comment,
//                                      or an error
//   query <sqlstate or ok> <rows>      each further argument, a query run
//                                      as is (what the user may not read)
// Arguments: JDBC URL, user, password, schema, view name pattern (LIKE),
// queries.
import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

public class ViewsOverJdbc {
    public static void main(String[] args) throws Exception {
        String schema = args[3];
        try (Connection c = DriverManager.getConnection(args[0], args[1], args[2])) {
            DatabaseMetaData md = c.getMetaData();
            // The comments, read with SQL, to hold the driver's remarks to.
            Map<String, String> comments = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT c.relname || '.' || a.attname, col_description(c.oid, a.attnum) FROM pg_class c"
                    + " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid"
                    + " WHERE n.nspname = ? AND c.relkind = 'v' AND a.attnum > 0 AND NOT a.attisdropped")) {
                ps.setString(1, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) comments.put(rs.getString(1), rs.getString(2));
                }
            }
            List<String> views = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, schema, args[4], new String[] {"VIEW"})) {
                while (rs.next()) views.add(rs.getString("TABLE_NAME"));
            }
            Collections.sort(views);
            for (String v : views) {
                int columns = 0;
                Map<String, Integer> declaredScale = new HashMap<>();
                try (ResultSet rs = md.getColumns(null, schema, v, "%")) {
                    while (rs.next()) {
                        columns++;
                        String col = rs.getString("COLUMN_NAME");
                        int type = rs.getInt("DATA_TYPE");
                        String remarks = rs.getString("REMARKS");
                        String comment = comments.get(v + "." + col);
                        if (comment == null || !comment.equals(remarks))
                            fail(v, col, "remarks \"" + remarks + "\" are not the comment \"" + comment + "\"");
                        if (type == Types.OTHER || type == Types.JAVA_OBJECT || type == Types.STRUCT
                                || type == Types.DISTINCT || type == Types.ARRAY)
                            fail(v, col, "JDBC type " + type + " (" + rs.getString("TYPE_NAME") + ") that a chart tool cannot use");
                        if (type == Types.NUMERIC || type == Types.DECIMAL) {
                            int size = rs.getInt("COLUMN_SIZE");
                            int scale = rs.getInt("DECIMAL_DIGITS");
                            declaredScale.put(col, scale);
                            if (size == 0 || size > 1000)
                                fail(v, col, "NUMERIC without a declared precision and scale");
                            else if (col.matches(".*_(rate|share|ratio|minutes|hours)$") && scale == 0)
                                fail(v, col, "a rate or duration with scale 0");
                        }
                    }
                }
                long rows = 0;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT * FROM \"" + schema + "\".\"" + v + "\"")) {
                    ResultSetMetaData rm = rs.getMetaData();
                    while (rs.next()) {
                        rows++;
                        for (int i = 1; i <= rm.getColumnCount(); i++) {
                            Object o = rs.getObject(i);
                            String col = rm.getColumnName(i);
                            if (o instanceof BigDecimal && declaredScale.containsKey(col)
                                    && ((BigDecimal) o).scale() != declaredScale.get(col))
                                fail(v, col, "value " + o + " has scale " + ((BigDecimal) o).scale()
                                        + ", not the declared " + declaredScale.get(col));
                            if (o instanceof org.postgresql.util.PGobject)
                                fail(v, col, "value of a type the driver does not know: " + ((org.postgresql.util.PGobject) o).getType());
                        }
                    }
                } catch (SQLException e) {
                    fail(v, "*", "error " + e.getSQLState() + ": " + e.getMessage());
                }
                System.out.println("view " + v + " " + columns + " " + rows);
            }
            for (int q = 5; q < args.length; q++) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(args[q])) {
                    long rows = 0;
                    while (rs.next()) rows++;
                    System.out.println("query ok " + rows);
                } catch (SQLException e) {
                    System.out.println("query " + e.getSQLState() + " 0");
                }
            }
        }
    }

    static final Set<String> reported = new HashSet<>();

    // One finding per column and kind, not one per row.
    static void fail(String v, String col, String why) {
        if (reported.add(v + "." + col + ":" + why.replaceAll("[0-9.]+", "")))
            System.out.println("FAIL " + v + "." + col + ": " + why.replace('\n', ' '));
    }
}
