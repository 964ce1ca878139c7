/* test_smtp_parser.c: SMTP push parser transcripts replayed at every split, plus a fuzz loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/smtp_parser.h"

/*
 * Model: llhttp test/request/ (markdown files) and http-parser test.c test_scan. A
 * transcript is a conversation as (direction, bytes) pushes, gaps and mode
 * switches, and the event log it must produce. Consecutive BODY, BDAT_DATA
 * and TLS_DATA events are merged in the log, so the log does not depend on
 * how a push is split; every transcript is replayed whole, byte by byte, at
 * every split point and (short ones) every pair of split points, each chunk
 * in an exact-size heap copy so ASan sees any read past its end.
 */

enum step_kind { ST_PUSH, ST_GAP, ST_MODE, ST_TLS };

struct step {
    enum step_kind kind;
    enum smtp_dir dir;
    const char *data;
    size_t len; /* bytes of data, or gap length, or mode */
};

struct transcript {
    const char *name;
    int policy; /* 1: a small session reacts to replies (DATA 503, AUTH 235, STARTTLS 220) */
    const struct step *steps;
    size_t n_steps;
    const char *expected;
};

#define PUSH(d, s) {ST_PUSH, (d), (s), sizeof(s) - 1}
#define CL(s) PUSH(SMTP_FROM_CLIENT, s)
#define SV(s) PUSH(SMTP_FROM_SERVER, s)
#define GAP(d, n) {ST_GAP, (d), NULL, (n)}
#define NSTEPS(a) (sizeof(a) / sizeof((a)[0]))
#define TS(frame) ((int64_t)(frame) * 1000 + 7)

#define AGG_HEAD 400
#define FIFO_MAX 64
#define END_OF_DATA 1000

/* Event log recorder and checker; one per replay. */
struct rec {
    char *log;
    size_t log_len, log_cap;
    int agg_kind, agg_dir;
    uint64_t agg_bytes;
    unsigned char agg_head[AGG_HEAD];
    size_t agg_head_len;
    uint32_t agg_fnv;
    struct smtp_parser *ps;
    int policy, fuzz_modes;
    int fifo[FIFO_MAX];
    size_t fifo_n;
    uint64_t ev_bytes[2];
    const uint8_t *buf;
    size_t buf_len;
    uint64_t frame;
    uint64_t n_events;
    unsigned long touch;
};

__attribute__((format(printf, 2, 3))) static void logf_(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(r->log + r->log_len, r->log_cap - r->log_len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < r->log_cap - r->log_len) {
            r->log_len += (size_t)n;
            return;
        }
        r->log_cap *= 2;
        r->log = realloc(r->log, r->log_cap);
        assert_non_null(r->log);
    }
}

static void log_text(struct rec *r, const char *p, size_t len, size_t max)
{
    size_t i, n = len > max ? max : len;
    unsigned char c;

    logf_(r, "'");
    for (i = 0; i < n; i++) {
        c = (unsigned char)p[i];
        if (c == '\r')
            logf_(r, "\\r");
        else if (c == '\n')
            logf_(r, "\\n");
        else if (c == '\'' || c == '\\')
            logf_(r, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            logf_(r, "%c", c);
        else
            logf_(r, "\\x%02x", c);
    }
    logf_(r, "'");
    if (n < len)
        logf_(r, "...(len=%zu)", len);
}

static void log_flags(struct rec *r, unsigned f)
{
    static const char *const names[] = {"over_rfc", "cut", "unterminated", "bare_lf", "after_gap"};
    size_t i;
    int first = 1;

    if (!f)
        return;
    logf_(r, " [");
    for (i = 0; i < 5; i++)
        if (f & (1u << i)) {
            logf_(r, "%s%s", first ? "" : ",", names[i]);
            first = 0;
        }
    logf_(r, "]");
}

static void log_frames(struct rec *r, const struct smtp_event *ev)
{
    size_t i;

    logf_(r, " f=");
    for (i = 0; i < ev->n_frames; i++)
        logf_(r, "%s%llu", i ? "," : "", (unsigned long long)ev->frames[i]);
}

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static int is_data_kind(enum smtp_event_kind k)
{
    return k == SMTP_EV_BODY || k == SMTP_EV_BDAT_DATA || k == SMTP_EV_TLS_DATA;
}

static void agg_flush(struct rec *r)
{
    if (r->agg_kind < 0)
        return;
    logf_(r, "%c %s bytes=%llu ", r->agg_dir == SMTP_FROM_CLIENT ? 'C' : 'S',
          smtp_event_kind_name((enum smtp_event_kind)r->agg_kind), (unsigned long long)r->agg_bytes);
    log_text(r, (const char *)r->agg_head, r->agg_head_len, AGG_HEAD);
    if (r->agg_bytes > r->agg_head_len)
        logf_(r, "... fnv=%08x", (unsigned)r->agg_fnv);
    logf_(r, "\n");
    r->agg_kind = -1;
}

/* Reads every byte of a span, so ASan/UBSan see a bad pointer or length. */
static void touch(struct rec *r, struct smtp_span s)
{
    size_t i;

    if (s.len == 0)
        return;
    assert_non_null(s.p);
    for (i = 0; i < s.len; i++)
        r->touch += (unsigned char)s.p[i];
}

static int span_within(struct smtp_span inner, struct smtp_span outer)
{
    return inner.len == 0 || (inner.p >= outer.p && inner.p + inner.len <= outer.p + outer.len);
}

/* Invariants every event must keep, whatever the input. */
static void check_event(struct rec *r, const struct smtp_event *ev)
{
    size_t i, total = 0;

    assert_true((unsigned)ev->kind < SMTP_EV_KIND_COUNT);
    assert_true(ev->dir == SMTP_FROM_CLIENT || ev->dir == SMTP_FROM_SERVER);
    assert_true(ev->n_frames >= 1 && ev->n_frames <= SMTP_MAX_FRAMES);
    for (i = 1; i < ev->n_frames; i++)
        assert_true(ev->frames[i - 1] < ev->frames[i]);
    assert_true(ev->frames[ev->n_frames - 1] <= r->frame);
    assert_int_equal(ev->ts_usec, TS(ev->frames[ev->n_frames - 1]));
    r->ev_bytes[ev->dir] += ev->bytes;
    touch(r, ev->line);
    assert_true(ev->line.len <= SMTP_LINE_CAP);
    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        assert_true(span_within(ev->verb_text, ev->line));
        assert_true(span_within(ev->args, ev->line));
        assert_true(ev->bytes >= ev->line.len);
        break;
    case SMTP_EV_REPLY:
        assert_true(ev->code >= 100 && ev->code <= 599);
        assert_true(ev->n_lines >= 1 && ev->n_lines <= SMTP_REPLY_MAX_LINES);
        for (i = 0; i < ev->n_lines; i++) {
            touch(r, ev->lines[i]);
            total += ev->lines[i].len;
        }
        assert_true(total <= SMTP_REPLY_BUF);
        assert_true(span_within(ev->enhanced, ev->lines[0]));
        break;
    case SMTP_EV_BODY:
    case SMTP_EV_BDAT_DATA:
    case SMTP_EV_TLS_DATA:
        assert_true(ev->data.len > 0);
        assert_int_equal(ev->bytes, ev->data.len);
        if (!(r->buf && (const uint8_t *)ev->data.p >= r->buf &&
              (const uint8_t *)ev->data.p + ev->data.len <= r->buf + r->buf_len)) {
            /* Only held-back "." / ".\r" of a body may live outside the push. */
            assert_int_equal(ev->kind, SMTP_EV_BODY);
            assert_true(ev->data.len <= 2);
            assert_memory_equal(ev->data.p, ".\r", ev->data.len);
        } else {
            assert_int_equal(ev->n_frames, 1);
            assert_int_equal(ev->frames[0], r->frame);
        }
        touch(r, ev->data);
        break;
    case SMTP_EV_BODY_END:
        assert_true(ev->bytes == 2 || ev->bytes == 3);
        assert_true(ev->headers.subject.len <= SMTP_HEADER_CAP);
        assert_true(ev->headers.from.len <= SMTP_HEADER_CAP);
        assert_true(ev->headers.to.len <= SMTP_HEADER_CAP);
        assert_true(ev->headers.message_id.len <= SMTP_HEADER_CAP);
        assert_true(ev->headers.date.len <= SMTP_HEADER_CAP);
        touch(r, ev->headers.subject);
        touch(r, ev->headers.from);
        touch(r, ev->headers.to);
        touch(r, ev->headers.message_id);
        touch(r, ev->headers.date);
        break;
    default:
        break;
    }
}

