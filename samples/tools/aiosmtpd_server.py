#!/usr/bin/python3
"""Run the packaged aiosmtpd SMTP server (python3-aiosmtpd) on loopback.

Thin wrapper used by make-samples.sh: all protocol behaviour is aiosmtpd's own;
this file only chooses its documented options (hostname/ident for the banner,
data_size_limit, STARTTLS context or implicit-TLS ssl_context, authenticator)
and a small handler that accepts mail and throws it away (optionally rejecting some recipients).
Runs until SIGTERM/SIGINT. Writes READY-FILE once the server is listening.
"""
import argparse
import signal
import ssl
import sys
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, reject_prefix=None):
        self.reject_prefix = reject_prefix

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_prefix and address.startswith(self.reject_prefix):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and \
                auth_data.login == user.encode() and auth_data.password == password.encode():
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--hostname", default="mx.example.net", help="name in banner/EHLO")
    ap.add_argument("--ident", help="banner text after the host name")
    ap.add_argument("--size-limit", type=int, help="data_size_limit (SIZE)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true",
                    help="SMTPS (RFC 8314): TLS from the first byte (Controller ssl_context=) "
                         "instead of STARTTLS")
    ap.add_argument("--auth", help="USER:PASSWORD; enables AUTH without TLS")
    ap.add_argument("--auth-only", help="advertise only this AUTH mechanism")
    ap.add_argument("--reject-prefix", help="reject RCPT addresses starting with this")
    ap.add_argument("--ready-file")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1"):
        sys.exit("loopback only")

    kw = dict(server_hostname=a.hostname)
    if a.ident:
        kw["ident"] = a.ident
    if a.size_limit:
        kw["data_size_limit"] = a.size_limit
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        if a.implicit_tls:
            kw["ssl_context"] = ctx       # Controller wraps the listening socket
        else:
            kw["tls_context"] = ctx       # STARTTLS
    if a.auth:
        user, password = a.auth.split(":", 1)
        kw["authenticator"] = authenticator(user, password)
        kw["auth_require_tls"] = False
        if a.auth_only:
            kw["auth_exclude_mechanism"] = [m for m in ("LOGIN", "PLAIN") if m != a.auth_only]

    ctl = Controller(Handler(a.reject_prefix), hostname=a.host, port=a.port, **kw)
    ctl.start()
    if a.ready_file:
        open(a.ready_file, "w").write("ready\n")
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(1):
        pass
    ctl.stop()


if __name__ == "__main__":
    main()
