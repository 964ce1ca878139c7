#!/usr/bin/env python3
# check_dom.py DOM.html: checks a report page as Chromium left it (--dump-dom); prints one "ok ..." or "bad: why" line.
import re
import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.body = {}
        self.charts = {}
        self.errors = ""
        self.in_errors = False
        self.rects = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if "chart" in (a.get("class") or "").split():
            self.charts[a.get("id", "?")] = a.get("data-bars")
        if tag == "pre" and a.get("id") == "errors":
            self.in_errors = True
        if tag == "rect" and "bar-rect" in (a.get("class") or ""):
            self.rects += 1

    def handle_endtag(self, tag):
        if tag == "pre":
            self.in_errors = False

    def handle_data(self, data):
        if self.in_errors:
            self.errors += data


def main():
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    d = Dom()
    d.feed(text)
    if d.body.get("data-ready") != "1":
        print("bad: body data-ready is %r (the script did not finish)" % d.body.get("data-ready"))
        return 1
    if d.errors.strip() or d.body.get("data-errors"):
        print("bad: script errors: %s" % re.sub(r"\s+", " ", d.errors.strip())[:300])
        return 1
    try:
        n = int(d.body.get("data-charts", "0"))
    except ValueError:
        n = 0
    if n <= 0 or not d.charts:
        print("bad: data-charts=%r, %d chart elements" % (d.body.get("data-charts"), len(d.charts)))
        return 1
    empty = [k for k, v in d.charts.items() if not v or not v.isdigit() or int(v) == 0]
    if empty:
        print("bad: charts without bars: %s" % ", ".join(empty))
        return 1
    if d.rects == 0:
        print("bad: no bar rectangles in the SVG")
        return 1
    print("ok %d charts, %d bars" % (n, d.rects))
    return 0


sys.exit(main())
