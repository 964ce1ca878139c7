#!/bin/bash
# Regenerate the sample SMTP packet captures in this directory (samples/).
#
#   sudo samples/make-samples.sh          (must be root: tcpdump, postfix)
#   sudo samples/make-samples.sh 30 33    only the listed new cases (30-35);
#   sudo SAMPLES="30 31" samples/make-samples.sh     the same; "new" = 30-35.
#   With a selection, files 01-28 are neither rebuilt nor touched.
#
# Every server listens on loopback only (127.0.0.1 / ::1) on a test port
# (25NN, NN = case number); captures are taken with tcpdump on "lo" (or
# "any" for the cooked-header cases) with a port filter.  Every process this
# script starts is recorded by PID and stopped by PID, also on failure.
# Real software is used wherever it shows the case: aiosmtpd and a private
# Postfix instance as servers, swaks and Python smtplib as clients.  The
# scripted server/client in tools/ cover only what no packaged program does.
# Files 20-28 are rewritten deterministically from 14-lowercase-python.pcap
# by tools/rewrite_pcap.py (scapy).
# Cases 30-35 (SMTP on other ports, SMTPS, HTTP on 25, STARTTLS not followed
# by TLS) use the ports the case is about: 10025, 465, 587, 25 (all on
# 127.0.0.1); 35 is rewritten from 30 by tools/drop_handshake.py.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS=$HERE/tools
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'make-samples: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (tcpdump capture, private postfix instance)"

# ---------------------------------------------------------------- packages --
need_pkgs=()
command -v tcpdump >/dev/null || need_pkgs+=(tcpdump)
command -v swaks >/dev/null || need_pkgs+=(swaks)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v curl >/dev/null || need_pkgs+=(curl)              # case 33
$PY -c 'import aiosmtpd' 2>/dev/null || need_pkgs+=(python3-aiosmtpd)
$PY -c 'import scapy.all' 2>/dev/null || need_pkgs+=(python3-scapy)
command -v postfix >/dev/null || need_pkgs+=(postfix)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing ${need_pkgs[*]}"
    # Postfix: install without a system configuration; only a private
    # instance (tools/postfix-instance.sh) is ever started.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2 \
        || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2; }
fi

# ------------------------------------------------------ processes & cleanup --
WORK=$(mktemp -d /tmp/smtptrace-samples.XXXXXX)
chmod 755 "$WORK"                 # postfix daemons (user postfix) use $WORK/postfix
PF_DIR=$WORK/postfix
PIDS=()                           # every background process we started
PF_STARTED=0

forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

stop_pid() {      # stop_pid PID [SIGNAL]: signal one process we started, wait for it
    local pid=$1 sig=${2:-TERM}
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

cleanup() {
    local rc=$?
    set +e
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    PIDS=()
    [ "$PF_STARTED" = 1 ] && "$TOOLS/postfix-instance.sh" stop "$PF_DIR"
    rm -rf "$WORK"
    [ $rc = 0 ] || echo "make-samples: FAILED (rc=$rc)" >&2
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_file() {     # wait_file FILE [TIMEOUT_TENTHS]
    local i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1)); [ $i -le "${2:-100}" ] || die "timeout waiting for $1"
        sleep 0.1
    done
}

SERVER_PID=
start_server() {  # start_server NAME CMD...: run a server in background, wait until ready
    local name=$1; shift
    local ready=$WORK/$name.ready
    rm -f "$ready"
    "$@" --ready-file "$ready" >"$WORK/$name.out" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i=0
    while [ ! -s "$ready" ]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.out" >&2; die "server $name died"; }
        i=$((i + 1)); [ $i -le 100 ] || die "server $name not ready"
        sleep 0.1
    done
}

TCPDUMP_PID=
CAP_FILE=
cap_start() {     # cap_start FILE IFACE FILTER [tcpdump options]
    CAP_FILE=$1; local iface=$2 filter=$3; shift 3
    rm -f "$WORK/$CAP_FILE" "$WORK/$CAP_FILE.log"
    tcpdump -i "$iface" -s 0 -U -n -Z root "$@" -w "$WORK/$CAP_FILE" "$filter" \
        2>"$WORK/$CAP_FILE.log" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    local i=0
    until grep -q "listening on" "$WORK/$CAP_FILE.log" 2>/dev/null; do
        kill -0 "$TCPDUMP_PID" 2>/dev/null || { cat "$WORK/$CAP_FILE.log" >&2; die "tcpdump died"; }
        i=$((i + 1)); [ $i -le 100 ] || die "tcpdump not ready"
        sleep 0.1
    done
    sleep 0.2
}

