/* session.c: pairs SMTP replies with commands, follows the dialogue and reports events, messages and findings. */
#include "dissect/session.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Extensions as bits, for "used but not advertised" checks (RFC 1869 and successors). */
enum {
    EXT_SIZE = 1u << 0, EXT_PIPELINING = 1u << 1, EXT_CHUNKING = 1u << 2, EXT_8BITMIME = 1u << 3,
    EXT_BINARYMIME = 1u << 4, EXT_DSN = 1u << 5, EXT_SMTPUTF8 = 1u << 6, EXT_STARTTLS = 1u << 7,
    EXT_ETRN = 1u << 8, EXT_AUTH = 1u << 9, EXT_XAUTH = 1u << 10
};

/* What a queued entry waits for; DATA_END is the end of a message body, not a command. */
enum pending_what { PENDING_COMMAND, PENDING_DATA_END };

struct pending {
    uint64_t seq;
    uint64_t frame;
    enum smtp_verb verb;
    enum pending_what what;
    size_t rcpt_index; /* RCPT: index into the current message's recipients, SIZE_MAX if not kept */
    int bdat_last;
};

#define MAX_CAPS 64
#define CAPS_BUF 4096

struct session {
    struct session_limits limits;
    struct session_sink sink;
    void *sink_ctx;
    struct session_summary sum;
    struct smtp_parser *parser;
    int syn_seen, swapped, any_bytes;
    int had_gap; /* some bytes of the conversation are missing from the capture */
    enum smtp_event_kind last_event_kind; /* with data_run: how many events of that kind in a row */
    uint64_t data_run;
    int tls_pending; /* STARTTLS got 220: the client's next bytes tell whether TLS started */
    uint64_t size_flagged_msg; /* message seq already flagged size_exceeded */
    /* First command sent while another awaited its reply, and what was advertised then. */
    uint64_t pipelined_seq, pipelined_frame;
    int pipelined_ext_known, pipelined_after_greeting;
    unsigned pipelined_ext;

    struct pending *pending; /* ring buffer */
    size_t pending_cap, pending_head, pending_len;
    uint64_t pending_dropped;

    uint64_t next_seq;
    int greeting_seen, replies_seen;
    int quit_answered;

    /* Last successful EHLO reply's capabilities. */
    int ext_known; /* an EHLO or HELO was answered 250: what is advertised is known */
    unsigned ext;
    uint64_t ext_size_limit;
    char caps_buf[CAPS_BUF];
    size_t caps_used;
    struct session_capability caps[MAX_CAPS];
    size_t n_caps;
    unsigned mismatch_reported;

    int last_ehlo_refused;  /* the most recent EHLO was refused or is still unanswered */
    int last_ehlo_pending;
    int esmtp_flagged, banner_flag_done;

    /* AUTH exchange */
    int auth_active;
    unsigned auth_step;
    int auth_expect_user; /* the last 334 challenge asked for a user name (LOGIN) */

    /* The BDAT chunk in flight: announced size and octets seen so far. */
    uint64_t bdat_announced, bdat_octets;

    /* Current mail transaction */
    int in_message;
    int body_started;
    uint64_t body_wire_bytes; /* BODY bytes of the current message, for a body that never ended */
    int body_counted;          /* the current message was counted in sum.messages */
    struct session_message msg;
    struct session_recipient *rcpts;
    size_t rcpts_cap;
    uint64_t message_seq;

    char text_buf[SESSION_TEXT + 64]; /* redacted display line */
    char detail_buf[SESSION_TEXT + 128];
};

void session_limits_default(struct session_limits *limits)
{
    limits->max_pending = 1000;
    limits->max_recipients = 1000;
}

const char *session_end_name(enum session_end how)
{
    static const char *const names[SESSION_END_COUNT] = {"quit", "fin", "rst", "idle_timeout",
                                                         "evicted", "capture_end"};
    return (unsigned)how < SESSION_END_COUNT ? names[how] : "unknown";
}

const char *session_tls_name(enum session_tls tls)
{
    switch (tls) {
    case SESSION_TLS_NONE: return "none";
    case SESSION_TLS_STARTTLS: return "starttls";
    case SESSION_TLS_IMPLICIT: return "implicit";
    }
    return "none";
}

/* Copies a span into a fixed buffer, NUL-terminated, cut to fit. */
static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    if (cap == 0)
        return;
    if (!src)
        len = 0; /* an absent span: memcpy from NULL is undefined even for 0 bytes */
    if (len >= cap)
        len = cap - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

static int span_ieq(struct smtp_span s, const char *word)
{
    size_t n = strlen(word), i;

    if (s.len != n)
        return 0;
    for (i = 0; i < n; i++)
        if (toupper((unsigned char)s.p[i]) != toupper((unsigned char)word[i]))
            return 0;
    return 1;
}

/* Case-insensitive search of word in s. */
static const char *span_find_ci(struct smtp_span s, const char *word)
{
    size_t n = strlen(word), i, j;

    if (n == 0 || s.len < n)
        return NULL;
    for (i = 0; i + n <= s.len; i++) {
        for (j = 0; j < n; j++)
            if (toupper((unsigned char)s.p[i + j]) != toupper((unsigned char)word[j]))
                break;
        if (j == n)
            return s.p + i;
    }
    return NULL;
}

static struct smtp_span span_trim(struct smtp_span s)
{
    while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* Splits off the first space-separated token of *rest. */
static struct smtp_span next_token(struct smtp_span *rest)
{
    struct smtp_span tok;
    size_t i = 0;

