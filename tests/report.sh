#!/bin/sh
# report.sh BINARY: `smtptrace report` end to end: exit statuses, sections, self-contained page, and a headless Chromium render (charts drawn, no script error).
bin=$1
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "FAIL report: usage: tests/report.sh BINARY (got '$bin')"
    exit 1
fi
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)

set --
for f in "$root"/samples/*.pcap; do
    [ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
    echo "SKIP report: no samples/*.pcap"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP report: python3 is needed"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtptrace-report.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

"$bin" read -q -d T.db "$@" >read.out 2>read.err
rc=$?
if [ $rc -gt 1 ] || [ ! -s T.db ]; then
    echo "FAIL report_db: read -d exited $rc: $(head -2 read.err)"
    exit 1
fi

# Exit statuses: missing database 2 (and no file left behind), usage 64.
"$bin" report -d missing.db -o m.html >/dev/null 2>m.err
rc=$?
if [ $rc -eq 2 ] && [ ! -e m.html ] && [ ! -e m.html.tmp ] && grep -q 'missing.db' m.err; then
    pass report_missing_db
else
    fail report_missing_db "exit $rc (want 2), file left: $(ls m.html* 2>/dev/null), stderr: $(head -1 m.err)"
fi
"$bin" report -d T.db >/dev/null 2>&1
rc1=$?
"$bin" report -d T.db -o x.html --bogus >/dev/null 2>&1
rc2=$?
"$bin" report -d T.db -o x.html extra >/dev/null 2>&1
rc3=$?
if [ $rc1 -eq 64 ] && [ $rc2 -eq 64 ] && [ $rc3 -eq 64 ]; then
    pass report_usage
else
    fail report_usage "no -o: $rc1, unknown option: $rc2, extra argument: $rc3 (want 64)"
fi

"$bin" report -d T.db -o report.html >rep.out 2>rep.err
rc=$?
if [ $rc -eq 0 ] && [ -s report.html ] && [ ! -s rep.out ] && [ ! -s rep.err ]; then
    pass report_written
else
    fail report_written "exit $rc, $(wc -c <report.html 2>/dev/null) bytes, stderr: $(head -2 rep.err)"
    exit 1
fi

missing=""
for id in chart-timeline chart-replies chart-findings chart-servers table-findings table-servers \
    table-capabilities table-sessions report-data 'id="errors"' 'id="s'; do
    grep -q -- "$id" report.html || missing="$missing $id"
done
if [ -z "$missing" ]; then pass report_sections; else fail report_sections "missing:$missing"; fi

# Self-contained: nothing fetched from elsewhere.
if grep -Eiq '(src|href)="(https?:)?//|@import|url\(http' report.html; then
    fail report_self_contained "$(grep -Eio '(src|href)="(https?:)?//[^"]*' report.html | head -1)"
else
    pass report_self_contained
fi

# Data, links and transcripts: the JSON parses, every #sN link has its <details id="sN">, every
# session with findings is listed, transcripts are the lines of `show`, AUTH secrets are absent.
python3 - "$bin" <<'PY' >py.out 2>&1
import html, json, re, sqlite3, subprocess, sys
doc = open("report.html", encoding="utf-8").read()
data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', doc, re.S).group(1))
for key in ("timeline", "replies", "findings", "servers"):
    assert key in data, "no %s in report-data" % key
assert sum(data["timeline"]["sessions"]) > 0, "empty timeline"
links = set(re.findall(r'href="#(s\d+)"', doc))
anchors = set(re.findall(r'<details id="(s\d+)"', doc))
assert links and links <= anchors, "links without anchors: %s" % sorted(links - anchors)[:5]
db = sqlite3.connect("T.db")
want = {"s%d" % r[0] for r in db.execute("SELECT DISTINCT session_id FROM findings")}
assert want == links, "sessions with findings %d, linked %d" % (len(want), len(links))
replies = db.execute("SELECT count(*) FROM events WHERE kind = 'reply'").fetchone()[0]
assert sum(r["count"] for r in data["replies"]) == replies, "reply counts differ"
checked = 0
for m in re.finditer(r'<details id="s(\d+)">.*?<pre class="transcript">(.*?)</pre>', doc, re.S):
    shown = subprocess.run([sys.argv[1], "show", "-d", "T.db", m.group(1)], capture_output=True, text=True).stdout
    assert html.unescape(m.group(2)) == shown.split("--- session")[0], "transcript of session %s differs from show" % m.group(1)
    checked += 1
    if checked >= 8:
        break
for secret in ("s3cret", "czNjcmV0", "AGFsaWNlAHMzY3JldC1wdw"):
    assert secret not in doc, "secret %s in the page" % secret
print("ok")
PY
if [ "$(tail -1 py.out)" = ok ]; then pass report_content; else fail report_content "$(tail -1 py.out)"; fi

# HTML escaping: a session whose texts hold markup must not inject it.
cp T.db E.db
if command -v sqlite3 >/dev/null 2>&1 &&
    sqlite3 E.db "UPDATE sessions SET greeting_arg = '<script>alert(1)</script>', client_addr = '\"><b>x</b>' WHERE id = (SELECT min(session_id) FROM findings)" 2>/dev/null &&
    "$bin" report -d E.db -o esc.html 2>/dev/null; then
    if grep -q '<script>alert(1)' esc.html || grep -q '"><b>x</b>' esc.html; then
        fail report_escaping "markup from the database reached the page unescaped"
    elif grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' esc.html; then
        pass report_escaping
    else
        fail report_escaping "the escaped greeting is not in the page"
    fi
else
    echo "SKIP report_escaping: sqlite3 CLI missing or report failed"
fi

# Headless Chromium: the charts are drawn and no script error happened.
chromium=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then chromium=$c; break; fi
done
if [ -z "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >apt.log 2>&1 ||
        { timeout 300 apt-get update -qq >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq chromium >apt.log 2>&1; }
    command -v chromium >/dev/null 2>&1 && chromium=chromium
fi
if [ -z "$chromium" ]; then
    echo "SKIP report_chromium: no chromium (install the Debian package chromium as root)"
    [ $fails -eq 0 ]
    exit
fi
run_chromium() {
    profile=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout 20 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync --disable-extensions \
        --hide-scrollbars --user-data-dir="$profile" --virtual-time-budget=5000 "$@" 2>>chromium.err
}
run_chromium --dump-dom "file://$tmp/report.html" >dom.html
rc=$?
verdict=$(python3 "$root/tests/report/check_dom.py" dom.html 2>&1 | tail -1)
case $rc:$verdict in
0:ok*) pass "report_chromium_render ($verdict)" ;;
*) fail report_chromium_render "chromium exit $rc; $verdict" ;;
esac

# The check catches a script error: the same page with a failing script added must fail it.
sed 's|</body>|<script>undefinedFunctionCall();</script></body>|' report.html >broken.html
run_chromium --dump-dom "file://$tmp/broken.html" >broken-dom.html
verdict=$(python3 "$root/tests/report/check_dom.py" broken-dom.html 2>&1 | tail -1)
case $verdict in
bad:*script\ errors*undefinedFunctionCall*) pass report_chromium_catches_errors ;;
*) fail report_chromium_catches_errors "a page with a script error passed: $verdict" ;;
esac

run_chromium --screenshot="$tmp/out.png" --window-size=1280,2000 "file://$tmp/report.html" >/dev/null
size=$(wc -c <out.png 2>/dev/null || echo 0)
if [ "$size" -gt 20000 ]; then
    pass report_screenshot
    [ -n "$REPORT_KEEP" ] && cp out.png report.html "$REPORT_KEEP"/ 2>/dev/null
else
    fail report_screenshot "out.png is $size bytes"
fi
[ $fails -eq 0 ]
