#!/bin/sh
# json.sh BINARY: the JSON-lines output (`read --format jsonl --no-db`, else the tests/report driver): valid JSON, fields, no AUTH secret, last_reply.
bin=$1
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "FAIL json: usage: tests/json.sh BINARY (got '$bin')"
    exit 1
fi
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP json: python3 is needed"
    exit 0
fi
set --
for f in "$root"/samples/*.pcap; do
    [ -f "$f" ] && set -- "$@" "$f"
done
if [ $# -eq 0 ]; then
    echo "SKIP json: no samples/*.pcap"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtptrace-json.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

# The command that turns captures into JSON lines: the binary once `read --format jsonl` is wired,
# else a driver built from tests/report/json_driver.c against the binary's build directory.
first=$1
if "$bin" read --format jsonl --no-db -q "$first" >"$tmp/probe.jsonl" 2>"$tmp/probe.err"; then
    mode=binary
else
    case $bin in
    */build-asan/*) build=$root/build-asan; cflags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"; cc=clang ;;
    *) build=$root/build; cflags=""; cc=${CC:-cc} ;;
    esac
    if ! CC=$cc CFLAGS=$cflags sh "$root/tests/report/build_driver.sh" "$tmp/json_driver" "$build" 2>"$tmp/build.err"; then
        echo "SKIP json: read --format jsonl is not available and the driver did not build: $(head -1 "$tmp/build.err")"
        exit 0
    fi
    mode=driver
fi
to_json() { # FILE [--events]
    if [ $mode = binary ]; then
        if [ "$2" = --events ]; then
            "$bin" read --format jsonl --events --no-db -q "$1"
        else
            "$bin" read --format jsonl --no-db -q "$1"
        fi
    elif [ "$2" = --events ]; then
        "$tmp/json_driver" --events "$1"
    else
        "$tmp/json_driver" "$1"
    fi
}

bad=""
for f in "$@"; do
    name=$(basename "$f" .pcap)
    to_json "$f" >"$tmp/$name.jsonl" 2>"$tmp/$name.err"
    rc=$?
    [ $rc -gt 1 ] && bad="$bad $name(exit $rc)"
done
if [ -z "$bad" ]; then pass "json_runs ($mode)"; else fail json_runs "$bad"; fi

python3 - "$tmp" <<'PY' >"$tmp/check.out" 2>&1
import glob, json, os, sys
d = sys.argv[1]
need = ["type", "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "helo", "mailfrom", "rcptto",
        "last_reply", "tls", "auth_mech", "auth_user", "capabilities", "messages", "findings", "end_reason"]
sessions = 0
problems = []
last_replies = {}
for path in sorted(glob.glob(os.path.join(d, "*.jsonl"))):
    name = os.path.basename(path)[:-6]
    if name == "probe":
        continue
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, 1):
            try:
                obj = json.loads(raw.decode("utf-8"))
            except Exception as e:
                problems.append("%s line %d: %s" % (name, no, e))
                continue
            if obj.get("type") != "session":
                continue
            sessions += 1
            miss = [k for k in need if k not in obj]
            if miss:
                problems.append("%s %s: missing %s" % (name, obj.get("uid"), ",".join(miss)))
            if not isinstance(obj.get("rcptto"), list) or not isinstance(obj.get("tls"), bool):
                problems.append("%s: rcptto not a list or tls not a bool" % name)
            if not str(obj.get("ts", "")).endswith("Z") or len(obj["ts"]) != 27:
                problems.append("%s: ts %r is not ISO-8601 UTC with microseconds" % (name, obj.get("ts")))
            for m in obj.get("messages", []):
                if not isinstance(m.get("rcpt"), list):
                    problems.append("%s: a message without rcpt list" % name)
            last_replies.setdefault(name, []).append(obj.get("last_reply") or "")
print("sessions", sessions)
for p in problems[:5]:
    print("problem", p)
print("552", " ".join(sorted(n for n, l in last_replies.items() if any(r.startswith("552") for r in l))))
print("ok" if sessions > 0 and not problems else "bad")
PY
if [ "$(tail -1 "$tmp/check.out")" = ok ]; then
    pass "json_valid ($(grep '^sessions' "$tmp/check.out"))"
else
    fail json_valid "$(grep -E '^(problem|sessions)' "$tmp/check.out" | head -3 | tr '\n' ' ')"
fi
if grep -q '^552 .*08-size-exceeded-552' "$tmp/check.out" && grep -q '^552 .*08b-size-exceeded-after-data-552' "$tmp/check.out"; then
    pass json_last_reply_552
else
    fail json_last_reply_552 "samples 08/08b do not show 552 in last_reply: $(grep '^552' "$tmp/check.out")"
fi

# AUTH samples: user and mechanism kept, no secret in any line (sessions and events).
leak=""
for f in "$root"/samples/05-auth-ntlm-xauth.pcap "$root"/samples/15-auth-plain.pcap "$root"/samples/16-auth-login.pcap; do
    [ -f "$f" ] || continue
    to_json "$f" --events >"$tmp/auth.jsonl" 2>/dev/null
    if grep -E 's3cret|czNjcmV0|AGFsaWNlAHMzY3JldC1wdw' "$tmp/auth.jsonl" >/dev/null; then
        leak="$leak $(basename "$f")"
    fi
    grep -q '"auth_mech":"' "$tmp/auth.jsonl" || leak="$leak $(basename "$f")(no auth_mech)"
done
if [ -z "$leak" ]; then pass json_no_auth_secret; else fail json_no_auth_secret "$leak"; fi

# With events: one object per event, every line JSON, each session's events before its line.
to_json "$root/samples/01-banner-without-esmtp.pcap" --events >"$tmp/ev.jsonl" 2>/dev/null
if python3 -c '
import json, sys
seen = {}
kinds = set()
for raw in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(raw)
    if o["type"] == "event":
        seen[o["uid"]] = seen.get(o["uid"], 0) + 1
        kinds.add(o["kind"])
    elif o["type"] == "session":
        assert seen.get(o["uid"], 0) > 0, "session before its events"
assert {"command", "reply"} <= kinds, kinds
' "$tmp/ev.jsonl" 2>"$tmp/ev.err"; then
    pass json_events
else
    fail json_events "$(tail -1 "$tmp/ev.err")"
fi

# Whatever the bytes: the malformed corpus gives valid JSON too (when ../shared is there).
mal=$root/../shared/corpus/malformed
if [ -d "$mal" ]; then
    badf=""
    for f in "$mal"/*; do
        [ -f "$f" ] || continue
        if [ $mode = binary ]; then
            timeout 10 "$bin" read --format jsonl --events --no-db -q "$f" >"$tmp/m.jsonl" 2>/dev/null
        else
            timeout 10 "$tmp/json_driver" --events "$f" >"$tmp/m.jsonl" 2>/dev/null
        fi
        [ $? -gt 2 ] && badf="$badf $(basename "$f")(crash)"
        python3 -c 'import json,sys
for l in open(sys.argv[1],"rb"): json.loads(l.decode("utf-8"))' "$tmp/m.jsonl" 2>/dev/null || badf="$badf $(basename "$f")"
    done
    if [ -z "$badf" ]; then pass json_malformed_corpus; else fail json_malformed_corpus "$badf"; fi
else
    echo "SKIP json_malformed_corpus: no ../shared/corpus/malformed"
fi
[ $fails -eq 0 ]
