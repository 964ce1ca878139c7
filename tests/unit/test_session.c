/* test_session.c: the session layer on scripted conversations: pairing, modes, redaction and findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dissect/session.h"

struct recorder {
    char events[8192];   /* one line per event: "C EHLO sub2." / "S 501" / "C <redacted>" */
    char findings[4096]; /* "kind/extension@frame " */
    unsigned n_messages;
    struct session_message last_msg;
    char last_rcpt[SESSION_TEXT];
    int last_rcpt_code;
    int closed;
    struct session_summary summary;
    size_t n_caps;
};

static void append(char *buf, size_t cap, const char *text, size_t len)
{
    size_t used = strlen(buf);
    if (used + len + 1 >= cap)
        return;
    memcpy(buf + used, text, len);
    buf[used + len] = '\0';
}

static void rec_event(void *ctx, const struct session_summary *s, const struct session_event *ev)
{
    struct recorder *r = ctx;
    char line[300];
    (void)s;
    switch (ev->kind) {
    case SMTP_EV_COMMAND:
    case SMTP_EV_AUTH_RESPONSE:
        snprintf(line, sizeof line, "C %.*s\n", (int)ev->text.len, ev->text.p);
        break;
    case SMTP_EV_REPLY:
        snprintf(line, sizeof line, "S %d->%llu\n", ev->code, (unsigned long long)ev->reply_to_seq);
        break;
    case SMTP_EV_TLS_DATA:
        snprintf(line, sizeof line, "%c tls %llu\n", ev->from_client ? 'C' : 'S', (unsigned long long)ev->bytes);
        break;
    case SMTP_EV_BODY_END:
        snprintf(line, sizeof line, "C body_end\n");
        break;
    default:
        return;
    }
    append(r->events, sizeof r->events, line, strlen(line));
}

static void rec_finding(void *ctx, const struct session_summary *s, const struct finding *f)
{
    struct recorder *r = ctx;
    char line[128];
    (void)s;
    snprintf(line, sizeof line, " %s%s%s@%llu", finding_kind_name(f->kind), f->extension[0] ? "/" : "",
             f->extension, (unsigned long long)f->frame);
    append(r->findings, sizeof r->findings, line, strlen(line));
}

static void rec_message(void *ctx, const struct session_summary *s, const struct session_message *m)
{
    struct recorder *r = ctx;
    (void)s;
    r->n_messages++;
    r->last_msg = *m;
    if (m->n_recipients > 0) {
        snprintf(r->last_rcpt, sizeof r->last_rcpt, "%s", m->recipients[m->n_recipients - 1].address);
        r->last_rcpt_code = m->recipients[m->n_recipients - 1].code;
    }
}

static void rec_closed(void *ctx, const struct session_summary *s, const struct session_capability *caps,
                       size_t n)
{
    struct recorder *r = ctx;
    (void)caps;
    r->closed++;
    r->summary = *s;
    r->n_caps = n;
}

/* Plays a script of "C:..." / "S:..." items, one frame each, then ends the session by FIN. */
static void play(struct recorder *r, const char *const *script, size_t n)
{
    struct session_sink sink = {NULL, rec_event, rec_message, rec_finding, rec_closed};
    struct session_endpoints ep;
    struct session *s;
    size_t i;

    memset(r, 0, sizeof *r);
    memset(&ep, 0, sizeof ep);
    snprintf(ep.client_ip, sizeof ep.client_ip, "192.0.2.1");
    snprintf(ep.server_ip, sizeof ep.server_ip, "192.0.2.25");
    ep.client_port = 1025;
    ep.server_port = 25;
    s = session_new(NULL, &sink, r, &ep, 1, 1, 1, 0);
    assert_non_null(s);
    for (i = 0; i < n; i++)
        session_data(s, script[i][0] == 'C', (const uint8_t *)script[i] + 2, strlen(script[i]) - 2,
                     (uint64_t)i + 4, (int64_t)i * 1000);
    session_end(s, SESSION_END_FIN, n + 4, 99000);
    session_free(s);
    assert_int_equal(r->closed, 1);
}