static void log_event(struct rec *r, const struct smtp_event *ev)
{
    char d = ev->dir == SMTP_FROM_CLIENT ? 'C' : 'S';
    const char *name;

    if (is_data_kind(ev->kind)) {
        if (r->agg_kind != (int)ev->kind || r->agg_dir != (int)ev->dir) {
            agg_flush(r);
            r->agg_kind = (int)ev->kind;
            r->agg_dir = (int)ev->dir;
            r->agg_bytes = 0;
            r->agg_head_len = 0;
            r->agg_fnv = 2166136261u;
        }
        r->agg_bytes += ev->data.len;
        r->agg_fnv = fnv(r->agg_fnv, (const unsigned char *)ev->data.p, ev->data.len);
        if (r->agg_head_len < AGG_HEAD) {
            size_t n = AGG_HEAD - r->agg_head_len;
            if (n > ev->data.len)
                n = ev->data.len;
            memcpy(r->agg_head + r->agg_head_len, ev->data.p, n);
            r->agg_head_len += n;
        }
        return;
    }
    agg_flush(r);
    logf_(r, "%c %s", d, smtp_event_kind_name(ev->kind));
    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        name = ev->verb == SMTP_VERB_UNKNOWN ? "?" : smtp_verb_name(ev->verb);
        logf_(r, " %s", name);
        if (ev->verb_text.len != strlen(name) || memcmp(ev->verb_text.p, name, ev->verb_text.len) != 0) {
            logf_(r, "(");
            log_text(r, ev->verb_text.p, ev->verb_text.len, 40);
            logf_(r, ")");
        }
        logf_(r, " args=");
        log_text(r, ev->args.p, ev->args.len, 60);
        logf_(r, " bytes=%llu", (unsigned long long)ev->bytes);
        if (ev->verb == SMTP_VERB_BDAT)
            logf_(r, " size=%llu last=%d", (unsigned long long)ev->chunk_size, ev->chunk_last);
        break;
    case SMTP_EV_REPLY:
        logf_(r, " %d ", ev->code);
        log_text(r, ev->lines[0].p, ev->lines[0].len, 60);
        logf_(r, " lines=%zu bytes=%llu", ev->n_lines, (unsigned long long)ev->bytes);
        if (ev->enhanced.len) {
            logf_(r, " enh=");
            log_text(r, ev->enhanced.p, ev->enhanced.len, 20);
        }
        if (ev->lines_dropped)
            logf_(r, " dropped=%zu", ev->lines_dropped);
        break;
    case SMTP_EV_BAD_REPLY:
    case SMTP_EV_AUTH_RESPONSE:
        logf_(r, " ");
        log_text(r, ev->line.p, ev->line.len, 60);
        logf_(r, " bytes=%llu", (unsigned long long)ev->bytes);
        break;
    case SMTP_EV_BODY_END:
        logf_(r, " bytes=%llu size=%llu lines=%llu", (unsigned long long)ev->bytes,
              (unsigned long long)ev->body_bytes, (unsigned long long)ev->body_lines);
        if (ev->body_long_lines)
            logf_(r, " long=%llu", (unsigned long long)ev->body_long_lines);
        if (ev->body_8bit)
            logf_(r, " 8bit");
        if (ev->headers.subject.len) {
            logf_(r, " subject=");
            log_text(r, ev->headers.subject.p, ev->headers.subject.len, 300);
        }
        if (ev->headers.from.len) {
            logf_(r, " from=");
            log_text(r, ev->headers.from.p, ev->headers.from.len, 300);
        }
        if (ev->headers.to.len) {
            logf_(r, " to=");
            log_text(r, ev->headers.to.p, ev->headers.to.len, 300);
        }
        if (ev->headers.message_id.len) {
            logf_(r, " msgid=");
            log_text(r, ev->headers.message_id.p, ev->headers.message_id.len, 300);
        }
        if (ev->headers.date.len) {
            logf_(r, " date=");
            log_text(r, ev->headers.date.p, ev->headers.date.len, 300);
        }
        break;
    case SMTP_EV_BDAT_END:
        logf_(r, " size=%llu last=%d", (unsigned long long)ev->chunk_size, ev->chunk_last);
        break;
    case SMTP_EV_GAP:
        logf_(r, " len=%llu bytes=%llu", (unsigned long long)ev->gap_len, (unsigned long long)ev->bytes);
        break;
    default:
        break;
    }
    log_flags(r, ev->flags);
    log_frames(r, ev);
    logf_(r, "\n");
}

/* The session's part, reduced: FIFO of commands awaiting replies (RFC 2920 pipelining). */
static void policy(struct rec *r, const struct smtp_event *ev)
{
    int head;

    if (ev->kind == SMTP_EV_COMMAND || ev->kind == SMTP_EV_BODY_END) {
        if (r->fifo_n < FIFO_MAX)
            r->fifo[r->fifo_n++] = ev->kind == SMTP_EV_COMMAND ? (int)ev->verb : END_OF_DATA;
        return;
    }
    if (ev->kind != SMTP_EV_REPLY || r->fifo_n == 0)
        return;
    head = r->fifo[0];
    if (!(head == SMTP_VERB_AUTH && ev->code == 334)) {
        memmove(r->fifo, r->fifo + 1, (r->fifo_n - 1) * sizeof r->fifo[0]);
        r->fifo_n--;
    }
    if (head == SMTP_VERB_DATA && ev->code != 354 &&
        smtp_parser_client_mode(r->ps) == SMTP_MODE_DATA)
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_COMMAND);
    if (head == SMTP_VERB_AUTH && ev->code != 334 &&
        smtp_parser_client_mode(r->ps) == SMTP_MODE_AUTH)
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_COMMAND);
    if (head == SMTP_VERB_STARTTLS && ev->code == 220)
        smtp_parser_start_tls(r->ps);
}

/* Fuzz: mode switches decided by the event's content only, so every split agrees. */
static void fuzz_modes(struct rec *r, const struct smtp_event *ev)
{
    uint32_t h;

    if (is_data_kind(ev->kind) || ev->kind == SMTP_EV_GAP)
        return;
    h = fnv(2166136261u, (const unsigned char *)&ev->kind, sizeof ev->kind);
    h = fnv(h, (const unsigned char *)ev->line.p, ev->line.len);
    h = fnv(h, (const unsigned char *)&ev->bytes, sizeof ev->bytes);
    switch (h % 23) {
    case 0:
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_COMMAND);
        break;
    case 1:
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_DATA);
        break;
    case 2:
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_AUTH);
        break;
    case 3:
        smtp_parser_set_client_mode(r->ps, SMTP_MODE_BDAT);
        break;
    case 4:
        if (h % 5 == 0)
            smtp_parser_start_tls(r->ps);
        break;
    default:
        break;
    }
}

static void on_event(void *user, const struct smtp_event *ev)
{
    struct rec *r = user;

    r->n_events++;
    check_event(r, ev);
    log_event(r, ev);
    if (r->policy)
        policy(r, ev);
    if (r->fuzz_modes)
        fuzz_modes(r, ev);
}

static void rec_init(struct rec *r, int pol)
{
    struct smtp_parser_callbacks cbs = {on_event};

    memset(r, 0, sizeof *r);
    r->log_cap = 4096;
    r->log = malloc(r->log_cap);
    assert_non_null(r->log);
    r->log[0] = '\0';
    r->agg_kind = -1;
    r->policy = pol;
    r->ps = smtp_parser_new(&cbs, r);
    assert_non_null(r->ps);
}

/* Pushes one chunk, from a private exact-size heap copy when heap is set. */
static void push_chunk(struct rec *r, enum smtp_dir dir, const char *p, size_t len, uint64_t frame,
                       int heap)
{
    uint8_t *copy = NULL;
    const uint8_t *src = (const uint8_t *)p;

    if (len == 0)
        return;
    if (heap) {
        copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, p, len);
        src = copy;
    }
    r->buf = src;
    r->buf_len = len;
    r->frame = frame;
    smtp_parser_execute(r->ps, dir, src, len, frame, TS(frame));
    r->buf = NULL;
    r->buf_len = 0;
    free(copy);
}

enum split { SPLIT_NONE, SPLIT_BYTES, SPLIT_ONE, SPLIT_TWO, SPLIT_RANDOM };

/* xorshift64 (Marsaglia 2003): a fixed seed keeps the fuzz loop reproducible. */
static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/*
 * Replays t; with SPLIT_ONE/TWO only step `at` is cut at s1 (and s2).
 * Checks the byte accounting and returns the log (caller frees).
 */
