#!/usr/bin/python3
"""Drop the TCP 3-way handshake from a one-session capture (scapy).

Input: a capture of one TCP session over IPv4 on Ethernet (tcpdump on lo),
normally 30-port-10025.pcap.  Output: the same packets, bytes unchanged, minus
every packet before the server's first payload segment (the SYN, the SYN-ACK
and the client's bare ACK), so the file starts with the server's greeting, as
if the capture had been started during the session.  Deterministic: the same
input gives the same bytes.
"""
import argparse

from scapy.all import IP, TCP, rdpcap, wrpcap


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--server-port", type=int, required=True)
    a = ap.parse_args()

    pkts = rdpcap(a.inp)
    first = None
    for i, p in enumerate(pkts):
        if IP not in p or TCP not in p:
            raise SystemExit("expects IPv4/TCP packets only")
        if first is None and p[TCP].sport == a.server_port and len(p[TCP].payload) > 0:
            first = i
    if first is None:
        raise SystemExit("no server payload found")
    dropped = pkts[:first]
    if not any(p[TCP].flags.S for p in dropped):
        raise SystemExit("no SYN before the greeting: not a full capture")
    kept = pkts[first:]
    if any(p[TCP].flags.S for p in kept):
        raise SystemExit("SYN after the greeting: more than one session?")
    wrpcap(a.out, kept, linktype=1)
    print("%s: dropped %d packets (%s), kept %d" % (
        a.out, len(dropped), ", ".join(str(p[TCP].flags) for p in dropped), len(kept)))


if __name__ == "__main__":
    main()
