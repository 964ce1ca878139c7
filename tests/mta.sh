#!/bin/sh
# mta.sh BINARY: regressions found on real Postfix, Exim and OpenSMTPD traffic (tests/mta/README.md).
bin=$1
out=tests/out/mta
rm -rf "$out"; mkdir -p "$out"
line() { "$bin" read --no-db "tests/mta/$1.pcap" 2>&1; }
check() { # name condition-result message
    if [ "$2" = 0 ]; then echo "PASS mta $1"; else echo "FAIL mta $1: $3"; fi
}
l=$(line pf16-longline | head -1)
echo "$l" | grep -q 'line_too_long:2'; check body-long-lines $? "$l"
l=$(line pf10-errors | head -1)
! echo "$l" | grep -q unmatched_reply && echo "$l" | grep -q 'reply_5xx:5,reply_4xx,service_unavailable'
check unsolicited-421 $? "$l"
l=$(line ex18-middata | head -1)
! echo "$l" | grep -q unmatched_reply; check exim-421-mid-data $? "$l"
l=$(line pf23-oneseg-rej)
echo "$l" | grep -q 'messages=0 findings=reply_5xx:2' && echo "$l" | grep -q '^sessions 1, messages 0'
check refused-data-after-body $? "$l"
l=$(line os09-oneseg | head -1)
echo "$l" | grep -q capability_mismatch; check ehlo-pipelined $? "$l"
l=$(line pf22-pipe-allrej)
echo "$l" | grep -q '^sessions 1, messages 0'; check totals-messages $? "$l"
l=$(line pf17-misc | head -1)
echo "$l" | grep -q 'reply_5xx:3'; check count-separator $? "$l"
db=$out/m.db
for f in pf14-middata pf23-oneseg-rej pf03-pipeline ex07-bdat; do "$bin" read -q -d "$db" "tests/mta/$f.pcap" > /dev/null; done
got=$(sqlite3 "$db" "SELECT body_bytes FROM messages m JOIN sessions s ON s.id = m.session_id JOIN captures c
    ON c.id = s.capture_id WHERE c.source LIKE '%pf14-middata%'")
[ "$got" = 34 ]; check partial-body-bytes $? "body_bytes '$got'"
got=$(sqlite3 "$db" "SELECT body_bytes || ' ' || result_code FROM messages m JOIN sessions s ON s.id = m.session_id
    JOIN captures c ON c.id = s.capture_id WHERE c.source LIKE '%pf23%'")
[ "$got" = "0 554" ]; check refused-data-message $? "body/result '$got'"
"$bin" query -d "$db" messages --format csv > "$out/messages.csv"
grep -q 'carol@example.com' "$out/messages.csv"; check all-recipients-listed $? "$(grep -c . "$out/messages.csv") rows"
got=$(sqlite3 "$db" "SELECT result_text FROM messages WHERE transport = 'BDAT'")
echo "$got" | grep -q '^250 OK id='; check multi-line-result $? "result '$got'"
