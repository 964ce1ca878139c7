#!/bin/sh
# golden.sh BINARY: each line of tests/golden/LIST is "name exit-status capture [options...]";
# `BINARY read --netmon capture options` must print tests/golden/name.txt exactly, with that
# exit status and nothing on stderr. tests/golden/update.sh rewrites the expected files.
bin=$1
list=tests/golden/LIST
out=tests/out/golden
mkdir -p "$out"
grep -v '^#' "$list" | grep -v '^$' | while read -r name want capture opts; do
    # shellcheck disable=SC2086
    "$bin" read --netmon "$capture" $opts > "$out/$name.txt" 2> "$out/$name.err"
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL golden $name: exit $rc, expected $want"; head -5 "$out/$name.err"; continue
    fi
    if [ -s "$out/$name.err" ] && [ "$want" = 0 ]; then
        echo "FAIL golden $name: stray stderr"; head -5 "$out/$name.err"; continue
    fi
    if ! diff -u "tests/golden/$name.txt" "$out/$name.txt" > "$out/$name.diff"; then
        echo "FAIL golden $name: output differs"; head -40 "$out/$name.diff"; continue
    fi
    echo "PASS golden $name"
done