    *rest = span_trim(*rest);
    while (i < rest->len && rest->p[i] != ' ' && rest->p[i] != '\t')
        i++;
    tok.p = rest->p;
    tok.len = i;
    rest->p += i;
    rest->len -= i;
    return tok;
}

/* ---- output helpers ---- */

static void emit_finding(struct session *s, enum finding_kind kind, const char *extension,
                         uint64_t frame, uint64_t event_seq, const char *detail)
{
    struct finding f;

    s->sum.finding_counts[kind]++;
    if (!s->sink.finding)
        return;
    f.kind = kind;
    f.severity = finding_default_severity(kind);
    f.extension = extension ? extension : "";
    f.frame = frame;
    f.event_seq = event_seq;
    f.detail = detail ? detail : "";
    s->sink.finding(s->sink_ctx, &s->sum, &f);
}

/* size_exceeded once per message: a declared SIZE= over the limit and the 552 that follows are one problem. */
static void size_exceeded(struct session *s, uint64_t frame, uint64_t seq, const char *detail)
{
    uint64_t msg = s->in_message ? s->msg.seq : 0;

    if (msg && s->size_flagged_msg == msg)
        return;
    s->size_flagged_msg = msg;
    emit_finding(s, FINDING_SIZE_EXCEEDED, "SIZE", frame, seq, detail);
}

static void mismatch(struct session *s, unsigned bit, const char *extension, uint64_t frame,
                     uint64_t seq, const char *what)
{
    if (!s->ext_known || (s->ext & bit) || (s->mismatch_reported & bit))
        return;
    s->mismatch_reported |= bit;
    snprintf(s->detail_buf, sizeof s->detail_buf, "%s, but the server did not advertise %s%s", what,
             extension, bit == EXT_AUTH && (s->ext & EXT_XAUTH) ? " (it lists XAUTH)" : "");
    emit_finding(s, FINDING_CAPABILITY_MISMATCH, extension, frame, seq, s->detail_buf);
}

/* ---- pending command queue ---- */

static int pending_push(struct session *s, const struct pending *p)
{
    if (s->pending_len == s->pending_cap) {
        size_t new_cap = s->pending_cap ? s->pending_cap * 2 : 16, i;
        struct pending *grown;
        if (new_cap > s->limits.max_pending)
            new_cap = s->limits.max_pending;
        if (new_cap <= s->pending_cap) {
            s->pending_dropped++;
            if (s->pending_dropped == 1)
                emit_finding(s, FINDING_LIMIT_REACHED, "", p->frame, p->seq,
                             "too many commands awaiting a reply; later ones are not paired");
            return -1;
        }
        grown = malloc(new_cap * sizeof *grown);
        if (!grown)
            return -1;
        for (i = 0; i < s->pending_len; i++)
            grown[i] = s->pending[(s->pending_head + i) % s->pending_cap];
        free(s->pending);
        s->pending = grown;
        s->pending_cap = new_cap;
        s->pending_head = 0;
    }
    s->pending[(s->pending_head + s->pending_len) % s->pending_cap] = *p;
    s->pending_len++;
    return 0;
}

/* An EHLO or HELO still waiting for its reply. */
static int greeting_pending(const struct session *s)
{
    size_t i;

    for (i = 0; i < s->pending_len; i++) {
        const struct pending *p = &s->pending[(s->pending_head + i) % s->pending_cap];
        if (p->what == PENDING_COMMAND && (p->verb == SMTP_VERB_EHLO || p->verb == SMTP_VERB_HELO))
            return 1;
    }
    return 0;
}

static struct pending *pending_front(struct session *s)
{
    return s->pending_len ? &s->pending[s->pending_head] : NULL;
}

static void pending_pop(struct session *s)
{
    if (!s->pending_len)
        return;
    s->pending_head = (s->pending_head + 1) % s->pending_cap;
    s->pending_len--;
}

/* ---- messages ---- */

static void message_end(struct session *s)
{
    if (!s->in_message)
        return;
    /* A body cut short (the client closed mid-DATA): what was sent, as sent. */
    if (s->body_started && s->msg.body_bytes == 0 && strcmp(s->msg.transport, "DATA") == 0)
        s->msg.body_bytes = s->body_wire_bytes;
    s->msg.recipients = s->rcpts;
    if (s->sink.message)
        s->sink.message(s->sink_ctx, &s->sum, &s->msg);
    s->in_message = 0;
    s->body_started = 0;
    s->body_wire_bytes = 0;
    s->body_counted = 0;
}

static void message_begin(struct session *s, struct smtp_span args, uint64_t frame)
{
    struct smtp_span rest = span_trim(args), addr, param;
    const char *close;

    message_end(s);
    memset(&s->msg, 0, sizeof s->msg);
    s->in_message = 1;
    s->msg.seq = ++s->message_seq;
    s->msg.declared_size = -1;
    s->msg.transport = "";
    s->msg.first_frame = frame;
    /* MAIL FROM:<addr> params (RFC 5321 4.1.1.2); tolerate a missing <>. */
    if (rest.len > 0 && rest.p[0] == '<' && (close = memchr(rest.p, '>', rest.len)) != NULL) {
        addr.p = rest.p + 1;
        addr.len = (size_t)(close - rest.p) - 1;
        rest.len -= (size_t)(close + 1 - rest.p);
        rest.p = close + 1;
    } else {
        addr = next_token(&rest);
    }
    copy_text(s->msg.mail_from, sizeof s->msg.mail_from, addr.p, addr.len);
    rest = span_trim(rest);
    copy_text(s->msg.mail_params, sizeof s->msg.mail_params, rest.p, rest.len);
    while ((param = next_token(&rest)).len > 0) {
        if (param.len > 5 && span_ieq((struct smtp_span){param.p, 5}, "SIZE=")) {
            uint64_t v = 0;
            size_t i;
            int ok = 1;
            for (i = 5; i < param.len; i++) {
                if (!isdigit((unsigned char)param.p[i]) || v > (UINT64_MAX - 9) / 10) {
                    ok = 0;
                    break;
                }
                v = v * 10 + (uint64_t)(param.p[i] - '0');
            }
            if (ok && v <= INT64_MAX)
                s->msg.declared_size = (int64_t)v;
        }
    }
}

/* The head's Subject, From, To, Message-ID and Date, for the message record. */
static void message_headers(struct session *s, const struct smtp_headers *h)
{
    copy_text(s->msg.subject, sizeof s->msg.subject, h->subject.p, h->subject.len);
    copy_text(s->msg.header_from, sizeof s->msg.header_from, h->from.p, h->from.len);
    copy_text(s->msg.header_to, sizeof s->msg.header_to, h->to.p, h->to.len);
    copy_text(s->msg.message_id, sizeof s->msg.message_id, h->message_id.p, h->message_id.len);
    copy_text(s->msg.header_date, sizeof s->msg.header_date, h->date.p, h->date.len);
}

/* ---- analysis helpers ---- */

/* RFC 5321 4.1.2 Domain / address-literal check of a HELO/EHLO argument (KB Q240832). */
static const char *helo_argument_problem(struct smtp_span arg)
{
    size_t i, label_len = 0;
    int all_digits_dots = 1;

    arg = span_trim(arg);
    if (arg.len == 0)
        return "empty argument";
    if (arg.p[0] == '[')
        return arg.p[arg.len - 1] == ']' ? NULL : "unterminated address literal";
    for (i = 0; i < arg.len; i++) {
        unsigned char c = (unsigned char)arg.p[i];
        if (c == '.') {
            if (label_len == 0)
                return i == 0 ? "leading dot" : "empty label (doubled dot)";
            if (arg.p[i - 1] == '-')
                return "label ends with a hyphen";
            label_len = 0;
            continue;
        }
        if (!isdigit(c))
            all_digits_dots = 0;
        if (c == '_')
            return "underscore";
        if (c == '-' && label_len == 0)
            return "label starts with a hyphen";
        if (!isalnum(c) && c != '-')
            return "character not allowed in a domain";
        label_len++;
    }
    if (label_len == 0)
        return "trailing dot";
    if (arg.p[arg.len - 1] == '-')
        return "label ends with a hyphen";
    if (all_digits_dots && memchr(arg.p, '.', arg.len))
        return "IP address without brackets";
    return NULL;
}

/* KB Q254560: "220 host software ... date-time". */
static void parse_banner(struct session *s, struct smtp_span line, size_t enhanced_len)
{
    static const char *const days[] = {"Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"};
    struct smtp_span rest = line, host, software;
    const char *date = NULL;
    size_t i;

    if (rest.len >= 4) {
        rest.p += 4;
        rest.len -= 4;
    } else {
        rest.len = 0;
    }
    if (enhanced_len)
        (void)next_token(&rest); /* "220 2.0.0 host ...": the RFC 3463 code is not the host */
    host = next_token(&rest);
    copy_text(s->sum.banner_host, sizeof s->sum.banner_host, host.p, host.len);
    rest = span_trim(rest);
    for (i = 0; i < sizeof days / sizeof days[0] && !date; i++)
        date = span_find_ci(rest, days[i]);
    software = rest;
    if (date) {
        copy_text(s->sum.banner_datetime, sizeof s->sum.banner_datetime, date,
                  rest.len - (size_t)(date - rest.p));
        software.len = (size_t)(date - rest.p);
        software = span_trim(software);
        /* "... ready at <date>" / "...; <date>": the joiner is not part of the software name. */
        if (software.len >= 3 && span_ieq((struct smtp_span){software.p + software.len - 3, 3}, " at"))
            software.len -= 3;
        while (software.len > 0 && (software.p[software.len - 1] == ';' ||
                                    software.p[software.len - 1] == ','))
            software.len--;
        software = span_trim(software);
    }
    /* "... 5.0.1457.7 ready": the state word is not part of the software name. */
    if (software.len > 6 && span_ieq((struct smtp_span){software.p + software.len - 6, 6}, " ready"))
        software.len -= 6;
    copy_text(s->sum.banner_software, sizeof s->sum.banner_software, software.p, software.len);
}

/* EHLO keywords we check use of (RFC 2920, 3030, 6152, 3461, 6531, 3207, 1985, 4954). */
static unsigned extension_bit(const char *keyword)
{
    static const struct {
        const char *keyword;
        unsigned bit;
    } known[] = {{"PIPELINING", EXT_PIPELINING}, {"CHUNKING", EXT_CHUNKING}, {"8BITMIME", EXT_8BITMIME},
                 {"BINARYMIME", EXT_BINARYMIME}, {"DSN", EXT_DSN},           {"SMTPUTF8", EXT_SMTPUTF8},
                 {"STARTTLS", EXT_STARTTLS},     {"ETRN", EXT_ETRN},         {"AUTH", EXT_AUTH},
                 {"XAUTH", EXT_XAUTH}};
    size_t i;

    /* "AUTH=LOGIN" is how pre-RFC 4954 servers (old Outlook clients' peers) advertised AUTH. */
    if (strncmp(keyword, "AUTH=", 5) == 0)
        return EXT_AUTH;
    for (i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(keyword, known[i].keyword) == 0)
            return known[i].bit;
    return 0;
}

static void parse_capabilities(struct session *s, const struct session_event *ev)
{
    size_t i;

    s->ext = 0;
    s->ext_size_limit = 0;
    s->caps_used = 0;
    s->n_caps = 0;
    /* RFC 5321 4.1.1.1: the first line is the greeting, the others are keywords. */
    for (i = 1; i < ev->n_lines && s->n_caps < MAX_CAPS; i++) {
        struct smtp_span rest = ev->lines[i], kw, params;
        char *kw_copy, *params_copy;
        size_t k;

        if (rest.len < 4)
            continue;
        rest.p += 4;
        rest.len -= 4;
        kw = next_token(&rest);
        params = span_trim(rest);
        if (kw.len == 0 || s->caps_used + kw.len + params.len + 2 > CAPS_BUF)
            continue;
        kw_copy = s->caps_buf + s->caps_used;
        for (k = 0; k < kw.len; k++)
            kw_copy[k] = (char)toupper((unsigned char)kw.p[k]);
        kw_copy[kw.len] = '\0';
        s->caps_used += kw.len + 1;
        params_copy = s->caps_buf + s->caps_used;
        memcpy(params_copy, params.p, params.len);
        params_copy[params.len] = '\0';
        s->caps_used += params.len + 1;
        s->caps[s->n_caps].keyword = kw_copy;
        s->caps[s->n_caps].params = params_copy;
        s->n_caps++;

        if (strcmp(kw_copy, "SIZE") == 0) {
            uint64_t v = 0;
            s->ext |= EXT_SIZE;
            for (k = 0; k < params.len && isdigit((unsigned char)params.p[k]) && v < UINT64_MAX / 10; k++)
                v = v * 10 + (uint64_t)(params.p[k] - '0');
            s->ext_size_limit = v;
        } else {
            s->ext |= extension_bit(kw_copy);
        }
    }
}

/* Decodes base64 (RFC 4648) into out; returns the length, or -1 if the input is not base64. */
static long base64_decode(struct smtp_span in, char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t i, n = 0;

    for (i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.p[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else if (c == '=') break;
        else return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap)
                out[n] = (char)((acc >> bits) & 0xff);
            n++;
        }
    }
    return (long)(n < cap ? n : cap);
}

