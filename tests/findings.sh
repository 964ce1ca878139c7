#!/bin/sh
# findings.sh BINARY: each sample's findings (kind, extension, frame), read back from the database,
# must be exactly those listed in tests/findings/EXPECTED: nothing missing, nothing extra.
bin=$1
out=tests/out/findings
rm -rf "$out"; mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "SKIP findings: no sqlite3 CLI"; exit 0; }
for f in samples/*.pcap; do
    name=$(basename "$f" .pcap)
    rm -f "$out/db"*
    if ! "$bin" read -q -d "$out/db" "$f" > /dev/null 2> "$out/$name.err"; then
        echo "FAIL findings $name: read failed: $(head -1 "$out/$name.err")"; continue
    fi
    sqlite3 -separator ' ' "$out/db" "SELECT '$name', kind, coalesce(extension, '-'), frame FROM findings
        ORDER BY frame, kind" > "$out/$name.got"
    grep "^$name " tests/findings/EXPECTED | sort > "$out/$name.want"
    sort "$out/$name.got" > "$out/$name.got.sorted"
    if cmp -s "$out/$name.want" "$out/$name.got.sorted"; then
        echo "PASS findings $name ($(wc -l < "$out/$name.want") findings)"
    else
        echo "FAIL findings $name:"; diff "$out/$name.want" "$out/$name.got.sorted" | head -10
    fi
done