static int count_of(const char *haystack, const char *needle)
{
    int n = 0;
    const char *p = haystack;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

/* KB Q240832: "EHLO sub2." 501, "HELO sub2." 501, QUIT. */
static void test_trailing_dot_ehlo(void **state)
{
    static const char *const script[] = {
        "S:220 mail.example.com ESMTP ready\r\n", "C:EHLO sub2.\r\n", "S:501 Invalid Address\r\n",
        "C:HELO sub2.\r\n", "S:501 Invalid Address\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_int_equal(count_of(r.findings, " invalid_helo_argument@"), 2);
    assert_int_equal(count_of(r.findings, " reply_5xx@"), 2);
    assert_int_equal(count_of(r.findings, " fallback@7"), 1);
    assert_int_equal(count_of(r.findings, " ehlo_rejected@6"), 1);
    assert_int_equal(count_of(r.findings, " esmtp_banner_ehlo_rejected@"), 1);
    assert_int_equal(count_of(r.findings, " capability_mismatch"), 0);
    assert_int_equal(r.summary.end_reason, SESSION_END_QUIT);
    assert_int_equal(r.summary.messages, 0);
    assert_string_equal(r.summary.greeting_verb, "HELO");
    assert_string_equal(r.summary.greeting_arg, "sub2.");
    assert_int_equal(r.summary.ehlo_accepted, 0);
    assert_int_equal(r.summary.fallback, 1);
    assert_string_equal(r.summary.banner_host, "mail.example.com");
    assert_non_null(strstr(r.events, "S 501->2\n"));
}

/* KB Q195201: the server lists XAUTH only; AUTH NTLM is a capability mismatch. */
static void test_auth_against_xauth(void **state)
{
    static const char *const script[] = {
        "S:220 ex.example.com Microsoft Exchange Internet Mail Service 5.0.1457.7 ready\r\n",
        "C:EHLO client.example.com\r\n", "S:250-ex.example.com Hello\r\n250-XEXCH50\r\n250 XAUTH\r\n",
        "C:AUTH NTLM\r\n", "S:502 Server does not support AUTH\r\n", "C:QUIT\r\n", "S:221 closing\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_int_equal(count_of(r.findings, " capability_mismatch/AUTH@7"), 1);
    assert_int_equal(count_of(r.findings, " banner_without_esmtp@6"), 1);
    assert_int_equal(count_of(r.findings, " auth_cleartext@7"), 1);
    assert_int_equal(count_of(r.findings, " reply_5xx@8"), 1);
    assert_int_equal(count_of(r.findings, " fallback"), 0);
    assert_int_equal(r.n_caps, 2);
    assert_string_equal(r.summary.banner_software, "Microsoft Exchange Internet Mail Service 5.0.1457.7");
    /* After the AUTH exchange ended, QUIT is a command again. */
    assert_non_null(strstr(r.events, "C QUIT\n"));
}

/* Sendmail's multi-line banner: ESMTP is on the last line; anatomy from the first. */
static void test_multiline_banner(void **state)
{
    static const char *const script[] = {
        ("S:220-mail.your-domain.com Sendmail 8.6.12/8.6.9 ready at Sat, 28 Aug 1999 09:32:00 -0400\r\n"
         "220 ESMTP spoken here\r\n"),
        "C:EHLO a.example\r\n", "S:250-mail.your-domain.com\r\n250 SIZE 1000\r\n",
        "C:MAIL FROM:<a@a.example> SIZE=5000\r\n", "S:552 5.3.4 Message size exceeds fixed limit\r\n",
        "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_int_equal(r.summary.banner_esmtp, 1);
    assert_string_equal(r.summary.banner_host, "mail.your-domain.com");
    assert_string_equal(r.summary.banner_software, "Sendmail 8.6.12/8.6.9");
    assert_string_equal(r.summary.banner_datetime, "Sat, 28 Aug 1999 09:32:00 -0400");
    assert_int_equal(count_of(r.findings, " banner_without_esmtp"), 0);
    assert_int_equal(count_of(r.findings, " size_exceeded/SIZE@7"), 1); /* declared over the limit */
    assert_int_equal(count_of(r.findings, " size_exceeded"), 1);        /* the 552 is the same problem */
    assert_int_equal(r.n_messages, 1);
    assert_int_equal(r.last_msg.declared_size, 5000);
    assert_int_equal(r.last_msg.result_code, 552);
}

/* A whole transaction in one client segment, lower-case verbs, to a server without PIPELINING. */
static void test_pipelined_without_pipelining(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:ehlo c.example\r\n", "S:250-h\r\n250 8BITMIME\r\n",
        "C:mail from:<a@x.example>\r\nrcpt to:<b@y.example>\r\ndata\r\n",
        "S:250 ok\r\n250 ok\r\n354 go\r\n",
        "C:Subject: hi\r\n\r\n..dot\r\n.\r\nquit\r\n", "S:250 queued\r\n221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_int_equal(count_of(r.findings, " capability_mismatch/PIPELINING@7"), 1); /* reported at the end */
    assert_int_equal(count_of(r.findings, " capability_mismatch"), 1);
    assert_int_equal(r.n_messages, 1);
    assert_string_equal(r.last_msg.mail_from, "a@x.example");
    assert_string_equal(r.last_rcpt, "b@y.example");
    assert_int_equal(r.last_rcpt_code, 250);
    assert_int_equal(r.last_msg.result_code, 250);
    assert_string_equal(r.last_msg.subject, "hi");
    assert_int_equal(r.summary.end_reason, SESSION_END_QUIT);
}

/* DATA refused: what follows are commands, not a body. */
static void test_data_refused(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:HELO c\r\n", "S:250 h\r\n", "C:DATA\r\n", "S:503 5.5.1 need MAIL\r\n",
        "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_non_null(strstr(r.events, "C QUIT\nS 221->"));
    assert_int_equal(count_of(r.findings, " reply_5xx@8"), 1);
    assert_int_equal(r.summary.end_reason, SESSION_END_QUIT);
}

/* AUTH PLAIN and LOGIN: mechanism and user kept, the secret never shown. */
static void test_auth_redaction(void **state)
{
    static const char *const plain[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250-h\r\n250 AUTH PLAIN LOGIN\r\n",
        "C:AUTH PLAIN AGFsaWNlAHMzY3JldC1wdw==\r\n", "S:235 2.7.0 ok\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    static const char *const login[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250-h\r\n250 AUTH PLAIN LOGIN\r\n", "C:AUTH LOGIN\r\n",
        "S:334 VXNlcm5hbWU6\r\n", "C:YWxpY2U=\r\n", "S:334 UGFzc3dvcmQ6\r\n", "C:czNjcmV0LXB3\r\n",
        "S:235 2.7.0 ok\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, plain, 7);
    assert_null(strstr(r.events, "AGFsaWNl"));
    assert_non_null(strstr(r.events, "C AUTH PLAIN <redacted>\n"));
    assert_string_equal(r.summary.auth_user, "alice");
    assert_string_equal(r.summary.auth_mech, "PLAIN");
    assert_int_equal(r.summary.auth_result, 235);
    assert_int_equal(count_of(r.findings, " capability_mismatch"), 0);
    play(&r, login, 11);
    assert_null(strstr(r.events, "czNjcmV0"));
    assert_non_null(strstr(r.events, "C <redacted>\n"));
    assert_string_equal(r.summary.auth_user, "alice");
    assert_non_null(strstr(r.events, "C QUIT\n"));
}

/* STARTTLS not advertised, accepted: TLS bytes afterwards are not parsed as SMTP. */
static void test_starttls(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250 h\r\n", "C:STARTTLS\r\n", "S:220 go ahead\r\n",
        "C:\x16\x03\x01\x01\x05QUIT\r\n", "S:\x16\x03\x03\x01\x02hi"};
    struct recorder r;
    (void)state;
    play(&r, script, 7);
    assert_int_equal(r.summary.tls, SESSION_TLS_STARTTLS);
    assert_int_equal(count_of(r.findings, " capability_mismatch/STARTTLS@7"), 1);
    assert_non_null(strstr(r.events, "C tls 11\n"));
    assert_non_null(strstr(r.events, "S tls 7\n"));
    assert_null(strstr(r.events, "C QUIT"));
}

/* A capture that started mid-session: the first reply answers nothing we saw. */
static void test_unmatched_reply(void **state)
{
    static const char *const script[] = {"S:250 ok\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    struct session_sink sink = {NULL, rec_event, rec_message, rec_finding, rec_closed};
    struct session_endpoints ep;
    struct recorder r;
    struct session *s;
    size_t i;
    (void)state;
    memset(&r, 0, sizeof r);
    memset(&ep, 0, sizeof ep);
    s = session_new(NULL, &sink, &r, &ep, 0, 1, 1, 0);
    assert_non_null(s);
    for (i = 0; i < 3; i++)
        session_data(s, script[i][0] == 'C', (const uint8_t *)script[i] + 2, strlen(script[i]) - 2, i + 1, 0);
    session_end(s, SESSION_END_CAPTURE_END, 4, 0);
    session_free(s);
    assert_int_equal(count_of(r.findings, " unmatched_reply@1"), 1);
    assert_int_equal(r.summary.end_reason, SESSION_END_QUIT);
}

/* BDAT refused as unknown before any chunk octet: the client waited, DATA follows as a command. */
static void test_bdat_refused_then_data(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250-h\r\n250 SIZE 100000\r\n", "C:MAIL FROM:<a@x>\r\n",
        "S:250 ok\r\n", "C:RCPT TO:<b@y>\r\n", "S:250 ok\r\n", "C:BDAT 1500 LAST\r\n",
        "S:500 Error: command \"BDAT\" not recognized\r\n", "C:DATA\r\n", "S:354 go\r\n",
        "C:Subject: s\r\n\r\nbody\r\n.\r\n", "S:250 OK\r\n", "C:QUIT\r\n", "S:221 Bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 15);
    assert_non_null(strstr(r.events, "C DATA\nS 354->"));
    assert_int_equal(count_of(r.findings, " capability_mismatch/CHUNKING@11"), 1);
    assert_int_equal(r.n_messages, 1);
    assert_string_equal(r.last_msg.mail_from, "a@x");
    assert_string_equal(r.last_msg.transport, "DATA");
    assert_int_equal(r.last_msg.body_bytes, 20); /* "Subject: s" CRLF CRLF "body" CRLF */
    assert_int_equal(r.last_msg.result_code, 250);
    assert_int_equal(r.summary.messages, 1);
}

/* STARTTLS accepted but the client goes on in clear: keep parsing SMTP and say so. */
static void test_starttls_then_clear(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250-h\r\n250 STARTTLS\r\n", "C:STARTTLS\r\n",
        "S:220 Ready to start TLS\r\n", "C:EHLO c\r\n", "S:250 h\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 9);
    assert_int_equal(r.summary.tls, SESSION_TLS_NONE);
    assert_int_equal(count_of(r.findings, " tls_not_started@9"), 1);
    assert_non_null(strstr(r.events, "C EHLO c\nS 250->"));
    assert_int_equal(r.summary.end_reason, SESSION_END_QUIT);
}

/* SMTPS: TLS from the first byte, nothing parsed, nDPI's labels kept. */
static void test_implicit_tls_and_classification(void **state)
{
    struct session_sink sink = {NULL, rec_event, rec_message, rec_finding, rec_closed};
    struct session_endpoints ep;
    struct recorder r;
    struct session *s;
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x02, 'E', 'H'};
    (void)state;
    memset(&r, 0, sizeof r);
    memset(&ep, 0, sizeof ep);
    ep.server_port = 465;
    s = session_new(NULL, &sink, &r, &ep, 1, 1, 1, 0);
    assert_non_null(s);
    session_set_implicit_tls(s);
    session_set_classification(s, "SMTPS", "mail.example.test", "Clear-Text Credentials, Self-signed Cert");
    session_data(s, 1, hello, sizeof hello, 4, 0);
    session_end(s, SESSION_END_FIN, 5, 0);
    session_free(s);
    assert_int_equal(r.summary.tls, SESSION_TLS_IMPLICIT);
    assert_string_equal(r.summary.app_protocol, "SMTPS");
    assert_string_equal(r.summary.tls_server_name, "mail.example.test");
    assert_int_equal(count_of(r.findings, " ndpi_risk"), 2);
    assert_non_null(strstr(r.events, "C tls 7\n"));
    assert_null(strstr(r.events, "C EH"));
    assert_int_equal(count_of(r.findings, " session_aborted"), 0);
}

/* A message sent in BDAT chunks keeps its head's Subject, whatever the chunk boundaries. */
static void test_bdat_headers(void **state)
{
    static const char *const script[] = {
        "S:220 h ESMTP\r\n", "C:EHLO c\r\n", "S:250-h\r\n250 CHUNKING\r\n", "C:MAIL FROM:<a@x>\r\n",
        "S:250 ok\r\n", "C:RCPT TO:<b@y>\r\n", "S:250 ok\r\n",
        "C:BDAT 21\r\nSubject: two ", "C:chunks\r\n", "S:250 21 octets\r\n",
        "C:BDAT 15 LAST\r\nFrom: a\r\n\r\nhi\r\n", "S:250 OK queued\r\n", "C:QUIT\r\n", "S:221 bye\r\n"};
    struct recorder r;
    (void)state;
    play(&r, script, 14);
    assert_int_equal(r.n_messages, 1);
    assert_string_equal(r.last_msg.transport, "BDAT");
    assert_string_equal(r.last_msg.subject, "two chunks");
    assert_string_equal(r.last_msg.header_from, "a");
    assert_int_equal(r.last_msg.body_bytes, 36);
    assert_int_equal(r.last_msg.result_code, 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailing_dot_ehlo),
        cmocka_unit_test(test_auth_against_xauth),
        cmocka_unit_test(test_multiline_banner),
        cmocka_unit_test(test_pipelined_without_pipelining),
        cmocka_unit_test(test_data_refused),
        cmocka_unit_test(test_auth_redaction),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_unmatched_reply),
        cmocka_unit_test(test_bdat_refused_then_data),
        cmocka_unit_test(test_starttls_then_clear),
        cmocka_unit_test(test_implicit_tls_and_classification),
        cmocka_unit_test(test_bdat_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