/* PLAIN (RFC 4616): authzid NUL authcid NUL passwd; keeps authcid only. */
static void auth_user_from_plain(struct session *s, struct smtp_span b64)
{
    char buf[512];
    long n = base64_decode(b64, buf, sizeof buf);
    const char *first_nul, *second_nul;

    if (n <= 0)
        return;
    first_nul = memchr(buf, '\0', (size_t)n);
    if (!first_nul)
        return;
    second_nul = memchr(first_nul + 1, '\0', (size_t)(buf + n - (first_nul + 1)));
    if (!second_nul)
        return;
    copy_text(s->sum.auth_user, sizeof s->sum.auth_user, first_nul + 1,
              (size_t)(second_nul - (first_nul + 1)));
}

static void auth_user_from_b64(struct session *s, struct smtp_span b64)
{
    char buf[SESSION_TEXT];
    long n = base64_decode(b64, buf, sizeof buf - 1);

    if (n > 0)
        copy_text(s->sum.auth_user, sizeof s->sum.auth_user, buf, (size_t)n);
}

/* ---- event handling ---- */

static void deliver_event(struct session *s, struct session_event *sev)
{
    if (s->sink.event)
        s->sink.event(s->sink_ctx, &s->sum, sev);
}

static void check_line_length(struct session *s, const struct session_event *sev)
{
    if (!(sev->flags & (SMTP_LINE_OVER_RFC | SMTP_LINE_CUT)))
        return;
    snprintf(s->detail_buf, sizeof s->detail_buf, "%s line of %" PRIu64 " bytes%s",
             sev->from_client ? "client" : "server", sev->bytes,
             sev->flags & SMTP_LINE_CUT ? ", cut at the parser's cap" : ", over RFC 5321 4.5.3.1");
    emit_finding(s, FINDING_LINE_TOO_LONG, "", sev->frame, sev->seq, s->detail_buf);
}

