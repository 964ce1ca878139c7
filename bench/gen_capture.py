#!/usr/bin/env python3
"""gen_capture.py: deterministic generator of large SMTP captures for the smtptrace benchmark.

    python3 bench/gen_capture.py --size-mb 100 --seed 1 -o bench/out/smtp-100mb.pcap

Writes a classic pcap (Ethernet, microsecond timestamps, IPv4 and some IPv6, checksums zero) and,
next to it, FILE.truth.json: the number of SMTP sessions, of messages whose body was delivered
(DATA end-of-data or BDAT ... LAST) and of every finding smtptrace should report, by kind (and by
extension for capability_mismatch). Standard library only; the same seed and size give the same
bytes.

What is in it: about --concurrency (default 200) TCP conversations open at once, their packets
interleaved; SMTP on ports 25, 587 and 2525 with proper handshakes, FIN closes, consistent
sequence and acknowledgement numbers (an ACK never covers bytes absent from the capture); bodies
cut in 1460-byte segments, acknowledged every two segments; now and then two adjacent body
segments swapped (out of order) or a client segment sent twice (retransmission); plus HTTP on
port 80 and DNS over UDP that smtptrace must ignore. Each SMTP session follows one scenario of
SCENARIOS below; the scenario alone decides its findings, which is what makes the truth exact.
"""
import argparse
import base64
import json
import os
import random
import socket
import struct
import sys
import time

SEG = 1460
REC = struct.Struct('<IIII')
# Ethernet(14) + IPv4 fixed part: eth+ver/ihl+tos (16s), total length, id, flags/frag/ttl/proto/csum
# (6s), addresses (8s); then TCP: ports, seq, ack, offset+flags, window, checksum, urgent.
HDR4 = struct.Struct('!16sHH6s8sHHIIHHHH')
# Ethernet(14) + IPv6: eth+version/class/label (18s), payload length, next header+hop limit (2s),
# addresses (32s); then TCP.
HDR6 = struct.Struct('!18sH2s32sHHIIHHHH')
UDP4 = struct.Struct('!16sHH6s8sHHHH')

MAC_C = bytes.fromhex('020000000001')
MAC_S = bytes.fromhex('020000000002')
ETH4_CS = MAC_S + MAC_C + b'\x08\x00' + b'\x45\x00'
ETH4_SC = MAC_C + MAC_S + b'\x08\x00' + b'\x45\x00'
ETH6_CS = MAC_S + MAC_C + b'\x86\xdd' + b'\x60\x00\x00\x00'
ETH6_SC = MAC_C + MAC_S + b'\x86\xdd' + b'\x60\x00\x00\x00'
IP4_MID = b'\x40\x00\x40\x06\x00\x00'  # DF, TTL 64, TCP, checksum 0
IP6_MID = b'\x06\x40'                  # TCP, hop limit 64

FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
MSS_OPT = b'\x02\x04\x05\xb4'

# Every finding kind smtptrace documents; the truth lists each with its expected count (0 if none).
ALL_KINDS = ['fallback', 'ehlo_rejected', 'reply_5xx', 'reply_4xx', 'service_unavailable',
             'capability_mismatch', 'size_exceeded', 'banner_without_esmtp',
             'esmtp_banner_ehlo_rejected', 'invalid_helo_argument', 'auth_cleartext',
             'session_aborted', 'capture_gap', 'line_too_long', 'unmatched_reply', 'bad_reply',
             'invalid_bdat', 'limit_reached']