static char *replay_ex(const struct step *steps, size_t n_steps, int pol, enum split how, size_t at,
                       size_t s1, size_t s2, int heap, uint64_t *rng, int modes)
{
    struct rec r;
    size_t k, j, c;
    uint64_t pushed[2] = {0, 0}, frame;
    const struct step *st;

    rec_init(&r, pol);
    r.fuzz_modes = modes;
    for (k = 0; k < n_steps; k++) {
        st = &steps[k];
        frame = k + 1;
        switch (st->kind) {
        case ST_PUSH:
            pushed[st->dir] += st->len;
            if (how == SPLIT_RANDOM) {
                for (j = 0; j < st->len; j += c) {
                    c = 1 + (size_t)(xorshift(rng) % (st->len - j));
                    if (xorshift(rng) % 2 && c > 4)
                        c = 1 + c % 4;
                    push_chunk(&r, st->dir, st->data + j, c, frame, heap);
                }
            } else if (how == SPLIT_BYTES) {
                for (j = 0; j < st->len; j++)
                    push_chunk(&r, st->dir, st->data + j, 1, frame, heap);
            } else if ((how == SPLIT_ONE || how == SPLIT_TWO) && k == at) {
                size_t b = how == SPLIT_TWO ? s2 : st->len;
                push_chunk(&r, st->dir, st->data, s1, frame, heap);
                push_chunk(&r, st->dir, st->data + s1, b - s1, frame, heap);
                push_chunk(&r, st->dir, st->data + b, st->len - b, frame, heap);
            } else {
                push_chunk(&r, st->dir, st->data, st->len, frame, heap);
            }
            break;
        case ST_GAP:
            r.frame = frame;
            smtp_parser_gap(r.ps, st->dir, st->len, frame, TS(frame));
            break;
        case ST_MODE:
            smtp_parser_set_client_mode(r.ps, (enum smtp_client_mode)st->len);
            break;
        case ST_TLS:
            smtp_parser_start_tls(r.ps);
            break;
        }
    }
    r.frame = n_steps + 1;
    smtp_parser_finish(r.ps, n_steps + 1, TS(n_steps + 1));
    agg_flush(&r);
    /* Every pushed byte is in exactly one event once the parser has finished. */
    assert_int_equal(r.ev_bytes[SMTP_FROM_CLIENT], pushed[SMTP_FROM_CLIENT]);
    assert_int_equal(r.ev_bytes[SMTP_FROM_SERVER], pushed[SMTP_FROM_SERVER]);
    smtp_parser_free(r.ps);
    return r.log;
}

static char *replay(const struct step *steps, size_t n_steps, int pol, enum split how, size_t at,
                    size_t s1, size_t s2, int heap)
{
    return replay_ex(steps, n_steps, pol, how, at, s1, s2, heap, NULL, 0);
}

static void expect_same(const char *name, const char *variant, const char *want, char *got)
{
    if (strcmp(want, got) != 0) {
        print_error("transcript %s, %s: event log differs\n--- expected\n%s--- got\n%s", name, variant,
                    want, got);
        free(got);
        fail();
    }
    free(got);
}

#define PAIR_LIMIT 160 /* pushes up to this size are also cut at every pair of points */

static void run_transcript(const struct transcript *t)
{
    char variant[96];
    size_t k, s1, s2, total = 0;
    const struct step *st;

    for (k = 0; k < t->n_steps; k++)
        if (t->steps[k].kind == ST_PUSH)
            total += t->steps[k].len;
    expect_same(t->name, "as given", t->expected,
                replay(t->steps, t->n_steps, t->policy, SPLIT_NONE, 0, 0, 0, 0));
    expect_same(t->name, "as given, heap copies", t->expected,
                replay(t->steps, t->n_steps, t->policy, SPLIT_NONE, 0, 0, 0, 1));
    expect_same(t->name, "byte by byte", t->expected,
                replay(t->steps, t->n_steps, t->policy, SPLIT_BYTES, 0, 0, 0, 1));
    for (k = 0; k < t->n_steps; k++) {
        st = &t->steps[k];
        if (st->kind != ST_PUSH)
            continue;
        for (s1 = 1; s1 < st->len; s1++) {
            snprintf(variant, sizeof variant, "step %zu cut at %zu", k, s1);
            expect_same(t->name, variant, t->expected,
                        replay(t->steps, t->n_steps, t->policy, SPLIT_ONE, k, s1, 0, 1));
        }
        if (st->len > PAIR_LIMIT || total > 4 * PAIR_LIMIT)
            continue;
        for (s1 = 1; s1 < st->len; s1++)
            for (s2 = s1 + 1; s2 < st->len; s2++) {
                snprintf(variant, sizeof variant, "step %zu cut at %zu and %zu", k, s1, s2);
                expect_same(t->name, variant, t->expected,
                            replay(t->steps, t->n_steps, t->policy, SPLIT_TWO, k, s1, s2, 1));
            }
    }
}

