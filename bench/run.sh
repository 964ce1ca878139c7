#!/bin/sh
# bench/run.sh: smtptrace throughput against cat, tcpdump and tshark on generated SMTP captures,
# then the ground-truth check of what smtptrace stored. Run from the repository root (make bench).
#
#   sh bench/run.sh                          # the 100 MB capture, 3 runs per tool
#   BENCH_SIZES="100 1024" sh bench/run.sh   # also the 1 GiB one (tshark: minutes, several GiB RAM)
#   BENCH_RUNS=5 BENCH_SEED=7 SMTPTRACE=./smtptrace sh bench/run.sh
#
# Captures are written once to bench/out/smtp-<N>mb.pcap (+ .truth.json) and reused; delete them
# to regenerate. Exit status: 0 when every ground-truth item matches, 1 on a mismatch or a failed run.
set -u
cd "$(dirname "$0")/.." || exit 2

SIZES=${BENCH_SIZES:-100}
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-1}
BIN=${SMTPTRACE:-./smtptrace}
PY=${PYTHON:-python3}
OUT=bench/out
DB=$OUT/bench.db
TIME=/usr/bin/time

mkdir -p "$OUT"
[ -x "$BIN" ] || { echo "bench: $BIN not built (make smtptrace)" >&2; exit 2; }
[ -x "$TIME" ] || { echo "bench: $TIME missing (apt-get install time)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 CLI missing" >&2; exit 2; }
have_tcpdump=1; command -v tcpdump >/dev/null || have_tcpdump=0
have_tshark=1; command -v tshark >/dev/null || have_tshark=0

results=$OUT/results.tsv
: > "$results"
status=0

# run TOOL FILE SIZE CMD...: RUNS timed runs of CMD, one "size tool run wall(%e) rss(KiB) exit wall(us)" line each.
run() {
    tool=$1 file=$2 size=$3; shift 3
    i=1
    while [ "$i" -le "$RUNS" ]; do
        case $tool in smtptrace-db) rm -f "$DB" "$DB-wal" "$DB-shm" ;; esac
        t0=$(date +%s%N)
        "$TIME" -o "$OUT/time.txt" -f '%e %M' "$@" > /dev/null 2> "$OUT/stderr.txt"
        rc=$?
        t1=$(date +%s%N)
        wall_rss=$(tail -n 1 "$OUT/time.txt")
        # time's %e has 10 ms resolution: the table uses the nanosecond clock around it (the
        # ~1 ms of starting /usr/bin/time included); %e is kept in the 4th column.
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$tool" "$i" "${wall_rss% *}" "${wall_rss#* }" "$rc" \
            "$(( (t1 - t0) / 1000 ))" >> "$results"
        if [ "$rc" != 0 ]; then
            echo "bench: $tool on $file exited $rc: $(grep -v '^Command exited' "$OUT/stderr.txt" | head -n 2)" >&2
            case $tool in smtptrace*) status=1 ;; esac
        fi
        printf '  %-14s run %s: %s us (time: %s s), %s KiB\n' "$tool" "$i" "$(( (t1 - t0) / 1000 ))" \
            "${wall_rss% *}" "${wall_rss#* }" >&2
        i=$((i + 1))
    done
}

for size in $SIZES; do
    pcap=$OUT/smtp-${size}mb.pcap
    truth=$OUT/smtp-${size}mb.truth.json
    if [ ! -s "$pcap" ] || [ ! -s "$truth" ]; then
        echo "generating $pcap" >&2
        "$PY" bench/gen_capture.py --size-mb "$size" --seed "$SEED" -o "$pcap" || exit 2
    fi
    echo "== $pcap ($(wc -c < "$pcap") bytes), $RUNS runs per tool" >&2
    run cat "$pcap" "$size" cat "$pcap"
    [ $have_tcpdump = 1 ] && run tcpdump "$pcap" "$size" tcpdump -r "$pcap" -w /dev/null
    [ $have_tshark = 1 ] && run tshark "$pcap" "$size" tshark -r "$pcap" -d tcp.port==2525,smtp -Y smtp \
        -T fields -e tcp.stream -e smtp.req.command -e smtp.req.parameter -e smtp.response.code
    run smtptrace-db "$pcap" "$size" "$BIN" read "$pcap" -q -d "$DB" --force
    run smtptrace-nodb "$pcap" "$size" "$BIN" read "$pcap" -q --no-db

    # Ground truth: the database of the last smtptrace-db run.
    sqlite3 -separator '	' "$DB" "SELECT 'sessions', '', count(*) FROM sessions;
        SELECT 'messages', '', coalesce(sum(messages), 0) FROM sessions;
        SELECT kind, coalesce(extension, ''), count(*) FROM findings GROUP BY 1, 2;" > "$OUT/db-$size.tsv" || status=1
    "$PY" bench/report.py table "$results" "$size" "$pcap" "$truth"
    "$PY" bench/report.py truth "$OUT/db-$size.tsv" "$truth" || status=1
done
exit $status
