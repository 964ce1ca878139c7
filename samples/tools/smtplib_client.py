#!/usr/bin/python3
"""SMTP client sessions driven by Python's standard smtplib (real client).

Each --scenario is what a program using smtplib would do; smtplib chooses the
wire format (lower-case verbs, SIZE= when advertised, HELO fallback, ...).
Errors the scenario expects (e.g. 552, 501, 421) are caught and printed.
"""
import argparse
import smtplib
import ssl
import sys

FROM = "alice@example.org"
TO = "bob@example.com"
HELO_NAME = "client.example.org"


def message(subject, body_lines=3, pad_to=None):
    hdr = ("From: Alice <%s>\r\nTo: Bob <%s>\r\nSubject: %s\r\n"
           "Date: Sat, 01 Jan 2022 12:00:00 +0000\r\n"
           "Message-ID: <%s@client.example.org>\r\n\r\n" % (
               FROM, TO, subject, subject.replace(" ", "-").lower()))
    body = "".join("Line %03d of the message body for smtptrace samples.\r\n" % i
                   for i in range(1, body_lines + 1))
    msg = hdr + body
    if pad_to:
        filler = []
        n = len(msg)
        i = 0
        while n < pad_to:
            l = "Padding line %04d: the quick brown fox jumps over the lazy dog.\r\n" % i
            filler.append(l)
            n += len(l)
            i += 1
        msg += "".join(filler)
    return msg


def show(what, r):
    print("%s -> %r" % (what, r))


class SNI_SMTP_SSL(smtplib.SMTP_SSL):
    """smtplib.SMTP_SSL that connects to an address but sends SNI NAME.

    SMTP_SSL puts the host it connects to into server_hostname, and an IP
    address gives no SNI; here the TCP connection goes to HOST and the
    ClientHello carries NAME (what a client does after resolving NAME)."""

    def __init__(self, sni, *args, **kw):
        self.sni = sni
        super().__init__(*args, **kw)

    def _get_socket(self, host, port, timeout):
        self._host = self.sni            # used by SMTP_SSL as server_hostname
        return super()._get_socket(host, port, timeout)


def run(a):
    host = a.host
    if a.scenario == "smtps":
        # implicit TLS (RFC 8314, port 465): no verification, but SNI is sent
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = SNI_SMTP_SSL(a.sni, host, a.port, local_hostname=HELO_NAME, timeout=10,
                         context=ctx)
        show("tls", (s.sock.version(), s.sock.server_hostname))
        show("sendmail", s.sendmail(FROM, [TO], message("Sent over SMTPS")))
        show("quit", s.quit())
        return
    if a.scenario == "421-greeting":
        try:
            smtplib.SMTP(host, a.port, local_hostname=HELO_NAME, timeout=10)
        except smtplib.SMTPConnectError as e:
            show("connect", e)
        return

    s = smtplib.SMTP(host, a.port, local_hostname=a.helo or HELO_NAME, timeout=10)
    s.set_debuglevel(1 if a.verbose else 0)
    sc = a.scenario
    if sc == "simple":
        show("sendmail", s.sendmail(FROM, [TO], message("Sample message", a.lines)))
    elif sc == "helo-fallback":
        # sendmail() does EHLO, and on a 5xx to EHLO falls back to HELO itself
        show("sendmail", s.sendmail(FROM, [TO], message("Sent after HELO fallback")))
    elif sc == "ehlo-dot":
        try:
            s.sendmail(FROM, [TO], message("never sent"))
        except smtplib.SMTPHeloError as e:
            show("sendmail", e)
    elif sc == "size-declared":
        s.ehlo()
        try:
            s.sendmail(FROM, [TO], message("Too big", pad_to=5000))
        except smtplib.SMTPSenderRefused as e:
            show("sendmail", e)
    elif sc == "size-undeclared":
        s.ehlo()
        show("mail", s.mail(FROM))            # no SIZE= parameter
        show("rcpt", s.rcpt(TO))
        try:
            s.data(message("Too big, not declared", pad_to=5000))
        except smtplib.SMTPDataError as e:
            show("data", e)
    elif sc == "starttls":
        s.ehlo()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        show("starttls", s.starttls(context=ctx))
        s.ehlo()
        show("sendmail", s.sendmail(FROM, [TO], message("Sent over TLS")))
    elif sc == "two-messages":
        show("sendmail1", s.sendmail(FROM, [TO], message("First message")))
        show("sendmail2", s.sendmail("carol@example.org", [TO, "dave@example.com"],
                                     message("Second message", 5)))
    elif sc in ("auth-plain", "auth-login"):
        s.ehlo()
        show("login", s.login("alice", "s3cret-pw"))
        show("sendmail", s.sendmail(FROM, [TO], message("Authenticated message")))
    elif sc == "rset-noop-vrfy":
        s.ehlo()
        show("noop", s.noop())
        show("vrfy", s.verify("bob"))
        show("help", s.help())
        show("mail", s.mail(FROM))
        show("rcpt", s.rcpt(TO))
        show("rset", s.rset())
        show("noop", s.noop())
        show("sendmail", s.sendmail(FROM, [TO], message("After RSET")))
    elif sc == "rcpt-rejected":
        show("sendmail", s.sendmail(FROM, ["nobody@example.com", TO],
                                    message("One recipient rejected")))
    else:
        sys.exit("unknown scenario " + sc)
    show("quit", s.quit())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--helo")
    ap.add_argument("--sni", default="mail.example.test", help="SNI for --scenario smtps")
    ap.add_argument("--lines", type=int, default=3)
    ap.add_argument("-v", "--verbose", action="store_true")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