# scenario: (weight, findings of one session). 'capability_mismatch:X' is one finding with extension X.
SCENARIOS = {
    'pipelined':        (30, {}),  # PIPELINING advertised, MAIL/RCPT/DATA in one segment, 1-2 messages
    'plain':            (14, {}),  # no PIPELINING, one command per segment, 1-2 messages
    'bdat':             (8, {}),   # CHUNKING advertised, BDAT chunks then BDAT n LAST
    'starttls':         (8, {}),   # STARTTLS answered 220, then TLS records of random bytes
    'fallback':         (3, {'ehlo_rejected': 1, 'reply_5xx': 1, 'fallback': 1}),  # banner without ESMTP
    'fallback_esmtp':   (3, {'ehlo_rejected': 1, 'reply_5xx': 1, 'fallback': 1,
                             'esmtp_banner_ehlo_rejected': 1}),  # banner says ESMTP, EHLO refused
    'rcpt_550':         (5, {'reply_5xx': 1}),   # first RCPT 550, second accepted, message sent
    'rcpt_450':         (3, {'reply_4xx': 1}),   # RCPT 450 (greylisting), RSET, QUIT
    'size_mail_552':    (3, {'size_exceeded': 1, 'reply_5xx': 1}),  # MAIL SIZE= over SIZE, 552
    'size_body_552':    (1, {'size_exceeded': 1, 'reply_5xx': 1}),  # body over SIZE, 552 after data
    'greeting_421':     (3, {'reply_4xx': 1, 'service_unavailable': 1}),  # 421 greeting, server closes
    'auth_login':       (4, {'auth_cleartext': 1}),  # AUTH LOGIN (advertised) in clear, then a message
    'mismatch_pipelining': (3, {'capability_mismatch:PIPELINING': 1}),  # pipelines, not advertised
    'mismatch_size':    (3, {'capability_mismatch:SIZE': 1}),  # SIZE= with a server without SIZE
    'mismatch_chunking': (2, {'capability_mismatch:CHUNKING': 1}),  # BDAT, CHUNKING not advertised
    'banner_no_esmtp':  (4, {'banner_without_esmtp': 1}),  # EHLO accepted, greeting lacks ESMTP
}