cap_stop() {      # stop tcpdump with SIGINT after the last packets are in, keep the file
    sleep 0.7
    stop_pid "$TCPDUMP_PID" INT
    TCPDUMP_PID=
    local n
    n=$(tcpdump -nn -r "$WORK/$CAP_FILE" 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] || die "$CAP_FILE: no packets captured"
    mv -f "$WORK/$CAP_FILE" "$HERE/$CAP_FILE"
    chmod 644 "$HERE/$CAP_FILE"
    log "$CAP_FILE: $n packets, $(stat -c %s "$HERE/$CAP_FILE") bytes"
}

client() {        # client LOGNAME CMD...: run a client, keep its transcript in $WORK
    local name=$1; shift
    "$@" >"$WORK/$name.client" 2>&1 || { cat "$WORK/$name.client" >&2; die "client for $name failed"; }
}

# a case on lo with one aiosmtpd/scripted server started for it
AIOSMTPD=("$PY" "$TOOLS/aiosmtpd_server.py")
SCRIPTED=("$PY" "$TOOLS/scripted_server.py")
SMTPLIB=("$PY" "$TOOLS/smtplib_client.py")
SCLIENT=("$PY" "$TOOLS/scripted_client.py")
SWAKS=(swaks --helo client.example.org --from alice@example.org --to bob@example.com
       --header "Subject: smtptrace sample" --body "Hello Bob, this is a sample message.")

# ------------------------------------------------------- new cases (30-35) --
# Each one is a function, so that a run can build only some of them
# (arguments or $SAMPLES) without touching files 01-28.
NEW_CASES="30 31 32 33 34 35"

port_free() {     # port_free PORT: die if something already listens on 127.0.0.1:PORT / *:PORT
    if ss -ltnH "sport = :$1" | grep -q .; then
        ss -ltnp "sport = :$1" >&2
        die "port $1 is already in use"
    fi
}

wait_listen() {   # wait_listen PID PORT NAME: until PID listens on PORT (10 s)
    local i=0
    until ss -ltnH "src 127.0.0.1 and sport = :$2" | grep -q .; do
        kill -0 "$1" 2>/dev/null || { cat "$WORK/$3.out" >&2; die "server $3 died"; }
        i=$((i + 1)); [ $i -le 100 ] || die "server $3 not listening on $2"
        sleep 0.1
    done
}

tls_cert() {      # throw-away self-signed P-256 certificate for mail.example.test (not kept)
    [ -s "$WORK/smtps-cert.pem" ] && return
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$WORK/smtps-key.pem" -out "$WORK/smtps-cert.pem" -days 2 \
        -subj "/CN=mail.example.test" -addext "subjectAltName=DNS:mail.example.test" 2>/dev/null
}

# 30 an ordinary ESMTP session on 10025 (a content-filter / reinjection port)
case_30() {
    port_free 10025
    start_server s30 "${AIOSMTPD[@]}" --port 10025
    cap_start 30-port-10025.pcap lo "tcp port 10025"
    client 30 "${SMTPLIB[@]}" --port 10025 --scenario simple
    cap_stop; stop_pid "$SERVER_PID"
}

# 31 SMTPS on 465: TLS from the first byte (aiosmtpd Controller ssl_context=),
#    smtplib.SMTP_SSL sending SNI mail.example.test, no certificate check
case_31() {
    port_free 465
    tls_cert
    start_server s31 "${AIOSMTPD[@]}" --port 465 --hostname mail.example.test \
        --tls-cert "$WORK/smtps-cert.pem" --tls-key "$WORK/smtps-key.pem" --implicit-tls
    cap_start 31-smtps-465.pcap lo "tcp port 465"
    client 31 "${SMTPLIB[@]}" --port 465 --scenario smtps --sni mail.example.test
    cap_stop; stop_pid "$SERVER_PID"
    grep -q "'mail.example.test'" "$WORK/31.client" || { cat "$WORK/31.client" >&2; die "31: no SNI"; }
}

