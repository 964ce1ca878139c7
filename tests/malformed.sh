#!/bin/sh
# malformed.sh ASAN_BINARY BINARY: every capture in ../shared/corpus/malformed and tests/bad must go
# through `read` with a documented exit status (0, 1 or 2), no sanitizer report, no hang, and
# (normal build) within 2 s and 64 MiB.
asan=$1
bin=$2
out=tests/out/malformed
mkdir -p "$out"
set --
[ -d ../shared/corpus/malformed ] && set -- ../shared/corpus/malformed/*.pcap*
[ -d tests/bad ] && set -- "$@" tests/bad/*.pcap*
if [ $# -eq 0 ]; then
    echo "SKIP malformed: ../shared/corpus/malformed is absent"
    exit 0
fi
for f in "$@"; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    rm -f "$out/$name.db"*
    timeout 20 "$asan" read --netmon -d "$out/$name.db" "$f" > "$out/$name.asan.out" 2> "$out/$name.asan.err"
    rc=$?
    if grep -q 'Sanitizer\|runtime error' "$out/$name.asan.err"; then
        echo "FAIL malformed $name: sanitizer report"; grep -m3 'Sanitizer\|runtime error' "$out/$name.asan.err"; continue
    fi
    case $rc in
    0|1|2) ;;
    *) echo "FAIL malformed $name: exit $rc under ASan"; tail -3 "$out/$name.asan.err"; continue ;;
    esac
    if [ "$rc" != 0 ] && ! grep -q . "$out/$name.asan.err"; then
        echo "FAIL malformed $name: exit $rc without a message"; continue
    fi
    if grep -v -q -F "$name" "$out/$name.asan.err"; then
        echo "FAIL malformed $name: a message does not name the file"; cat "$out/$name.asan.err"; continue
    fi
    /usr/bin/time -f '%e %M' -o "$out/$name.time" timeout 5 "$bin" read --no-db "$f" > /dev/null 2>&1
    # GNU time puts "Command exited with non-zero status N" first when the status is not 0.
    read -r secs kib <<EOT
$(tail -n 1 "$out/$name.time" 2>/dev/null)
EOT
    if awk -v s="$secs" 'BEGIN { exit !(s > 2) }' || [ "${kib:-0}" -gt 65536 ]; then
        echo "FAIL malformed $name: ${secs}s ${kib} KiB (limit 2 s, 64 MiB)"; continue
    fi
    echo "PASS malformed $name (exit $rc, ${secs}s, ${kib} KiB)"
done
