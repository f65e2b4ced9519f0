#!/usr/bin/env bash
# The lookup and import at organisation scale (issue 18): one run prints
# every figure of the table. Not part of CI (a 1M run takes a few minutes).
#
#   scripts/scale-bench.sh [RECORDS] [WORK_DIR]     (default 1000000, /tmp/rightsdesk-scale)
#
# It builds the release binary, writes a synthetic HubSpot export of RECORDS
# rows (`demo generate`), imports it into a fresh data directory, then runs
# 400 varied queries (first names, full names, e-mail prefixes, phone digits,
# cut-short names) twice: the first run writes the lookup index's file, the
# second only opens it. Then a one-row import (which lays a delta over the
# index's file), and the queries again.
set -euo pipefail
# The whole script is one function, read before it runs: editing this file
# during a long run cannot change what the run does.
main() {
N=${1:-1000000}
WORK=${2:-/tmp/rightsdesk-scale}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/rightsdesk
# Only a folder this script made is ever emptied (it carries the mark
# below); any other existing path is refused, never deleted.
MARK=.rightsdesk-scale-bench
if [ -e "$WORK" ] || [ -L "$WORK" ]; then
  if [ -d "$WORK" ] && [ ! -L "$WORK" ] && [ -f "$WORK/$MARK" ]; then
    rm -rf "$WORK"
  else
    echo "scale-bench: $WORK exists and is not a folder this script made; give another" >&2
    exit 2
  fi
fi
mkdir -m 0700 "$WORK"
touch "$WORK/$MARK"
export RIGHTSDESK_DATA_DIR=$WORK/data RIGHTSDESK_TIMINGS=1
CSV=$WORK/contacts.csv
"$BIN" demo generate --records "$N" --out "$CSV" > /dev/null
python3 - "$CSV" "$WORK/queries.txt" <<'PY'
import csv, random, sys
random.seed(7)
rows = []
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    r = csv.reader(f); next(r)
    for row in r:
        if len(rows) < 4000 and random.random() < 0.01: rows.append(row)
qs = []
for k in range(400):
    row = random.choice(rows); c = k % 20
    if c < 5: qs.append(row[1])
    elif c < 10: qs.append(row[1] + ' ' + row[2])
    elif c < 15: qs.append(row[3][:random.randint(6, 10)])
    elif c < 18:
        d = ''.join(ch for ch in row[4] if ch.isdigit())
        qs.append(d[-6:] if c % 2 else row[4])
    else: qs.append(row[1][:-1])
open(sys.argv[2], 'w').write('\n'.join(qs) + '\n')
PY
measure() { # label, command… → wall seconds and peak RSS (MB) into $LOG
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" 2> "$WORK/$label.err" > /dev/null
  read -r secs kb < "$WORK/time"
  echo "$label $secs $((kb / 1024))"
}
read -r _ imp_s imp_mb < <(measure import "$BIN" import web-forms "$CSV")
read -r _ first_s first_mb < <(measure lookup-first "$BIN" lookup --stdin --timings < "$WORK/queries.txt")
read -r _ open_s open_mb < <(measure lookup-open "$BIN" lookup --stdin --timings < "$WORK/queries.txt")
printf 'Record ID,First Name,Last Name,Email\n1,Nova,Quill,nova.quill@example.ie\n' > "$WORK/one.csv"
read -r _ one_s _ < <(measure import-one "$BIN" import web-forms "$WORK/one.csv")
read -r _ after_s after_mb < <(measure lookup-after-import "$BIN" lookup --stdin --timings < "$WORK/queries.txt")
csv_mb=$(( $(stat -c %s "$CSV") / 1048576 ))
store_mb=$(( $(du -sb "$RIGHTSDESK_DATA_DIR/store" | cut -f1) / 1048576 ))
index_mb=$(( $(stat -c %s "$RIGHTSDESK_DATA_DIR/store/lookup.idx") / 1048576 ))
line() { grep -h "^$2" "$WORK/$1.err" | tail -1; }
echo
echo "rightsdesk scale figures: $N records, $(nproc) cores, $(date -u +%F)"
echo "| figure | value |"
echo "|---|---|"
echo "| import | ${imp_s} s, $(python3 -c "print(round($N / max($imp_s, 0.01)))") rows/s |"
echo "| import peak memory | ${imp_mb} MB |"
echo "| CSV | ${csv_mb} MB |"
echo "| store on disk after import (incl. index file) | ${store_mb} MB ($(python3 -c "print(round($store_mb / max($csv_mb, 1), 1))")× the CSV); index file ${index_mb} MB |"
echo "| index written (first lookup) | $(line lookup-first 'index: written') |"
echo "| index ready at a later start | $(line lookup-open 'index: opened') |"
echo "| lookup process peak memory (index opened) | ${open_mb} MB |"
echo "| per query, 400 queries | $(line lookup-open 'lookup:' | sed 's/.*queries: //') |"
echo "| a one-row import, its delta included | ${one_s} s ($(line import-one 'index: delta written')) |"
echo "| after it: index ready at the next start | $(line lookup-after-import 'index: ') |"
echo "| after it: per query | $(line lookup-after-import 'lookup:' | sed 's/.*queries: //') |"
}
main "$@"
exit
