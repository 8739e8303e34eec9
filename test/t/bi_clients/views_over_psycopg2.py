"""Read every view of a schema as a notebook does, through psycopg2, and
print one line per finding (as ViewsOverJdbc.java):
  view <name> <columns> <rows>
  FAIL <view>.<column>: <why>
  query <sqlstate or ok> <rows>
Arguments: libpq connection string, schema, view name pattern (LIKE),
queries (each run as is: what the user may not read)."""
import decimal
import sys

import psycopg2

NUMERIC = 1700
PLAIN = {16, 20, 21, 23, 25, 1043, 1082, 1114, 1184, NUMERIC}  # bool, ints, text, varchar, date, timestamps, numeric

conn = psycopg2.connect(sys.argv[1])
schema = sys.argv[2]
cur = conn.cursor()
cur.execute("""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = %s AND c.relkind = 'v' AND c.relname LIKE %s ORDER BY 1""", (schema, sys.argv[3]))
views = [r[0] for r in cur.fetchall()]
for v in views:
    try:
        cur.execute('SELECT * FROM "%s"."%s"' % (schema, v))
        rows = cur.fetchall()
    except psycopg2.Error as e:
        print("FAIL %s.*: error %s: %s" % (v, e.pgcode, str(e).replace("\n", " ")))
        conn.rollback()
        continue
    for i, col in enumerate(cur.description):
        if col.type_code not in PLAIN:
            print("FAIL %s.%s: type oid %s that a dataframe cannot chart" % (v, col.name, col.type_code))
        if col.type_code == NUMERIC:
            if col.scale is None:
                print("FAIL %s.%s: NUMERIC without a declared scale" % (v, col.name))
            else:
                for r in rows:
                    x = r[i]
                    if x is not None and (not isinstance(x, decimal.Decimal) or -x.as_tuple().exponent != col.scale):
                        print("FAIL %s.%s: value %r is not a Decimal of scale %s" % (v, col.name, x, col.scale))
                        break
    print("view %s %d %d" % (v, len(cur.description), len(rows)))
for q in sys.argv[4:]:
    try:
        cur.execute(q)
        print("query ok %d" % len(cur.fetchall()))
    except psycopg2.Error as e:
        print("query %s 0" % e.pgcode)
        conn.rollback()
conn.close()
