#!/bin/sh
# dbgolden.sh BINARY [--update]: the database content of the samples, read in order into one database
# and dumped through `query REPORT --format csv`, must equal tests/golden/db/REPORT.csv.
bin=$1
out=tests/out/dbgolden
rm -rf "$out"; mkdir -p "$out"
"$bin" read -q -d "$out/samples.db" samples/*.pcap > /dev/null 2> "$out/read.err" ||
    { echo "FAIL dbgolden read: $(head -1 "$out/read.err")"; exit 0; }
for report in sessions messages findings servers; do
    "$bin" query -d "$out/samples.db" "$report" --format csv > "$out/$report.csv" 2> "$out/$report.err"
    if [ "${2:-}" = --update ]; then cp "$out/$report.csv" "tests/golden/db/$report.csv"; fi
    if diff -u "tests/golden/db/$report.csv" "$out/$report.csv" > "$out/$report.diff"; then
        echo "PASS dbgolden $report ($(($(wc -l < "$out/$report.csv") - 1)) rows)"
    else
        echo "FAIL dbgolden $report:"; head -20 "$out/$report.diff"
    fi
done
