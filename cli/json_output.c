/* json_output.c: session sink writing JSON lines: one object per finished session, optionally one per event. */
#include "cli/json_output.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dissect/smtp_parser.h"
#include "store/query.h"

#define LAST_REPLY_CAP 512
#define RCPTTO_MAX 1000 /* addresses kept in the top-level rcptto array; more are counted */
#define RECENT_CMDS 64   /* commands remembered to tell which one a reply answers (pipelining depth) */

/* A growable byte buffer; after an allocation failure it stays failed and drops further writes. */
struct jbuf {
    char *p;
    size_t len, cap;
    int failed;
};

struct jsess {
    uint64_t id;
    struct jsess *next;
    struct jbuf messages, findings, rcptto;
    uint64_t n_messages, messages_dropped, n_findings, findings_dropped, n_rcptto, rcptto_dropped;
    char first_mailfrom[SESSION_TEXT];
    int have_mailfrom;
    struct {
        uint64_t seq;
        int txn; /* MAIL, RCPT, DATA, BDAT or the end of a body: part of a mail transaction */
    } recent[RECENT_CMDS];
    size_t n_recent;
    char last_reply[LAST_REPLY_CAP];     /* last reply other than to QUIT */
    char last_txn_reply[LAST_REPLY_CAP]; /* last reply within a mail transaction */
};

struct json_output {
    FILE *out;
    int with_events;
    int failed;
    struct jsess **buckets;
    size_t n_buckets, n_open;
    struct jbuf line; /* the line being written, reused */
};

