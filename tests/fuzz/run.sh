#!/bin/sh
# run.sh SECONDS: runs each libFuzzer target for SECONDS, seeded from samples/, tests/fuzz/seeds and
# ../shared/corpus; replays tests/fuzz/regress/TARGET/* first. Prints PASS/FAIL lines and the figures.
secs=${1:-60}
cd "$(dirname "$0")/../.." || exit 2
out=tests/out/fuzz
mkdir -p "$out"
for target in fuzz_smtp_parser fuzz_decode fuzz_pipeline; do
    bin=build-fuzz/$target
    [ -x "$bin" ] || { echo "FAIL fuzz $target: $bin not built (make fuzz-build)"; continue; }
    corpus=$out/corpus-$target
    mkdir -p "$corpus" "$out/crashes-$target"
    # Regression inputs found earlier must stay fixed.
    if [ -d "tests/fuzz/regress/$target" ] && ls "tests/fuzz/regress/$target"/* >/dev/null 2>&1; then
        if "$bin" -runs=1 "tests/fuzz/regress/$target"/* > "$out/$target.regress.log" 2>&1; then
            echo "PASS fuzz $target regressions ($(ls "tests/fuzz/regress/$target" | wc -l) inputs)"
        else
            echo "FAIL fuzz $target regressions: see $out/$target.regress.log"
        fi
    fi
    seeds=""
    for d in samples ../shared/corpus/real ../shared/corpus/malformed tests/fuzz/seeds/$target; do
        [ -d "$d" ] && seeds="$seeds $d"
    done
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$out/crashes-$target/" "$corpus" $seeds > "$out/$target.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$target.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$out/$target.log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "PASS fuzz $target: ${secs}s, ${execs:-?} execs, ${cov:-cov: ?}"
    else
        echo "FAIL fuzz $target: exit $rc, crash inputs in $out/crashes-$target/"
        grep -m5 -E 'ERROR|runtime error|SUMMARY' "$out/$target.log"
    fi
done
