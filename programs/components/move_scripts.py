"""The shell scripts that move the single box's database to Aurora (0 -> 1) and back (1 -> 0).

One pair per engine: the box runs the database server of the cluster's engine (MariaDB for
Aurora MySQL, PostgreSQL 16 for Aurora PostgreSQL), so each move is a dump and load with the
engine's own tools. Both directions keep the site down while they copy (nginx stopped, so
nothing writes), verify that every table has the same row count on both sides before anything
is switched, and leave the source untouched: the box's files up, a snapshot of the cluster
down (taken by the program before the script runs). Markers in /var/lib/stepladder make a
re-run a no-op, so a later run can never overwrite newer data with an older copy. Systems
Manager substitutes the `{{ Writer }}`, `{{ Username }}` and `{{ SecretArn }}` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

# The same preamble for both directions: where the markers live, who the writer is.
PREAMBLE = r"""set -euo pipefail
state=/var/lib/stepladder
writer='{{ Writer }}'
username='{{ Username }}'
mkdir -p "$state" /etc/stepladder
fail() { echo "$*" >&2; exit 1; }
read_password() {
  aws secretsmanager get-secret-value --secret-id '{{ SecretArn }}' --query SecretString \
    --output text | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])'
}
"""

# Every table with its row count, one line each, sorted: the two sides must print the same.
VERIFY = r"""if ! diff <(row_counts box_sql) <(row_counts writer_sql) > "$state/verify.diff"; then
  fail "the copy differs from its source (tables and row counts in $state/verify.diff)"
fi
"""


@dataclass(frozen=True)
class EngineMoves:
    """What differs between engines: the box's server and the commands of each move."""

    package: str
    service: str
    # Shell lines run once the package is installed, before the service starts.
    initialise: str
    # Shell functions: box_sql, writer_sql (each runs one query, tab-separated, no header),
    # user_databases <box_sql|writer_sql>, row_counts <box_sql|writer_sql>.
    functions: str
    # Copies $databases from the box to the writer.
    copy_up: str
    # Keeps the box's stale databases as dumps named after $stamp, then drops them.
    set_aside_stale: str
    # Copies every user database of the writer onto the box.
    copy_down: str


MYSQL = EngineMoves(
    package="mariadb105-server",
    service="mariadb",
    initialise="",
    functions=r"""system_schemas="'mysql','information_schema','performance_schema','sys'"
box_sql() { mysql -N -B "$@" < /dev/null; }
writer_sql() { MYSQL_PWD="$password" mysql -N -B -h "$writer" -u "$username" "$@" < /dev/null; }
user_databases() {
  "$1" -e "SELECT schema_name FROM information_schema.schemata
           WHERE schema_name NOT IN ($system_schemas)"
}
row_counts() {
  "$1" -e "SELECT CONCAT('\`', table_schema, '\`.\`', table_name, '\`')
           FROM information_schema.tables
           WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ($system_schemas)" \
  | while read -r table; do echo "$table $("$1" -e "SELECT COUNT(*) FROM $table")"; done \
  | sort
}
""",
    copy_up=r"""mysqldump --single-transaction --routines --triggers --databases $databases \
  > "$state/move.sql"
MYSQL_PWD="$password" mysql -h "$writer" -u "$username" < "$state/move.sql"
""",
    set_aside_stale=r"""stale=$(user_databases box_sql | tr '\n' ' ')
if [ -n "$stale" ]; then
  mysqldump --single-transaction --routines --triggers --databases $stale \
    > "$state/box-before-return-$stamp.sql"
  for database in $stale; do box_sql -e "DROP DATABASE \`$database\`"; done
fi
""",
    # MariaDB 10.5 does not know MySQL 8's utf8mb4_0900 collations: table definitions (not
    # the rows) get the nearest one it has.
    copy_down=r"""databases=$(user_databases writer_sql | tr '\n' ' ')
if [ -n "$databases" ]; then
  MYSQL_PWD="$password" mysqldump -h "$writer" -u "$username" --single-transaction \
    --routines --triggers --databases $databases \
    | sed -e '/^INSERT INTO/!s/utf8mb4_0900_[a-z_]*/utf8mb4_general_ci/g' \
    > "$state/return.sql"
  mysql < "$state/return.sql"
fi
""",
)