def build_corpus(rng, nbytes):
    """ASCII text in 78-byte lines (76 + CRLF), never starting with a dot."""
    words = [bytes(rng.choice(b'abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 10)))
             for _ in range(512)]
    lines = []
    n = 0
    while n < nbytes:
        line = b''
        while len(line) < 76:
            line += rng.choice(words) + b' '
        line = line[:76]
        line = (b'X' + line[1:]) if line[:1] in b' .' else line
        lines.append(line + b'\r\n')
        n += 78
    return b''.join(lines)


class Gen:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.args = args
        self.corpus = build_corpus(random.Random(args.seed + 1), 2 * 1024 * 1024)
        self.tls_noise = bytes(random.Random(args.seed + 2).getrandbits(8) for _ in range(1 << 17))
        self.http_body = self.corpus[:1 << 17]
        self.flow_no = 0
        self.msg_no = 0
        self.sessions = 0
        self.messages = 0
        self.findings = {}
        self.scen_count = {k: 0 for k in SCENARIOS}
        self.port_count = {25: 0, 587: 0, 2525: 0}
        self.ipv6_sessions = 0
        self.http_flows = 0
        self.dns_packets = 0
        self.swaps = 0
        self.dups = 0
        self.packets = 0
        names = list(SCENARIOS)
        cum = []
        total = 0
        for k in names:
            total += SCENARIOS[k][0]
            cum.append(total)
        self.scen_names, self.scen_cum, self.scen_total = names, cum, total
        self.dns = self.build_dns()
        self.listing = [] if args.list else None

    # ---- packet headers ----

    def endpoints(self, server_port):
        """Unique client address per flow; servers from a small pool. Returns the header packers."""
        rng = self.rng
        self.flow_no += 1
        n = self.flow_no
        v6 = server_port != 80 and rng.random() < 0.10
        cport = 1024 + (n * 7919) % 64000
        if v6:
            c = b'\x20\x01\x0d\xb8\x00\x01' + b'\x00' * 6 + n.to_bytes(4, 'big')
            s = b'\x20\x01\x0d\xb8\x00\x25' + b'\x00' * 8 + (1 + n % 40).to_bytes(2, 'big')
            pre_cs = (ETH6_CS, c + s)
            pre_sc = (ETH6_SC, s + c)
        else:
            c = bytes((10, (n >> 16) & 255, (n >> 8) & 255, n & 255))
            s = bytes((192, 0, 2, 1 + n % 50)) if n % 3 else bytes((198, 51, 100, 1 + n % 50))
            pre_cs = (ETH4_CS, c + s)
            pre_sc = (ETH4_SC, s + c)
        return v6, cport, pre_cs, pre_sc

    def build_dns(self):
        """64 query/response pairs (IPv4 UDP 53), complete packets; only timestamps vary."""
        rng = random.Random(self.args.seed + 3)
        out = []
        for i in range(64):
            name = b''.join(bytes([len(l)]) + l for l in
                            (b'host%d' % i, b'example', b'com')) + b'\x00'
            qid = rng.getrandbits(16)
            q = struct.pack('!HHHHHH', qid, 0x0100, 1, 0, 0, 0) + name + b'\x00\x01\x00\x01'
            r = (struct.pack('!HHHHHH', qid, 0x8180, 1, 1, 0, 0) + name + b'\x00\x01\x00\x01' +
                 b'\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04' + bytes((192, 0, 2, 100 + i)))
            c = bytes((10, 200, i, 7))
            s = bytes((192, 0, 2, 53))
            sport = 20000 + i * 11
            pq = UDP4.pack(ETH4_CS, 28 + len(q), 0, b'\x00\x00\x40\x11\x00\x00', c + s,
                           sport, 53, 8 + len(q), 0) + q
            pr = UDP4.pack(ETH4_SC, 28 + len(r), 0, b'\x00\x00\x40\x11\x00\x00', s + c,
                           53, sport, 8 + len(r), 0) + r
            out.append((pq, pr))
        return out

    # ---- one TCP conversation as a generator of (header, payload) ----

    def tcp(self, server_port, body_fn):
        """Handshake, then body_fn(conn) yields the dialogue, then the close it asks for."""
        rng = self.rng
        v6, cport, pre_cs, pre_sc = self.endpoints(server_port)
        conn = Conn(self, v6, cport, server_port, pre_cs, pre_sc,
                    rng.getrandbits(32), rng.getrandbits(32))
        return conn.run(body_fn)

    # ---- SMTP sessions ----

    def pick_scenario(self):
        x = self.rng.random() * self.scen_total
        for name, c in zip(self.scen_names, self.scen_cum):
            if x < c:
                return name
        return self.scen_names[-1]

    def body_size(self):
        r = self.rng.random()
        if r < 0.70:
            return self.rng.randint(1024, 16384)
        if r < 0.95:
            return self.rng.randint(16384, 65536)
        return self.rng.randint(65536, 400000)

    def message(self, n):
        """A message of about n bytes: headers and corpus lines; ends with CRLF (no terminator)."""
        self.msg_no += 1
        m = self.msg_no
        hdr = (b'From: Sender %d <user%d@example.com>\r\nTo: <rcpt%d@example.org>\r\n'
               b'Subject: benchmark message %d\r\nMessage-ID: <%d.bench@example.com>\r\n'
               b'Date: Thu, 15 Jan 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n'
               b'Content-Type: text/plain; charset=us-ascii\r\n\r\n') % (m, m, m, m, m)
        nl = max(1, (n - len(hdr)) // 78)
        corp = self.corpus
        maxl = len(corp) // 78 - nl
        off = self.rng.randrange(0, maxl) * 78
        return hdr + corp[off:off + nl * 78]

    def smtp_session(self):
        rng = self.rng
        scen = self.pick_scenario()
        self.scen_count[scen] += 1
        if scen == 'auth_login':
            port = 587
        else:
            r = rng.random()
            port = 25 if r < 0.70 else (587 if r < 0.88 else 2525)
        self.port_count[port] += 1
        self.sessions += 1
        for k, v in SCENARIOS[scen][1].items():
            self.findings[k] = self.findings.get(k, 0) + v
        sid = self.sessions
        gen = self.tcp(port, lambda conn: self.dialogue(conn, scen, sid))
        if self.listing is not None:
            c = gen.gi_frame.f_locals['self']  # the Conn: its client address and port
            eth, addrs = c.pre[0]
            addr = (socket.inet_ntop(socket.AF_INET6, addrs[:16]) if c.v6 else
                    socket.inet_ntop(socket.AF_INET, addrs[:4]))
            self.listing.append('%d\t%s\t%s\t%d\t%d\n' % (sid, scen, addr, c.ports[0][0], port))
        return gen

    def caps(self, host, pipelining=True, size=10485760, chunking=False, starttls=False, auth=False):
        lines = [host]
        if pipelining:
            lines.append(b'PIPELINING')
        if size is not None:
            lines.append(b'SIZE %d' % size)
        lines += [b'VRFY', b'ETRN']
        if starttls:
            lines.append(b'STARTTLS')
        if auth:
            lines.append(b'AUTH PLAIN LOGIN')
        lines += [b'ENHANCEDSTATUSCODES', b'8BITMIME', b'DSN', b'SMTPUTF8']
        if chunking:
            lines.append(b'CHUNKING')
        return b''.join(b'250-' + l + b'\r\n' for l in lines[:-1]) + b'250 ' + lines[-1] + b'\r\n'

    def dialogue(self, c, scen, sid):
        """Yields packets of one SMTP session after the handshake; returns who closes first."""
        rng = self.rng
        host = b'mx%d.example.net' % (sid % 97)
        client = b'client%d.example.com' % sid
        if scen in ('fallback', 'banner_no_esmtp'):
            banner = b'220 %s Mail Service ready at Thu, 15 Jan 2026 10:00:00 +0000\r\n' % host
        elif scen == 'greeting_421':
            banner = b'421 4.3.2 %s Service not available, closing transmission channel\r\n' % host
        else:
            banner = b'220 %s ESMTP Postfix (Debian/GNU)\r\n' % host
        yield from c.send(1, banner)
        if scen == 'greeting_421':
            return 1  # the server closes
        if scen == 'starttls':
            yield from c.send(0, b'EHLO %s\r\n' % client)
            yield from c.send(1, self.caps(host, starttls=True))
            yield from c.send(0, b'STARTTLS\r\n')
            yield from c.send(1, b'220 2.0.0 Ready to start TLS\r\n')
            yield from c.send(0, self.tls(0x16, rng.randint(200, 520)))
            yield from c.send(1, self.tls(0x16, rng.randint(2500, 5000)))
            yield from c.send(0, self.tls(0x16, rng.randint(80, 300)))
            yield from c.send(1, self.tls(0x14, 1) + self.tls(0x16, 40))
            yield from c.send(0, self.tls(0x17, self.body_size()))
            yield from c.send(1, self.tls(0x17, rng.randint(30, 120)))
            return 0
        if scen in ('fallback', 'fallback_esmtp'):
            yield from c.send(0, b'EHLO %s\r\n' % client)
            yield from c.send(1, b'500 5.5.1 Command unrecognized: "EHLO %s"\r\n' % client)
            yield from c.send(0, b'HELO %s\r\n' % client)
            yield from c.send(1, b'250 %s Hello %s, pleased to meet you\r\n' % (host, client))
            yield from self.transaction(c, pipelined=False, size_param=False)
            yield from self.quit(c)
            return 0
        pipe_adv = scen in ('pipelined', 'bdat', 'auth_login', 'mismatch_size', 'rcpt_550',
                            'rcpt_450', 'banner_no_esmtp')
        size = None if scen == 'mismatch_size' else (1048576 if scen == 'size_body_552' else
                                                    [10485760, 52428800, 35882577][sid % 3])
        chunking = scen == 'bdat'
        yield from c.send(0, b'EHLO %s\r\n' % client)
        yield from c.send(1, self.caps(host, pipelining=pipe_adv, size=size, chunking=chunking,
                                       auth=scen == 'auth_login'))
        if scen == 'auth_login':
            yield from c.send(0, b'AUTH LOGIN\r\n')
            yield from c.send(1, b'334 VXNlcm5hbWU6\r\n')
            yield from c.send(0, base64.b64encode(b'user%d@example.com' % sid) + b'\r\n')
            yield from c.send(1, b'334 UGFzc3dvcmQ6\r\n')
            yield from c.send(0, base64.b64encode(b'not-a-real-password-%d' % sid) + b'\r\n')
            yield from c.send(1, b'235 2.7.0 Authentication successful\r\n')
        if scen == 'size_mail_552':
            yield from c.send(0, b'MAIL FROM:<user%d@example.com> SIZE=%d\r\n' % (sid, 2 * size))
            yield from c.send(1, b'552 5.3.4 Message size exceeds fixed limit\r\n')
        elif scen == 'size_body_552':
            yield from self.transaction(c, pipelined=False, size_param=False,
                                        body_len=rng.randint(1200000, 1500000),
                                        final=b'552 5.3.4 Message size exceeds fixed limit\r\n')
        elif scen == 'rcpt_450':
            yield from c.send(0, b'MAIL FROM:<user%d@example.com>\r\n' % sid)
            yield from c.send(1, b'250 2.1.0 Ok\r\n')
            yield from c.send(0, b'RCPT TO:<rcpt%d@example.org>\r\n' % sid)
            yield from c.send(1, b'450 4.2.0 <rcpt%d@example.org>: Recipient address rejected: '
                                 b'Greylisted, see http://postgrey.schweikert.ch/help/example.org.html\r\n'
                                 % sid)
            yield from c.send(0, b'RSET\r\n')
            yield from c.send(1, b'250 2.0.0 Ok\r\n')
        elif scen in ('bdat', 'mismatch_chunking'):
            yield from self.bdat(c, pipe_adv)
        elif scen == 'rcpt_550':
            yield from self.transaction(c, pipelined=False, size_param=True, bad_rcpt=True)
        else:
            pipelined = scen in ('pipelined', 'mismatch_pipelining', 'mismatch_size', 'auth_login')
            yield from self.transaction(c, pipelined=pipelined, size_param=True)
            if scen in ('pipelined', 'plain', 'mismatch_size') and rng.random() < 0.3:
                yield from self.transaction(c, pipelined=pipelined, size_param=True)
        yield from self.quit(c)
        return 0

    def tls(self, ctype, n):
        noise = self.tls_noise
        out = []
        while n > 0:
            k = min(n, 16384)
            off = self.rng.randrange(0, len(noise) - k)
            out.append(bytes((ctype, 3, 3)) + k.to_bytes(2, 'big') + noise[off:off + k])
            n -= k
        return b''.join(out)

    def transaction(self, c, pipelined, size_param, body_len=None, bad_rcpt=False,
                    final=b'250 2.0.0 Ok: queued as %X\r\n'):
        rng = self.rng
        body = self.message(body_len if body_len is not None else self.body_size())
        m = self.msg_no
        nrcpt = rng.randint(1, 3)
        mail = b'MAIL FROM:<user%d@example.com>' % m
        if size_param:
            mail += b' SIZE=%d' % len(body)
        cmds = [mail + b'\r\n'] + [b'RCPT TO:<rcpt%d.%d@example.org>\r\n' % (m, i) for i in range(nrcpt)]
        replies = [b'250 2.1.0 Ok\r\n'] + [b'250 2.1.5 Ok\r\n'] * nrcpt
        if bad_rcpt:
            cmds.insert(1, b'RCPT TO:<nobody%d@example.org>\r\n' % m)
            replies.insert(1, b'550 5.1.1 <nobody%d@example.org>: Recipient address rejected: '
                              b'User unknown in local recipient table\r\n' % m)
        cmds.append(b'DATA\r\n')
        replies.append(b'354 End data with <CR><LF>.<CR><LF>\r\n')
        if pipelined:
            yield from c.send(0, b''.join(cmds))
            yield from c.send(1, b''.join(replies))
        else:
            for cmd, rep in zip(cmds, replies):
                yield from c.send(0, cmd)
                yield from c.send(1, rep)
        yield from c.send(0, body + b'.\r\n', bulk=True)
        yield from c.send(1, final % m if b'%X' in final else final)
        self.messages += 1

    def bdat(self, c, pipelined):
        rng = self.rng
        body = self.message(self.body_size())
        m = self.msg_no
        cmds = [b'MAIL FROM:<user%d@example.com> SIZE=%d\r\n' % (m, len(body)),
                b'RCPT TO:<rcpt%d@example.org>\r\n' % m]
        replies = [b'250 2.1.0 Ok\r\n', b'250 2.1.5 Ok\r\n']
        if pipelined:
            yield from c.send(0, b''.join(cmds))
            yield from c.send(1, b''.join(replies))
        else:
            for cmd, rep in zip(cmds, replies):
                yield from c.send(0, cmd)
                yield from c.send(1, rep)
        pos = 0
        while pos < len(body):
            k = min(len(body) - pos, rng.choice((8192, 16384, 32768, 65536)))
            last = pos + k >= len(body)
            cmd = b'BDAT %d LAST\r\n' % k if last else b'BDAT %d\r\n' % k
            yield from c.send(0, cmd + body[pos:pos + k], bulk=True)
            pos += k
            if last:
                yield from c.send(1, b'250 2.0.0 Ok: %d bytes queued as %X\r\n' % (len(body), m))
            else:
                yield from c.send(1, b'250 2.0.0 Ok: %d octets received\r\n' % k)
        self.messages += 1

    def quit(self, c):
        yield from c.send(0, b'QUIT\r\n')
        yield from c.send(1, b'221 2.0.0 Bye\r\n')

    # ---- HTTP ----

    def http_flow(self):
        self.http_flows += 1
        n = self.rng.randint(2000, 60000)

        def dialogue(c):
            yield from c.send(0, b'GET /static/file%d.txt HTTP/1.1\r\nHost: www.example.com\r\n'
                                 b'User-Agent: bench/1.0\r\nAccept: */*\r\n\r\n' % n)
            body = self.http_body[:n]
            yield from c.send(1, b'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\n'
                                 b'Content-Length: %d\r\n\r\n' % n + body)
            return 1
        return self.tcp(80, dialogue)

    # ---- main loop ----

    def run(self, out_path):
        args = self.args
        rng = self.rng
        target = int(args.size_mb * 1024 * 1024)
        # Small captures (a few MB, to read by eye) keep fewer flows open so the size stays near the target.
        conc = max(4, min(args.concurrency, target // 400000))
        f = open(out_path, 'wb', buffering=0)
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        written = 24
        t = 1768471200 * 1000000  # 2026-01-15 10:00:00 UTC, microseconds
        pool = []
        buf = []
        bufn = 0
        rec = REC.pack
        rand = rng.random
        dns = self.dns
        packets = 0
        opening = True
        t0 = time.time()
        while True:
            if opening:
                # Stop opening flows when the ones still open will bring the file to the target: the
                # big ones stay open longest, so what is left measured ~5 average flows per open one.
                done = written + bufn
                started = self.sessions + self.http_flows
                if started and done + 5 * len(pool) * done / started >= target:
                    opening = False
                    self.stop_info = (done, len(pool), done / started)
                else:
                    while len(pool) < conc:
                        pool.append(self.http_flow() if rand() < 0.04 else self.smtp_session())
            if not pool:
                break
            i = int(rand() * len(pool))
            g = pool[i]
            burst = 1 if rand() < 0.7 else 4
            for _ in range(burst):
                try:
                    h, p = next(g)
                except StopIteration:
                    pool[i] = pool[-1]
                    pool.pop()
                    break
                t += 1 + int(rand() * 40)
                n = len(h) + len(p)
                buf.append(rec(t // 1000000, t % 1000000, n, n))
                buf.append(h)
                if p:
                    buf.append(p)
                bufn += 16 + n
                packets += 1
            if rand() < 0.004:
                q, r = dns[int(rand() * 64)]
                t += 1 + int(rand() * 40)
                buf.append(rec(t // 1000000, t % 1000000, len(q), len(q)))
                buf.append(q)
                t += 200 + int(rand() * 800)
                buf.append(rec(t // 1000000, t % 1000000, len(r), len(r)))
                buf.append(r)
                bufn += 32 + len(q) + len(r)
                packets += 2
                self.dns_packets += 2
            if bufn >= 8 << 20:
                f.write(b''.join(buf))
                written += bufn
                buf = []
                bufn = 0
        f.write(b''.join(buf))
        written += bufn
        f.close()
        self.packets = packets
        if os.environ.get('GEN_DEBUG'):
            d, n, avg = self.stop_info
            print('stop at %d, pool %d, avg %.0f, drain %d = %.2f avg per open flow' % (
                d, n, avg, written - d, (written - d) / n / avg), file=sys.stderr)
        elapsed = time.time() - t0
        findings = {k: 0 for k in ALL_KINDS}
        for k, v in self.findings.items():
            findings[k] = findings.get(k, 0) + v
        truth = {
            'capture': os.path.basename(out_path),
            'seed': args.seed,
            'size_mb': args.size_mb,
            'bytes': written,
            'packets': packets,
            'sessions': self.sessions,
            'messages': self.messages,
            'findings': dict(sorted(findings.items())),
            'findings_note': 'kind -> count; capability_mismatch:EXT counts the findings of kind '
                             'capability_mismatch with that extension; other kinds are compared '
                             'summed over their extension',
            # Decided by nDPI's heuristics, not by smtptrace: shown, never a mismatch. nDPI flags
            # "Clear-Text Credentials" on each AUTH LOGIN in clear; no other risk is expected.
            'findings_informational': {'ndpi_risk': self.scen_count['auth_login']},
            'scenarios': self.scen_count,
            'sessions_by_port': {str(k): v for k, v in self.port_count.items()},
            'ipv6_flows': self.ipv6_sessions,
            'http_flows': self.http_flows,
            'dns_packets': self.dns_packets,
            'out_of_order_swaps': self.swaps,
            'retransmissions': self.dups,
            'first_ts': 1768471200,
            'last_ts_usec': t,
        }
        if self.listing is not None:
            with open(os.path.splitext(out_path)[0] + '.sessions.tsv', 'w') as lf:
                lf.write('session\tscenario\tclient_ip\tclient_port\tserver_port\n')
                lf.writelines(self.listing)
        with open(os.path.splitext(out_path)[0] + '.truth.json', 'w') as tf:
            json.dump(truth, tf, indent=1)
            tf.write('\n')
        return written, packets, elapsed


class Conn:
    """One TCP conversation: side 0 is the client, side 1 the server."""
    __slots__ = ('g', 'v6', 'ports', 'pre', 'nxt', 'rng')

    def __init__(self, g, v6, cport, sport, pre_cs, pre_sc, isn_c, isn_s):
        self.g = g
        self.v6 = v6
        if v6:
            g.ipv6_sessions += 1
        self.ports = ((cport, sport), (sport, cport))
        self.pre = (pre_cs, pre_sc)
        self.nxt = [isn_c, isn_s]
        self.rng = g.rng

    def hdr(self, side, seq, ack, flags, plen, opt=b''):
        eth, addrs = self.pre[side]
        sp, dp = self.ports[side]
        off = (5 + len(opt) // 4) << 12
        if self.v6:
            return HDR6.pack(eth, 20 + len(opt) + plen, IP6_MID, addrs, sp, dp, seq, ack,
                             off | flags, 65535, 0, 0) + opt
        return HDR4.pack(eth, 40 + len(opt) + plen, 0, IP4_MID, addrs, sp, dp, seq, ack,
                         off | flags, 65535, 0, 0) + opt

    def run(self, body_fn):
        nxt = self.nxt
        c0, s0 = nxt
        yield self.hdr(0, c0, 0, SYN, 0, MSS_OPT), b''
        yield self.hdr(1, s0, (c0 + 1) & 0xffffffff, SYN | ACK, 0, MSS_OPT), b''
        nxt[0] = (c0 + 1) & 0xffffffff
        nxt[1] = (s0 + 1) & 0xffffffff
        yield self.hdr(0, nxt[0], nxt[1], ACK, 0), b''
        closer = yield from body_fn(self)
        other = 1 - closer
        yield self.hdr(closer, nxt[closer], nxt[other], FIN | ACK, 0), b''
        nxt[closer] = (nxt[closer] + 1) & 0xffffffff
        yield self.hdr(other, nxt[other], nxt[closer], FIN | ACK, 0), b''
        nxt[other] = (nxt[other] + 1) & 0xffffffff
        yield self.hdr(closer, nxt[closer], nxt[other], ACK, 0), b''

    def send(self, side, data, bulk=False):
        """Segments of side's data; the peer ACKs every two segments of a multi-segment send.
        bulk: a body, where two adjacent segments may be swapped (out of order)."""
        nxt = self.nxt
        other = 1 - side
        ack = nxt[other]
        seq = nxt[side]
        n = len(data)
        if n <= SEG:
            h = self.hdr(side, seq, ack, PSH | ACK, n)
            yield h, data
            if side == 0 and self.rng.random() < 0.002:
                self.g.dups += 1
                yield h, data
            nxt[side] = (seq + n) & 0xffffffff
            return
        mv = memoryview(data)
        rnd = self.rng.random
        pos = 0
        while pos < n:
            group = []
            for _ in range(2):
                if pos >= n:
                    break
                k = min(SEG, n - pos)
                flags = ACK | PSH if pos + k >= n else ACK
                group.append((self.hdr(side, (seq + pos) & 0xffffffff, ack, flags, k), mv[pos:pos + k]))
                pos += k
            if bulk and len(group) == 2 and rnd() < 0.01:
                group.reverse()
                self.g.swaps += 1
            elif side == 0 and rnd() < 0.003:
                group.append(group[0])
                self.g.dups += 1
            yield from group
            yield self.hdr(other, ack, (seq + pos) & 0xffffffff, ACK, 0), b''
        nxt[side] = (seq + n) & 0xffffffff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--size-mb', type=float, default=100, help='target capture size in MiB (default 100)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--concurrency', type=int, default=200, help='conversations open at once')
    ap.add_argument('-o', '--output', required=True, help='FILE.pcap (FILE.truth.json is written next to it)')
    ap.add_argument('--list', action='store_true',
                    help='also write FILE.sessions.tsv: each SMTP session with its scenario and client address')
    args = ap.parse_args()
    g = Gen(args)
    written, packets, elapsed = g.run(args.output)
    print('%s: %.1f MB, %d packets, %d SMTP sessions, %d messages, %.1f s (%.0f MB/s)' % (
        args.output, written / 1e6, packets, g.sessions, g.messages, elapsed,
        written / 1e6 / max(elapsed, 1e-9)), file=sys.stderr)


if __name__ == '__main__':
    main()
