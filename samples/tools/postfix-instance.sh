#!/bin/sh
# Start / stop a private, throw-away Postfix instance listening on loopback only.
#   postfix-instance.sh start DIR PORT...  -> smtpd on 127.0.0.1:PORT for each PORT;
#                                            master pid in DIR/queue/pid/master.pid
#   postfix-instance.sh stop DIR
# Everything (config, queue, data, log) lives under DIR; the system's Postfix
# configuration in /etc/postfix is not used and no system service is started.
# Mail is accepted for example.com / example.net and thrown away (discard);
# in example.com only bob, carol and dave exist (others: 550 5.1.1).
set -eu
cmd=$1; dir=$2
case "$cmd" in
start)
    shift 2
    rm -rf "$dir"; mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
    chown postfix "$dir/data"
    cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.net
mydomain = example.net
myorigin = example.net
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = example.com, example.net
relay_recipient_maps = inline:{ bob@example.com=ok, carol@example.com=ok, dave@example.com=ok, @example.net=ok }
default_transport = discard:
relay_transport = discard:
local_transport = discard:
smtpd_banner = \$myhostname ESMTP Postfix
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
biff = no
append_dot_mydomain = no
smtputf8_enable = no
alias_maps =
alias_database =
CF
    for port in "$@"; do
        echo "127.0.0.1:$port inet n - n - - smtpd"
    done > "$dir/etc/master.cf"
    cat >> "$dir/etc/master.cf" <<CF
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
    postfix -c "$dir/etc" check
    postfix -c "$dir/etc" start
    ;;
stop)
    # stop exactly this instance: the master whose pid file is in DIR
    pidf="$dir/queue/pid/master.pid"
    if [ -f "$pidf" ]; then
        pid=$(tr -d ' \n' < "$pidf")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        fi
    fi
    ;;
esac