POSTGRESQL = EngineMoves(
    package="postgresql16-server",
    service="postgresql",
    initialise=r"""[ -e /var/lib/pgsql/data/PG_VERSION ] || postgresql-setup --initdb
""",
    functions=r"""export PGSSLMODE=require
box_sql() { sudo -u postgres psql -X -A -t -v ON_ERROR_STOP=1 "$@" < /dev/null; }
writer_sql() {
  PGPASSWORD="$password" psql -X -A -t -v ON_ERROR_STOP=1 -h "$writer" -U "$username" "$@" \
    < /dev/null
}
user_databases() {
  "$1" -d postgres -c "SELECT datname FROM pg_database
                       WHERE NOT datistemplate AND datname NOT IN ('postgres', 'rdsadmin')"
}
row_counts() {
  for database in $(user_databases "$1"); do
    "$1" -d "$database" -c "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                            WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" \
    | while read -r table; do
        echo "$database.$table $("$1" -d "$database" -c "SELECT count(*) FROM $table")"
      done
  done | sort
}
box_dump() { sudo -u postgres pg_dump --format=custom --no-owner --no-acl "$1"; }
writer_dump() {
  PGPASSWORD="$password" pg_dump --format=custom --no-owner --no-acl -h "$writer" \
    -U "$username" "$1"
}
""",
    # The writer serves nothing before the move succeeds: what an earlier attempt left goes.
    copy_up=r"""for database in $databases; do
  box_dump "$database" > "$state/move-$database.dump"
  writer_sql -d postgres -c "DROP DATABASE IF EXISTS \"$database\""
  writer_sql -d postgres -c "CREATE DATABASE \"$database\""
  PGPASSWORD="$password" pg_restore --no-owner --no-acl --exit-on-error -h "$writer" \
    -U "$username" -d "$database" < "$state/move-$database.dump"
done
""",
    set_aside_stale=r"""for database in $(user_databases box_sql); do
  box_dump "$database" > "$state/box-before-return-$stamp-$database.dump"
  box_sql -d postgres -c "DROP DATABASE \"$database\""
done
""",
    copy_down=r"""for database in $(user_databases writer_sql); do
  writer_dump "$database" > "$state/return-$database.dump"
  box_sql -d postgres -c "CREATE DATABASE \"$database\""
  sudo -u postgres pg_restore --no-owner --no-acl --exit-on-error -d "$database" \
    < "$state/return-$database.dump"
done
""",
)

ENGINE_MOVES = {"aurora-mysql": MYSQL, "aurora-postgresql": POSTGRESQL}


def box_user_data(engine: str) -> str:
    """Tier 0's box: nginx and the database server of the cluster engine it will move to."""
    moves = ENGINE_MOVES[engine]
    return (
        f"#!/bin/bash\ndnf install -y nginx {moves.package}\n{moves.initialise}"
        f"systemctl enable --now nginx {moves.service}\n"
    )


def move_up_script(engine: str) -> str:
    """0 -> 1: the box's databases into the writer, verified, then the app points at it."""
    moves = ENGINE_MOVES[engine]
    other = [m.service for m in ENGINE_MOVES.values() if m is not moves]
    return (
        PREAMBLE
        + r"""if [ -e "$state/database-moved" ]; then echo "moved before: nothing to do"; exit 0; fi
"""
        + moves.functions
        + f"""if ! systemctl is-active --quiet {moves.service}; then
  for other in {" ".join(other)}; do
    if systemctl is-active --quiet "$other"; then
      fail "the box runs $other, not the cluster's engine: its data cannot move by dump and load"
    fi
  done
  echo "no {moves.service} on the box: nothing to move"
  rm -f "$state/database-returned"; touch "$state/database-moved"; exit 0
fi
"""
        + r"""password=$(read_password)
# On any failure the site comes back on the database it used before.
trap 'systemctl start nginx' EXIT
systemctl stop nginx
databases=$(user_databases box_sql | tr '\n' ' ')
if [ -n "$databases" ]; then
"""
        + _indented(moves.copy_up)
        + "fi\n"
        + VERIFY
        + r"""printf 'DATABASE_HOST=%s\nDATABASE_SECRET_ARN=%s\n' "$writer" '{{ SecretArn }}' \
  > /etc/stepladder/database.env
"""
        + f"systemctl disable --now {moves.service}\n"
        + r"""rm -f "$state/database-returned"
touch "$state/database-moved"
"""
    )


def move_back_script(engine: str) -> str:
    """1 -> 0: the writer's databases onto the box, verified, then the app points at the box.
    The program snapshots the cluster before this runs; Pulumi deletes it only afterwards."""
    moves = ENGINE_MOVES[engine]
    return (
        PREAMBLE
        + r"""if [ -e "$state/database-returned" ]; then
  echo "returned before: nothing to do"; exit 0
fi
"""
        + moves.functions
        + f"""password=$(read_password)
dnf install -y {moves.package}
{moves.initialise}systemctl enable --now {moves.service}
"""
        + r"""# On any failure the site comes back on the cluster, which is still there.
trap 'systemctl start nginx' EXIT
systemctl stop nginx
stamp=$(date -u +%Y%m%d-%H%M%S)
# The box's own copy is older than the cluster's: kept as a dump, out of the way.
"""
        + moves.set_aside_stale
        + moves.copy_down
        + VERIFY
        + r"""printf 'DATABASE_HOST=localhost\n' > /etc/stepladder/database.env
rm -f "$state/database-moved"
touch "$state/database-returned"
"""
    )


def _indented(lines: str) -> str:
    return "".join(f"  {line}\n" if line else "\n" for line in lines.splitlines())
