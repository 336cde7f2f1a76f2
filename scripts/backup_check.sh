#!/usr/bin/env bash
# Proves that a backup of Retain's database restores: takes a dump (pg_dump -Fc, the format docs/operations.md
# uses), restores it into a new empty database on the same server, and compares every table's row count and a
# checksum of its rows, and every sequence's position, between the source and the copy. The copy is dropped after.
#
#   scripts/backup_check.sh postgres://user:password@host:5432/retain [--keep /path/to/retain.dump]
#
# Exit 0: every table and sequence matches. Exit 1: something differs (listed) or a step failed.
# Reads the source while it runs: on a live shop the counts may move between the dump and the comparison, so run it
# against a restored backup or a quiet moment (the nightly run is a good one).
set -euo pipefail

source_url=${1:?usage: backup_check.sh DATABASE_URL [--keep DUMP_FILE]}
keep=""
if [ "${2:-}" = "--keep" ]; then
  keep=${3:?--keep needs a file name}
fi
base=${source_url%%\?*}
server=${base%/*}
copy_name="retain_restore_check_$$"
copy_url="$server/$copy_name"
work=$(mktemp -d)
dump=${keep:-$work/retain.dump}

cleanup() {
  dropdb --if-exists --maintenance-db="$source_url" "$copy_name" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

pg_dump --format=custom --no-owner --no-privileges --file="$dump" "$source_url"
createdb --maintenance-db="$source_url" "$copy_name"
pg_restore --exit-on-error --no-owner --no-privileges --single-transaction --dbname="$copy_url" "$dump"

tables_sql="SELECT quote_ident(table_name) FROM information_schema.tables
            WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
sequences_sql="SELECT quote_ident(sequence_name) FROM information_schema.sequences
               WHERE sequence_schema = 'public' ORDER BY sequence_name"

# Row order is not kept by a restore, so the checksum is over the sorted hashes of the rows' text forms. One query
# for every table and one for every sequence, so a database of a hundred tables is read in two round trips.
summary() {
  local url=$1 name parts=()
  for name in $(psql "$url" -Atqc "$tables_sql"); do
    parts+=("SELECT '$name' AS name, count(*)::text AS a, coalesce(md5(string_agg(h, '' ORDER BY h)), '-') AS b
             FROM (SELECT md5(t::text) AS h FROM public.$name t) rows")
  done
  for name in $(psql "$url" -Atqc "$sequences_sql"); do
    parts+=("SELECT 'sequence:$name', last_value::text, is_called::text FROM public.$name")
  done
  local query=""
  for name in "${parts[@]}"; do
    query+="${query:+ UNION ALL }$name"
  done
  psql "$url" -Atq -F ' ' -c "$query ORDER BY 1"
}

summary "$source_url" > "$work/source.txt"
summary "$copy_url" > "$work/copy.txt"

tables=$(grep -vc '^sequence:' "$work/source.txt" || true)
rows=$(awk '$1 !~ /^sequence:/ { total += $2 } END { print total + 0 }' "$work/source.txt")
if diff -u "$work/source.txt" "$work/copy.txt" > "$work/diff.txt"; then
  echo "backup check: OK — $tables tables, $rows rows, every count and checksum equal after pg_restore ($(du -h "$dump" | cut -f1) dump)"
  exit 0
fi
echo "backup check: FAILED — the restored copy differs from the source (table rows checksum / sequence value):"
grep '^[-+][^-+]' "$work/diff.txt"
exit 1