static void on_command(struct session *s, struct session_event *sev, const struct smtp_event *ev)
{
    struct pending p;
    int pipelined = s->pending_len > 0;
    struct smtp_span args = ev->args;
    const char *problem;

    s->sum.commands++;
    sev->text = ev->line;
    memset(&p, 0, sizeof p);
    p.seq = sev->seq;
    p.frame = sev->frame;
    p.verb = ev->verb;
    p.what = PENDING_COMMAND;
    p.rcpt_index = SIZE_MAX;

    if (ev->verb == SMTP_VERB_AUTH) {
        /* RFC 4954 4: "AUTH mech [initial-response]"; the response is a secret (PLAIN holds the password). */
        struct smtp_span rest = args, mech = next_token(&rest), initial = next_token(&rest);
        size_t k;
        copy_text(s->sum.auth_mech, sizeof s->sum.auth_mech, mech.p, mech.len);
        for (k = 0; s->sum.auth_mech[k]; k++)
            s->sum.auth_mech[k] = (char)toupper((unsigned char)s->sum.auth_mech[k]);
        s->auth_active = 1;
        s->auth_step = 0;
        s->auth_expect_user = 0;
        if (initial.len > 0) {
            if (strcmp(s->sum.auth_mech, "PLAIN") == 0)
                auth_user_from_plain(s, initial);
            else if (strcmp(s->sum.auth_mech, "LOGIN") == 0)
                auth_user_from_b64(s, initial);
            snprintf(s->text_buf, sizeof s->text_buf, "%.*s %.*s <redacted>",
                     (int)(ev->verb_text.len > 32 ? 32 : ev->verb_text.len), ev->verb_text.p,
                     (int)(mech.len > 64 ? 64 : mech.len), mech.p);
            sev->text.p = s->text_buf;
            sev->text.len = strlen(s->text_buf);
            sev->args.p = s->text_buf + ev->verb_text.len + (ev->verb_text.len ? 1 : 0);
            sev->args.len = sev->text.len - (size_t)(sev->args.p - s->text_buf);
        }
    }
    deliver_event(s, sev);
    check_line_length(s, sev);

    if (!s->greeting_seen && !s->replies_seen && pipelined == 0) {
        /* Talking before the greeting is not pipelining; nothing to judge against yet. */
    } else if (pipelined && ev->verb != SMTP_VERB_UNKNOWN) {
        /* Judged at the end: a reply lost from the capture looks like pipelining until the gap shows. */
        if (!s->pipelined_seq) {
            s->pipelined_seq = sev->seq;
            s->pipelined_frame = sev->frame;
            s->pipelined_ext_known = s->ext_known;
            s->pipelined_ext = s->ext;
        }
        /* RFC 2920 3.1: EHLO ends a group; a command sent before its reply cannot know PIPELINING. */
        if (greeting_pending(s))
            s->pipelined_after_greeting = 1;
    }

    switch (ev->verb) {
    case SMTP_VERB_EHLO:
    case SMTP_VERB_HELO:
        if (ev->verb == SMTP_VERB_HELO && s->sum.ehlo_attempts > 0 && s->last_ehlo_refused &&
            !s->sum.fallback) {
            s->sum.fallback = 1;
            emit_finding(s, FINDING_FALLBACK, "", sev->frame, sev->seq,
                         "EHLO was refused or unanswered; the client fell back to HELO");
        }
        copy_text(s->sum.greeting_verb, sizeof s->sum.greeting_verb,
                  ev->verb == SMTP_VERB_EHLO ? "EHLO" : "HELO", 4);
        copy_text(s->sum.greeting_arg, sizeof s->sum.greeting_arg, ev->args.p, ev->args.len);
        if (ev->verb == SMTP_VERB_EHLO) {
            s->sum.ehlo_attempts++;
            s->last_ehlo_refused = 1; /* until a 250 says otherwise */
        } else {
            s->sum.helo_attempts++;
        }
        problem = helo_argument_problem(ev->args);
        if (problem) {
            snprintf(s->detail_buf, sizeof s->detail_buf, "%s argument '%.*s': %s",
                     ev->verb == SMTP_VERB_EHLO ? "EHLO" : "HELO",
                     (int)(ev->args.len > 100 ? 100 : ev->args.len), ev->args.p, problem);
            emit_finding(s, FINDING_INVALID_HELO_ARGUMENT, "", sev->frame, sev->seq, s->detail_buf);
        }
        break;
    case SMTP_VERB_MAIL: {
        struct smtp_span rest = args, param;
        message_begin(s, args, sev->frame);
        while ((param = next_token(&rest)).len > 0) {
            if (span_find_ci(param, "SIZE=") == param.p)
                mismatch(s, EXT_SIZE, "SIZE", sev->frame, sev->seq, "MAIL SIZE=");
            else if (span_ieq(param, "BODY=8BITMIME"))
                mismatch(s, EXT_8BITMIME, "8BITMIME", sev->frame, sev->seq, "BODY=8BITMIME");
            else if (span_ieq(param, "BODY=BINARYMIME"))
                mismatch(s, EXT_BINARYMIME, "BINARYMIME", sev->frame, sev->seq, "BODY=BINARYMIME");
            else if (span_find_ci(param, "RET=") == param.p || span_find_ci(param, "ENVID=") == param.p)
                mismatch(s, EXT_DSN, "DSN", sev->frame, sev->seq, "a DSN parameter (RET/ENVID)");
            else if (span_ieq(param, "SMTPUTF8"))
                mismatch(s, EXT_SMTPUTF8, "SMTPUTF8", sev->frame, sev->seq, "SMTPUTF8");
        }
        if (s->msg.declared_size >= 0 && (s->ext & EXT_SIZE) && s->ext_size_limit > 0 &&
            (uint64_t)s->msg.declared_size > s->ext_size_limit) {
            snprintf(s->detail_buf, sizeof s->detail_buf,
                     "declared SIZE=%" PRId64 " is over the advertised SIZE %" PRIu64,
                     s->msg.declared_size, s->ext_size_limit);
            size_exceeded(s, sev->frame, sev->seq, s->detail_buf);
        }
        break;
    }
    case SMTP_VERB_RCPT: {
        struct smtp_span rest = span_trim(args), addr, param;
        const char *close;
        if (!s->in_message)
            message_begin(s, (struct smtp_span){"", 0}, sev->frame);
        if (rest.len > 0 && rest.p[0] == '<' && (close = memchr(rest.p, '>', rest.len)) != NULL) {
            addr.p = rest.p + 1;
            addr.len = (size_t)(close - rest.p) - 1;
            rest.len -= (size_t)(close + 1 - rest.p);
            rest.p = close + 1;
        } else {
            addr = next_token(&rest);
        }
        s->msg.recipients_seen++;
        if (s->msg.n_recipients < s->limits.max_recipients) {
            if (s->msg.n_recipients == s->rcpts_cap) {
                size_t new_cap = s->rcpts_cap ? s->rcpts_cap * 2 : 8;
                struct session_recipient *grown;
                if (new_cap > s->limits.max_recipients)
                    new_cap = s->limits.max_recipients;
                grown = realloc(s->rcpts, new_cap * sizeof *grown);
                if (grown) {
                    s->rcpts = grown;
                    s->rcpts_cap = new_cap;
                }
            }
            if (s->msg.n_recipients < s->rcpts_cap) {
                struct session_recipient *r = &s->rcpts[s->msg.n_recipients];
                memset(r, 0, sizeof *r);
                copy_text(r->address, sizeof r->address, addr.p, addr.len);
                rest = span_trim(rest);
                copy_text(r->params, sizeof r->params, rest.p, rest.len);
                p.rcpt_index = s->msg.n_recipients++;
            }
        } else if (s->msg.recipients_seen == s->limits.max_recipients + 1) {
            emit_finding(s, FINDING_LIMIT_REACHED, "", sev->frame, sev->seq,
                         "more recipients than kept per message; later ones are counted only");
        }
        while ((param = next_token(&rest)).len > 0)
            if (span_find_ci(param, "NOTIFY=") == param.p || span_find_ci(param, "ORCPT=") == param.p)
                mismatch(s, EXT_DSN, "DSN", sev->frame, sev->seq, "a DSN parameter (NOTIFY/ORCPT)");
        break;
    }
    case SMTP_VERB_DATA:
        if (!s->in_message)
            message_begin(s, (struct smtp_span){"", 0}, sev->frame);
        s->msg.transport = "DATA";
        break;
    case SMTP_VERB_BDAT:
        mismatch(s, EXT_CHUNKING, "CHUNKING", sev->frame, sev->seq, "BDAT");
        if (!s->in_message)
            message_begin(s, (struct smtp_span){"", 0}, sev->frame);
        s->msg.transport = "BDAT";
        p.bdat_last = ev->chunk_last;
        if (ev->chunk_size == 0 && !ev->chunk_last) {
            snprintf(s->detail_buf, sizeof s->detail_buf, "BDAT with an invalid chunk size: '%.*s'",
                     (int)(args.len > 60 ? 60 : args.len), args.p);
            emit_finding(s, FINDING_INVALID_BDAT, "", sev->frame, sev->seq, s->detail_buf);
        }
        s->msg.body_bytes += ev->chunk_size;
        s->bdat_announced = ev->chunk_size;
        s->bdat_octets = 0;
        break;
    case SMTP_VERB_RSET:
        message_end(s);
        break;
    case SMTP_VERB_STARTTLS:
        mismatch(s, EXT_STARTTLS, "STARTTLS", sev->frame, sev->seq, "STARTTLS");
        break;
    case SMTP_VERB_ETRN:
        mismatch(s, EXT_ETRN, "ETRN", sev->frame, sev->seq, "ETRN");
        break;
    case SMTP_VERB_AUTH:
        mismatch(s, EXT_AUTH, "AUTH", sev->frame, sev->seq, "AUTH");
        if (s->sum.tls == SESSION_TLS_NONE) {
            snprintf(s->detail_buf, sizeof s->detail_buf, "AUTH %s outside TLS", s->sum.auth_mech);
            emit_finding(s, FINDING_AUTH_CLEARTEXT, "", sev->frame, sev->seq, s->detail_buf);
        }
        break;
    default:
        break;
    }
    pending_push(s, &p);
}

