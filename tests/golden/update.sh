#!/bin/sh
# update.sh: rewrites tests/golden/*.txt from ./smtptrace (review `git diff` before committing).
cd "$(dirname "$0")/../.." || exit 2
grep -v '^#' tests/golden/LIST | grep -v '^$' | while read -r name want capture opts; do
    # shellcheck disable=SC2086
    ./smtptrace read --netmon "$capture" $opts > "tests/golden/$name.txt" 2>/dev/null
    echo "updated $name"
done
sh tests/dbgolden.sh ./smtptrace --update > /dev/null && echo "updated tests/golden/db/*.csv"
