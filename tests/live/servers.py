#!/usr/bin/python3
"""Test servers for tests/live.sh: aiosmtpd on one port, a scripted EHLO-refusing server on another.

Usage: servers.py AIOSMTPD_PORT SCRIPTED_PORT READY_FILE
The aiosmtpd server (python3-aiosmtpd, the real thing) answers RCPT to
addresses starting with "reject" with 550; the scripted server answers EHLO
with 500 and HELO with 250, like an old Exchange IMC, so the client falls back.
Both listen on 127.0.0.1 only. READY_FILE is written once both listen (before
the capture starts, so aiosmtpd's own start-up probe is not captured).
Runs until SIGTERM/SIGINT.
"""
import signal
import socket
import sys
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

from aiosmtpd.controller import Controller  # noqa: E402


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 OK queued"


def send(sock, *lines):
    sock.sendall(b"".join(l.encode() + b"\r\n" for l in lines))


def serve_helo_only(sock):
    buf = b""
    send(sock, "220 oldmail.example.test Microsoft Exchange Internet Mail Connector 4.0 ready")
    in_data = False
    while True:
        while b"\r\n" not in buf:
            d = sock.recv(65536)
            if not d:
                return
            buf += d
        raw, buf = buf.split(b"\r\n", 1)
        line = raw.decode("latin-1")
        if in_data:
            if line == ".":
                in_data = False
                send(sock, "250 OK")
            continue
        verb = line.split(" ", 1)[0].upper()
        if verb == "EHLO":
            send(sock, "500 Command unrecognized")
        elif verb == "HELO":
            send(sock, "250 oldmail.example.test")
        elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
            send(sock, "250 OK")
        elif verb == "DATA":
            send(sock, "354 Send data.  End with CRLF.CRLF")
            in_data = True
        elif verb == "QUIT":
            send(sock, "221 closing connection")
            return
        else:
            send(sock, "500 Command unrecognized")


def scripted_loop(listener):
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.settimeout(10)
        try:
            serve_helo_only(conn)
        except OSError:
            pass
        finally:
            conn.close()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: servers.py AIOSMTPD_PORT SCRIPTED_PORT READY_FILE")
    aio_port, scripted_port, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    controller = Controller(Handler(), hostname="127.0.0.1", port=aio_port, server_hostname="mx.example.test")
    controller.start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", scripted_port))
    listener.listen(8)
    threading.Thread(target=scripted_loop, args=(listener,), daemon=True).start()
    with open(ready, "w") as f:
        f.write("ready\n")
    stop.wait()
    listener.close()
    controller.stop()


if __name__ == "__main__":
    main()
