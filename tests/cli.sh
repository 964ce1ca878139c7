#!/bin/sh
# cli.sh BINARY: the command line's documented behaviour: exit statuses, one-line errors naming the
# file (and frame), stdin input, BPF filters, several files in one run.
bin=$1
out=tests/out/cli
mkdir -p "$out"
sample=$(ls samples/04-*.pcap 2>/dev/null | head -1)
[ -n "$sample" ] || sample=$(ls samples/*.pcap | head -1)

check() { # name expected-status expected-stderr-substring command...
    name=$1 want=$2 msg=$3
    shift 3
    "$@" > "$out/$name.out" 2> "$out/$name.err"
    rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL cli $name: exit $rc, expected $want"; head -3 "$out/$name.err"; return
    fi
    if [ -n "$msg" ] && ! grep -q -F -- "$msg" "$out/$name.err"; then
        echo "FAIL cli $name: stderr lacks '$msg'"; head -3 "$out/$name.err"; return
    fi
    echo "PASS cli $name"
}

check no-arguments 64 "usage:" "$bin"
check unknown-command 64 "unknown command 'frobnicate'" "$bin" frobnicate
check no-file 64 "no capture file" "$bin" read
check bad-port 64 "bad port list" "$bin" read --no-db --port 0 "$sample"
check missing-file 2 "/nonexistent.pcap:" "$bin" read --no-db /nonexistent.pcap
check not-a-capture 2 "README.md: unknown file format" "$bin" read --no-db README.md
check bad-filter 2 "bad filter 'tcp port'" "$bin" read --no-db -f 'tcp port' "$sample"
check version 0 "" "$bin" --version

# A capture cut in the middle of a record: what came before is analyzed, exit 1, file and frame named.
size=$(wc -c < "$sample")
head -c $((size - 7)) "$sample" > "$out/cut.pcap"
check truncated-file 1 "cut.pcap: frame " "$bin" read --no-db "$out/cut.pcap"
if grep -q '^sessions 1' "$out/truncated-file.out"; then echo "PASS cli truncated-file-keeps-sessions"
else echo "FAIL cli truncated-file-keeps-sessions: $(tail -1 "$out/truncated-file.out")"; fi

# Standard input gives the same transcript as the file.
"$bin" read --no-db --netmon "$sample" > "$out/file.txt" 2>&1
"$bin" read --no-db --netmon - < "$sample" > "$out/stdin.txt" 2>&1
if cmp -s "$out/file.txt" "$out/stdin.txt" && [ -s "$out/file.txt" ]; then echo "PASS cli stdin"
else echo "FAIL cli stdin: transcript from - differs from the file's"; fi

# A filter that matches nothing yields no session; one that matches keeps them.
"$bin" read --no-db -f 'udp' "$sample" > "$out/filter-none.txt" 2>&1
"$bin" read --no-db -f 'tcp' "$sample" > "$out/filter-tcp.txt" 2>&1
if grep -q '^sessions 0' "$out/filter-none.txt" && grep -q '^sessions 1' "$out/filter-tcp.txt"; then
    echo "PASS cli bpf-filter"
else echo "FAIL cli bpf-filter: $(tail -1 "$out/filter-none.txt") / $(tail -1 "$out/filter-tcp.txt")"; fi

# Several files in one run: sessions add up.
"$bin" read --no-db "$sample" "$sample" > "$out/two.txt" 2>&1
if grep -q '^sessions 2' "$out/two.txt"; then echo "PASS cli several-files"
else echo "FAIL cli several-files: $(tail -1 "$out/two.txt")"; fi

# Credentials never appear in clear (samples made with password s3cret-pw, base64 czNjcmV0LXB3).
for f in samples/*auth-plain*.pcap samples/*auth-login*.pcap; do
    [ -f "$f" ] || continue
    "$bin" read --no-db --netmon "$f" > "$out/auth.txt" 2>&1
    "$bin" read --no-db "$f" >> "$out/auth.txt" 2>&1
    if grep -q -e 's3cret' -e 'czNjcmV0' -e 'AGFsaWNlAHMzY3JldC1wdw' "$out/auth.txt"; then
        echo "FAIL cli redaction $(basename "$f"): a secret is printed"
    elif grep -q '<redacted>' "$out/auth.txt" && grep -q 'user="alice"' "$out/auth.txt"; then
        echo "PASS cli redaction $(basename "$f")"
    else
        echo "FAIL cli redaction $(basename "$f"): no <redacted> marker or user name"
    fi
done

# Detection (README "How conversations are found"): any port by content or nDPI, SMTPS, not HTTP.
expect_line() { # name pattern command...
    name=$1 pattern=$2
    shift 2
    if "$@" 2>&1 | grep -q -e "$pattern"; then echo "PASS cli $name"
    else echo "FAIL cli $name: no line matching '$pattern' in: $("$@" 2>&1 | tail -2 | tr '\n' ' ')"; fi
}
expect_line odd-port-found-without-port '^sessions 1,' "$bin" read --no-db samples/30-port-10025.pcap
expect_line odd-port-no-detect '^sessions 0,' "$bin" read --no-db --no-detect samples/30-port-10025.pcap
expect_line odd-port-listed '^sessions 1,' "$bin" read --no-db --no-detect --port 10025 samples/30-port-10025.pcap
expect_line odd-port-no-syn 'frames 1-21 end=quit banner="220' "$bin" read --no-db samples/35-smtp-odd-port-no-syn.pcap
expect_line smtps-implicit-tls 'tls=implicit sni="mail.example.test" app=SMTPS' "$bin" read --no-db samples/31-smtps-465.pcap
expect_line submission-starttls '127.0.0.1:587 .*tls=starttls' "$bin" read --no-db samples/32-submission-587-starttls.pcap
expect_line http-on-25-not-smtp '^sessions 0,' "$bin" read --no-db samples/33-http-on-port-25.pcap
expect_line http-on-25-counted 'other TCP conversations (not SMTP): HTTP 1' "$bin" read --no-db samples/33-http-on-port-25.pcap
expect_line starttls-then-clear 'messages=1 findings=tls_not_started$' "$bin" read --no-db samples/34-starttls-then-clear.pcap
expect_line version-lists-libraries '^nDPI 4\.' "$bin" --version

# show --ladder: the session as a ladder diagram (frame, time, arrows, findings under their row).
rm -f "$out/ladder.db"*
"$bin" read -q -d "$out/ladder.db" samples/04-ehlo-trailing-dot-501.pcap > /dev/null 2>&1
"$bin" show -d "$out/ladder.db" --ladder 1 > "$out/ladder.txt" 2>&1
if grep -q -- '|----EHLO sub2\.---' "$out/ladder.txt" && grep -q -- '|<---501 Invalid Address---' "$out/ladder.txt" &&
    grep -q '! invalid_helo_argument' "$out/ladder.txt" && [ "$(awk '{ if (length($0) > 100) n++ } END { print n + 0 }' "$out/ladder.txt")" = 0 ]; then
    echo "PASS cli show-ladder"
else
    echo "FAIL cli show-ladder: $(head -12 "$out/ladder.txt")"
fi

# help, colour and progress (issue 8).
expect_line help-read '^usage: smtptrace read' "$bin" help read
expect_line help-query '^usage: smtptrace query' "$bin" help query
if "$bin" read --no-db --color always samples/04-ehlo-trailing-dot-501.pcap | grep -q "$(printf '\033')\[31mreply_5xx"; then
    echo "PASS cli color-always"
else echo "FAIL cli color-always: no red reply_5xx"; fi
if "$bin" read --no-db samples/04-ehlo-trailing-dot-501.pcap | grep -q "$(printf '\033')"; then
    echo "FAIL cli color-auto-pipe: escape codes in a pipe"
else echo "PASS cli color-auto-pipe"; fi
if command -v script >/dev/null; then
    script -qc "NO_COLOR=1 $bin read --no-db --color auto samples/04-ehlo-trailing-dot-501.pcap" /dev/null > "$out/nocolor.txt" 2>&1
    if grep -q "$(printf '\033')\[3" "$out/nocolor.txt"; then echo "FAIL cli no-color-env: colour on a terminal with NO_COLOR"
    else echo "PASS cli no-color-env"; fi
    script -qc "$bin read --no-db samples/04-ehlo-trailing-dot-501.pcap" /dev/null > "$out/tty.txt" 2>&1
    if grep -q "$(printf '\033')\[33mfallback" "$out/tty.txt"; then echo "PASS cli color-on-terminal"
    else echo "FAIL cli color-on-terminal: $(head -1 "$out/tty.txt")"; fi
    python3 tests/tools/replicate.py samples/14-lowercase-python.pcap "$out/progress.pcap" 40000 > /dev/null
    script -qc "$bin read --no-db $out/progress.pcap > /dev/null" /dev/null > "$out/progress.txt" 2>&1
    if grep -q 'progress.pcap: .*% .* MB/s' "$out/progress.txt"; then echo "PASS cli progress-on-terminal"
    else echo "FAIL cli progress-on-terminal: $(tr '\r' '\n' < "$out/progress.txt" | tail -2)"; fi
    "$bin" read --no-db "$out/progress.pcap" > /dev/null 2> "$out/noprogress.txt"
    if [ -s "$out/noprogress.txt" ]; then echo "FAIL cli no-progress-in-pipe: $(head -c 200 "$out/noprogress.txt")"
    else echo "PASS cli no-progress-in-pipe"; fi
else
    echo "SKIP cli terminal tests: no script(1)"
fi

# make install with PREFIX and DESTDIR: the binary and the man page, which renders without warnings.
rm -rf "$out/inst"
if make -s install DESTDIR="$out/inst" PREFIX=/usr > /dev/null 2>&1 && [ -x "$out/inst/usr/bin/smtptrace" ] &&
    [ -f "$out/inst/usr/share/man/man1/smtptrace.1" ] &&
    ! groff -man -Tutf8 -ww "$out/inst/usr/share/man/man1/smtptrace.1" 2>&1 >/dev/null | grep -q .; then
    echo "PASS cli make-install"
else
    echo "FAIL cli make-install: $(find "$out/inst" -type f 2>/dev/null | tr '\n' ' ')"
fi
