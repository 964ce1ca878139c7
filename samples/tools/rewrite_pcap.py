#!/usr/bin/python3
"""Rewrite one real SMTP capture into captures of TCP reassembly problems.

Input: a capture of one SMTP session over IPv4 on Ethernet (tcpdump on lo),
normally 14-lowercase-python.pcap.  Output (deterministic for a given input):

  20-out-of-order.pcap      message body split into 256-byte segments; two
                            pairs of them swapped in the file
  21-retransmission.pcap    body split; two body segments and the "mail" command
                            segment sent again (exact duplicates, later)
  22-overlap.pcap           body split; an extra segment re-sends the second
                            half of one segment and goes on into the next one
  23-lost-segment.pcap      body split; one body segment in the middle removed,
                            and the server's reply to "mail" removed
  24-midsession-start.pcap  every packet before the client's "mail" command
                            dropped (no handshake, greeting or EHLO)
  25-vlan.pcap              every frame 802.1Q-tagged (VLAN 100); the greeting
                            frame double-tagged 802.1ad (S-VLAN 200) + 802.1Q
  28-seq-wrap.pcap          body split; client sequence numbers shifted so its
                            ISN is 0xFFFFFF00 and the body crosses 2^32 (server
                            ACKs shifted to match; checksums recomputed)

Splitting a body segment into 256-byte pieces keeps bytes, ACKs and flags (PSH
only on the last piece); the pieces get timestamps 1 us apart.
"""
import argparse
import os

from scapy.all import IP, TCP, Dot1Q, Ether, Raw, rdpcap, wrpcap  # noqa: E402
from scapy.layers.l2 import Dot1AD

PIECE = 256
US = 1e-6


def payload(p):
    return bytes(p[TCP].payload) if TCP in p else b""


class Session:
    def __init__(self, pkts, server_port):
        self.pkts = list(pkts)
        self.sport = server_port
        for p in self.pkts:
            if TCP not in p or IP not in p:
                raise SystemExit("expects IPv4/TCP packets only")

    def from_client(self, p):
        return p[TCP].dport == self.sport

    def index_of(self, pred):
        for i, p in enumerate(self.pkts):
            if pred(p):
                return i
        raise SystemExit("packet not found")


def retime(pkts):
    """Keep file order monotonic in time (1 us steps where needed)."""
    last = None
    for p in pkts:
        if last is not None and float(p.time) <= last:
            p.time = last + US
        last = float(p.time)
    return pkts


def fresh(p):
    """Copy of a packet whose lengths and checksums scapy recomputes."""
    q = p.copy()
    del q[IP].len
    del q[IP].chksum
    del q[TCP].chksum
    return q


def split_segment(p, size=PIECE):
    data = payload(p)
    pieces = []
    n = (len(data) + size - 1) // size
    for k in range(n):
        chunk = data[k * size:(k + 1) * size]
        q = fresh(p)
        q[TCP].remove_payload()
        q[TCP].add_payload(Raw(chunk))
        q[TCP].seq = (p[TCP].seq + k * size) % 2**32
        q[TCP].flags = "PA" if k == n - 1 else "A"
        q[IP].id = (p[IP].id + k) % 65536
        q.time = p.time + k * US
        pieces.append(Ether(bytes(q)))
        pieces[-1].time = q.time
    return pieces


def split_body(s):
    """Replace the client's big segment (the message body) with pieces.
    Returns (new packet list, index of first piece, number of pieces)."""
    i = s.index_of(lambda p: s.from_client(p) and len(payload(p)) > 2 * PIECE)
    pieces = split_segment(s.pkts[i])
    return s.pkts[:i] + pieces + s.pkts[i + 1:], i, len(pieces)


def dup(p, dt):
    q = p.copy()
    q.time = p.time + dt
    return q


def out_of_order(s):
    pk, i, n = split_body(s)
    assert n >= 5
    pk[i + 1], pk[i + 2] = pk[i + 2], pk[i + 1]
    pk[i + 3], pk[i + 4] = pk[i + 4], pk[i + 3]
    return retime(pk)


