"""smtpout.py: parses smtptrace's --netmon transcript into per-stream command verbs and reply codes (test helper)."""
import re
import subprocess

HEADER = re.compile(r'^Frame (\d+)  \S+ \S+ UTC  (\S+) -> (\S+)$')


def stream_key(a, b):
    return tuple(sorted((a, b)))


def run_netmon(binary, capture, extra=()):
    """Returns (exit status, {stream: {'cmds': [...], 'codes': [...], 'codes_per_line': [...]}}, stdout, stderr)."""
    proc = subprocess.run([binary, 'read', '--no-db', '--netmon', capture, *extra], capture_output=True, text=True,
                          errors='replace', timeout=120)
    streams = {}
    cur = None
    pending = None
    for line in proc.stdout.splitlines():
        m = HEADER.match(line)
        if m:
            cur = streams.setdefault(stream_key(m.group(2), m.group(3)),
                                     {'cmds': [], 'codes': [], 'codes_per_line': [], 'server': None,
                                      'lines': [], 'first_frame': int(m.group(1))})
            src, dst = m.group(2), m.group(3)
            continue
        if cur is None:
            continue
        if line.startswith('SMTP: Cmd: ') and not line.startswith('SMTP: Cmd: Authentication response'):
            pending = 'cmd'
            cur['server'] = dst
        elif line.startswith('SMTP: Rsp: ') and not line.startswith('SMTP: Rsp: Response without'):
            pending = 'rsp'
            cur['server'] = src
            # "(frames 5, 7, 9)": how many segments carried the reply
            m2 = re.search(r'\(frames ([0-9, ]+)\)$', line)
            cur.setdefault('reply_segments', []).append(len(m2.group(1).split(',')) if m2 else 1)
        elif line.startswith('    SMTP: Command = ') and pending == 'cmd':
            text = line[len('    SMTP: Command = '):]
            cur['cmds'].append(text.split(' ')[0].upper() if text else '')
            cur['lines'].append(text)
            pending = None
        elif line.startswith('    SMTP: Response = ') and pending == 'rsp':
            code = line[len('    SMTP: Response = '):][:3]
            cur['codes'].append(code)
            cur['codes_per_line'].append(code)
            pending = 'rsp-more'
        elif line.startswith('        SMTP: Data = ') and pending == 'rsp-more':
            cur['codes_per_line'].append(cur['codes'][-1])
        elif line.startswith('SMTP: '):
            pending = None
    return proc.returncode, streams, proc.stdout, proc.stderr
