#!/bin/sh
# live.sh BINARY: `smtptrace live` on lo against real SMTP servers: sessions stored while capturing, clean stop, -w, -Z, -c, errors.
bin=$1
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "FAIL live: usage: tests/live.sh BINARY (got '$bin')"
    exit 1
fi
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$(cd "$(dirname "$0")" && pwd)
helpers=$here/live
# The distribution's python has python3-aiosmtpd; a pyenv python3 earlier on PATH does not.
py=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
    echo "SKIP live: capturing on lo and -Z need root (run as root)"
    exit 0
fi
if ! "$py" -c 'import aiosmtpd, smtplib' 2>/dev/null; then
    echo "SKIP live: $py lacks aiosmtpd (apt-get install python3-aiosmtpd)"
    exit 0
fi
if ! command -v sqlite3 >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1; then
    echo "SKIP live: the sqlite3 CLI and timeout are needed"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtptrace-live.XXXXXX") || exit 1
chmod 755 "$tmp" # -Z nobody must reach its database directory inside
pids=""
# Every process we started, by its PID: TERM, a moment, then KILL.
cleanup() {
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $pids; do
        n=0
        while kill -0 "$p" 2>/dev/null && [ $n -lt 20 ]; do
            sleep 0.1
            n=$((n + 1))
        done
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$tmp" || exit 1
fails=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

# wait_until SECONDS COMMAND...: polls every 0.1 s; status 0 as soon as COMMAND succeeds.
wait_until() {
    limit=$(($1 * 10))
    shift
    n=0
    while [ $n -lt $limit ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}

# wait_exit PID SECONDS: waits for a background job; sets rc (KILLs it and sets rc=timeout when it hangs).
wait_exit() {
    if wait_until "$2" sh -c "! kill -0 $1"; then
        wait "$1"
        rc=$?
    else
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        rc=timeout
    fi
}

# start_live NAME ARGS...: smtptrace live in the background (stdout NAME.out, stderr NAME.err); sets lpid.
start_live() {
    name=$1
    shift
    "$bin" live -i lo "$@" >"$name.out" 2>"$name.err" &
    lpid=$!
    pids="$pids $lpid"
    if ! wait_until 5 grep -q "listening on" "$name.err"; then
        fail "$name" "no 'listening on' within 5 s: $(head -3 "$name.err")"
        return 1
    fi
    return 0
}

# sessions_ended DB N: the query report (read while live writes) shows at least N sessions ended by QUIT.
sessions_ended() {
    [ "$("$bin" query -d "$1" sessions --format csv 2>/dev/null | grep -c ',quit,')" -ge "$2" ]
}

send() {
    timeout 10 "$py" "$helpers/send_mail.py" "$1" "$2" || fail "client_$1" "smtplib case $1 on port $2 did not go as expected"
}

# shellcheck disable=SC2046 # two port numbers, split on purpose
set -- $("$py" "$helpers/free_ports.py" 2)
P1=$1 # aiosmtpd
P2=$2 # scripted EHLO-refusing server
"$py" "$helpers/servers.py" "$P1" "$P2" ready >servers.log 2>&1 &
spid=$!
pids="$pids $spid"
if ! wait_until 10 test -s ready; then
    echo "FAIL live: test servers did not start: $(tail -3 servers.log)"
    exit 1
fi

# --- Errors: one clear line, exit 2 -------------------------------------------------------------------
timeout 10 "$bin" live -i nosuchsmtp0 --no-db >bad_if.out 2>bad_if.err
rc=$?
if [ $rc -eq 2 ] && grep -q nosuchsmtp0 bad_if.err && [ "$(wc -l <bad_if.err)" -eq 1 ]; then
    pass bad_interface
else
    fail bad_interface "exit $rc, stderr: $(head -2 bad_if.err)"
fi
timeout 10 "$bin" live -i lo -f 'tcp port' --no-db >bad_f.out 2>bad_f.err
rc=$?
if [ $rc -eq 2 ] && grep -q "filter" bad_f.err && grep -q "lo" bad_f.err; then
    pass bad_filter
else
    fail bad_filter "exit $rc, stderr: $(head -2 bad_f.err)"
fi
timeout 10 "$bin" live -D >list.out 2>list.err
rc=$?
if [ $rc -eq 0 ] && grep -Eq '^[0-9]+\.lo( |$)' list.out; then
    pass list_interfaces
else
    fail list_interfaces "exit $rc: $(head -3 list.out) $(head -1 list.err)"
fi

# --- The main run: three conversations, the database read during the capture, SIGINT, -w ------------
if start_live main -f "tcp port $P1 or tcp port $P2" --port "$P1,$P2" -d main.db -w main.pcap; then
    send good "$P1"
    send rejected "$P1"
    send fallback "$P2"
    if wait_until 3 sessions_ended main.db 3; then
        if kill -0 "$lpid" 2>/dev/null; then
            pass query_while_capturing
        else
            fail query_while_capturing "smtptrace live exited early: $(tail -3 main.err)"
        fi
    else
        fail query_while_capturing "query did not show 3 ended sessions within 3 s: $("$bin" query -d main.db sessions --format csv 2>&1 | tail -4)"
    fi
    # One summary line per ended session, flushed while the capture runs.
    if [ "$(grep -c '^#' main.out)" -ge 3 ]; then
        pass summaries_flushed
    else
        fail summaries_flushed "stdout has $(grep -c '^#' main.out) session lines before the stop"
    fi
    kill -INT "$lpid"
    wait_exit "$lpid" 5
    if [ "$rc" = 0 ]; then
        pass sigint_exit_0
    else
        fail sigint_exit_0 "exit $rc: $(tail -3 main.err)"
    fi
    if grep -Eq '^[0-9]+ packets? captured$' main.err && grep -Eq '^[0-9]+ packets? received by filter$' main.err &&
        grep -Eq '^[0-9]+ packets? dropped by kernel$' main.err &&
        grep -Eq '^[0-9]+ packets? dropped by interface$' main.err && grep -q '3 SMTP sessions' main.err; then
        pass stats_lines
    else
        fail stats_lines "stderr: $(tail -6 main.err | tr '\n' '|')"
    fi
    got=$(sqlite3 main.db "SELECT (SELECT count(*) FROM captures WHERE kind = 'live' AND source = 'live:lo' AND complete = 1 AND packets > 0)
        || ' ' || (SELECT count(*) FROM sessions WHERE end_reason = 'quit')
        || ' ' || (SELECT count(*) FROM sessions WHERE fallback = 1)
        || ' ' || (SELECT count(DISTINCT session_id) FROM findings WHERE kind = 'reply_5xx')
        || ' ' || (SELECT count(*) FROM findings WHERE kind = 'fallback')" 2>&1)
    # 1 live capture; 3 sessions ended by QUIT; 1 HELO fallback; 5xx in 2 sessions (550 RCPT, 500 EHLO); 1 fallback finding.
    if [ "$got" = "1 3 1 2 1" ]; then
        pass db_sessions_findings
    else
        fail db_sessions_findings "captures/quit/fallback/5xx-sessions/fallback-findings = '$got', want '1 3 1 2 1'"
    fi
    live_total=$(tail -1 main.out)
    read_total=$(timeout 20 "$bin" read --no-db --port "$P1,$P2" main.pcap 2>/dev/null | tail -1)
    case $live_total in
    "sessions 3, "*)
        if [ "$live_total" = "$read_total" ]; then
            pass dump_reads_same
        else
            fail dump_reads_same "live: '$live_total'; read of -w file: '$read_total'"
        fi
        ;;
    *) fail dump_reads_same "live totals line: '$live_total'" ;;
    esac
fi

# --- -c COUNT stops by itself; the open conversation ends as capture_end ------------------------------
if start_live count -c 4 -f "tcp port $P1" --port "$P1" --no-db; then
    send good "$P1"
    wait_exit "$lpid" 5
    if [ "$rc" = 0 ] && grep -q '^4 packets captured$' count.err && grep -q '1 still open at the stop' count.err; then
        pass count_stop
    else
        fail count_stop "exit $rc: $(tail -5 count.err | tr '\n' '|')"
    fi
fi

# --- --duration -------------------------------------------------------------------------------------
start=$(date +%s)
timeout 10 "$bin" live -i lo -f "tcp port $P1" --no-db --duration 1 >dur.out 2>dur.err
rc=$?
took=$(($(date +%s) - start))
if [ $rc -eq 0 ] && [ $took -le 4 ] && grep -q "packets captured" dur.err; then
    pass duration_stop
else
    fail duration_stop "exit $rc after ${took}s: $(tail -2 dur.err)"
fi

# --- -Z nobody: the database and -w file are created by nobody after the interface is open ------------
nobody_uid=$(id -u nobody 2>/dev/null)
if [ -z "$nobody_uid" ]; then
    echo "SKIP drop_root: no user nobody"
else
    mkdir zdir && chmod 1777 zdir
    if start_live drop -Z nobody -f "tcp port $P1" --port "$P1" -d zdir/z.db -w zdir/z.pcap; then
        uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$lpid/status" 2>/dev/null)
        send good "$P1"
        wait_until 3 sessions_ended zdir/z.db 1
        kill -INT "$lpid"
        wait_exit "$lpid" 5
        owner_db=$(stat -c %U zdir/z.db 2>/dev/null)
        owner_w=$(stat -c %U zdir/z.pcap 2>/dev/null)
        n=$(sqlite3 zdir/z.db "SELECT count(*) FROM sessions WHERE end_reason = 'quit'" 2>&1)
        if [ "$rc" = 0 ] && [ "$uids" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] &&
            [ "$owner_db" = nobody ] && [ "$owner_w" = nobody ] && [ "$n" = 1 ]; then
            pass drop_root
        else
            fail drop_root "exit $rc, uids '$uids', db owner '$owner_db', -w owner '$owner_w', sessions '$n': $(tail -2 drop.err)"
        fi
    fi
    mkdir rootonly && chmod 755 rootonly
    timeout 10 "$bin" live -i lo -Z nobody -f "tcp port $P1" -d rootonly/z.db >zbad.out 2>zbad.err
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'rootonly/z.db' zbad.err && [ ! -e rootonly/z.db ]; then
        pass drop_root_db_unwritable
    else
        fail drop_root_db_unwritable "exit $rc: $(head -2 zbad.err)"
    fi
    timeout 10 "$bin" live -i lo -Z nosuchuser-smtptrace --no-db >zuser.out 2>zuser.err
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'nosuchuser-smtptrace' zuser.err; then
        pass drop_root_unknown_user
    else
        fail drop_root_unknown_user "exit $rc: $(head -2 zuser.err)"
    fi
fi

[ $fails -eq 0 ]
