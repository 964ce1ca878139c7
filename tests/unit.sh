#!/bin/sh
# unit.sh BUILD_DIR: runs each cmocka binary in BUILD_DIR/tests and reports each test case as PASS/FAIL.
dir=$1/tests
found=0
for t in "$dir"/test_*; do
    [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    out=$("$t" 2>&1)
    rc=$?
    # cmocka prints "[       OK ] case" and "[  FAILED  ] case" per test.
    printf '%s\n' "$out" | sed -n "s/^\[       OK \] \(.*\)/PASS $name:\1/p"
    printf '%s\n' "$out" | sed -n "s/^\[  FAILED  \] \([^0-9].*\)/FAIL $name:\1/p" | sort -u
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^\[  FAILED  \]'; then
        echo "FAIL $name: exited $rc without a cmocka verdict"
        printf '%s\n' "$out" | tail -20
    fi
    if printf '%s\n' "$out" | grep -q 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer\|WARNING: ThreadSanitizer\|runtime error:'; then
        echo "FAIL $name: sanitizer report"
        printf '%s\n' "$out" | grep -A5 'Sanitizer\|runtime error' | head -30
    fi
done
[ $found = 1 ] || echo "FAIL unit: no test binaries in $dir"