#define TRANSCRIPT(fn, pol, expect)                                                                    \
    static void fn(void **state)                                                                       \
    {                                                                                                  \
        const struct transcript t = {#fn, pol, fn##_steps, NSTEPS(fn##_steps), expect};                \
        (void)state;                                                                                   \
        run_transcript(&t);                                                                            \
    }

/* ---- transcripts ---- */

/* KB Q164060 style Sendmail banner: a multi-line 220 (RFC 5321 4.2.1). */
static const struct step banner_sendmail_steps[] = {
    SV("220-suns.nba.com Sendmail 8.6.12/8.6.9 ready at Wed, 19 Feb 1997 10:00:00 -0800\r\n"
       "220-Unauthorized use prohibited\r\n"
       "220 ESMTP spoken here\r\n"),
    CL("QUIT\r\n"),
    SV("221 2.0.0 suns.nba.com closing connection\r\n"),
};
TRANSCRIPT(banner_sendmail, 0,
    "S reply 220 '220-suns.nba.com Sendmail 8.6.12/8.6.9 ready at Wed, 19 Feb '...(len=79) lines=3 bytes=137 f=1\n"
    "C command QUIT args='' bytes=6 f=2\n"
    "S reply 221 '221 2.0.0 suns.nba.com closing connection' lines=1 bytes=43 enh='2.0.0' f=3\n")

/* KB Q240832: "EHLO sub2." and "HELO sub2." refused with 501, then QUIT. */
static const struct step ehlo_sub2_steps[] = {
    SV("220 mail.your-domain.com ESMTP\r\n"),
    CL("EHLO sub2.\r\n"),
    SV("501 Invalid Address\r\n"),
    CL("HELO sub2.\r\n"),
    SV("501 Invalid Address\r\n"),
    CL("QUIT\r\n"),
    SV("221 closing\r\n"),
};
TRANSCRIPT(ehlo_sub2, 0,
    "S reply 220 '220 mail.your-domain.com ESMTP' lines=1 bytes=32 f=1\n"
    "C command EHLO args='sub2.' bytes=12 f=2\n"
    "S reply 501 '501 Invalid Address' lines=1 bytes=21 f=3\n"
    "C command HELO args='sub2.' bytes=12 f=4\n"
    "S reply 501 '501 Invalid Address' lines=1 bytes=21 f=5\n"
    "C command QUIT args='' bytes=6 f=6\n"
    "S reply 221 '221 closing' lines=1 bytes=13 f=7\n")

static const struct step ehlo_caps_steps[] = {
    SV("220 mx.example.com ESMTP Postfix\r\n"),
    CL("EHLO client.example.org\r\n"),
    SV("250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
       "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n"
       "250 SMTPUTF8\r\n"),
};
TRANSCRIPT(ehlo_caps, 0,
    "S reply 220 '220 mx.example.com ESMTP Postfix' lines=1 bytes=34 f=1\n"
    "C command EHLO args='client.example.org' bytes=25 f=2\n"
    "S reply 250 '250-mx.example.com' lines=9 bytes=158 f=3\n")

/* Python smtplib spells its verbs in lower case. */
static const struct step lowercase_steps[] = {
    SV("220 localhost ESMTP\r\n"),
    CL("helo [127.0.1.1]\r\n"),
    SV("250 localhost\r\n"),
    CL("mail from:<alice@example.org>\r\n"),
    SV("250 OK\r\n"),
    CL("rcpt to: <bob@example.net>\r\n"),
    SV("250 OK\r\n"),
    CL("data\r\n"),
    SV("354 End data with <CR><LF>.<CR><LF>\r\n"),
    CL("subject: lower\r\n\r\nhello\r\n.\r\n"),
    SV("250 OK\r\n"),
    CL("quit\r\n"),
    SV("221 Bye\r\n"),
};
TRANSCRIPT(lowercase, 0,
    "S reply 220 '220 localhost ESMTP' lines=1 bytes=21 f=1\n"
    "C command HELO('helo') args='[127.0.1.1]' bytes=18 f=2\n"
    "S reply 250 '250 localhost' lines=1 bytes=15 f=3\n"
    "C command MAIL('mail') args='<alice@example.org>' bytes=31 f=4\n"
    "S reply 250 '250 OK' lines=1 bytes=8 f=5\n"
    "C command RCPT('rcpt') args='<bob@example.net>' bytes=28 f=6\n"
    "S reply 250 '250 OK' lines=1 bytes=8 f=7\n"
    "C command DATA('data') args='' bytes=6 f=8\n"
    "S reply 354 '354 End data with <CR><LF>.<CR><LF>' lines=1 bytes=37 f=9\n"
    "C body bytes=25 'subject: lower\\r\\n\\r\\nhello\\r\\n'\n"
    "C body_end bytes=3 size=25 lines=3 subject='lower' f=10\n"
    "S reply 250 '250 OK' lines=1 bytes=8 f=11\n"
    "C command QUIT('quit') args='' bytes=6 f=12\n"
    "S reply 221 '221 Bye' lines=1 bytes=9 f=13\n")

/* RFC 2920 pipelining: the whole transaction in one client push. */
static const struct step pipelined_steps[] = {
    CL("MAIL FROM:<alice@example.org> BODY=8BITMIME\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n"
       "Subject: pipelined\r\n\r\n..starts with a dot\r\nlast line\r\n.\r\nQUIT\r\n"),
    SV("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
       "250 2.0.0 Ok: queued as 4F2D1\r\n221 2.0.0 Bye\r\n"),
};
TRANSCRIPT(pipelined, 0,
    "C command MAIL args='<alice@example.org> BODY=8BITMIME' bytes=45 f=1\n"
    "C command RCPT args='<bob@example.net>' bytes=27 f=1\n"
    "C command DATA args='' bytes=6 f=1\n"
    "C body bytes=54 'Subject: pipelined\\r\\n\\r\\n..starts with a dot\\r\\nlast line\\r\\n'\n"
    "C body_end bytes=3 size=53 lines=4 subject='pipelined' f=1\n"
    "C command QUIT args='' bytes=6 f=1\n"
    "S reply 250 '250 2.1.0 Ok' lines=1 bytes=14 enh='2.1.0' f=2\n"
    "S reply 250 '250 2.1.5 Ok' lines=1 bytes=14 enh='2.1.5' f=2\n"
    "S reply 354 '354 End data with <CR><LF>.<CR><LF>' lines=1 bytes=37 f=2\n"
    "S reply 250 '250 2.0.0 Ok: queued as 4F2D1' lines=1 bytes=31 enh='2.0.0' f=2\n"
    "S reply 221 '221 2.0.0 Bye' lines=1 bytes=15 enh='2.0.0' f=2\n")

/* DATA refused before any body byte: the session puts the client back in COMMAND mode. */
static const struct step data_503_steps[] = {
    CL("MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@example.net>\r\nDATA\r\n"),
    SV("250 2.1.0 Ok\r\n550 5.1.1 <nobody@example.net>: Recipient address rejected\r\n"
       "503 5.5.1 Error: no valid recipients\r\n"),
    CL("RSET\r\nQUIT\r\n"),
    SV("250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n"),
};
TRANSCRIPT(data_503, 1,
    "C command MAIL args='<a@example.org>' bytes=27 f=1\n"
    "C command RCPT args='<nobody@example.net>' bytes=30 f=1\n"
    "C command DATA args='' bytes=6 f=1\n"
    "S reply 250 '250 2.1.0 Ok' lines=1 bytes=14 enh='2.1.0' f=2\n"
    "S reply 550 '550 5.1.1 <nobody@example.net>: Recipient address rejected' lines=1 bytes=60 enh='5.1.1' f=2\n"
    "S reply 503 '503 5.5.1 Error: no valid recipients' lines=1 bytes=38 enh='5.5.1' f=2\n"
    "C command RSET args='' bytes=6 f=3\n"
    "C command QUIT args='' bytes=6 f=3\n"
    "S reply 250 '250 2.0.0 Ok' lines=1 bytes=14 enh='2.0.0' f=4\n"
    "S reply 221 '221 2.0.0 Bye' lines=1 bytes=15 enh='2.0.0' f=4\n")

/* RFC 3030: chunk octets are counted, never parsed, even when they spell CRLF.CRLF and QUIT. */
static const struct step bdat_steps[] = {
    CL("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 18\r\nline1\r\n."),
    CL("\r\nQUIT\r\nab"),
    CL("BDAT 8 LAST\r\nQUIT\r\n\r\nQUIT\r\n"),
    SV("250 ok\r\n250 ok\r\n250 2.0.0 18 octets\r\n250 2.0.0 queued\r\n221 bye\r\n"),
};
TRANSCRIPT(bdat, 0,
    "C command MAIL args='<a@b.example>' bytes=25 f=1\n"
    "C command RCPT args='<c@d.example>' bytes=23 f=1\n"
    "C command BDAT args='18' bytes=9 size=18 last=0 f=1\n"
    "C bdat_data bytes=18 'line1\\r\\n.\\r\\nQUIT\\r\\nab'\n"
    "C bdat_end size=18 last=0 f=1,2\n"
    "C command BDAT args='8 LAST' bytes=13 size=8 last=1 f=3\n"
    "C bdat_data bytes=8 'QUIT\\r\\n\\r\\n'\n"
    "C bdat_end size=8 last=1 f=3\n"
    "C command QUIT args='' bytes=6 f=3\n"
    "S reply 250 '250 ok' lines=1 bytes=8 f=4\n"
    "S reply 250 '250 ok' lines=1 bytes=8 f=4\n"
    "S reply 250 '250 2.0.0 18 octets' lines=1 bytes=21 enh='2.0.0' f=4\n"
    "S reply 250 '250 2.0.0 queued' lines=1 bytes=18 enh='2.0.0' f=4\n"
    "S reply 221 '221 bye' lines=1 bytes=9 f=4\n")

/* Sizes that are not a chunk-size: no BDAT mode, chunk_size 0, the next lines are commands. */
static const struct step bdat_invalid_steps[] = {
    CL("BDAT -5\r\nBDAT abc LAST\r\nBDAT 99999999999999999999\r\nBDAT 9223372036854775808\r\n"
       "BDAT 12x\r\nBDAT 5 LASTX\r\nBDAT\r\nBDAT 0 LAST\r\nbdat 9223372036854775807 last \r\n"),
};
TRANSCRIPT(bdat_invalid, 0,
    "C command BDAT args='-5' bytes=9 size=0 last=0 f=1\n"
    "C command BDAT args='abc LAST' bytes=15 size=0 last=0 f=1\n"
    "C command BDAT args='99999999999999999999' bytes=27 size=0 last=0 f=1\n"
    "C command BDAT args='9223372036854775808' bytes=26 size=0 last=0 f=1\n"
    "C command BDAT args='12x' bytes=10 size=0 last=0 f=1\n"
    "C command BDAT args='5 LASTX' bytes=14 size=0 last=0 f=1\n"
    "C command BDAT args='' bytes=6 size=0 last=0 f=1\n"
    "C command BDAT args='0 LAST' bytes=13 size=0 last=1 f=1\n"
    "C bdat_end size=0 last=1 f=1\n"
    "C command BDAT('bdat') args='9223372036854775807 last ' bytes=32 size=9223372036854775807 last=1 f=1\n")

/* RFC 4954 AUTH LOGIN: the base64 lines are AUTH_RESPONSE, 235 ends the exchange. */
static const struct step auth_login_steps[] = {
    SV("220 mx ESMTP\r\n"),
    CL("AUTH LOGIN\r\n"),
    SV("334 VXNlcm5hbWU6\r\n"),
    CL("dXNlcm5hbWU=\r\n"),
    SV("334 UGFzc3dvcmQ6\r\n"),
    CL("cGFzc3dvcmQ=\r\n"),
    SV("235 2.7.0 Authentication successful\r\n"),
    CL("MAIL FROM:<u@example.org>\r\n"),
    SV("250 2.1.0 Ok\r\n"),
    CL("AUTH LOGIN\r\n"),
    SV("334 VXNlcm5hbWU6\r\n"),
    CL("*\r\n"),
    SV("501 5.7.0 Authentication aborted\r\n"),
    CL("QUIT\r\n"),
};
TRANSCRIPT(auth_login, 1,
    "S reply 220 '220 mx ESMTP' lines=1 bytes=14 f=1\n"
    "C command AUTH args='LOGIN' bytes=12 f=2\n"
    "S reply 334 '334 VXNlcm5hbWU6' lines=1 bytes=18 f=3\n"
    "C auth_response 'dXNlcm5hbWU=' bytes=14 f=4\n"
    "S reply 334 '334 UGFzc3dvcmQ6' lines=1 bytes=18 f=5\n"
    "C auth_response 'cGFzc3dvcmQ=' bytes=14 f=6\n"
    "S reply 235 '235 2.7.0 Authentication successful' lines=1 bytes=37 enh='2.7.0' f=7\n"
    "C command MAIL args='<u@example.org>' bytes=27 f=8\n"
    "S reply 250 '250 2.1.0 Ok' lines=1 bytes=14 enh='2.1.0' f=9\n"
    "C command AUTH args='LOGIN' bytes=12 f=10\n"
    "S reply 334 '334 VXNlcm5hbWU6' lines=1 bytes=18 f=11\n"
    "C auth_response '*' bytes=3 f=12\n"
    "S reply 501 '501 5.7.0 Authentication aborted' lines=1 bytes=34 enh='5.7.0' f=13\n"
    "C command QUIT args='' bytes=6 f=14\n")

/* AUTH PLAIN with an initial response, and one answered 334 first (no session help here). */
static const struct step auth_plain_steps[] = {
    CL("AUTH PLAIN AHVzZXIAcGFzcw==\r\n"),
    SV("235 2.7.0 ok\r\n"),
    CL("AUTH PLAIN\r\n"),
    SV("334 \r\n"),
    CL("AHVzZXIAcGFzcw==\r\nnoop\r\nAUTH LOGIN\r\nQUIT\r\n"),
};
TRANSCRIPT(auth_plain, 0,
    "C command AUTH args='PLAIN AHVzZXIAcGFzcw==' bytes=29 f=1\n"
    "S reply 235 '235 2.7.0 ok' lines=1 bytes=14 enh='2.7.0' f=2\n"
    "C command AUTH args='PLAIN' bytes=12 f=3\n"
    "S reply 334 '334 ' lines=1 bytes=6 f=4\n"
    "C auth_response 'AHVzZXIAcGFzcw==' bytes=18 f=5\n"
    "C command NOOP('noop') args='' bytes=6 f=5\n"
    "C command AUTH args='LOGIN' bytes=12 f=5\n"
    "C command QUIT args='' bytes=6 f=5\n")

/* RFC 3207: after 220 to STARTTLS every byte both ways is TLS_DATA. */
static const struct step starttls_steps[] = {
    SV("220 mx ESMTP\r\n"),
    CL("EHLO a.example\r\n"),
    SV("250-mx\r\n250 STARTTLS\r\n"),
    CL("STARTTLS\r\n"),
    SV("220 2.0.0 Ready to start TLS\r\n"),
    CL("\x16\x03\x01\x00\x31\x01\x00\x00\x2d\x03\x03QUIT\r\n.\r\n\x00\xff\xfe\n"),
    SV("\x16\x03\x03\x00\x02\x02\x00\r\n250 fake\r\n\x17\x03\x03"),
    CL("\x17\x03\x03\x00\x10\x80\x81\x82\x83"),
};
TRANSCRIPT(starttls, 1,
    "S reply 220 '220 mx ESMTP' lines=1 bytes=14 f=1\n"
    "C command EHLO args='a.example' bytes=16 f=2\n"
    "S reply 250 '250-mx' lines=2 bytes=22 f=3\n"
    "C command STARTTLS args='' bytes=10 f=4\n"
    "S reply 220 '220 2.0.0 Ready to start TLS' lines=1 bytes=30 enh='2.0.0' f=5\n"
    "C tls_data bytes=24 '\\x16\\x03\\x01\\x001\\x01\\x00\\x00-\\x03\\x03QUIT\\r\\n.\\r\\n\\x00\\xff\\xfe\\n'\n"
    "S tls_data bytes=22 '\\x16\\x03\\x03\\x00\\x02\\x02\\x00\\r\\n250 fake\\r\\n\\x17\\x03\\x03'\n"
    "C tls_data bytes=9 '\\x17\\x03\\x03\\x00\\x10\\x80\\x81\\x82\\x83'\n")

/* The 220 and the first TLS bytes in one push: the switch applies to the very next byte. */
static const struct step starttls_same_push_steps[] = {
    CL("EHLO a\r\nSTARTTLS\r\n"),
    SV("250 mx\r\n220 go ahead\r\n\x16\x03\x03\x00\x01\x0a"),
    CL("\x16\x03\x01\r\nQUIT\r\n"),
};
TRANSCRIPT(starttls_same_push, 1,
    "C command EHLO args='a' bytes=8 f=1\n"
    "C command STARTTLS args='' bytes=10 f=1\n"
    "S reply 250 '250 mx' lines=1 bytes=8 f=2\n"
    "S reply 220 '220 go ahead' lines=1 bytes=14 f=2\n"
    "S tls_data bytes=6 '\\x16\\x03\\x03\\x00\\x01\\n'\n"
    "C tls_data bytes=11 '\\x16\\x03\\x01\\r\\nQUIT\\r\\n'\n")

/*
 * Client bytes after STARTTLS pushed before the 220 was seen: they were a
 * partial line when TLS began, so they come out as an UNTERMINATED command.
 */
static const struct step starttls_early_client_steps[] = {
    CL("STARTTLS\r\n\x16\x03\x01"),
    SV("220 go ahead\r\n"),
    CL("\x00\x05"),
};
TRANSCRIPT(starttls_early_client, 1,
    "C command STARTTLS args='' bytes=10 f=1\n"
    "S reply 220 '220 go ahead' lines=1 bytes=14 f=2\n"
    "C command ?('\\x16\\x03\\x01') args='' bytes=3 [unterminated] f=1\n"
    "C tls_data bytes=2 '\\x00\\x05'\n")

/* A server line without a code, inside a pending multi-line reply (RFC 5321 4.2). */
static const struct step bad_reply_steps[] = {
    SV("220 mx\r\n"),
    CL("MAIL FROM:<a@b>\r\n"),
    SV("250-first\r\n4.7.0 deferred\r\n451 4.7.0 try later\r\n"),
    SV("99 too short\r\n600 out of range\r\n25\r\n250\r\n"),
};
TRANSCRIPT(bad_reply, 0,
    "S reply 220 '220 mx' lines=1 bytes=8 f=1\n"
    "C command MAIL args='<a@b>' bytes=17 f=2\n"
    "S reply 250 '250-first' lines=1 bytes=11 f=3\n"
    "S bad_reply '4.7.0 deferred' bytes=16 f=3\n"
    "S reply 451 '451 4.7.0 try later' lines=1 bytes=21 enh='4.7.0' f=3\n"
    "S bad_reply '99 too short' bytes=14 f=4\n"
    "S bad_reply '600 out of range' bytes=18 f=4\n"
    "S bad_reply '25' bytes=4 f=4\n"
    "S reply 250 '250' lines=1 bytes=5 f=4\n")

/* End of capture without CRLF: the partial lines still come out, UNTERMINATED. */
static const struct step unterminated_steps[] = {
    SV("221-bye\r\n221 really"),
    CL("QUIT"),
};
TRANSCRIPT(unterminated, 0,
    "C command QUIT args='' bytes=4 [unterminated] f=2\n"
    "S reply 221 '221-bye' lines=2 bytes=19 [unterminated] f=1\n")

static const struct step gap_command_steps[] = {
    CL("EHLO a\r\nMAIL FROM:<al"),
    GAP(SMTP_FROM_CLIENT, 5),
    CL("ce@example.org>\r\nRCPT TO:<b@c.example>\r\n"),
    SV("250-a\r\n250-b"),
    GAP(SMTP_FROM_SERVER, 100),
    SV("lost tail\r\n250 ok\r\n"),
};
TRANSCRIPT(gap_command, 0,
    "C command EHLO args='a' bytes=8 f=1\n"
    "C gap len=5 bytes=13 f=2\n"
    "C command ?('ce@example.org>') args='' bytes=17 [after_gap] f=3\n"
    "C command RCPT args='<b@c.example>' bytes=23 f=3\n"
    "S reply 250 '250-a' lines=1 bytes=7 f=4\n"
    "S gap len=100 bytes=5 f=5\n"
    "S bad_reply 'lost tail' bytes=11 [after_gap] f=6\n"
    "S reply 250 '250 ok' lines=1 bytes=8 f=6\n")

static const struct step gap_bdat_steps[] = {
    CL("BDAT 10 LAST\r\nabc"),
    GAP(SMTP_FROM_CLIENT, 4),
    CL("defQUIT\r\n"),
    CL("BDAT 5\r\nab"),
    GAP(SMTP_FROM_CLIENT, 10),
    CL("tail\r\nQUIT\r\n"),
    CL("BDAT 4\r\nxy"),
    GAP(SMTP_FROM_CLIENT, 2),
    CL("NOOP\r\n"),
};
TRANSCRIPT(gap_bdat, 0,
    "C command BDAT args='10 LAST' bytes=14 size=10 last=1 f=1\n"
    "C bdat_data bytes=3 'abc'\n"
    "C gap len=4 bytes=0 f=2\n"
    "C bdat_data bytes=3 'def'\n"
    "C bdat_end size=10 last=1 f=1,2,3\n"
    "C command QUIT args='' bytes=6 f=3\n"
    "C command BDAT args='5' bytes=8 size=5 last=0 f=4\n"
    "C bdat_data bytes=2 'ab'\n"
    "C gap len=10 bytes=0 f=5\n"
    "C bdat_end size=5 last=0 f=4,5\n"
    "C command ?('tail') args='' bytes=6 [after_gap] f=6\n"
    "C command QUIT args='' bytes=6 f=6\n"
    "C command BDAT args='4' bytes=8 size=4 last=0 f=7\n"
    "C bdat_data bytes=2 'xy'\n"
    "C gap len=2 bytes=0 f=8\n"
    "C bdat_end size=4 last=0 f=7,8\n"
    "C command NOOP args='' bytes=6 f=9\n")

static const struct step gap_data_steps[] = {
    CL("DATA\r\nSubject: before gap\r\nFrom: x"),
    GAP(SMTP_FROM_CLIENT, 50),
    CL("rest of line\r\nTo: after@gap\r\n\r\nbody\r\n.\r\nNOOP\r\n"),
    SV("354 go\r\n250 queued\r\n250 ok\r\n"),
    CL("STARTTLS\r\n"),
    SV("220 go\r\n"),
    GAP(SMTP_FROM_SERVER, 3),
    CL("\x16\x03"),
    GAP(SMTP_FROM_CLIENT, 3),
};
TRANSCRIPT(gap_data, 1,
    "C command DATA args='' bytes=6 f=1\n"
    "C body bytes=28 'Subject: before gap\\r\\nFrom: x'\n"
    "C gap len=50 bytes=0 f=2\n"
    "C body bytes=37 'rest of line\\r\\nTo: after@gap\\r\\n\\r\\nbody\\r\\n'\n"
    "C body_end bytes=3 size=65 lines=5 subject='before gap' to='after@gap' f=3\n"
    "C command NOOP args='' bytes=6 f=3\n"
    "S reply 354 '354 go' lines=1 bytes=8 f=4\n"
    "S reply 250 '250 queued' lines=1 bytes=12 f=4\n"
    "S reply 250 '250 ok' lines=1 bytes=8 f=4\n"
    "C command STARTTLS args='' bytes=10 f=5\n"
    "S reply 220 '220 go' lines=1 bytes=8 f=6\n"
    "S gap len=3 bytes=0 f=7\n"
    "C tls_data bytes=2 '\\x16\\x03'\n"
    "C gap len=3 bytes=0 f=9\n")

/* Bare LF line ends (RFC 5321 2.3.8 forbids them; they happen): flagged, and "\n.\n" ends DATA. */
static const struct step bare_lf_steps[] = {
    SV("220 mx\n"),
    CL("HELO a\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\r\nDATA\n"),
    SV("250 ok\n250 ok\r\n250 ok\n354 go\n"),
    CL("Subject: bare\n\nline\n.\nQUIT\n"),
    SV("250 queued\n221 bye\n"),
};
TRANSCRIPT(bare_lf, 0,
    "S reply 220 '220 mx' lines=1 bytes=7 [bare_lf] f=1\n"
    "C command HELO args='a' bytes=7 [bare_lf] f=2\n"
    "C command MAIL args='<a@b>' bytes=16 [bare_lf] f=2\n"
    "C command RCPT args='<c@d>' bytes=15 f=2\n"
    "C command DATA args='' bytes=5 [bare_lf] f=2\n"
    "S reply 250 '250 ok' lines=1 bytes=7 [bare_lf] f=3\n"
    "S reply 250 '250 ok' lines=1 bytes=8 f=3\n"
    "S reply 250 '250 ok' lines=1 bytes=7 [bare_lf] f=3\n"
    "S reply 354 '354 go' lines=1 bytes=7 [bare_lf] f=3\n"
    "C body bytes=20 'Subject: bare\\n\\nline\\n'\n"
    "C body_end bytes=2 size=20 lines=3 subject='bare' f=4\n"
    "C command QUIT args='' bytes=5 [bare_lf] f=4\n"
    "S reply 250 '250 queued' lines=1 bytes=11 [bare_lf] f=5\n"
    "S reply 221 '221 bye' lines=1 bytes=8 [bare_lf] f=5\n")

/* RFC 3463 enhanced codes: x.y.z after the code, then SP or end. */
static const struct step enhanced_steps[] = {
    CL("RCPT TO:<x@y>\r\n"),
    SV("550 5.1.1 User unknown\r\n250 2.0.0\r\n250 2.0.0x\r\n451 4.3.0 \r\n550 5.1.1000 no\r\n"
       "250-2.1.0 first\r\n250 2.1.5 second\r\n354 3.0.0 no class 3\r\n421 4.7 short\r\n"),
};
TRANSCRIPT(enhanced, 0,
    "C command RCPT args='<x@y>' bytes=15 f=1\n"
    "S reply 550 '550 5.1.1 User unknown' lines=1 bytes=24 enh='5.1.1' f=2\n"
    "S reply 250 '250 2.0.0' lines=1 bytes=11 enh='2.0.0' f=2\n"
    "S reply 250 '250 2.0.0x' lines=1 bytes=12 f=2\n"
    "S reply 451 '451 4.3.0 ' lines=1 bytes=12 enh='4.3.0' f=2\n"
    "S reply 550 '550 5.1.1000 no' lines=1 bytes=17 f=2\n"
    "S reply 250 '250-2.1.0 first' lines=2 bytes=35 enh='2.1.0' f=2\n"
    "S reply 354 '354 3.0.0 no class 3' lines=1 bytes=22 f=2\n"
    "S reply 421 '421 4.7 short' lines=1 bytes=15 f=2\n")

/* Header capture (RFC 5322 2.2.3 unfolding), dot-stuffing (RFC 5321 4.5.2), body statistics. */
static const struct step headers_steps[] = {
    CL("DATA\r\n"),
    CL("Received: from x\r\n\tby y\r\nSUBJECT: Hello \t\r\n   folded\r\n\tagain  \r\nfrom: Alice <a@b>\r\n"
       "To:   c@d  \r\nMessage-ID: <1@x>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nX-Other: y\r\n"
       "Subject: second is ignored\r\n\r\nSubject: not a header\r\n..\r\n.x\r\n\xc3\xa9t\xc3\xa9\r\n.\r"),
    CL("\n"),
};
TRANSCRIPT(headers, 0,
    "C command DATA args='' bytes=6 f=1\n"
    "C body bytes=233 'Received: from x\\r\\n\\x09by y\\r\\nSUBJECT: Hello \\x09\\r\\n   folded\\r\\n\\x09again  \\r\\nfrom: Alice <a@b>\\r\\nTo:   c@d  \\r\\nMessage-ID: <1@x>\\r\\nDate: Mon, 1 Jan 2024 00:00:00 +0000\\r\\nX-Other: y\\r\\nSubject: second is ignored\\r\\n\\r\\nSubject: not a header\\r\\n..\\r\\n.x\\r\\n\\xc3\\xa9t\\xc3\\xa9\\r\\n'\n"
    "C body_end bytes=3 size=231 lines=16 8bit subject='Hello folded again' from='Alice <a@b>' to='c@d' msgid='<1@x>' date='Mon, 1 Jan 2024 00:00:00 +0000' f=2,3\n")

/* 8-bit bytes right after the end of data, in the same push (the next transaction's UTF-8
 * address), are not the body's: the body stays 7-bit. Then an 8-bit body split over two pushes. */
static const struct step body_8bit_edge_steps[] = {
    CL("DATA\r\n"),
    CL("plain\r\n.\r\nMAIL FROM:<\xc3\xa9@x>\r\nDATA\r\n"),
    CL("ascii line\r\nsecond \xc3"),
    CL("\xa9\r\n.\r\n"),
};
TRANSCRIPT(body_8bit_edge, 0,
    "C command DATA args='' bytes=6 f=1\n"
    "C body bytes=7 'plain\\r\\n'\n"
    "C body_end bytes=3 size=7 lines=1 f=2\n"
    "C command MAIL args='<\\xc3\\xa9@x>' bytes=18 f=2\n"
    "C command DATA args='' bytes=6 f=2\n"
    "C body bytes=23 'ascii line\\r\\nsecond \\xc3\\xa9\\r\\n'\n"
    "C body_end bytes=3 size=23 lines=2 8bit f=4\n")

/* Edge bodies: empty, a "." that is data, ".\r" not followed by LF, a lone dot at a push end. */
static const struct step body_edges_steps[] = {
    CL("DATA\r\n.\r\n"),
    CL("DATA\r\n"),
    CL("."),
    CL("\rX\r\n."),
    CL("."),
    CL("\r\n\r\n."),
    CL("\r"),
    CL("\n"),
    CL("DATA\r\nno final line"),
    CL("\r\n."),
};
TRANSCRIPT(body_edges, 0,
    "C command DATA args='' bytes=6 f=1\n"
    "C body_end bytes=3 size=0 lines=0 f=1\n"
    "C command DATA args='' bytes=6 f=2\n"
    "C body bytes=11 '.\\rX\\r\\n..\\r\\n\\r\\n'\n"
    "C body_end bytes=3 size=9 lines=3 f=6,7,8\n"
    "C command DATA args='' bytes=6 f=9\n"
    "C body bytes=16 'no final line\\r\\n.'\n")

/* ---- transcripts built at run time (long lines) ---- */

static char *repeat_line(const char *head, char fill, size_t content, const char *tail, size_t *len)
{
    size_t h = strlen(head), t = strlen(tail);
    char *s = malloc(content + t + 1);

    assert_non_null(s);
    assert_true(content >= h);
    memcpy(s, head, h);
    memset(s + h, fill, content - h);
    memcpy(s + content, tail, t + 1);
    *len = content + t;
    return s;
}

/* RFC 5321 4.5.3.1.4: 512 with CRLF for a command; SMTP_LINE_CAP cuts at 4096. */
static void long_command(void **state)
{
    size_t l5000, l600, l4094, l4095, l4095crlf;
    char *c5000 = repeat_line("NOOP ", 'a', 5000, "\r\n", &l5000);
    char *c600 = repeat_line("MAIL FROM:<", 'b', 600, "\r\n", &l600);
    char *c4094 = repeat_line("VRFY ", 'c', 4094, "\r\n", &l4094);
    char *c4095 = repeat_line("EXPN ", 'd', 4095, "\n", &l4095);
    char *c4095crlf = repeat_line("RSET ", 'e', 4095, "\r\n", &l4095crlf);
    const struct step steps[] = {
        {ST_PUSH, SMTP_FROM_CLIENT, c5000, l5000},
        {ST_PUSH, SMTP_FROM_CLIENT, c600, l600},
        {ST_PUSH, SMTP_FROM_CLIENT, c4094, l4094},
        {ST_PUSH, SMTP_FROM_CLIENT, c4095, l4095},
        {ST_PUSH, SMTP_FROM_CLIENT, c4095crlf, l4095crlf},
        CL("QUIT\r\n"),
    };
    const struct transcript t = {"long_command", 0, steps, NSTEPS(steps),
    "C command NOOP args='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'...(len=4091) bytes=5002 [over_rfc,cut] f=1\n"
    "C command MAIL args='<bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'...(len=590) bytes=602 [over_rfc] f=2\n"
    "C command VRFY args='cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc'...(len=4089) bytes=4096 [over_rfc] f=3\n"
    "C command EXPN args='dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd'...(len=4090) bytes=4096 [over_rfc,bare_lf] f=4\n"
    "C command RSET args='eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'...(len=4090) bytes=4097 [over_rfc,cut] f=5\n"
    "C command QUIT args='' bytes=6 f=6\n"};

    (void)state;
    run_transcript(&t);
    free(c5000);
    free(c600);
    free(c4094);
    free(c4095);
    free(c4095crlf);
}

/* Reply limits: SMTP_REPLY_MAX_LINES lines, SMTP_REPLY_BUF bytes, 512 per line (4.5.3.1.5). */
static void reply_limits(void **state)
{
    char many[70 * 16];
    size_t n = 0, i, l3000, l600, l5000;
    char *big = repeat_line("250-", 'x', 3000, "\r\n", &l3000);
    char *over = repeat_line("550 5.7.1 ", 'y', 600, "\r\n", &l600);
    char *cut = repeat_line("554 ", 'z', 5000, "\r\n", &l5000);
    struct step steps[7];
    const struct transcript t = {"reply_limits", 0, steps, NSTEPS(steps),
    "S reply 250 '250-line 00' lines=64 bytes=910 dropped=6 f=1\n"
    "S reply 250 '250-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'...(len=3000) lines=2 bytes=9022 dropped=3 [over_rfc] f=2,3,4,5\n"
    "S reply 550 '550 5.7.1 yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'...(len=600) lines=1 bytes=602 enh='5.7.1' [over_rfc] f=6\n"
    "S reply 554 '554 zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'...(len=4096) lines=1 bytes=5002 [over_rfc,cut] f=7\n"};

    (void)state;
    for (i = 0; i < 70; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "250%cline %02zu\r\n", i == 69 ? ' ' : '-', i);
    steps[0] = (struct step){ST_PUSH, SMTP_FROM_SERVER, many, n};
    steps[1] = (struct step){ST_PUSH, SMTP_FROM_SERVER, big, l3000};
    steps[2] = (struct step){ST_PUSH, SMTP_FROM_SERVER, big, l3000};
    steps[3] = (struct step){ST_PUSH, SMTP_FROM_SERVER, big, l3000};
    steps[4] = (struct step){ST_PUSH, SMTP_FROM_SERVER, "250-x\r\n250 end\r\n", 16};
    steps[5] = (struct step){ST_PUSH, SMTP_FROM_SERVER, over, l600};
    steps[6] = (struct step){ST_PUSH, SMTP_FROM_SERVER, cut, l5000};
    run_transcript(&t);
    free(big);
    free(over);
    free(cut);
}

/* Body lines over 1000 octets (RFC 5321 4.5.3.1.6), 8-bit bytes, a header over SMTP_HEADER_CAP. */
static void body_long(void **state)
{
    size_t l1500, l1000, l1001, lsubj;
    char *b1500 = repeat_line("x", 'x', 1498, "\r\n", &l1500);
    char *b1000 = repeat_line("y", 'y', 998, "\r\n", &l1000);
    char *b1001 = repeat_line("..z", 'z', 999, "\r\n", &l1001);
    char *subj = repeat_line("Subject: ", 's', 300, "\r\n\r\n", &lsubj);
    const struct step steps[] = {
        CL("DATA\r\n"),
        {ST_PUSH, SMTP_FROM_CLIENT, subj, lsubj},
        {ST_PUSH, SMTP_FROM_CLIENT, b1500, l1500},
        {ST_PUSH, SMTP_FROM_CLIENT, b1000, l1000},
        {ST_PUSH, SMTP_FROM_CLIENT, b1001, l1001},
        CL("caf\xe9\r\n.\r\n"),
    };
    const struct transcript t = {"body_long", 0, steps, NSTEPS(steps),
    "C command DATA args='' bytes=6 f=1\n"
    "C body bytes=3811 'Subject: sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss\\r\\n\\r\\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... fnv=8ea2a855\n"
    "C body_end bytes=3 size=3810 lines=6 long=2 8bit subject='ssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss' f=6\n"};

    (void)state;
    run_transcript(&t);
    free(b1500);
    free(b1000);
    free(b1001);
    free(subj);
}

/* ---- focused checks ---- */

static void names(void **state)
{
    (void)state;
    assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "");
    assert_string_equal(smtp_verb_name(SMTP_VERB_HELO), "HELO");
    assert_string_equal(smtp_verb_name(SMTP_VERB_EHLO), "EHLO");
    assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
    assert_string_equal(smtp_verb_name(SMTP_VERB_XEXCH50), "XEXCH50");
    assert_string_equal(smtp_verb_name(SMTP_VERB_X_LINK2STATE), "X-LINK2STATE");
    assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_COMMAND), "command");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_REPLY), "reply");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_BAD_REPLY), "bad_reply");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_AUTH_RESPONSE), "auth_response");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_BODY), "body");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_BODY_END), "body_end");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_BDAT_DATA), "bdat_data");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_BDAT_END), "bdat_end");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_TLS_DATA), "tls_data");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_GAP), "gap");
    assert_string_equal(smtp_event_kind_name(SMTP_EV_KIND_COUNT), "");
}

