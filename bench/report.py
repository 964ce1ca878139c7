#!/usr/bin/env python3
"""report.py: the tables of bench/run.sh (standard library only).

    report.py table RESULTS.tsv SIZE FILE.pcap FILE.truth.json
        median wall time and peak RSS per tool, MB/s (10^6 bytes), packets/s, sessions/s, ratios
    report.py truth DB.tsv FILE.truth.json
        sessions, messages and findings by kind stored by smtptrace against the generator's truth;
        MATCH or MISMATCH per item, exit status 1 on any mismatch
"""
import json
import os
import statistics
import sys

TOOLS = ['cat', 'tcpdump', 'tshark', 'smtptrace-db', 'smtptrace-nodb']
LABEL = {'cat': 'cat (page cache)', 'tcpdump': 'tcpdump -r -w /dev/null', 'tshark': 'tshark -Y smtp -T fields',
         'smtptrace-db': 'smtptrace read -d (db)', 'smtptrace-nodb': 'smtptrace read --no-db'}


def table(results, size, pcap, truth_path):
    truth = json.load(open(truth_path))
    nbytes = os.path.getsize(pcap)
    runs = {}
    for line in open(results):
        f = line.rstrip('\n').split('\t')
        if len(f) < 7 or f[0] != size or f[5] != '0':
            continue
        runs.setdefault(f[1], []).append((int(f[6]) / 1e6, int(f[4])))
    print()
    print('capture %s: %d bytes (%.1f MB), %d packets, %d SMTP sessions, %d messages' % (
        os.path.basename(pcap), nbytes, nbytes / 1e6, truth['packets'], truth['sessions'], truth['messages']))
    print('%-26s %8s %9s %11s %11s %9s %5s' % ('tool', 'wall s', 'MB/s', 'packets/s', 'sessions/s',
                                               'RSS MiB', 'runs'))
    med = {}
    for tool in TOOLS:
        if tool not in runs:
            continue
        walls = [w for w, _ in runs[tool]]
        wall = statistics.median(walls)
        rss = statistics.median([r for _, r in runs[tool]]) / 1024.0
        med[tool] = wall
        w = max(wall, 1e-6)
        print('%-26s %8.3f %9.1f %11.0f %11.0f %9.1f %5d' % (
            LABEL[tool], wall, nbytes / 1e6 / w, truth['packets'] / w, truth['sessions'] / w, rss, len(walls)))
    print('(median of the runs; wall: date +%s%N around /usr/bin/time, RSS: its %M; MB = 10^6 bytes; page cache warm)')
    if 'smtptrace-db' in med and 'tshark' in med:
        print('speed-up smtptrace (db) over tshark:      %.1fx' % (med['tshark'] / max(med['smtptrace-db'], 1e-6)))
    if 'smtptrace-nodb' in med and 'tshark' in med:
        print('speed-up smtptrace (no db) over tshark:   %.1fx' % (med['tshark'] / max(med['smtptrace-nodb'], 1e-6)))
    if 'tcpdump' in med:
        for t in ('smtptrace-db', 'smtptrace-nodb'):
            if t in med:
                print('%-40s %.0f%% of the libpcap floor' % (
                    'throughput ' + LABEL[t] + ':', 100.0 * med['tcpdump'] / max(med[t], 1e-6)))


def check(db_tsv, truth_path):
    truth = json.load(open(truth_path))
    got = {}
    for line in open(db_tsv):
        f = line.rstrip('\n').split('\t')
        if len(f) != 3:
            continue
        kind, ext, n = f[0], f[1], int(f[2])
        key = kind + ':' + ext if kind == 'capability_mismatch' and ext else kind
        got[key] = got.get(key, 0) + n
    want = {'sessions': truth['sessions'], 'messages': truth['messages']}
    want.update(truth['findings'])
    info = truth.get('findings_informational', {})
    want.update(info)
    # A capability_mismatch without any extension is compared as plain 'capability_mismatch' (0).
    keys = ['sessions', 'messages'] + sorted(k for k in set(want) | set(got) if k not in ('sessions', 'messages'))
    bad = 0
    print()
    print('ground truth (%s): %-34s %9s %9s' % (os.path.basename(truth_path), 'item', 'truth', 'smtptrace'))
    for k in keys:
        w, g = want.get(k, 0), got.get(k, 0)
        ok = w == g
        if k in info:
            print('  %-50s %9d %9d  %s' % ('findings ' + k + ' (nDPI, informational)', w, g,
                                           'INFO same' if ok else 'INFO differs'))
            continue
        bad += not ok
        if w or g or not ok:
            print('  %-50s %9d %9d  %s' % (k if k in ('sessions', 'messages') else 'findings ' + k, w, g,
                                           'MATCH' if ok else 'MISMATCH'))
    zero = [k for k in keys if not want.get(k, 0) and not got.get(k, 0) and k not in info]
    if zero:
        print('  %-50s %9d %9d  %s' % ('findings, kinds expected 0 (%d kinds)' % len(zero), 0, 0, 'MATCH'))
    print('ground truth: %s (%d mismatch%s)' % ('MATCH' if not bad else 'MISMATCH', bad, '' if bad == 1 else 'es'))
    return 1 if bad else 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == 'table':
        table(*sys.argv[2:])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == 'truth':
        return check(*sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == '__main__':
    sys.exit(main())