static void on_auth_response(struct session *s, struct session_event *sev, const struct smtp_event *ev)
{
    int keep_visible = 0;

    s->auth_step++;
    if (ev->line.len == 1 && ev->line.p[0] == '*') {
        keep_visible = 1; /* RFC 4954 4: the client cancels */
    } else if (strcmp(s->sum.auth_mech, "LOGIN") == 0 && s->auth_expect_user) {
        auth_user_from_b64(s, ev->line);
        keep_visible = 1; /* a user name is not a secret */
    } else if (strcmp(s->sum.auth_mech, "PLAIN") == 0) {
        auth_user_from_plain(s, ev->line);
    }
    if (keep_visible) {
        sev->text = ev->line;
    } else {
        sev->text.p = "<redacted>";
        sev->text.len = 10;
    }
    deliver_event(s, sev);
}

/* The line that says how a reply ended: its last (Exim: "250- 36 byte chunk" then "250 OK id=..."). */
static struct smtp_span last_line(const struct session_event *ev)
{
    struct smtp_span none = {"", 0};

    return ev->n_lines ? ev->lines[ev->n_lines - 1] : none;
}

static const char *verb_label(enum smtp_verb verb, enum pending_what what)
{
    if (what == PENDING_DATA_END)
        return "end of data";
    return verb == SMTP_VERB_UNKNOWN ? "an unknown command" : smtp_verb_name(verb);
}