/* Keeps a copy of the last event of one kind, with its spans copied out. */
struct grab {
    enum smtp_event_kind kind;
    int count;
    struct smtp_event ev;
    char text[SMTP_REPLY_MAX_LINES][64];
    const void *data_p;
};

static void grab_event(void *user, const struct smtp_event *ev)
{
    struct grab *g = user;
    size_t i, n;

    if (ev->kind != g->kind)
        return;
    g->count++;
    g->ev = *ev;
    g->data_p = ev->data.p;
    for (i = 0; i < ev->n_lines && i < SMTP_REPLY_MAX_LINES; i++) {
        n = ev->lines[i].len < 63 ? ev->lines[i].len : 63;
        memcpy(g->text[i], ev->lines[i].p, n);
        g->text[i][n] = '\0';
    }
}

static struct smtp_parser *grab_parser(struct grab *g, enum smtp_event_kind kind)
{
    struct smtp_parser_callbacks cbs = {grab_event};
    struct smtp_parser *ps;

    memset(g, 0, sizeof *g);
    g->kind = kind;
    ps = smtp_parser_new(&cbs, g);
    assert_non_null(ps);
    return ps;
}

static void exec_str(struct smtp_parser *ps, enum smtp_dir dir, const char *s, uint64_t frame)
{
    smtp_parser_execute(ps, dir, (const uint8_t *)s, strlen(s), frame, TS(frame));
}

