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

VERBS = {'HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'VRFY', 'EXPN', 'HELP', 'NOOP', 'QUIT',
         'STARTTLS', 'AUTH', 'ETRN', 'ATRN', 'TURN', 'SEND', 'SOML', 'SAML', 'XAUTH', 'XEXCH50',
         'X-LINK2STATE'}

# file -> why tshark 4.0 cannot be the reference for it
KNOWN = {
    'sv-smtp-large-1mb-message.pcap':
        'capture out of order (retransmissions, ACKs before data): tshark 4.0 loses two 250 replies',
    'sv-smtp-mail-553-data-554-rejected.pcap': 'tshark 4.0 misses the second pipelined MAIL/RCPT/DATA',
    'sv-smtp-pipelining.pcap': 'tshark 4.0 does not dissect MAIL/RCPT/DATA pipelined with the body in one segment',
    'zeek-smtp-bdat-gap.pcap': 'tshark stops after the hole; Zeek, like us, finds DATA and QUIT after it',
    'zeek-smtp-bdat-invalid-521-three-sessions.pcapng':
        'tshark takes the bytes after an invalid BDAT (refused with 521) as chunk data and misses QUIT',
    'sv-smtp-errors-four-sessions.pcap': 'tshark drops the final QUIT, sent without CRLF as the capture ends',
    '06-bdat-chunking.pcap': "tshark takes 'BDAT 500 LAST', sent after a chunk in its own segment, as chunk data",
    '07-bdat-without-chunking.pcap':
        'tshark takes the DATA and QUIT that follow a BDAT refused with 500 as chunk data',
    'zeek-smtp-bdat-pipelining-two-messages.pcap':
        'tshark 4.0 reads the pipelined MAIL/RCPT/BDAT segments as chunk data',
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
        if name in KNOWN and os.environ.get('CROSSCHECK_ALL') != '1':
            print('PASS tshark %s: not compared (%s)' % (name, KNOWN[name]))
            continue
        rc, ours, _, err = run_netmon(binary, path)
        if rc not in (0, 1):
            print('FAIL tshark %s: smtptrace exited %d: %s' % (name, rc, err.strip()[:200]))
            continue
        # Tell tshark every server port we found SMTP on (it only knows 25/587 by itself).
        ports = {25, 587}
        for st in ours.values():
            if st['server']:
                ports.add(int(st['server'].rsplit(':', 1)[1]))
        theirs = tshark_streams(path, ports)
        problems = []
        for key in sorted(set(ours) | set(theirs)):
            o = ours.get(key, {'cmds': [], 'codes': []})
            t = theirs.get(key, {'cmds': [], 'codes': []})
            # tshark shows at most 4 characters of unknown verbs; compare on that much.
            # tshark shows no verb for lines that are not commands (junk, text after a refused DATA).
            ocmds = [c[:4] for c in o['cmds'] if c in VERBS]
            tcmds = [c[:4] for c in t['cmds']]
            if ocmds != tcmds:
                problems.append('%s commands: ours %s, tshark %s' % (key, ocmds, tcmds))
            # tshark 4.0 reports a code per segment: a reply sent one line per segment (aiosmtpd)
            # counts once per line there. Expand ours the same way before comparing.
            per_segment = []
            for code, segs in zip(o.get('codes', []), o.get('reply_segments', [])):
                per_segment += [code] * segs
            if o.get('codes', []) != t['codes'] and per_segment != t['codes']:
                problems.append('%s replies: ours %s, tshark %s' % (key, o.get('codes'), t['codes']))
        if problems:
            print('FAIL tshark %s: %s' % (name, '; '.join(problems)[:1500]))
        else:
            print('PASS tshark %s (%d streams)' % (name, len(ours)))


if __name__ == '__main__':
    main()
