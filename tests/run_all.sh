#!/bin/sh
# run_all.sh: runs every test suite of smtptrace and ends with the line "N passed, N failed".
# Each suite prints "PASS name" / "FAIL name: why" lines (and "SKIP name: why"); we count them.
cd "$(dirname "$0")/.." || exit 2
log=tests/out/run_all.log
mkdir -p tests/out
: > "$log"

run_suite() {
    echo "== $1" | tee -a "$log"
    shift
    "$@" 2>&1 | tee -a "$log" | grep -E '^(FAIL|SKIP)' || true
}

run_suite "unit tests (normal build)" sh tests/unit.sh build
run_suite "unit tests (ASan+UBSan build)" sh tests/unit.sh build-asan
run_suite "golden transcripts" sh tests/golden.sh ./smtptrace
run_suite "golden transcripts (ASan+UBSan)" sh tests/golden.sh build-asan/smtptrace
run_suite "command line" sh tests/cli.sh ./smtptrace
run_suite "command line (ASan+UBSan)" sh tests/cli.sh build-asan/smtptrace
run_suite "malformed corpus (ASan+UBSan)" sh tests/malformed.sh build-asan/smtptrace ./smtptrace
run_suite "damaged samples (ASan+UBSan)" python3 tests/damage.py build-asan/smtptrace
run_suite "tshark cross-check" python3 tests/crosscheck_tshark.py ./smtptrace
run_suite "shared real corpus" python3 tests/corpus_real.py ./smtptrace
run_suite "real Postfix/Exim/OpenSMTPD regressions" sh tests/mta.sh ./smtptrace
run_suite "real Postfix/Exim/OpenSMTPD regressions (ASan+UBSan)" sh tests/mta.sh build-asan/smtptrace
run_suite "findings of every sample" sh tests/findings.sh ./smtptrace
run_suite "database content of the samples (csv)" sh tests/dbgolden.sh ./smtptrace
run_suite "database (read, query, show)" sh tests/store.sh ./smtptrace
run_suite "database (ASan+UBSan)" sh tests/store.sh build-asan/smtptrace
run_suite "unit tests of the store (TSan build)" sh tests/unit.sh build-tsan
run_suite "database content of the samples (TSan)" sh tests/dbgolden.sh build-tsan/smtptrace
run_suite "durability and secrets" sh tests/durability.sh ./smtptrace
run_suite "JSON lines" sh tests/json.sh ./smtptrace
run_suite "JSON lines (ASan+UBSan)" sh tests/json.sh build-asan/smtptrace
run_suite "HTML report" sh tests/report.sh ./smtptrace
run_suite "live capture (root)" sh tests/live.sh ./smtptrace
run_suite "live capture (root, ASan+UBSan)" sh tests/live.sh build-asan/smtptrace
run_suite "fuzz smoke (10 s per target)" sh tests/fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-10}"

passed=$(grep -c '^PASS' "$log")
failed=$(grep -c '^FAIL' "$log")
skipped=$(grep -c '^SKIP' "$log")
echo "full log: $log"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