def retransmission(s):
    pk, i, n = split_body(s)
    # duplicate of piece 1 after piece 2, of piece 3 after piece 4
    body = pk[i:i + n]
    new_body = []
    for k, p in enumerate(body):
        new_body.append(p)
        if k == 2:
            new_body.append(dup(body[1], 2 * US))
        if k == 4:
            new_body.append(dup(body[3], 2 * US))
    pk = pk[:i] + new_body + pk[i + n:]
    # the "mail" command segment sent twice in a row
    m = next(k for k, p in enumerate(pk) if s.from_client(p) and payload(p)[:5].lower() == b"mail ")
    pk.insert(m + 1, dup(pk[m], 200 * US))
    return retime(pk)


def overlap(s):
    pk, i, n = split_body(s)
    p1 = pk[i + 1]
    # bytes of the whole body, to cut the overlapping segment from
    body = b"".join(payload(p) for p in pk[i:i + n])
    off = PIECE + PIECE // 2          # middle of piece 1
    q = fresh(p1)
    q[TCP].remove_payload()
    q[TCP].add_payload(Raw(body[off:off + PIECE]))
    q[TCP].seq = (pk[i][TCP].seq + off) % 2**32
    q[TCP].flags = "PA"
    q = Ether(bytes(q))
    q.time = p1.time + US / 2
    pk.insert(i + 2, q)
    return retime(pk)


def lost(s):
    pk, i, n = split_body(s)
    del pk[i + n // 2]                 # a body segment in the middle
    # the server's reply to "mail" (first server segment after that command)
    m = next(k for k, p in enumerate(pk) if s.from_client(p) and payload(p)[:5].lower() == b"mail ")
    r = next(k for k in range(m + 1, len(pk)) if not s.from_client(pk[k]) and payload(pk[k]))
    assert payload(pk[r]).startswith(b"250")
    del pk[r]
    return pk


def midsession(s):
    m = s.index_of(lambda p: s.from_client(p) and payload(p)[:5].lower() == b"mail ")
    return s.pkts[m:]


def vlan(s):
    out = []
    g = s.index_of(lambda p: not s.from_client(p) and payload(p).startswith(b"220"))
    for k, p in enumerate(s.pkts):
        e = p[Ether]
        inner = e.payload.copy()
        if k == g:
            q = Ether(dst=e.dst, src=e.src, type=0x88A8) / Dot1AD(vlan=200, type=0x8100) / \
                Dot1Q(vlan=100, type=e.type) / inner
        else:
            q = Ether(dst=e.dst, src=e.src, type=0x8100) / Dot1Q(vlan=100, type=e.type) / inner
        q = Ether(bytes(q))
        q.time = p.time
        out.append(q)
    return out


def seq_wrap(s):
    pk, _, _ = split_body(s)
    syn = next(p for p in pk if s.from_client(p) and p[TCP].flags.S)
    delta = (0xFFFFFF00 - syn[TCP].seq) % 2**32
    out = []
    for p in pk:
        q = fresh(p)
        if s.from_client(q):
            q[TCP].seq = (q[TCP].seq + delta) % 2**32
        elif q[TCP].flags.A:
            q[TCP].ack = (q[TCP].ack + delta) % 2**32
        q = Ether(bytes(q))
        q.time = p.time
        out.append(q)
    return out


CASES = [
    ("20-out-of-order.pcap", out_of_order),
    ("21-retransmission.pcap", retransmission),
    ("22-overlap.pcap", overlap),
    ("23-lost-segment.pcap", lost),
    ("24-midsession-start.pcap", midsession),
    ("25-vlan.pcap", vlan),
    ("28-seq-wrap.pcap", seq_wrap),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="src", required=True)
    ap.add_argument("--server-port", type=int, required=True)
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    base = rdpcap(a.src)
    for name, fn in CASES:
        s = Session([p.copy() for p in base], a.server_port)
        for p, o in zip(s.pkts, base):
            p.time = o.time
        pkts = fn(s)
        path = os.path.join(a.out_dir, name)
        wrpcap(path, pkts)
        print("%s: %d packets" % (name, len(pkts)))


if __name__ == "__main__":
    main()