static void on_reply(struct session *s, struct session_event *sev, const struct smtp_event *ev)
{
    struct pending *p = pending_front(s);
    struct pending cur;
    int is_greeting = 0, have_cmd = 0;
    int code = ev->code;

    memset(&cur, 0, sizeof cur);
    s->sum.replies++;
    if (!s->greeting_seen && !s->replies_seen &&
        (code == 220 || code == 421 || code == 554 || (!p && s->syn_seen))) {
        is_greeting = 1;
    } else if (p) {
        cur = *p;
        have_cmd = 1;
        /* A 334 continues the AUTH exchange (RFC 4954 4): the AUTH stays at the front. */
        if (!(cur.verb == SMTP_VERB_AUTH && cur.what == PENDING_COMMAND && code == 334))
            pending_pop(s);
        sev->reply_to_seq = cur.seq;
    }
    s->replies_seen = 1;
    deliver_event(s, sev);
    check_line_length(s, sev);

    if (is_greeting) {
        size_t i;
        s->greeting_seen = 1;
        s->sum.banner_code = code;
        if (ev->n_lines > 0) {
            copy_text(s->sum.banner, sizeof s->sum.banner, ev->lines[0].p, ev->lines[0].len);
            /* Only a 220 greeting names the host (RFC 5321 4.3.1); a 421/554 one is an excuse. */
            if (code == 220)
                parse_banner(s, ev->lines[0], ev->enhanced.len);
        }
        for (i = 0; i < ev->n_lines; i++)
            if (span_find_ci(ev->lines[i], "ESMTP"))
                s->sum.banner_esmtp = 1;
    } else if (!have_cmd && code != 421) {
        /* RFC 5321 3.8: a server may say 421 at any time before it closes; that answers nothing. */
        snprintf(s->detail_buf, sizeof s->detail_buf, "reply %d with no command waiting for it", code);
        emit_finding(s, FINDING_UNMATCHED_REPLY, "", sev->frame, sev->seq, s->detail_buf);
    }

    if (code >= 400 && code < 600) {
        snprintf(s->detail_buf, sizeof s->detail_buf, "%d to %s: %.*s", code,
                 is_greeting ? "the connection" : have_cmd ? verb_label(cur.verb, cur.what) : "nothing",
                 (int)(ev->n_lines ? (ev->lines[0].len > 160 ? 160 : ev->lines[0].len) : 0),
                 ev->n_lines ? ev->lines[0].p : "");
        emit_finding(s, code >= 500 ? FINDING_REPLY_5XX : FINDING_REPLY_4XX, "", sev->frame, sev->seq,
                     s->detail_buf);
        if (code == 421)
            emit_finding(s, FINDING_SERVICE_UNAVAILABLE, "", sev->frame, sev->seq, s->detail_buf);
    }
    if (!have_cmd)
        return;

    if (cur.what == PENDING_DATA_END) {
        s->msg.result_code = code;
        copy_text(s->msg.result_text, sizeof s->msg.result_text, last_line(sev).p, last_line(sev).len);
        if (code == 552)
            size_exceeded(s, sev->frame, sev->seq, "552: the message exceeded the server's storage allocation");
        message_end(s);
        return;
    }
    switch (cur.verb) {
    case SMTP_VERB_EHLO:
        s->last_ehlo_refused = !(code >= 200 && code < 300);
        if (code >= 200 && code < 300) {
            s->sum.ehlo_accepted = 1;
            s->ext_known = 1;
            parse_capabilities(s, sev);
            if (!s->sum.banner_esmtp && s->greeting_seen && !s->banner_flag_done) {
                s->banner_flag_done = 1;
                emit_finding(s, FINDING_BANNER_WITHOUT_ESMTP, "", sev->frame, sev->seq,
                             "EHLO was accepted but the greeting does not say ESMTP");
            }
        } else if (code >= 500) {
            emit_finding(s, FINDING_EHLO_REJECTED, "", sev->frame, sev->seq, s->detail_buf);
            if (s->sum.banner_esmtp && !s->esmtp_flagged) {
                s->esmtp_flagged = 1;
                emit_finding(s, FINDING_ESMTP_BANNER_EHLO_REJECTED, "", sev->frame, sev->seq,
                             "the greeting says ESMTP but EHLO was refused");
            }
        }
        break;
    case SMTP_VERB_HELO:
        if (code >= 200 && code < 300 && !s->sum.ehlo_accepted) {
            s->ext_known = 1; /* HELO advertises nothing (RFC 5321 4.1.1.1) */
            s->ext = 0;
            s->n_caps = 0;
        }
        break;
    case SMTP_VERB_MAIL:
        if (code >= 300)
            s->msg.result_code = code;
        if (code >= 300)
            copy_text(s->msg.result_text, sizeof s->msg.result_text, last_line(sev).p, last_line(sev).len);
        if (code == 552)
            size_exceeded(s, sev->frame, sev->seq, "552 to MAIL: the message is over the server's size limit");
        break;
    case SMTP_VERB_RCPT:
        if (cur.rcpt_index != SIZE_MAX && s->in_message && cur.rcpt_index < s->msg.n_recipients) {
            struct session_recipient *r = &s->rcpts[cur.rcpt_index];
            r->code = code;
            copy_text(r->text, sizeof r->text, ev->n_lines ? ev->lines[0].p : "",
                      ev->n_lines ? ev->lines[0].len : 0);
        }
        if (code == 552)
            size_exceeded(s, sev->frame, sev->seq, "552 to RCPT: storage allocation exceeded");
        break;
    case SMTP_VERB_DATA:
        if (code != 354) {
            struct pending *next = pending_front(s);
            /* No body follows a refused DATA: what the client sends next are commands. */
            if (smtp_parser_client_mode(s->parser) == SMTP_MODE_DATA && !s->body_started)
                smtp_parser_set_client_mode(s->parser, SMTP_MODE_COMMAND);
            /* The client sent its body without waiting for 354 and the server refused DATA: the
             * server read no message, so there is none and its end waits for no reply. */
            if (s->body_started && s->in_message) {
                if (next && next->what == PENDING_DATA_END)
                    pending_pop(s);
                if (s->body_counted && s->sum.messages > 0)
                    s->sum.messages--;
                s->body_counted = 0;
                s->body_started = 0;
                s->body_wire_bytes = 0;
                s->msg.body_bytes = 0;
                s->msg.subject[0] = s->msg.header_from[0] = s->msg.header_to[0] = '\0';
                s->msg.message_id[0] = s->msg.header_date[0] = '\0';
            }
            if (s->in_message && code >= 400) {
                s->msg.result_code = code;
                copy_text(s->msg.result_text, sizeof s->msg.result_text, last_line(sev).p, last_line(sev).len);
            }
        }
        break;
    case SMTP_VERB_BDAT:
        /* A server that refused BDAT before any chunk octet arrived got none: the client waited
         * and what it sends next are commands (aiosmtpd answers 500 and the client falls back to DATA). */
        if (code >= 500 && smtp_parser_client_mode(s->parser) == SMTP_MODE_BDAT && s->bdat_octets == 0) {
            smtp_parser_set_client_mode(s->parser, SMTP_MODE_COMMAND);
            if (s->in_message && s->msg.body_bytes >= s->bdat_announced)
                s->msg.body_bytes -= s->bdat_announced;
        }
        if (s->in_message && (cur.bdat_last || code >= 400)) {
            /* 500/502: BDAT itself is unknown; the envelope stands and DATA may follow. */
            int verb_unknown = code == 500 || code == 502;
            s->msg.result_code = code;
            copy_text(s->msg.result_text, sizeof s->msg.result_text, last_line(sev).p, last_line(sev).len);
            if (code == 552)
                size_exceeded(s, sev->frame, sev->seq, "552: the message exceeded the server's storage allocation");
            if (cur.bdat_last && !verb_unknown) {
                s->sum.messages++;
                message_end(s);
            }
        }
        break;
    case SMTP_VERB_AUTH:
        if (code == 334) {
            char challenge[64];
            long n = -1;
            if (ev->n_lines > 0 && ev->lines[0].len > 4)
                n = base64_decode((struct smtp_span){ev->lines[0].p + 4, ev->lines[0].len - 4},
                                  challenge, sizeof challenge);
            s->auth_expect_user =
                n >= 4 && span_find_ci((struct smtp_span){challenge, (size_t)n}, "user") != NULL;
            break;
        }
        s->auth_active = 0;
        s->sum.auth_result = code;
        if (smtp_parser_client_mode(s->parser) == SMTP_MODE_AUTH)
            smtp_parser_set_client_mode(s->parser, SMTP_MODE_COMMAND);
        break;
    case SMTP_VERB_STARTTLS:
        /* RFC 3207 4: TLS starts now, but only the client's next bytes show it did. */
        if (code == 220)
            s->tls_pending = 1;
        break;
    case SMTP_VERB_QUIT:
        if (code == 221 || (code >= 200 && code < 300))
            s->quit_answered = 1;
        break;
    default:
        break;
    }
}