# 32 submission port 587 with STARTTLS (aiosmtpd tls_context; require_starttls
#    stays at its default False), smtplib starttls() then one message, no AUTH
case_32() {
    port_free 587
    tls_cert
    start_server s32 "${AIOSMTPD[@]}" --port 587 --hostname mail.example.test \
        --tls-cert "$WORK/smtps-cert.pem" --tls-key "$WORK/smtps-key.pem"
    cap_start 32-submission-587-starttls.pcap lo "tcp port 587"
    client 32 "${SMTPLIB[@]}" --port 587 --scenario starttls
    cap_stop; stop_pid "$SERVER_PID"
}

# 33 HTTP on port 25 (python3 -m http.server on 127.0.0.1:25, curl GET): not SMTP
case_33() {
    port_free 25
    rm -rf "$WORK/www"; mkdir -p "$WORK/www"
    printf '<html><body>Not a mail server.</body></html>\n' >"$WORK/www/index.html"
    touch -d "2022-01-01 12:00:00 UTC" "$WORK/www/index.html"
    "$PY" -u -m http.server --bind 127.0.0.1 --directory "$WORK/www" 25 >"$WORK/s33.out" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_listen "$SERVER_PID" 25 s33
    cap_start 33-http-on-port-25.pcap lo "tcp port 25"
    client 33 curl -sS --max-time 10 -o "$WORK/33.body" -w '%{http_code}\n' http://127.0.0.1:25/index.html
    cap_stop; stop_pid "$SERVER_PID"
    grep -qx 200 "$WORK/33.client" || { cat "$WORK/33.client" >&2; die "33: no HTTP 200"; }
}

# 34 "220 Ready to start TLS", then no TLS: the session goes on in clear
#    (scripted server and client: no real program does this)
case_34() {
    port_free 2534
    start_server s34 "${SCRIPTED[@]}" --profile starttls-clear --port 2534
    cap_start 34-starttls-then-clear.pcap lo "tcp port 2534"
    client 34 "${SCLIENT[@]}" --port 2534 --scenario starttls-clear
    cap_stop; stop_pid "$SERVER_PID"
}

# 35 30 without its 3-way handshake: starts with the 220 greeting (scapy)
case_35() {
    [ -s "$HERE/30-port-10025.pcap" ] || die "35 is made from 30-port-10025.pcap: build 30 first"
    "$PY" "$TOOLS/drop_handshake.py" --in "$HERE/30-port-10025.pcap" --server-port 10025 \
        --out "$WORK/35-smtp-odd-port-no-syn.pcap" >&2
    mv -f "$WORK/35-smtp-odd-port-no-syn.pcap" "$HERE/35-smtp-odd-port-no-syn.pcap"
    chmod 644 "$HERE/35-smtp-odd-port-no-syn.pcap"
    log "35-smtp-odd-port-no-syn.pcap: $(stat -c %s "$HERE/35-smtp-odd-port-no-syn.pcap") bytes"
}

run_new_cases() { # run_new_cases N...: in numeric order
    local n
    for n in $(printf '%s\n' "$@" | sort -un); do
        log "case $n"
        "case_$n"
    done
}

SELECTED=${*:-${SAMPLES:-}}
if [ -n "$SELECTED" ]; then
    [ "$SELECTED" = new ] && SELECTED=$NEW_CASES
    for n in $SELECTED; do
        case " $NEW_CASES " in
            *" $n "*) ;;
            *) die "case '$n' cannot be selected (only $NEW_CASES; run without arguments for all)";;
        esac
    done
    # shellcheck disable=SC2086
    run_new_cases $SELECTED
    log "done"
    exit 0
fi

# ----------------------------------------------------------------- servers --
log "postfix $(postconf -d -h mail_version 2>/dev/null), aiosmtpd $($PY -c 'import aiosmtpd; print(aiosmtpd.__version__)'), swaks $(swaks --version 2>/dev/null | sed -n 's/^swaks version //p'), Python $($PY -c 'import sys; print(sys.version.split()[0])')"

PF_STARTED=1
"$TOOLS/postfix-instance.sh" start "$PF_DIR" 2506 2509 2518
wait_file "$PF_DIR/queue/pid/master.pid"
for i in $(seq 50); do
    ss -ltn 'sport = :2518' | grep -q 2518 && break
    sleep 0.1
done

# 01 banner without the ESMTP word; EHLO still accepted (aiosmtpd, banner text set)
start_server s01 "${AIOSMTPD[@]}" --port 2501 --hostname mail.example.com \
    --ident "Microsoft Exchange Internet Mail Service 5.0.1457.7 ready"
