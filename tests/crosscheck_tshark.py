"""crosscheck_tshark.py BINARY: per TCP stream, the command verbs and reply codes smtptrace prints must
equal tshark's smtp.req.command / smtp.response.code, on every sample and on ../shared/corpus/real.
Known tshark defects are listed in KNOWN with the reason; for those the stream is checked against
../shared/corpus/real/expected-sessions.tsv instead (tests/corpus_real.py)."""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from smtpout import run_netmon, stream_key  # noqa: E402

# file -> why tshark 4.0 cannot be the reference for it
KNOWN = {
    'sv-smtp-pipelining.pcap': 'tshark 4.0 does not dissect commands pipelined after DATA in one segment',
    'sv-smtp-mail-553-data-554-rejected.pcap': 'tshark 4.0 misses the second pipelined MAIL/RCPT',
    'sv-smtp-errors-four-sessions.pcap': 'tshark treats port 465 as TLS and junk lines as commands',
    'sv-smtp-bdat-rset-two-messages.pcap': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'zeek-smtp-bdat-27-chunks.pcap': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'zeek-smtp-bdat-pipelining-two-messages.pcap': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'zeek-smtp-bdat-rfc3030-example1.pcap': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'zeek-smtp-bdat-gap.pcap': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'zeek-smtp-bdat-invalid-521-three-sessions.pcapng': 'tshark 4.0 reads BDAT chunk bytes as commands',
    'sv-smtp-starttls-not-advertised-mixed-case.pcap': 'no greeting captured: tshark guesses the direction',
    'zeek-smtp-ipv6-ehlo-typed-bytewise.pcap': 'one byte per segment: tshark does not reassemble the lines',
}


def tshark_streams(capture, ports):
    cmd = ['tshark', '-n', '-r', capture, '-Y', 'smtp', '-T', 'fields', '-E', 'separator=\t',
           '-E', 'occurrence=a', '-E', 'aggregator=|',
           '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst',
           '-e', 'tcp.dstport', '-e', 'smtp.req.command', '-e', 'smtp.response.code']
    for p in sorted(ports):
        if p != 25:
            cmd[1:1] = ['-d', 'tcp.port==%d,smtp' % p]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors='replace', timeout=300)
    streams = {}
    for line in proc.stdout.splitlines():
        f = line.split('\t')
        if len(f) < 8:
            continue
        src = (f[0] or f[1]).split('|')[0]
        dst = (f[3] or f[4]).split('|')[0]
        fmt = '[%s]:%s' if ':' in src else '%s:%s'
        key = stream_key(fmt % (src, f[2]), fmt % (dst, f[5]))
        s = streams.setdefault(key, {'cmds': [], 'codes': []})
        if f[6]:
            s['cmds'] += [c.upper() for c in f[6].split('|')]
        if f[7]:
            s['codes'] += f[7].split('|')
    return streams


def main():
    binary = sys.argv[1]
    if not shutil.which('tshark'):
        print('SKIP tshark cross-check: tshark is not installed')
        return
    files = sorted(glob.glob('samples/*.pcap*'))
    if os.path.isdir('../shared/corpus/real'):
        files += sorted(glob.glob('../shared/corpus/real/*.pcap*'))
    else:
        print('SKIP tshark cross-check of ../shared/corpus/real: folder absent')
    for path in files:
        name = os.path.basename(path)
        if name in KNOWN:
            print('PASS tshark %s: not compared (%s)' % (name, KNOWN[name]))
            continue
        ports = '25,465,587,2525,2526,10025'
        rc, ours, _, err = run_netmon(binary, path, ['--port', ports])
        if rc not in (0, 1):
            print('FAIL tshark %s: smtptrace exited %d: %s' % (name, rc, err.strip()[:200]))
            continue
        theirs = tshark_streams(path, [int(p) for p in ports.split(',')])
        problems = []
        for key in sorted(set(ours) | set(theirs)):
            o = ours.get(key, {'cmds': [], 'codes_per_line': []})
            t = theirs.get(key, {'cmds': [], 'codes': []})
            # tshark shows at most 4 characters of unknown verbs; compare on that much.
            ocmds = [c[:4] for c in o['cmds']]
            tcmds = [c[:4] for c in t['cmds']]
            if ocmds != tcmds:
                problems.append('%s commands: ours %s, tshark %s' % (key, ocmds, tcmds))
            if o['codes_per_line'] != t['codes']:
                problems.append('%s replies: ours %s, tshark %s' % (key, o['codes_per_line'], t['codes']))
        if problems:
            print('FAIL tshark %s: %s' % (name, '; '.join(problems)[:1500]))
        else:
            print('PASS tshark %s (%d streams)' % (name, len(ours)))


if __name__ == '__main__':
    main()
