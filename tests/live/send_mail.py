#!/usr/bin/python3
"""Sends the test mail of tests/live.sh with smtplib (one conversation per case, each ended by QUIT).

Usage: send_mail.py CASE PORT   CASE: good | rejected | fallback
  good      one message, one accepted recipient
  rejected  one message to an accepted and a 550-refused recipient (aiosmtpd server)
  fallback  EHLO answered 500, smtplib falls back to HELO (scripted server)
Exits 0 when the conversation went as the case expects.
"""
import smtplib
import sys

MSG = ("From: sender@example.test\r\nTo: rcpt@example.test\r\nSubject: smtptrace live test\r\n\r\n"
       "Hello from tests/live.sh.\r\n")


def main():
    case, port = sys.argv[1], int(sys.argv[2])
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.test", timeout=5)
    if case == "good":
        refused = s.sendmail("sender@example.test", ["rcpt@example.test"], MSG)
        ok = not refused
    elif case == "rejected":
        refused = s.sendmail("sender@example.test", ["rcpt@example.test", "reject@example.test"], MSG)
        ok = list(refused) == ["reject@example.test"] and refused["reject@example.test"][0] == 550
    elif case == "fallback":
        refused = s.sendmail("sender@example.test", ["rcpt@example.test"], MSG)
        ok = not refused and not s.does_esmtp
    else:
        sys.exit("unknown case " + case)
    s.quit()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