static void on_parser_event(void *user, const struct smtp_event *ev)
{
    struct session *s = user;
    struct session_event sev;

    memset(&sev, 0, sizeof sev);
    sev.seq = ++s->next_seq;
    sev.kind = ev->kind;
    sev.from_client = ev->dir == SMTP_FROM_CLIENT;
    sev.frames = ev->frames;
    sev.n_frames = ev->n_frames;
    sev.frame = ev->n_frames ? ev->frames[ev->n_frames - 1] : 0;
    sev.ts_usec = ev->ts_usec;
    sev.bytes = ev->bytes;
    sev.flags = ev->flags;
    sev.verb = ev->verb;
    sev.verb_text = ev->verb_text;
    sev.args = ev->args;
    sev.code = ev->code;
    sev.enhanced = ev->enhanced;
    sev.lines = ev->lines;
    sev.n_lines = ev->n_lines;
    sev.data = ev->data;
    sev.gap_len = ev->gap_len;
    s->data_run = ev->kind == s->last_event_kind ? s->data_run + 1 : 0;
    s->last_event_kind = ev->kind;
    sev.data_index = s->data_run;

    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        on_command(s, &sev, ev);
        return;
    case SMTP_EV_REPLY:
        on_reply(s, &sev, ev);
        return;
    case SMTP_EV_AUTH_RESPONSE:
        on_auth_response(s, &sev, ev);
        return;
    case SMTP_EV_BAD_REPLY:
        /* A line without a code is still the server's answer to the oldest waiting command. */
        if (s->pending_len > 0) {
            sev.reply_to_seq = pending_front(s)->seq;
            pending_pop(s);
        }
        sev.text = ev->line;
        deliver_event(s, &sev);
        snprintf(s->detail_buf, sizeof s->detail_buf, "server line without a reply code: '%.*s'",
                 (int)(ev->line.len > 100 ? 100 : ev->line.len), ev->line.p);
        emit_finding(s, FINDING_BAD_REPLY, "", sev.frame, sev.seq, s->detail_buf);
        check_line_length(s, &sev);
        return;
    case SMTP_EV_BODY:
        s->body_started = 1;
        s->body_wire_bytes += ev->bytes;
        deliver_event(s, &sev);
        return;
    case SMTP_EV_BODY_END: {
        struct pending p;
        deliver_event(s, &sev);
        if (!s->in_message)
            message_begin(s, (struct smtp_span){"", 0}, sev.frame);
        s->msg.transport = "DATA";
        s->msg.body_bytes = ev->body_bytes;
        message_headers(s, &ev->headers);
        s->sum.messages++;
        s->body_counted = 1;
        if (ev->body_8bit)
            mismatch(s, EXT_8BITMIME, "8BITMIME", sev.frame, sev.seq, "8-bit bytes in the DATA body");
        if (ev->body_long_lines) {
            snprintf(s->detail_buf, sizeof s->detail_buf,
                     "%" PRIu64 " message line(s) over RFC 5321 4.5.3.1.6's 1000 bytes", ev->body_long_lines);
            emit_finding(s, FINDING_LINE_TOO_LONG, "", sev.frame, sev.seq, s->detail_buf);
        }
        if ((s->ext & EXT_SIZE) && s->ext_size_limit > 0 && ev->body_bytes > s->ext_size_limit) {
            snprintf(s->detail_buf, sizeof s->detail_buf,
                     "body of %" PRIu64 " bytes is over the advertised SIZE %" PRIu64, ev->body_bytes,
                     s->ext_size_limit);
            size_exceeded(s, sev.frame, sev.seq, s->detail_buf);
        }
        memset(&p, 0, sizeof p);
        p.seq = sev.seq;
        p.frame = sev.frame;
        p.verb = SMTP_VERB_DATA;
        p.what = PENDING_DATA_END;
        p.rcpt_index = SIZE_MAX;
        pending_push(s, &p);
        return;
    }
    case SMTP_EV_BDAT_DATA:
        s->bdat_octets += ev->bytes;
        deliver_event(s, &sev);
        return;
    case SMTP_EV_BDAT_END:
        if (ev->chunk_last && s->in_message)
            message_headers(s, &ev->headers);
        deliver_event(s, &sev);
        return;
    case SMTP_EV_TLS_DATA:
        deliver_event(s, &sev);
        return;
    case SMTP_EV_GAP:
        s->had_gap = 1;
        /* Replies lost from the capture answered the commands waiting now: start pairing afresh
         * rather than shift every later reply onto the wrong command. */
        if (!sev.from_client)
            s->pending_len = 0;
        s->sum.gap_bytes += ev->gap_len;
        deliver_event(s, &sev);
        snprintf(s->detail_buf, sizeof s->detail_buf, "%" PRIu64 " bytes from the %s missing from the capture",
                 ev->gap_len, sev.from_client ? "client" : "server");
        emit_finding(s, FINDING_CAPTURE_GAP, "", sev.frame, sev.seq, s->detail_buf);
        return;
    case SMTP_EV_KIND_COUNT:
        break;
    }
}

struct session *session_new(const struct session_limits *limits, const struct session_sink *sink,
                            void *sink_ctx, const struct session_endpoints *ep, int syn_seen,
                            uint64_t id, uint64_t first_frame, int64_t ts_usec)
{
    struct session *s = calloc(1, sizeof *s);
    struct smtp_parser_callbacks cbs = {on_parser_event};

    if (!s)
        return NULL;
    s->parser = smtp_parser_new(&cbs, s);
    if (!s->parser) {
        free(s);
        return NULL;
    }
    if (limits)
        s->limits = *limits;
    else
        session_limits_default(&s->limits);
    if (s->limits.max_pending == 0)
        s->limits.max_pending = 1;
    if (sink)
        s->sink = *sink;
    s->sink_ctx = sink_ctx;
    s->syn_seen = syn_seen;
    s->sum.id = id;
    s->sum.ep = *ep;
    s->sum.first_frame = first_frame;
    s->sum.last_frame = first_frame;
    s->sum.start_ts_usec = ts_usec;
    s->sum.end_ts_usec = ts_usec;
    s->sum.end_reason = SESSION_END_CAPTURE_END;
    s->last_event_kind = SMTP_EV_KIND_COUNT;
    copy_text(s->sum.app_protocol, sizeof s->sum.app_protocol, "SMTP", 4);
    return s;
}

static void format_addresses(struct session *s)
{
    const struct session_endpoints *ep = &s->sum.ep;
    snprintf(s->sum.client_addr, sizeof s->sum.client_addr, ep->ipv6 ? "[%s]:%u" : "%s:%u",
             ep->client_ip, (unsigned)ep->client_port);
    snprintf(s->sum.server_addr, sizeof s->sum.server_addr, ep->ipv6 ? "[%s]:%u" : "%s:%u",
             ep->server_ip, (unsigned)ep->server_port);
}

void session_endpoints_swap(struct session_endpoints *ep)
{
    char ip[sizeof ep->client_ip];
    uint16_t port = ep->client_port;

    memcpy(ip, ep->client_ip, sizeof ip);
    memcpy(ep->client_ip, ep->server_ip, sizeof ip);
    memcpy(ep->server_ip, ip, sizeof ip);
    ep->client_port = ep->server_port;
    ep->server_port = port;
}

static void swap_roles(struct session *s)
{
    session_endpoints_swap(&s->sum.ep);
    s->swapped = !s->swapped;
}

