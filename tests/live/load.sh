#!/bin/sh
# load.sh [FILE.pcap] [BINARY]: replays a capture onto lo at top speed with tcpreplay while `smtptrace live` captures; reports drops and sessions.
#
# Not a unit test (tests/live.sh is): a load run for the benchmark. Needs root.
#   sh tests/live/load.sh                                 # bench/out/*.pcap if any, else merged samples
#   sh tests/live/load.sh bench/out/smtp-100mb.pcap ./smtptrace
#   LOAD_BUFFER_MIB=64 LOAD_NO_DB=1 sh tests/live/load.sh FILE     # smaller kernel buffer, no database
#   LOAD_EXTRA=--immediate-mode LOAD_MBPS=200 sh tests/live/load.sh  # other live options; a rate instead of --topspeed
# lo shows every replayed frame twice to the kernel filter (outgoing and incoming; libpcap keeps one), so the
# ring fills twice as fast as on a real interface: "received by filter" is twice the file's packet count.
# Prints tcpreplay's figures, smtptrace's capture statistics, and sessions captured live against
# sessions in the file (smtptrace read FILE --no-db | tail -1). Exit 0 when the session counts match.
root=$(cd "$(dirname "$0")/../.." && pwd)
file=${1:-}
bin=${2:-$root/smtptrace}
buffer=${LOAD_BUFFER_MIB:-256}
filter=${LOAD_FILTER:-tcp}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac

if [ "$(id -u)" != 0 ]; then
    echo "load: needs root (capture on lo, tcpreplay)" >&2
    exit 2
fi
[ -x "$bin" ] || { echo "load: $bin not built (make smtptrace)" >&2; exit 2; }
if ! command -v tcpreplay >/dev/null 2>&1; then
    echo "load: installing tcpreplay" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null 2>&1; } ||
        { echo "load: cannot install tcpreplay" >&2; exit 2; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtptrace-load.XXXXXX") || exit 2
lpid=""
cleanup() {
    [ -n "$lpid" ] && kill -TERM "$lpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The input: the largest bench capture, else the samples merged into one file, else the 1 MB real one.
if [ -z "$file" ]; then
    file=$(ls -S "$root"/bench/out/*.pcap 2>/dev/null | head -1)
fi
if [ -z "$file" ] && command -v mergecap >/dev/null 2>&1 && ls "$root"/samples/*.pcap >/dev/null 2>&1; then
    mergecap -F pcap -w "$tmp/merged.pcap" "$root"/samples/*.pcap && file=$tmp/merged.pcap
fi
[ -z "$file" ] && file=$root/../shared/corpus/real/sv-smtp-large-1mb-message.pcap
[ -f "$file" ] || { echo "load: no capture to replay ($file)" >&2; exit 2; }

echo "input: $file ($(wc -c <"$file") bytes)"
expected=$("$bin" read --no-db "$file" 2>/dev/null | tail -1)

if [ -n "${LOAD_NO_DB:-}" ]; then
    set -- --no-db
else
    set -- -d "$tmp/load.db"
fi
# shellcheck disable=SC2086 # LOAD_EXTRA is a list of options
"$bin" live -i lo -f "$filter" -B "$buffer" ${LOAD_EXTRA:-} "$@" >"$tmp/live.out" 2>"$tmp/live.err" &
lpid=$!
n=0
until grep -q "listening on" "$tmp/live.err" 2>/dev/null; do
    n=$((n + 1))
    if [ $n -gt 100 ] || ! kill -0 "$lpid" 2>/dev/null; then
        echo "load: smtptrace live did not start: $(head -3 "$tmp/live.err")" >&2
        exit 2
    fi
    sleep 0.1
done

start=$(date +%s.%N)
if [ -n "${LOAD_MBPS:-}" ]; then
    speed="--mbps=$LOAD_MBPS"
else
    speed=--topspeed
fi
timeout 600 tcpreplay -i lo "$speed" "$file" >"$tmp/replay.out" 2>&1
replay_rc=$?
end=$(date +%s.%N)
sleep 2 # let the capture drain the kernel buffer before the stop
# Peak resident memory so far (includes the touched part of the -B ring, which is mapped into the process).
hwm=$(awk '/^VmHWM:/ {print $2, $3}' "/proc/$lpid/status" 2>/dev/null)
kill -INT "$lpid"
n=0
while kill -0 "$lpid" 2>/dev/null && [ $n -lt 600 ]; do
    sleep 0.1
    n=$((n + 1))
done
if kill -0 "$lpid" 2>/dev/null; then
    kill -KILL "$lpid"
    echo "load: smtptrace live did not stop within 60 s of SIGINT" >&2
fi
wait "$lpid"
live_rc=$?
lpid=""

echo "== tcpreplay (exit $replay_rc, $(echo "$end - $start" | bc 2>/dev/null || echo '?') s)"
grep -E 'Actual:|Rated:|Failed packets' "$tmp/replay.out" | sed 's/^[[:space:]]*/  /'
echo "== smtptrace live (exit $live_rc, -f '$filter' -B $buffer ${LOAD_EXTRA:-}$([ -n "${LOAD_NO_DB:-}" ] && echo ' --no-db'))"
grep -E 'packets? (captured|received|dropped)|SMTP session' "$tmp/live.err" | sed 's/^/  /'
echo "  peak resident memory (VmHWM) before the stop: ${hwm:-?}"
grep -Ev 'packets? (captured|received|dropped)|SMTP session|listening on' "$tmp/live.err" | head -5 | sed 's/^/  stderr: /'
live_total=$(tail -1 "$tmp/live.out")
echo "== sessions"
echo "  in the file (read): $expected"
echo "  captured live:      $live_total"
if [ -z "${LOAD_NO_DB:-}" ]; then
    echo "  in the database:    $(sqlite3 "$tmp/load.db" 'SELECT count(*) FROM sessions' 2>/dev/null) sessions"
fi
f_sessions=$(echo "$expected" | sed -n 's/^sessions \([0-9]*\),.*/\1/p')
l_sessions=$(echo "$live_total" | sed -n 's/^sessions \([0-9]*\),.*/\1/p')
if [ -n "$f_sessions" ] && [ "$f_sessions" = "$l_sessions" ]; then
    echo "sessions match: $l_sessions"
    exit 0
fi
echo "sessions differ: file $f_sessions, live $l_sessions"
exit 1
