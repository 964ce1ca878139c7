#!/bin/sh
# store.sh BINARY: the session database end to end: read -d, duplicates, query reports and formats, read-only SQL, show, integrity.
bin=$1
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "FAIL store: usage: tests/store.sh BINARY (got '$bin')"
    exit 1
fi
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)

# Inputs: the samples, else the shared corpus of real captures.
set --
for f in "$root"/samples/*.pcap "$root"/samples/*.pcapng; do
    [ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
    for f in "$root"/../shared/corpus/real/*.pcap; do
        [ -f "$f" ] && set -- "$@" "$f"
    done
fi
if [ $# -eq 0 ]; then
    echo "SKIP store: no samples/*.pcap and no ../shared/corpus/real/*.pcap"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1; then
    echo "SKIP store: python3 and the sqlite3 CLI are needed"
    exit 0
fi

# The samples' servers listen on test ports 2501..2561 (samples/make-samples.sh).
ports="25,587,2525,2561"
p=2501
while [ $p -le 2530 ]; do
    ports="$ports,$p"
    p=$((p + 1))
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtptrace-store.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
db=$tmp/t.db
fails=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
count() { sqlite3 "$db" "$1" 2>/dev/null; }
# Several counts as one line, to compare two states of the database.
counts() {
    count "SELECT (SELECT count(*) FROM captures) || ' ' || (SELECT count(*) FROM sessions) || ' ' ||
           (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM messages) || ' ' ||
           (SELECT count(*) FROM recipients) || ' ' || (SELECT count(*) FROM findings) || ' ' ||
           (SELECT count(*) FROM capabilities)"
}

# read -d writes the database (exit 1 is a damaged input: what came before is kept).
"$bin" read -d "$db" --port "$ports" "$@" >read1.out 2>read1.err
rc=$?
if [ $rc -gt 1 ]; then
    fail read_db "read -d exited $rc: $(head -3 read1.err)"
elif [ ! -s "$db" ]; then
    fail read_db "read -d did not create the database"
elif [ "$(count 'SELECT count(*) FROM sessions')" -gt 0 ] 2>/dev/null; then
    pass read_db
else
    fail read_db "no session rows after read -d ($(head -3 read1.err))"
fi
before=$(counts)

# The same files again: recognised by digest, skipped, nothing duplicated.
"$bin" read -d "$db" --port "$ports" "$@" >read2.out 2>read2.err
rc=$?
after=$(counts)
if [ $rc -gt 1 ]; then
    fail read_twice "second read exited $rc: $(head -3 read2.err)"
elif [ "$before" != "$after" ]; then
    fail read_twice "row counts changed from '$before' to '$after'"
elif ! grep -qi skip read2.err; then
    fail read_twice "second read did not say the files were skipped"
else
    pass read_twice
fi

# Every report in every format.
for report in sessions findings servers messages; do
    for fmt in table csv json; do
        name=query_${report}_$fmt
        if ! "$bin" query -d "$db" "$report" --format "$fmt" >q.out 2>q.err; then
            fail "$name" "exited $?: $(head -2 q.err)"
        elif [ "$fmt" = json ] && ! python3 -c 'import json,sys; json.load(sys.stdin)' <q.out 2>q.err; then
            fail "$name" "invalid JSON: $(tail -1 q.err)"
        elif [ "$fmt" = csv ] && ! python3 -c '
import csv, sys
# Result sets are separated by an empty line; each has a header and rows of its width.
blocks, cur = [], []
for r in csv.reader(sys.stdin):
    if r:
        cur.append(r)
    elif cur:
        blocks.append(cur)
        cur = []
if cur:
    blocks.append(cur)
sys.exit(0 if blocks and all(len(r) == len(b[0]) for b in blocks for r in b) else 1)' <q.out; then
            fail "$name" "CSV rows of unequal width"
        elif [ "$fmt" = table ] && [ ! -s q.out ]; then
            fail "$name" "no output"
        else
            pass "$name"
        fi
    done
done

# Filters narrow the sessions report.
first_server=$(count "SELECT server_ip FROM sessions ORDER BY id LIMIT 1")
want=$(count "SELECT count(*) FROM sessions WHERE server_ip = '$first_server'")
got=$("$bin" query -d "$db" sessions --server "$first_server" --format json 2>/dev/null |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
if [ "$got" = "$want" ]; then
    pass query_filter_server
else
    fail query_filter_server "--server $first_server gave '$got' sessions, the table has $want"
fi

# Read-only SQL: SELECT works, writes are refused by SQLite with exit 2 and change nothing.
got=$("$bin" query -d "$db" sql "SELECT count(*) AS n FROM sessions" --format csv 2>/dev/null | tail -1)
if [ "$got" = "$(count 'SELECT count(*) FROM sessions')" ]; then
    pass query_sql_select
else
    fail query_sql_select "got '$got'"
fi
for stmt in "DELETE FROM sessions" "DROP TABLE events" "PRAGMA user_version = 3" \
    "INSERT INTO findings (session_id, kind, severity) VALUES (1, 'x', 'y')"; do
    "$bin" query -d "$db" sql "$stmt" >q.out 2>q.err
    rc=$?
    if [ $rc -ne 2 ]; then
        fail query_sql_readonly "'$stmt' exited $rc"
    elif ! grep -q readonly q.err; then
        fail query_sql_readonly "'$stmt': unclear error: $(head -1 q.err)"
    fi
done
if [ "$(counts)" = "$after" ] && [ "$(count 'PRAGMA user_version')" = 2 ]; then
    pass query_sql_readonly
else
    fail query_sql_readonly "the database changed"
fi

"$bin" query -d "$tmp/missing.db" sessions >q.out 2>q.err
rc=$?
if [ $rc -eq 2 ] && grep -q "no such database" q.err && [ ! -e "$tmp/missing.db" ]; then
    pass query_missing_db
else
    fail query_missing_db "exit $rc: $(head -1 q.err)"
fi

# show N: the transcript part equals read --netmon restricted to that session (every session, up to 200).
# A session's lines: frame blocks whose sender or receiver is its client address, from its first frame
# up to the next session of the same client address in the same capture.
"$bin" query -d "$db" sql "SELECT s.id, c.source, s.client_addr, s.first_frame,
      (SELECT min(o.first_frame) FROM sessions o WHERE o.capture_id = s.capture_id
        AND o.client_addr = s.client_addr AND o.first_frame > s.first_frame) AS next_frame
    FROM sessions s JOIN captures c ON c.id = s.capture_id ORDER BY s.id LIMIT 200" --format json >sess.json 2>/dev/null
python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print("%s\t%s\t%s\t%s\t%s" % (r["id"], r["source"], r["client_addr"], r["first_frame"], r["next_frame"] or 0))
' sess.json >sess.tsv 2>/dev/null
bad=""
checked=0
last_src=""
tab=$(printf '\t')
while IFS=$tab read -r id src addr first next; do
    [ -n "$id" ] || continue
    checked=$((checked + 1))
    if [ "$src" != "$last_src" ]; then
        "$bin" read --no-db --netmon --port "$ports" "$src" >netmon.txt 2>/dev/null
        last_src=$src
    fi
    awk -v a="$addr" -v lo="$first" -v hi="$next" '
        /^Frame [0-9]+ / { f = $2 + 0; keep = ($NF == a || $(NF - 2) == a) && f >= lo + 0 && (hi + 0 == 0 || f < hi + 0) }
        keep' netmon.txt >exp.txt
    "$bin" show -d "$db" "$id" >show.txt 2>show.err
    rc=$?
    awk '/^--- session [0-9]+ summary ---$/ { exit } !/^  ! /' show.txt >got.txt
    if [ $rc -ne 0 ]; then
        bad="$bad $id(exit $rc)"
    elif ! grep -q "^--- session $id summary ---\$" show.txt; then
        bad="$bad $id(no summary)"
    elif ! cmp -s exp.txt got.txt; then
        bad="$bad $id"
        [ -f first_diff.txt ] || diff exp.txt got.txt | head -5 >first_diff.txt
    fi
done <sess.tsv
if [ $checked -eq 0 ]; then
    fail show_transcript "no sessions to show"
elif [ -n "$bad" ]; then
    fail show_transcript "sessions$bad differ from read --netmon: $(tr '\n' ' ' <first_diff.txt 2>/dev/null)"
else
    pass show_transcript
fi

"$bin" show -d "$db" 999999 >q.out 2>q.err
rc=$?
if [ $rc -eq 2 ] && grep -q "no session 999999 in" q.err; then
    pass show_unknown_session
else
    fail show_unknown_session "exit $rc: $(head -1 q.err)"
fi

ic=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
if [ "$ic" = ok ]; then
    pass integrity_check
else
    fail integrity_check "$ic"
fi

# kill -9 in the middle of a run leaves a consistent database; the unfinished capture is read again next time.
kdb=$tmp/k.db
"$bin" read -d "$kdb" --port "$ports" "$@" >/dev/null 2>&1 &
pid=$!
sleep 0.05
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
ic=$(sqlite3 "$kdb" "PRAGMA integrity_check" 2>&1)
if [ -f "$kdb" ] && [ "$ic" != ok ]; then
    fail kill9_integrity "$ic"
else
    "$bin" read -d "$kdb" --port "$ports" "$@" >/dev/null 2>&1
    if [ "$(sqlite3 "$kdb" 'SELECT count(*) FROM sessions' 2>&1)" = "$(count 'SELECT count(*) FROM sessions')" ] &&
        [ "$(sqlite3 "$kdb" 'SELECT count(*) FROM captures WHERE complete = 0' 2>&1)" = 0 ]; then
        pass kill9_integrity
    else
        fail kill9_integrity "after a rerun the killed database differs from a clean one"
    fi
fi

[ $fails -eq 0 ]