cap_start 01-banner-without-esmtp.pcap lo "tcp port 2501"
client 01 "${SWAKS[@]}" --server 127.0.0.1 --port 2501
cap_stop; stop_pid "$SERVER_PID"

# 02 multi-line Sendmail 8.6 banner (scripted server), swaks client
start_server s02 "${SCRIPTED[@]}" --profile sendmail86 --port 2502
cap_start 02-multiline-banner.pcap lo "tcp port 2502"
client 02 "${SWAKS[@]}" --server 127.0.0.1 --port 2502
cap_stop; stop_pid "$SERVER_PID"

# 03 EHLO -> 500, smtplib falls back to HELO by itself
start_server s03 "${SCRIPTED[@]}" --profile helo-only --port 2503
cap_start 03-ehlo-500-helo-fallback.pcap lo "tcp port 2503"
client 03 "${SMTPLIB[@]}" --port 2503 --scenario helo-fallback
cap_stop; stop_pid "$SERVER_PID"

# 04 KB Q240832: "EHLO sub2." -> 501, "HELO sub2." -> 501, QUIT (swaks, upper case)
# 04b the same with smtplib (lower case "ehlo sub2.")
start_server s04 "${SCRIPTED[@]}" --profile kb240832 --port 2504
cap_start 04-ehlo-trailing-dot-501.pcap lo "tcp port 2504"
swaks --server 127.0.0.1 --port 2504 --helo sub2. --from alice@example.org \
    --to bob@example.com >"$WORK/04.client" 2>&1 || true    # swaks exits non-zero on 501
grep -q "HELO sub2." "$WORK/04.client" || { cat "$WORK/04.client" >&2; die "04: swaks did not fall back to HELO"; }
cap_stop
cap_start 04b-ehlo-trailing-dot-501-smtplib.pcap lo "tcp port 2504"
client 04b "${SMTPLIB[@]}" --port 2504 --scenario ehlo-dot --helo sub2.
cap_stop; stop_pid "$SERVER_PID"

# 05 server lists XAUTH, client tries AUTH NTLM -> 500 5.3.3
start_server s05 "${SCRIPTED[@]}" --profile xauth --port 2505
cap_start 05-auth-ntlm-xauth.pcap lo "tcp port 2505"
client 05 "${SCLIENT[@]}" --port 2505 --scenario ntlm
cap_stop; stop_pid "$SERVER_PID"

# 06 BDAT with CHUNKING advertised (Postfix)
cap_start 06-bdat-chunking.pcap lo "tcp port 2506"
client 06 "${SCLIENT[@]}" --port 2506 --scenario bdat
cap_stop

# 07 BDAT to aiosmtpd (no CHUNKING) -> 500, fall back to DATA
start_server s07 "${AIOSMTPD[@]}" --port 2507
cap_start 07-bdat-without-chunking.pcap lo "tcp port 2507"
client 07 "${SCLIENT[@]}" --port 2507 --scenario bdat-fallback
cap_stop; stop_pid "$SERVER_PID"

# 08 SIZE 1024: smtplib declares SIZE=5xxx -> 552 at MAIL;
# 08b no SIZE declared, body too big -> 552 after the final dot
start_server s08 "${AIOSMTPD[@]}" --port 2508 --size-limit 1024
cap_start 08-size-exceeded-552.pcap lo "tcp port 2508"
client 08 "${SMTPLIB[@]}" --port 2508 --scenario size-declared
cap_stop
cap_start 08b-size-exceeded-after-data-552.pcap lo "tcp port 2508"
client 08b "${SMTPLIB[@]}" --port 2508 --scenario size-undeclared
cap_stop; stop_pid "$SERVER_PID"

# 09 PIPELINING (Postfix advertises it; swaks --pipeline groups MAIL/RCPT/DATA)
cap_start 09-pipelining.pcap lo "tcp port 2509"
client 09 "${SWAKS[@]}" --to bob@example.com,dave@example.com --server 127.0.0.1 --port 2509 --pipeline
cap_stop

# 10 STARTTLS (aiosmtpd + throw-away self-signed certificate, smtplib)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 -subj "/CN=mx.example.net" 2>/dev/null
start_server s10 "${AIOSMTPD[@]}" --port 2510 --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
cap_start 10-starttls.pcap lo "tcp port 2510"
client 10 "${SMTPLIB[@]}" --port 2510 --scenario starttls
cap_stop; stop_pid "$SERVER_PID"

