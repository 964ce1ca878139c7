#!/usr/bin/python3
"""Tiny socket-based SMTP server that imitates old or odd servers.

Only for behaviour that no packaged server shows (used by make-samples.sh):

  sendmail86   multi-line "220-" Sendmail 8.6 banner, EHLO accepted
  helo-only    Exchange-IMC-like: "500 Command unrecognized" to EHLO, HELO works
  kb240832     Exchange 5.5 IMS: "501 Invalid Address" to EHLO/HELO whose
               argument ends with a dot (Microsoft KB Q240832)
  xauth        lists XAUTH (not AUTH) in its EHLO reply; AUTH -> 500 5.3.3
  421-greeting greets with "421 4.3.2 Service shutting down" and hangs up
  421-mail     normal greeting and EHLO, answers MAIL with 421 and hangs up
  starttls-clear  lists STARTTLS; answers it "220 Ready to start TLS" but never
               starts TLS itself and goes on reading plain SMTP (for a client
               that does not start TLS either)

Listens on loopback only; serves connections one after another until killed.
Writes READY-FILE (if given) once it is listening.
"""
import argparse
import socket
import sys


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, *lines):
        # all lines of one reply in a single write (one TCP segment)
        self.sock.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

    def readline(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def read_data(self):
        """Read a DATA body up to CRLF.CRLF; returns bytes or None on EOF."""
        body = []
        while True:
            line = self.readline()
            if line is None:
                return None
            if line == ".":
                return body
            body.append(line)


def verb_arg(line):
    parts = line.split(" ", 1)
    return parts[0].upper(), (parts[1] if len(parts) > 1 else "")


def generic_transaction(c, verb, arg, r):
    """Handle MAIL/RCPT/DATA/RSET/NOOP/QUIT with the reply texts in r.
    Returns False when the connection is over."""
    if verb == "MAIL":
        c.send(r["mail"].format(arg=arg.split(":", 1)[-1].strip()))
    elif verb == "RCPT":
        c.send(r["rcpt"].format(arg=arg.split(":", 1)[-1].strip()))
    elif verb == "DATA":
        c.send(r["data"])
        if c.read_data() is None:
            return False
        c.send(r["queued"])
    elif verb == "RSET":
        c.send(r.get("rset", "250 OK"))
    elif verb == "NOOP":
        c.send(r.get("noop", "250 OK"))
    elif verb == "QUIT":
        c.send(r["quit"])
        return False
    else:
        c.send(r["unknown"])
    return True


def serve_sendmail86(c):
    host = "mail.your-domain.com"
    r = dict(mail="250 {arg}... Sender ok", rcpt="250 {arg}... Recipient ok",
             data='354 Enter mail, end with "." on a line by itself',
             queued="250 JAA01234 Message accepted for delivery",
             rset="250 Reset state", quit="221 %s closing connection" % host,
             unknown="500 Command unrecognized")
    c.send("220-%s Sendmail 8.6.12/8.6.9 ready at Sat, 28 Aug 1999 09:32:00 -0400" % host,
           "220 ESMTP spoken here")
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb == "EHLO":
            c.send("250-%s Hello %s [127.0.0.1], pleased to meet you" % (host, arg),
                   "250-EXPN", "250-SIZE", "250 HELP")
        elif verb == "HELO":
            c.send("250 %s Hello %s [127.0.0.1], pleased to meet you" % (host, arg))
        elif not generic_transaction(c, verb, arg, r):
            return


def serve_helo_only(c):
    host = "oldmail.example.com"
    r = dict(mail="250 OK - mail from {arg}", rcpt="250 OK - Recipient {arg}",
             data="354 Send data.  End with CRLF.CRLF", queued="250 OK",
             quit="221 closing connection", unknown="500 Command unrecognized")
    c.send("220 %s Microsoft Exchange Internet Mail Connector 4.0.994.63 ready" % host)
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb == "EHLO":
            c.send("500 Command unrecognized")
        elif verb == "HELO":
            c.send("250 %s" % host)
        elif not generic_transaction(c, verb, arg, r):
            return


def serve_kb240832(c):
    host = "exchange.example.com"
    r = dict(mail="250 OK - mail from {arg}", rcpt="250 OK - Recipient {arg}",
             data="354 Send data.  End with CRLF.CRLF", queued="250 OK",
             quit="221 closing connection", unknown="500 Command not supported")
    c.send("220 %s ESMTP Server (Microsoft Exchange Internet Mail Service "
           "5.5.2650.21) ready" % host)
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb in ("EHLO", "HELO"):
            if arg.endswith(".") or not arg:
                c.send("501 Invalid Address")
            elif verb == "EHLO":
                c.send("250-%s Hello [127.0.0.1]" % host, "250-XEXCH50",
                       "250-SIZE 0", "250 HELP")
            else:
                c.send("250 %s Hello [127.0.0.1]" % host)
        elif not generic_transaction(c, verb, arg, r):
            return


def serve_xauth(c):
    host = "mail.example.com"
    r = dict(mail="250 2.1.0 {arg}... Sender ok", rcpt="250 2.1.5 {arg}... Recipient ok",
             data="354 Enter mail, end with \".\" on a line by itself",
             queued="250 2.0.0 Message accepted for delivery",
             quit="221 2.0.0 %s closing connection" % host,
             unknown="500 5.3.3 Unrecognized command")
    c.send("220 %s ESMTP Mail Service ready" % host)
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb == "EHLO":
            c.send("250-%s Hello [127.0.0.1], pleased to meet you" % host,
                   "250-ENHANCEDSTATUSCODES", "250-XAUTH", "250-SIZE 10485760",
                   "250-8BITMIME", "250 HELP")
        elif verb == "HELO":
            c.send("250 %s Hello [127.0.0.1], pleased to meet you" % host)
        elif verb == "AUTH":
            c.send("500 5.3.3 Unrecognized command")
        elif not generic_transaction(c, verb, arg, r):
            return


def serve_421_greeting(c):
    c.send("421 4.3.2 Service shutting down")
    # give the client a moment to read before closing; do not read anything
    c.sock.shutdown(socket.SHUT_WR)
    try:
        while c.sock.recv(4096):
            pass
    except OSError:
        pass


def serve_421_mail(c):
    host = "mx.example.com"
    c.send("220 %s ESMTP ready" % host)
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb == "EHLO":
            c.send("250-%s Hello [127.0.0.1]" % host, "250-SIZE 10485760",
                   "250-8BITMIME", "250 ENHANCEDSTATUSCODES")
        elif verb == "HELO":
            c.send("250 %s" % host)
        elif verb == "MAIL":
            c.send("421 4.3.2 Service shutting down, closing transmission channel")
            return
        elif verb == "QUIT":
            c.send("221 2.0.0 Bye")
            return
        else:
            c.send("500 5.5.1 Command unrecognized")


def serve_starttls_clear(c):
    host = "mx.example.net"
    r = dict(mail="250 2.1.0 Sender OK", rcpt="250 2.1.5 Recipient OK",
             data="354 End data with <CR><LF>.<CR><LF>", queued="250 2.0.0 OK queued",
             quit="221 2.0.0 Bye", unknown="500 5.5.1 Command unrecognized")
    c.send("220 %s ESMTP ready" % host)
    while True:
        line = c.readline()
        if line is None:
            return
        verb, arg = verb_arg(line)
        if verb == "EHLO":
            c.send("250-%s Hello %s" % (host, arg), "250-SIZE 10485760",
                   "250-8BITMIME", "250-STARTTLS", "250 HELP")
        elif verb == "HELO":
            c.send("250 %s" % host)
        elif verb == "STARTTLS":
            # the reply that normally precedes the TLS handshake; no TLS follows
            c.send("220 Ready to start TLS")
        elif not generic_transaction(c, verb, arg, r):
            return


PROFILES = {
    "sendmail86": serve_sendmail86,
    "helo-only": serve_helo_only,
    "kb240832": serve_kb240832,
    "xauth": serve_xauth,
    "421-greeting": serve_421_greeting,
    "421-mail": serve_421_mail,
    "starttls-clear": serve_starttls_clear,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", required=True, choices=sorted(PROFILES))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ready-file")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1"):
        sys.exit("loopback only")
    fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.host, a.port))
    ls.listen(5)
    if a.ready_file:
        open(a.ready_file, "w").write("ready\n")
    while True:
        s, _ = ls.accept()
        try:
            PROFILES[a.profile](Conn(s))
        except OSError:
            pass
        finally:
            s.close()


if __name__ == "__main__":
    main()