static void reply_lines(void **state)
{
    struct grab g;
    struct smtp_parser *ps = grab_parser(&g, SMTP_EV_REPLY);

    (void)state;
    exec_str(ps, SMTP_FROM_SERVER, "250-mx.example.com\r\n250-SIZE 1000\r", 3);
    exec_str(ps, SMTP_FROM_SERVER, "\n554-5.7.1 odd code\r\n250 CHUNKING", 5);
    assert_int_equal(g.count, 0);
    exec_str(ps, SMTP_FROM_SERVER, "\r\n", 9);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.ev.code, 250);
    assert_int_equal(g.ev.n_lines, 4);
    assert_string_equal(g.text[0], "250-mx.example.com");
    assert_string_equal(g.text[1], "250-SIZE 1000");
    assert_string_equal(g.text[2], "554-5.7.1 odd code");
    assert_string_equal(g.text[3], "250 CHUNKING");
    assert_int_equal(g.ev.enhanced.len, 0);
    assert_int_equal(g.ev.n_frames, 3);
    assert_int_equal(g.ev.frames[0], 3);
    assert_int_equal(g.ev.frames[1], 5);
    assert_int_equal(g.ev.frames[2], 9);
    assert_int_equal(g.ev.ts_usec, TS(9));
    assert_int_equal(g.ev.bytes, 20 + 15 + 20 + 14);
    smtp_parser_free(ps);
}