# 11 421 at the greeting; 11b 421 in reply to MAIL (scripted servers)
start_server s11 "${SCRIPTED[@]}" --profile 421-greeting --port 2511
cap_start 11-service-unavailable-421.pcap lo "tcp port 2511"
client 11 "${SMTPLIB[@]}" --port 2511 --scenario 421-greeting
cap_stop; stop_pid "$SERVER_PID"
start_server s11b "${SCRIPTED[@]}" --profile 421-mail --port 2561
cap_start 11b-421-after-mail.pcap lo "tcp port 2561"
swaks --server 127.0.0.1 --port 2561 --helo client.example.org --from alice@example.org \
    --to bob@example.com >"$WORK/11b.client" 2>&1 || true   # swaks exits non-zero on 421
cap_stop; stop_pid "$SERVER_PID"

# 12 two messages in one session
start_server s12 "${AIOSMTPD[@]}" --port 2512
cap_start 12-two-messages.pcap lo "tcp port 2512"
client 12 "${SMTPLIB[@]}" --port 2512 --scenario two-messages
cap_stop; stop_pid "$SERVER_PID"

# 13 IPv6 (::1)
start_server s13 "${AIOSMTPD[@]}" --host ::1 --port 2513
cap_start 13-ipv6.pcap lo "tcp port 2513"
client 13 "${SMTPLIB[@]}" --host ::1 --port 2513 --scenario simple
cap_stop; stop_pid "$SERVER_PID"

# 14 smtplib (lower-case verbs) on port 2525; 25-line body (base of 20-28)
start_server s14 "${AIOSMTPD[@]}" --port 2525
cap_start 14-lowercase-python.pcap lo "tcp port 2525"
client 14 "${SMTPLIB[@]}" --port 2525 --scenario simple --lines 25
cap_stop; stop_pid "$SERVER_PID"

# 15/16 AUTH PLAIN / AUTH LOGIN without TLS (fake credentials alice / s3cret-pw)
start_server s15 "${AIOSMTPD[@]}" --port 2515 --auth alice:s3cret-pw --auth-only PLAIN
cap_start 15-auth-plain.pcap lo "tcp port 2515"
client 15 "${SMTPLIB[@]}" --port 2515 --scenario auth-plain
cap_stop; stop_pid "$SERVER_PID"
start_server s16 "${AIOSMTPD[@]}" --port 2516 --auth alice:s3cret-pw --auth-only LOGIN
cap_start 16-auth-login.pcap lo "tcp port 2516"
client 16 "${SMTPLIB[@]}" --port 2516 --scenario auth-login
cap_stop; stop_pid "$SERVER_PID"

# 17 NOOP, VRFY, HELP, RSET
start_server s17 "${AIOSMTPD[@]}" --port 2517
cap_start 17-rset-noop-vrfy.pcap lo "tcp port 2517"
client 17 "${SMTPLIB[@]}" --port 2517 --scenario rset-noop-vrfy
cap_stop; stop_pid "$SERVER_PID"

# 18 one recipient rejected 550 5.1.1 by Postfix, one accepted
cap_start 18-rcpt-rejected.pcap lo "tcp port 2518"
client 18 "${SMTPLIB[@]}" --port 2518 --scenario rcpt-rejected
cap_stop

# 26/27 Linux cooked captures (tcpdump -i any): SLL (v1) and SLL2
start_server s26 "${AIOSMTPD[@]}" --port 2526
cap_start 26-linux-cooked.pcap any "host 127.0.0.1 and tcp port 2526" -y LINUX_SLL
client 26 "${SMTPLIB[@]}" --port 2526 --scenario simple
cap_stop; stop_pid "$SERVER_PID"
start_server s27 "${AIOSMTPD[@]}" --port 2527
cap_start 27-sll2.pcap any "host 127.0.0.1 and tcp port 2527" -y LINUX_SLL2
client 27 "${SMTPLIB[@]}" --port 2527 --scenario simple
cap_stop; stop_pid "$SERVER_PID"

"$TOOLS/postfix-instance.sh" stop "$PF_DIR"
PF_STARTED=0

# ------------------------------------------------------------ rewritten ones --
log "rewriting 14-lowercase-python.pcap into 20-25, 28"
"$PY" "$TOOLS/rewrite_pcap.py" --in "$HERE/14-lowercase-python.pcap" --server-port 2525 --out-dir "$HERE"

# ------------------------------------------------------------ new cases --
# shellcheck disable=SC2086
run_new_cases $NEW_CASES

log "done"