static int starts_ci(const uint8_t *bytes, size_t len, const char *word)
{
    size_t n = strlen(word), i;

    if (len < n)
        return 0;
    for (i = 0; i < n; i++)
        if (toupper(bytes[i]) != word[i])
            return 0;
    return 1;
}

/* First bytes of a conversation whose roles were guessed: a greeting shows who the server is. */
static void settle_roles(struct session *s, int from_client, const uint8_t *bytes, size_t len)
{
    if (!s->syn_seen && len >= 4) {
        int looks_greeting = bytes[0] == '2' && bytes[1] == '2' && bytes[2] == '0' &&
                             (bytes[3] == ' ' || bytes[3] == '-' || bytes[3] == '\r');
        int looks_hello = starts_ci(bytes, len, "EHLO") || starts_ci(bytes, len, "HELO");
        if ((from_client && looks_greeting) || (!from_client && looks_hello))
            swap_roles(s);
    }
    s->any_bytes = 1;
    format_addresses(s);
    if (s->sink.opened)
        s->sink.opened(s->sink_ctx, &s->sum);
}

/* After 220 to STARTTLS: a TLS record (RFC 8446 5.1, type 20-23, version 3.x) from the client confirms it. */
static void confirm_tls(struct session *s, const uint8_t *bytes, size_t len, uint64_t frame)
{
    s->tls_pending = 0;
    if (len >= 2 && bytes[0] >= 20 && bytes[0] <= 23 && bytes[1] == 3) {
        s->sum.tls = SESSION_TLS_STARTTLS;
        smtp_parser_start_tls(s->parser);
        return;
    }
    emit_finding(s, FINDING_TLS_NOT_STARTED, "", frame, 0,
                 "STARTTLS was accepted (220) but the client went on in clear text");
}

void session_data(struct session *s, int from_client, const uint8_t *bytes, size_t len, uint64_t frame,
                  int64_t ts_usec)
{
    int client_side;

    if (s->sum.ended || len == 0)
        return;
    if (!s->any_bytes)
        settle_roles(s, from_client, bytes, len);
    client_side = from_client ^ s->swapped;
    if (s->tls_pending && client_side)
        confirm_tls(s, bytes, len, frame);
    if (client_side)
        s->sum.client_bytes += len;
    else
        s->sum.server_bytes += len;
    s->sum.last_frame = frame;
    s->sum.end_ts_usec = ts_usec;
    smtp_parser_execute(s->parser, client_side ? SMTP_FROM_CLIENT : SMTP_FROM_SERVER, bytes, len, frame,
                        ts_usec);
}

void session_gap(struct session *s, int from_client, uint64_t len, uint64_t frame, int64_t ts_usec)
{
    int client_side;

    if (s->sum.ended || len == 0)
        return;
    if (!s->any_bytes) {
        s->any_bytes = 1;
        format_addresses(s);
        if (s->sink.opened)
            s->sink.opened(s->sink_ctx, &s->sum);
    }
    client_side = from_client ^ s->swapped;
    smtp_parser_gap(s->parser, client_side ? SMTP_FROM_CLIENT : SMTP_FROM_SERVER, len, frame, ts_usec);
}

void session_end(struct session *s, enum session_end how, uint64_t frame, int64_t ts_usec)
{
    if (s->sum.ended)
        return;
    if (!s->any_bytes) {
        /* Nothing was ever said: not an SMTP session worth reporting. */
        s->sum.ended = 1;
        return;
    }
    smtp_parser_finish(s->parser, frame, ts_usec);
    /* Not judged across a gap: a lost reply makes the next command look pipelined. */
    s->sum.pipelining = s->pipelined_seq && !s->had_gap && s->replies_seen;
    /* With no reply captured (one direction only) nothing can be judged. */
    if (s->sum.pipelining && !(s->mismatch_reported & EXT_PIPELINING) &&
        (s->pipelined_after_greeting || (s->pipelined_ext_known && !(s->pipelined_ext & EXT_PIPELINING)))) {
        s->mismatch_reported |= EXT_PIPELINING;
        emit_finding(s, FINDING_CAPABILITY_MISMATCH, "PIPELINING", s->pipelined_frame, s->pipelined_seq,
                     "a command sent before the reply to the previous one, but the server did not "
                     "advertise PIPELINING");
    }
    if (s->quit_answered && (how == SESSION_END_FIN || how == SESSION_END_CAPTURE_END ||
                             how == SESSION_END_RST || how == SESSION_END_IDLE))
        how = SESSION_END_QUIT;
    /* Under TLS the QUIT is encrypted: how it ended says nothing about the dialogue. */
    if (s->sum.tls == SESSION_TLS_NONE &&
        (how == SESSION_END_RST || (s->in_message && how != SESSION_END_CAPTURE_END && how != SESSION_END_QUIT))) {
        snprintf(s->detail_buf, sizeof s->detail_buf, "the conversation ended by %s without a completed QUIT%s",
                 session_end_name(how), s->in_message ? ", in the middle of a mail transaction" : "");
        emit_finding(s, FINDING_SESSION_ABORTED, "", frame, 0, s->detail_buf);
    }
    message_end(s);
    s->sum.end_reason = how;
    if (ts_usec > s->sum.end_ts_usec)
        s->sum.end_ts_usec = ts_usec;
    s->sum.ended = 1;
    if (s->sink.closed)
        s->sink.closed(s->sink_ctx, &s->sum, s->caps, s->n_caps);
}

void session_set_implicit_tls(struct session *s)
{
    s->sum.tls = SESSION_TLS_IMPLICIT;
    smtp_parser_start_tls(s->parser);
}

void session_set_classification(struct session *s, const char *app_protocol, const char *server_name,
                                const char *risks)
{
    /* nDPI's Unknown says less than our own dissector, which found SMTP. */
    if (app_protocol && app_protocol[0] && strcmp(app_protocol, "Unknown") != 0)
        copy_text(s->sum.app_protocol, sizeof s->sum.app_protocol, app_protocol, strlen(app_protocol));
    if (server_name && server_name[0])
        copy_text(s->sum.tls_server_name, sizeof s->sum.tls_server_name, server_name, strlen(server_name));
    while (risks && *risks) {
        const char *comma = strstr(risks, ", ");
        size_t len = comma ? (size_t)(comma - risks) : strlen(risks);
        snprintf(s->detail_buf, sizeof s->detail_buf, "nDPI: %.*s", (int)(len > 200 ? 200 : len), risks);
        emit_finding(s, FINDING_NDPI_RISK, "", s->sum.last_frame, 0, s->detail_buf);
        risks = comma ? comma + 2 : risks + len;
    }
}

const struct session_summary *session_summary(const struct session *s)
{
    return &s->sum;
}

void session_free(struct session *s)
{
    if (!s)
        return;
    if (!s->sum.ended)
        session_end(s, SESSION_END_CAPTURE_END, s->sum.last_frame, s->sum.end_ts_usec);
    smtp_parser_free(s->parser);
    free(s->pending);
    free(s->rcpts);
    free(s);
}
