#!/bin/sh
# durability.sh BINARY: the database survives what happens to real runs: kill -9 in the middle of a
# large read, a full disk, an unwritable path, two reads into one database at once; and no AUTH
# secret of the samples reaches any output format or any byte of the database file.
bin=$1
out=tests/out/durability
rm -rf "$out"; mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "SKIP durability: no sqlite3 CLI"; exit 0; }
pass() { echo "PASS durability $1"; }
fail() { echo "FAIL durability $1: $2"; }

# A large capture of known content: 12000 copies of one 27-frame session (each 14 events).
python3 tests/tools/replicate.py samples/14-lowercase-python.pcap "$out/big.pcap" 12000 > /dev/null ||
    { fail generate "replicate.py failed"; exit 0; }

# kill -9 mid-read: integrity ok, every committed session complete, and a rerun finishes the capture.
db=$out/kill.db
"$bin" read -q -d "$db" "$out/big.pcap" > /dev/null 2>&1 &
pid=$!
i=0
# wait until some rows are committed (bounded: 10 s), then kill without warning
while [ $i -lt 100 ]; do
    n=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE closed = 1" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] && break
    sleep 0.1; i=$((i + 1))
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
closed=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE closed = 1" 2>&1)
if [ "$check" = ok ] && [ "${closed:-0}" -gt 0 ]; then pass "kill-9-integrity ($closed sessions committed)"
else fail kill-9-integrity "integrity '$check', closed sessions '$closed'"; fi
# Committed sessions are whole: each closed one has its 14 events, its message and its recipient.
partial=$(sqlite3 "$db" "SELECT count(*) FROM sessions s WHERE s.closed = 1 AND ((SELECT count(*) FROM events e
    WHERE e.session_id = s.id) <> 14 OR (SELECT count(*) FROM messages m WHERE m.session_id = s.id) <> 1)")
if [ "$partial" = 0 ]; then pass kill-9-committed-sessions-complete
else fail kill-9-committed-sessions-complete "$partial closed sessions miss rows"; fi
"$bin" read -q -d "$db" "$out/big.pcap" > /dev/null 2>&1
rc=$?
got=$(sqlite3 "$db" "SELECT count(*) FROM sessions; SELECT count(*) FROM captures; SELECT complete FROM captures")
if [ $rc = 0 ] && [ "$(echo $got)" = "12000 1 1" ]; then pass kill-9-rerun-completes
else fail kill-9-rerun-completes "exit $rc, sessions/captures/complete: $(echo $got)"; fi

# Full disk (a file size limit): one clear line, exit 2, the file still sound.
db=$out/full.db
sh -c 'trap "" XFSZ; ulimit -f 300; exec "$0" read -q -d "$1" "$2"' "$bin" "$db" "$out/big.pcap" > /dev/null 2> "$out/full.err"
rc=$?
if [ $rc = 2 ] && [ "$(wc -l < "$out/full.err")" = 1 ] && grep -q "full.db" "$out/full.err" &&
    [ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ]; then pass "disk-full ($(cat "$out/full.err"))"
else fail disk-full "exit $rc: $(cat "$out/full.err")"; fi

# A database that cannot be written: clear error, exit 2.
"$bin" read -q -d /proc/smtptrace-test.db samples/01-banner-without-esmtp.pcap > /dev/null 2> "$out/ro.err"
rc=$?
if [ $rc = 2 ] && grep -q "/proc/smtptrace-test.db" "$out/ro.err"; then pass "unwritable ($(cat "$out/ro.err"))"
else fail unwritable "exit $rc: $(cat "$out/ro.err")"; fi

# Two reads into one database at once: both succeed (one waits on the busy timeout), nothing lost.
db=$out/two.db
python3 tests/tools/replicate.py samples/12-two-messages.pcap "$out/other.pcap" 3000 > /dev/null
"$bin" read -q -d "$db" "$out/big.pcap" > /dev/null 2> "$out/two-a.err" &
a=$!
"$bin" read -q -d "$db" "$out/other.pcap" > /dev/null 2> "$out/two-b.err" &
b=$!
wait $a; ra=$?
wait $b; rb=$?
got=$(sqlite3 "$db" "PRAGMA integrity_check; SELECT count(*) FROM sessions; SELECT count(*) FROM captures WHERE complete = 1")
if [ $ra = 0 ] && [ $rb = 0 ] && [ "$(echo $got)" = "ok 15000 2" ]; then pass concurrent-reads
else fail concurrent-reads "exits $ra/$rb, integrity/sessions/captures: $(echo $got); $(cat "$out/two-a.err" "$out/two-b.err")"; fi

# Secrets: alice's password (s3cret-pw), in clear, base64 alone, or inside PLAIN's base64, appears nowhere.
db=$out/secrets.db
for f in samples/15-auth-plain.pcap samples/16-auth-login.pcap ../shared/corpus/real/sv-smtp-auth-login-port587.pcap \
    ../shared/corpus/real/zeek-smtp-auth-login-multi-rcpt.pcap; do
    [ -f "$f" ] || continue
    "$bin" read -q -d "$db" "$f" >> "$out/secrets.txt" 2>&1
    "$bin" read --no-db --netmon "$f" >> "$out/secrets.txt" 2>&1
done
for n in $(sqlite3 "$db" "SELECT id FROM sessions"); do
    "$bin" show -d "$db" "$n" >> "$out/secrets.txt" 2>&1
done
for r in sessions findings servers messages; do
    for fmt in table csv json; do "$bin" query -d "$db" "$r" --format $fmt >> "$out/secrets.txt" 2>&1; done
done
sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" > /dev/null
# The corpus secrets: the LOGIN password lines of the two real captures, as sent (base64).
leaks=""
for secret in s3cret czNjcmV0 AGFsaWNlAHMzY3JldC1wdw VjF2MXRyMG4 V1v1tr0n cHVuamFiQDEyMw punjab@123; do
    if grep -q -a -e "$secret" "$out/secrets.txt" "$db"; then leaks="$leaks $secret"; fi
done
if [ -z "$leaks" ] && grep -q '<redacted>' "$out/secrets.txt"; then pass no-secret-anywhere
else fail no-secret-anywhere "found:$leaks"; fi