/* A line over ten frames keeps the first seven and the completing one. */
static void frames_cap(void **state)
{
    struct grab g;
    struct smtp_parser *ps = grab_parser(&g, SMTP_EV_COMMAND);
    uint64_t f;

    (void)state;
    exec_str(ps, SMTP_FROM_CLIENT, "N", 1);
    exec_str(ps, SMTP_FROM_CLIENT, "O", 1); /* same frame again: no repeat */
    for (f = 2; f <= 9; f++)
        exec_str(ps, SMTP_FROM_CLIENT, f == 2 ? "OP" : " ", f);
    exec_str(ps, SMTP_FROM_CLIENT, "x\r\n", 12);
    assert_int_equal(g.count, 1);
    assert_int_equal(g.ev.verb, SMTP_VERB_NOOP);
    assert_int_equal(g.ev.n_frames, SMTP_MAX_FRAMES);
    for (f = 0; f < SMTP_MAX_FRAMES - 1; f++)
        assert_int_equal(g.ev.frames[f], f + 1);
    assert_int_equal(g.ev.frames[SMTP_MAX_FRAMES - 1], 12);
    assert_int_equal(g.ev.ts_usec, TS(12));
    smtp_parser_free(ps);
}

/* BODY data is the caller's memory: no copy on the hot path. */
static void body_zero_copy(void **state)
{
    struct grab g;
    struct smtp_parser *ps = grab_parser(&g, SMTP_EV_BODY);
    static const char body[] = "line one\r\nline two\r\n";

    (void)state;
    exec_str(ps, SMTP_FROM_CLIENT, "DATA\r\n", 1);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_DATA);
    smtp_parser_execute(ps, SMTP_FROM_CLIENT, (const uint8_t *)body, sizeof body - 1, 2, TS(2));
    assert_int_equal(g.count, 1);
    assert_ptr_equal(g.data_p, body);
    assert_int_equal(g.ev.data.len, sizeof body - 1);
    exec_str(ps, SMTP_FROM_CLIENT, ".\r\n", 3);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_COMMAND);
    smtp_parser_free(ps);
}