static int jb_reserve(struct jbuf *b, size_t more)
{
    size_t need, cap;
    char *np;

    if (b->failed)
        return -1;
    if (more > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    need = b->len + more + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    np = realloc(b->p, cap);
    if (!np) {
        b->failed = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
    if (jb_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jb_puts(struct jbuf *b, const char *s)
{
    jb_put(b, s, strlen(s));
}

static void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jb_printf(struct jbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    jb_put(b, tmp, (size_t)n);
}

static void jb_free(struct jbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A JSON string: quotes, escapes as query_json_escape (invalid UTF-8 bytes become \u00XX of the byte). */
static void jb_str(struct jbuf *b, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    jb_put(b, "\"", 1);
    while (i < len) {
        unsigned char c = p[i];
        size_t n, j = i;
        /* The longest run that needs no escaping goes in one copy. */
        while (j < len) {
            c = p[j];
            if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
                break;
            n = query_utf8_len(p + j, len - j);
            if (n == 0)
                break;
            j += n;
        }
        if (j > i) {
            jb_put(b, text + i, j - i);
            i = j;
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            jb_put(b, esc, 2);
        } else if (c == '\n') {
            jb_put(b, "\\n", 2);
        } else if (c == '\r') {
            jb_put(b, "\\r", 2);
        } else if (c == '\t') {
            jb_put(b, "\\t", 2);
        } else {
            jb_printf(b, "\\u%04x", c);
        }
        i++;
    }
    jb_put(b, "\"", 1);
}

static void jb_cstr(struct jbuf *b, const char *s)
{
    jb_str(b, s, strlen(s));
}

/* ,"key":"value" (the key is a literal of ours, never escaped). */
static void jb_kstr(struct jbuf *b, const char *key, const char *text, size_t len)
{
    jb_printf(b, ",\"%s\":", key);
    jb_str(b, text, len);
}

static void jb_kcstr(struct jbuf *b, const char *key, const char *s)
{
    jb_kstr(b, key, s, strlen(s));
}

/* ,"key":"value" or ,"key":null when s is empty. */
static void jb_kopt(struct jbuf *b, const char *key, const char *s)
{
    if (s && s[0])
        jb_kcstr(b, key, s);
    else
        jb_printf(b, ",\"%s\":null", key);
}

static void jb_kuint(struct jbuf *b, const char *key, uint64_t v)
{
    jb_printf(b, ",\"%s\":%" PRIu64, key, v);
}

static void jb_kint(struct jbuf *b, const char *key, int64_t v)
{
    jb_printf(b, ",\"%s\":%" PRId64, key, v);
}

static void jb_kbool(struct jbuf *b, const char *key, int v)
{
    jb_printf(b, ",\"%s\":%s", key, v ? "true" : "false");
}

/* ISO-8601 UTC with microseconds, as the database's *_ts columns: "2026-11-23T17:27:22.197305Z". */
static void jb_ts(struct jbuf *b, const char *key, int64_t usec)
{
    int64_t secs = usec / 1000000, frac = usec % 1000000;
    time_t t;
    struct tm tm;
    char date[40];

    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm) || strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        jb_printf(b, ",\"%s\":null", key);
        return;
    }
    jb_printf(b, ",\"%s\":\"%s.%06" PRId64 "Z\"", key, date, frac);
}

/* ---- open sessions, by id ---- */

static size_t bucket_of(const struct json_output *jo, uint64_t id)
{
    /* Fibonacci hashing: ids are sequential, this spreads them. */
    return (size_t)((id * UINT64_C(11400714819323198485)) >> 32) & (jo->n_buckets - 1);
}

static int grow_buckets(struct json_output *jo)
{
    size_t n = jo->n_buckets ? jo->n_buckets * 2 : 64, i, old_n = jo->n_buckets;
    struct jsess **nb = calloc(n, sizeof *nb), **old = jo->buckets;

    if (!nb)
        return -1;
    jo->buckets = nb;
    jo->n_buckets = n;
    for (i = 0; i < old_n; i++) {
        struct jsess *s = old[i];
        while (s) {
            struct jsess *next = s->next;
            size_t k = bucket_of(jo, s->id);
            s->next = nb[k];
            nb[k] = s;
            s = next;
        }
    }
    free(old);
    return 0;
}

static struct jsess *find_sess(struct json_output *jo, uint64_t id)
{
    struct jsess *s;

    if (!jo->n_buckets)
        return NULL;
    for (s = jo->buckets[bucket_of(jo, id)]; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* The session's state, created at its first callback. NULL (and jo->failed) when out of memory. */
static struct jsess *get_sess(struct json_output *jo, uint64_t id)
{
    struct jsess *s = find_sess(jo, id);
    size_t k;

    if (s)
        return s;
    if (jo->n_open + 1 > jo->n_buckets && grow_buckets(jo) < 0 && !jo->n_buckets) {
        jo->failed = 1;
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        jo->failed = 1;
        return NULL;
    }
    s->id = id;
    k = bucket_of(jo, id);
    s->next = jo->buckets[k];
    jo->buckets[k] = s;
    jo->n_open++;
    return s;
}

static void free_sess(struct jsess *s)
{
    jb_free(&s->messages);
    jb_free(&s->findings);
    jb_free(&s->rcptto);
    free(s);
}

static void remove_sess(struct json_output *jo, struct jsess *s)
{
    struct jsess **pp = &jo->buckets[bucket_of(jo, s->id)];

    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    jo->n_open--;
    free_sess(s);
}

struct json_output *json_output_new(FILE *out, int with_events)
{
    struct json_output *jo = calloc(1, sizeof *jo);

    if (!jo)
        return NULL;
    jo->out = out;
    jo->with_events = with_events;
    if (grow_buckets(jo) < 0) {
        free(jo);
        return NULL;
    }
    return jo;
}

void json_output_free(struct json_output *jo)
{
    size_t i;

    if (!jo)
        return;
    for (i = 0; i < jo->n_buckets; i++) {
        struct jsess *s = jo->buckets[i];
        while (s) {
            struct jsess *next = s->next;
            free_sess(s);
            s = next;
        }
    }
    free(jo->buckets);
    jb_free(&jo->line);
    free(jo);
}

int json_output_failed(const struct json_output *jo)
{
    return jo->failed;
}

/* Writes jo->line and a newline, then empties it. */
static void flush_line(struct json_output *jo)
{
    if (jo->line.failed) {
        jo->failed = 1;
    } else {
        jb_put(&jo->line, "\n", 1);
        if (jo->line.failed || fwrite(jo->line.p, 1, jo->line.len, jo->out) != jo->line.len)
            jo->failed = 1;
    }
    jo->line.len = 0;
    jo->line.failed = 0;
}

static void put_uid(struct jbuf *b, uint64_t id)
{
    jb_printf(b, ",\"uid\":\"S%" PRIu64 "\"", id);
}

/* ---- callbacks ---- */

static void on_opened(void *ctx, struct session_summary *summary)
{
    struct json_output *jo = ctx;

    (void)get_sess(jo, summary->id);
}

static void span_copy(char *dst, size_t cap, const struct smtp_span *sp)
{
    size_t n = sp->len < cap - 1 ? sp->len : cap - 1;

    if (n)
        memcpy(dst, sp->p, n);
    dst[n] = '\0';
}

static void write_event(struct json_output *jo, const struct session_summary *s, const struct session_event *ev)
{
    struct jbuf *b = &jo->line;
    size_t i;

    jb_puts(b, "{\"type\":\"event\"");
    jb_ts(b, "ts", ev->ts_usec);
    put_uid(b, s->id);
    jb_kuint(b, "seq", ev->seq);
    jb_kuint(b, "frame", ev->frame);
    if (ev->n_frames > 1) {
        jb_puts(b, ",\"frames\":[");
        for (i = 0; i < ev->n_frames; i++)
            jb_printf(b, "%s%" PRIu64, i ? "," : "", ev->frames[i]);
        jb_puts(b, "]");
    }
    jb_kcstr(b, "dir", ev->from_client ? "C" : "S");
    jb_kcstr(b, "kind", smtp_event_kind_name(ev->kind));
    jb_kuint(b, "bytes", ev->bytes);
    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        jb_kcstr(b, "verb", ev->verb == SMTP_VERB_UNKNOWN ? "" : smtp_verb_name(ev->verb));
        jb_kstr(b, "verb_text", ev->verb_text.p, ev->verb_text.len);
        jb_kstr(b, "args", ev->args.p, ev->args.len);
        jb_kstr(b, "text", ev->text.p, ev->text.len);
        break;
    case SMTP_EV_AUTH_RESPONSE:
    case SMTP_EV_BAD_REPLY:
        jb_kstr(b, "text", ev->text.p, ev->text.len);
        break;
    case SMTP_EV_REPLY:
        jb_printf(b, ",\"code\":%d", ev->code);
        if (ev->enhanced.len)
            jb_kstr(b, "enhanced_code", ev->enhanced.p, ev->enhanced.len);
        jb_kstr(b, "text", ev->text.p, ev->text.len);
        jb_puts(b, ",\"lines\":[");
        for (i = 0; i < ev->n_lines; i++) {
            if (i)
                jb_puts(b, ",");
            jb_str(b, ev->lines[i].p, ev->lines[i].len);
        }
        jb_puts(b, "]");
        if (ev->reply_to_seq)
            jb_kuint(b, "reply_to_seq", ev->reply_to_seq);
        break;
    case SMTP_EV_GAP:
        jb_kuint(b, "gap_len", ev->gap_len);
        break;
    default:
        break;
    }
    jb_puts(b, "}");
    flush_line(jo);
}

static void remember(struct jsess *s, uint64_t seq, int txn)
{
    size_t k = s->n_recent++ % RECENT_CMDS;

    s->recent[k].seq = seq;
    s->recent[k].txn = txn;
}

/* 1: seq is a transaction command, 2: QUIT, 0: another command, -1: not remembered. */
static int answered_txn(const struct jsess *s, uint64_t seq)
{
    size_t k, n = s->n_recent < RECENT_CMDS ? s->n_recent : RECENT_CMDS;

    for (k = 0; k < n; k++)
        if (s->recent[k].seq == seq && seq != 0)
            return s->recent[k].txn;
    return -1;
}

static void on_event(void *ctx, const struct session_summary *summary, const struct session_event *ev)
{
    struct json_output *jo = ctx;
    struct jsess *s = get_sess(jo, summary->id);

    if (s && ev->kind == SMTP_EV_COMMAND) {
        enum smtp_verb v = ev->verb;
        remember(s, ev->seq,
                 v == SMTP_VERB_MAIL || v == SMTP_VERB_RCPT || v == SMTP_VERB_DATA || v == SMTP_VERB_BDAT ? 1
                 : v == SMTP_VERB_QUIT                                                                   ? 2
                                                                                                         : 0);
    } else if (s && (ev->kind == SMTP_EV_BODY_END || ev->kind == SMTP_EV_BDAT_END)) {
        remember(s, ev->seq, 1);
    } else if (s && ev->kind == SMTP_EV_REPLY && ev->n_lines > 0) {
        /* As Zeek's smtp.log: the last reply of a mail transaction; else the last one (QUIT's answer aside). */
        int what = answered_txn(s, ev->reply_to_seq);
        if (what == 1)
            span_copy(s->last_txn_reply, sizeof s->last_txn_reply, &ev->lines[0]);
        if (what != 2)
            span_copy(s->last_reply, sizeof s->last_reply, &ev->lines[0]);
    }
    if (jo->with_events)
        write_event(jo, summary, ev);
}

static void on_message(void *ctx, const struct session_summary *summary, const struct session_message *m)
{
    struct json_output *jo = ctx;
    struct jsess *s = get_sess(jo, summary->id);
    struct jbuf *b;
    size_t i;

    if (!s)
        return;
    if (!s->have_mailfrom) {
        snprintf(s->first_mailfrom, sizeof s->first_mailfrom, "%s", m->mail_from);
        s->have_mailfrom = 1;
    }
    for (i = 0; i < m->n_recipients; i++) {
        if (s->n_rcptto >= RCPTTO_MAX || s->rcptto.len > JSON_OUTPUT_MAX_BUFFER) {
            s->rcptto_dropped++;
            continue;
        }
        if (s->n_rcptto)
            jb_puts(&s->rcptto, ",");
        jb_cstr(&s->rcptto, m->recipients[i].address);
        s->n_rcptto++;
    }
    if (s->messages.len > JSON_OUTPUT_MAX_BUFFER) {
        s->messages_dropped++;
        return;
    }
    b = &s->messages;
    jb_puts(b, s->n_messages ? ",{" : "{");
    jb_printf(b, "\"seq\":%" PRIu64, m->seq);
    jb_kcstr(b, "mailfrom", m->mail_from);
    jb_kopt(b, "mail_params", m->mail_params);
    if (m->declared_size >= 0)
        jb_kint(b, "size", m->declared_size);
    else
        jb_puts(b, ",\"size\":null");
    jb_kopt(b, "transport", m->transport);
    jb_kuint(b, "body_bytes", m->body_bytes);
    jb_kopt(b, "subject", m->subject);
    jb_kopt(b, "from", m->header_from);
    jb_kopt(b, "to", m->header_to);
    jb_kopt(b, "msg_id", m->message_id);
    jb_kopt(b, "date", m->header_date);
    if (m->result_code)
        jb_printf(b, ",\"result_code\":%d", m->result_code);
    else
        jb_puts(b, ",\"result_code\":null");
    jb_kopt(b, "result_text", m->result_text);
    jb_kuint(b, "first_frame", m->first_frame);
    jb_kuint(b, "recipients_seen", m->recipients_seen);
    jb_puts(b, ",\"rcpt\":[");
    for (i = 0; i < m->n_recipients; i++) {
        const struct session_recipient *r = &m->recipients[i];
        jb_puts(b, i ? ",{\"address\":" : "{\"address\":");
        jb_cstr(b, r->address);
        jb_kopt(b, "params", r->params);
        if (r->code)
            jb_printf(b, ",\"code\":%d", r->code);
        else
            jb_puts(b, ",\"code\":null");
        jb_kopt(b, "text", r->text);
        jb_puts(b, "}");
    }
    jb_puts(b, "]}");
    s->n_messages++;
}

static void on_finding(void *ctx, const struct session_summary *summary, const struct finding *f)
{
    struct json_output *jo = ctx;
    struct jsess *s = get_sess(jo, summary->id);
    struct jbuf *b;

    if (!s)
        return;
    if (s->findings.len > JSON_OUTPUT_MAX_BUFFER) {
        s->findings_dropped++;
        return;
    }
    b = &s->findings;
    jb_puts(b, s->n_findings ? ",{\"kind\":" : "{\"kind\":");
    jb_cstr(b, finding_kind_name(f->kind));
    jb_kcstr(b, "severity", finding_severity_name(f->severity));
    jb_kopt(b, "extension", f->extension);
    if (f->frame)
        jb_kuint(b, "frame", f->frame);
    else
        jb_puts(b, ",\"frame\":null");
    if (f->event_seq)
        jb_kuint(b, "event_seq", f->event_seq);
    else
        jb_puts(b, ",\"event_seq\":null");
    jb_kcstr(b, "detail", f->detail ? f->detail : "");
    jb_puts(b, "}");
    s->n_findings++;
}

/* Appends an array of rendered objects (a buffer that failed is written as an empty array). */
static void put_array(struct jbuf *b, const char *key, const struct jbuf *items)
{
    jb_printf(b, ",\"%s\":[", key);
    if (!items->failed && items->len)
        jb_put(b, items->p, items->len);
    jb_puts(b, "]");
}

static void on_closed(void *ctx, const struct session_summary *sum, const struct session_capability *caps,
                      size_t n_caps)
{
    struct json_output *jo = ctx;
    struct jsess *s = get_sess(jo, sum->id);
    struct jbuf *b = &jo->line;
    size_t i;

    if (!s)
        return;
    jb_puts(b, "{\"type\":\"session\"");
    jb_ts(b, "ts", sum->start_ts_usec);
    put_uid(b, sum->id);
    jb_kcstr(b, "id.orig_h", sum->ep.client_ip);
    jb_kuint(b, "id.orig_p", sum->ep.client_port);
    jb_kcstr(b, "id.resp_h", sum->ep.server_ip);
    jb_kuint(b, "id.resp_p", sum->ep.server_port);
    jb_kbool(b, "ipv6", sum->ep.ipv6);
    jb_ts(b, "end_ts", sum->end_ts_usec);
    jb_printf(b, ",\"duration\":%" PRId64 ".%06" PRId64, (sum->end_ts_usec - sum->start_ts_usec) / 1000000,
              ((sum->end_ts_usec - sum->start_ts_usec) % 1000000 + 1000000) % 1000000);
    jb_kuint(b, "first_frame", sum->first_frame);
    jb_kuint(b, "last_frame", sum->last_frame);
    jb_kcstr(b, "end_reason", session_end_name(sum->end_reason));
    if (sum->banner_code)
        jb_printf(b, ",\"banner_code\":%d", sum->banner_code);
    else
        jb_puts(b, ",\"banner_code\":null");
    jb_kopt(b, "banner", sum->banner);
    jb_kopt(b, "banner_host", sum->banner_host);
    jb_kopt(b, "banner_software", sum->banner_software);
    jb_kopt(b, "banner_datetime", sum->banner_datetime);
    jb_kbool(b, "banner_esmtp", sum->banner_esmtp);
    jb_kopt(b, "greeting_verb", sum->greeting_verb);
    jb_kopt(b, "helo", sum->greeting_verb[0] ? sum->greeting_arg : "");
    jb_printf(b, ",\"ehlo_attempts\":%u,\"helo_attempts\":%u", sum->ehlo_attempts, sum->helo_attempts);
    jb_kbool(b, "ehlo_accepted", sum->ehlo_accepted);
    jb_kbool(b, "fallback", sum->fallback);
    jb_kopt(b, "mailfrom", s->have_mailfrom ? s->first_mailfrom : "");
    jb_puts(b, ",\"rcptto\":[");
    if (!s->rcptto.failed && s->rcptto.len)
        jb_put(b, s->rcptto.p, s->rcptto.len);
    jb_puts(b, "]");
    if (s->rcptto_dropped)
        jb_kuint(b, "rcptto_dropped", s->rcptto_dropped);
    jb_kopt(b, "last_reply", s->last_txn_reply[0] ? s->last_txn_reply : s->last_reply);
    jb_kbool(b, "tls", sum->tls != SESSION_TLS_NONE);
    jb_kcstr(b, "tls_mode", session_tls_name(sum->tls));
    jb_kopt(b, "tls_server_name", sum->tls_server_name);
    jb_kopt(b, "auth_mech", sum->auth_mech);
    jb_kopt(b, "auth_user", sum->auth_user);
    if (sum->auth_result)
        jb_printf(b, ",\"auth_result\":%d", sum->auth_result);
    else
        jb_puts(b, ",\"auth_result\":null");
    jb_kcstr(b, "app_protocol", sum->app_protocol[0] ? sum->app_protocol : "SMTP");
    jb_kuint(b, "messages_sent", sum->messages);
    jb_kuint(b, "commands", sum->commands);
    jb_kuint(b, "replies", sum->replies);
    jb_kuint(b, "client_bytes", sum->client_bytes);
    jb_kuint(b, "server_bytes", sum->server_bytes);
    jb_kuint(b, "gap_bytes", sum->gap_bytes);
    jb_kbool(b, "pipelining", sum->pipelining);
    jb_puts(b, ",\"capabilities\":[");
    for (i = 0; i < n_caps; i++) {
        jb_puts(b, i ? ",{\"keyword\":" : "{\"keyword\":");
        jb_cstr(b, caps[i].keyword ? caps[i].keyword : "");
        jb_kcstr(b, "params", caps[i].params ? caps[i].params : "");
        jb_puts(b, "}");
    }
    jb_puts(b, "]");
    put_array(b, "messages", &s->messages);
    if (s->messages_dropped || s->messages.failed)
        jb_kuint(b, "messages_dropped", s->messages_dropped + (s->messages.failed ? s->n_messages : 0));
    put_array(b, "findings", &s->findings);
    if (s->findings_dropped || s->findings.failed)
        jb_kuint(b, "findings_dropped", s->findings_dropped + (s->findings.failed ? s->n_findings : 0));
    jb_puts(b, "}");
    if (s->messages.failed || s->findings.failed || s->rcptto.failed)
        jo->failed = 1;
    flush_line(jo);
    remove_sess(jo, s);
}

const struct session_sink *json_output_sink(void)
{
    static const struct session_sink sink = {on_opened, on_event, on_message, on_finding, on_closed};
    return &sink;
}
