#!/usr/bin/python3
"""Socket-based SMTP client for what no packaged client does on its own.

  ntlm            EHLO, "AUTH NTLM" (as Outlook/Exchange clients send it), QUIT
  bdat            EHLO, MAIL, RCPT, "BDAT 1000" + 1000 bytes (command and chunk
                  in one write), "BDAT 500 LAST" then 500 bytes (separate
                  writes), QUIT.  The chunks contain "\r\n.\r\n" and a "QUIT"
                  line, which must be taken as message data, not as commands.
  bdat-fallback   BDAT to a server without CHUNKING: "BDAT n LAST" -> 5xx, the
                  chunk is not sent; falls back to DATA, then QUIT.
  starttls-clear  EHLO, STARTTLS (-> 220), then does NOT start TLS: EHLO again
                  in clear, MAIL, RCPT, DATA + body, QUIT.
Upper-case verbs; waits for each reply before going on (no pipelining).
"""
import argparse
import socket
import sys

HELO_NAME = "client.example.org"


class Client:
    def __init__(self, host, port):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.s = socket.create_connection((host, port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    raise EOFError("connection closed")
                self.buf += d
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            print("<- " + lines[-1])
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)
        shown = data.decode("latin-1")
        print("-> " + (shown if len(shown) < 80 else shown[:60] + "...(%d bytes)" % len(data)).rstrip())

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()


def bdat_message():
    """Exactly 1500 bytes; chunk boundary (1000) falls inside a line."""
    head = ("From: Alice <alice@example.org>\r\n"
            "To: Bob <bob@example.com>\r\n"
            "Subject: BDAT (CHUNKING) sample message\r\n"
            "Date: Sat, 01 Jan 2022 12:00:00 +0000\r\n"
            "Message-ID: <bdat-sample@client.example.org>\r\n"
            "\r\n"
            "This message is sent with BDAT. The next line is a lone dot:\r\n"
            ".\r\n"
            "and the next one says QUIT:\r\n"
            "QUIT\r\n"
            "Neither ends the message nor the session: BDAT counts bytes.\r\n")
    body = head
    i = 0
    while len(body) < 1500:
        body += "Chunk filler line %03d ..........................................\r\n" % i
        i += 1
    tail = "Second chunk: another lone dot follows\r\n.\r\nEnd.\r\n"
    body = body[:1500 - len(tail) - 2]
    body += "\r\n" + tail
    assert len(body) == 1500, len(body)
    assert "\r\n.\r\n" in body[:1000] and "\r\nQUIT\r\n" in body[:1000]
    assert "\r\n.\r\n" in body[1000:]
    return body.encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True, choices=["ntlm", "bdat", "bdat-fallback", "starttls-clear"])
    a = ap.parse_args()
    c = Client(a.host, a.port)
    c.reply()
    c.cmd("EHLO " + HELO_NAME)
    if a.scenario == "ntlm":
        c.cmd("AUTH NTLM")
    elif a.scenario == "bdat":
        msg = bdat_message()
        c.cmd("MAIL FROM:<alice@example.org>")
        c.cmd("RCPT TO:<bob@example.com>")
        c.send(b"BDAT 1000\r\n" + msg[:1000])
        c.reply()
        c.send(b"BDAT 500 LAST\r\n")
        c.send(msg[1000:])
        c.reply()
    elif a.scenario == "bdat-fallback":
        msg = bdat_message()
        c.cmd("MAIL FROM:<alice@example.org>")
        c.cmd("RCPT TO:<bob@example.com>")
        code, _ = c.cmd("BDAT %d LAST" % len(msg))
        if code >= 500:
            code, _ = c.cmd("DATA")
            if code == 354:
                # dot-stuff for DATA
                body = msg.replace(b"\r\n.", b"\r\n..")
                c.send(body + b".\r\n")
                c.reply()
    elif a.scenario == "starttls-clear":
        c.cmd("STARTTLS")
        c.cmd("EHLO " + HELO_NAME)           # still plain text
        c.cmd("MAIL FROM:<alice@example.org>")
        c.cmd("RCPT TO:<bob@example.com>")
        code, _ = c.cmd("DATA")
        if code == 354:
            c.send("From: Alice <alice@example.org>\r\n"
                   "To: Bob <bob@example.com>\r\n"
                   "Subject: Sent in clear after STARTTLS\r\n"
                   "Date: Sat, 01 Jan 2022 12:00:00 +0000\r\n"
                   "Message-ID: <starttls-clear@client.example.org>\r\n"
                   "\r\n"
                   "The server said 220 to STARTTLS, but no TLS was started.\r\n"
                   ".\r\n")
            c.reply()
    c.cmd("QUIT")


if __name__ == "__main__":
    main()