static void mode_api(void **state)
{
    struct grab g;
    struct smtp_parser *ps = grab_parser(&g, SMTP_EV_BDAT_DATA);

    (void)state;
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_COMMAND);
    smtp_parser_set_client_mode(ps, SMTP_MODE_BDAT); /* no BDAT size known yet: ignored */
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_COMMAND);
    exec_str(ps, SMTP_FROM_CLIENT, "AUTH LOGIN\r\n", 1);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_AUTH);
    exec_str(ps, SMTP_FROM_CLIENT, "RSET\r\n", 2); /* a bare verb is a command */
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_COMMAND);
    exec_str(ps, SMTP_FROM_CLIENT, "BDAT 3\r\nab", 3);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_BDAT);
    exec_str(ps, SMTP_FROM_CLIENT, "c", 4);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_COMMAND);
    assert_int_equal(g.count, 2);
    smtp_parser_set_client_mode(ps, SMTP_MODE_BDAT); /* the last announced size again */
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_BDAT);
    smtp_parser_start_tls(ps);
    assert_int_equal(smtp_parser_client_mode(ps), SMTP_MODE_TLS);
    smtp_parser_finish(ps, 9, TS(9));
    smtp_parser_free(ps);
    smtp_parser_free(NULL);
    assert_int_equal(smtp_parser_client_mode(NULL), SMTP_MODE_COMMAND);
}

/* ---- fuzz ---- */

static const char *const fuzz_frags[] = {
    "DATA\r\n", "BDAT 7\r\n", "BDAT 0 LAST\r\n", "BDAT 3 LAST\r\n", "AUTH LOGIN\r\n", "dXNlcg==\r\n",
    "QUIT\r\n", ".\r\n", "\r\n", "\n", ".", "\r", "..x\r\n", "250-ok\r\n", "250 ok\r\n", "354 go\r\n",
    "220 ready\r\n", "Subject: a\r\n", " folded\r\n", "MAIL FROM:<a@b>\r\n", "4.7.0 x\r\n",
    "STARTTLS\r\n", "\x80\xff", "To: b\r\n", "\r\n.\r\n", "*\r\n", "550 5.1.1 no\r\n", "BDAT x\r\n",
};

#define FUZZ_ITER 2000
#define FUZZ_STEPS 24
#define FUZZ_ARENA 65536

static size_t fuzz_bytes(uint64_t *rng, char *out, size_t cap)
{
    size_t n = 0, parts = 1 + (size_t)(xorshift(rng) % 8), i, len, r;
    const char *f;

    for (i = 0; i < parts; i++) {
        r = (size_t)(xorshift(rng) % 100);
        if (r < 70) {
            f = fuzz_frags[xorshift(rng) % (sizeof fuzz_frags / sizeof fuzz_frags[0])];
            len = strlen(f);
            if (len > cap - n)
                break;
            memcpy(out + n, f, len);
            n += len;
        } else {
            len = r < 98 ? (size_t)(xorshift(rng) % 40) : 400 + (size_t)(xorshift(rng) % 4800);
            if (len > cap - n)
                len = cap - n;
            for (; len > 0; len--)
                out[n++] = (char)(r < 85 ? "ab .:\r\n-0123456789"[xorshift(rng) % 19] : (char)xorshift(rng));
        }
    }
    return n;
}

/* Random conversations, random splits, mode switches from callbacks: no crash, same log at every split. */
static void fuzz(void **state)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull, split_rng;
    char *arena = malloc(FUZZ_ARENA);
    struct step steps[FUZZ_STEPS];
    size_t it, k, n_steps, used, r;
    char *want, *got;

    (void)state;
    assert_non_null(arena);
    for (it = 0; it < FUZZ_ITER; it++) {
        used = 0;
        n_steps = 1 + (size_t)(xorshift(&rng) % FUZZ_STEPS);
        for (k = 0; k < n_steps; k++) {
            r = (size_t)(xorshift(&rng) % 100);
            steps[k].dir = (xorshift(&rng) % 2) ? SMTP_FROM_SERVER : SMTP_FROM_CLIENT;
            steps[k].data = NULL;
            if (r < 86) {
                steps[k].kind = ST_PUSH;
                steps[k].data = arena + used;
                steps[k].len = fuzz_bytes(&rng, arena + used, FUZZ_ARENA - used);
                used += steps[k].len;
            } else if (r < 91) {
                steps[k].kind = ST_GAP;
                steps[k].len = (size_t)(xorshift(&rng) % 20);
            } else if (r < 99) {
                steps[k].kind = ST_MODE;
                steps[k].len = (size_t)(xorshift(&rng) % 5);
            } else {
                steps[k].kind = ST_TLS;
            }
        }
        want = replay_ex(steps, n_steps, (int)(it % 2), SPLIT_NONE, 0, 0, 0, 0, NULL, 1);
        split_rng = rng ^ 0x5555;
        got = replay_ex(steps, n_steps, (int)(it % 2), SPLIT_RANDOM, 0, 0, 0, 1, &split_rng, 1);
        expect_same("fuzz", "random split", want, got);
        if (used < 2000) {
            got = replay_ex(steps, n_steps, (int)(it % 2), SPLIT_BYTES, 0, 0, 0, 1, NULL, 1);
            expect_same("fuzz", "byte by byte", want, got);
        }
        free(want);
    }
    free(arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(banner_sendmail),
        cmocka_unit_test(ehlo_sub2),
        cmocka_unit_test(ehlo_caps),
        cmocka_unit_test(lowercase),
        cmocka_unit_test(pipelined),
        cmocka_unit_test(data_503),
        cmocka_unit_test(bdat),
        cmocka_unit_test(bdat_invalid),
        cmocka_unit_test(auth_login),
        cmocka_unit_test(auth_plain),
        cmocka_unit_test(starttls),
        cmocka_unit_test(starttls_same_push),
        cmocka_unit_test(starttls_early_client),
        cmocka_unit_test(bad_reply),
        cmocka_unit_test(unterminated),
        cmocka_unit_test(gap_command),
        cmocka_unit_test(gap_bdat),
        cmocka_unit_test(gap_data),
        cmocka_unit_test(bare_lf),
        cmocka_unit_test(enhanced),
        cmocka_unit_test(headers),
        cmocka_unit_test(body_edges),
        cmocka_unit_test(body_8bit_edge),
        cmocka_unit_test(long_command),
        cmocka_unit_test(reply_limits),
        cmocka_unit_test(body_long),
        cmocka_unit_test(names),
        cmocka_unit_test(reply_lines),
        cmocka_unit_test(frames_cap),
        cmocka_unit_test(body_zero_copy),
        cmocka_unit_test(mode_api),
        cmocka_unit_test(fuzz),
    };
    size_t n = sizeof tests / sizeof tests[0];
    int failed = cmocka_run_group_tests(tests, NULL, NULL);

    /* STYLE.md: test output ends with this line. */
    printf("%zu passed, %d failed\n", failed >= 0 && (size_t)failed <= n ? n - (size_t)failed : 0, failed);
    return failed == 0 ? 0 : 1;
}
