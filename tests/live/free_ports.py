#!/usr/bin/python3
"""Prints N TCP ports free on 127.0.0.1 right now (bound together, so they differ), one per line."""
import socket
import sys

socks = []
for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
    s.close()
