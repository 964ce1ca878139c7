/* smtp_parser.c: incremental SMTP push parser turning both byte streams of a conversation into events. */
#include "dissect/smtp_parser.h"

#include <stdlib.h>
#include <string.h>

/*
 * Documented choices (the header leaves them to us):
 *
 * - DATA body accounting. BODY events carry every body byte except the
 *   final "." line; BODY_END.bytes is the wire length of that line (3 for
 *   ".\r\n", 2 for ".\n"). So the sum of BODY bytes plus BODY_END.bytes is
 *   the body on the wire including ".\r\n", and the concatenated BODY data
 *   is the dot-stuffed message ending with its last CRLF. To decide whether
 *   a line-leading "." (or ".\r") ends the body the parser must see the
 *   next byte; when a push ends there, those one or two bytes are held back
 *   and, if they turn out to be data, delivered in a BODY event of their own
 *   whose data points to a constant ".\r" (the only parser-owned BODY data).
 * - An unfinished body (finish, or the session leaving DATA mode) gets no
 *   BODY_END: held-back bytes are delivered as BODY and that is all.
 * - BDAT: every valid BDAT command yields exactly one BDAT_END. "BDAT 0"
 *   and "BDAT 0 LAST" emit it right after their COMMAND event, with bytes 0.
 *   BDAT_END.bytes is always 0 (the octets are in BDAT_DATA); its frames are
 *   the frames the chunk's octets came from. An invalid size (no digits,
 *   sign, junk, >= 2^63) gives chunk_size 0 and chunk_last 0 and no mode
 *   change, like a server answering 501 would.
 * - GAP.bytes is the number of pushed bytes the gap made the parser drop
 *   (a partial line, which cannot be delivered as a line any more); it is 0
 *   in DATA, BDAT and TLS modes, where all pushed bytes were delivered. With
 *   that, per direction, the sum of event bytes equals the bytes pushed once
 *   smtp_parser_finish() has run.
 * - After a gap in a line mode the next completed line (the tail of the
 *   broken one, or a whole line if the gap ended on a boundary) is emitted
 *   normally with SMTP_LINE_AFTER_GAP; that is how the parser resynchronises.
 * - SMTP_LINE_CUT is set when the wire length with terminator exceeds
 *   SMTP_LINE_CAP; the span keeps the first SMTP_LINE_CAP bytes of the line
 *   without its CR LF.
 * - AUTH_RESPONSE lines are never flagged OVER_RFC: RFC 4954 section 4 lets
 *   them run to 12288 octets, beyond SMTP_LINE_CAP anyway.
 * - Items delivered at finish or after a mode change keep the frames and the
 *   time of the bytes they are made of.
 * - Replies: the kept lines are a prefix; once one line does not fit
 *   (SMTP_REPLY_MAX_LINES or SMTP_REPLY_BUF) it and every later line only
 *   count in lines_dropped and bytes. A pending multi-line reply is emitted
 *   before a BAD_REPLY, before a server GAP, when TLS starts, and at finish
 *   (then flagged UNTERMINATED).
 * - Mode changes from a callback cannot emit (no re-entrant callbacks), so
 *   what the old mode left behind comes out before the next byte of that
 *   direction is parsed: a partial command line when the client leaves
 *   COMMAND/AUTH (as an UNTERMINATED COMMAND, or AUTH_RESPONSE if it began
 *   in AUTH mode), held-back body bytes when it leaves DATA.
 * - smtp_parser_set_client_mode() to the current mode changes nothing (a
 *   session may confirm DATA on 354 after the body began). To BDAT it
 *   resumes the size of the last valid BDAT command and is ignored if there
 *   was none. To TLS it is smtp_parser_start_tls(). Leaving TLS that way
 *   affects the client only; the server side stays TLS.
 * - Body statistics: body_lines counts LF-terminated lines before the final
 *   "."; body_long_lines measures wire length (stuffing dot and CRLF
 *   included) against RFC 5321 4.5.3.1.6. Headers: the first occurrence of
 *   each name counts; a gap inside the head drops a value it may have cut.
 */

#define SMTP_RFC_BODY_LINE SMTP_RFC_TEXT_LINE
#define HDR_NAME_MAX 16
#define BDAT_SIZE_MAX UINT64_C(0x7fffffffffffffff)

enum body_pos { B_LINESTART, B_MID, B_DOT, B_DOTCR };
enum hdr_state { HS_LINESTART, HS_NAME, HS_LEADWS, HS_VALUE, HS_SKIP };
enum hdr_field { H_SUBJECT, H_FROM, H_TO, H_MESSAGE_ID, H_DATE, H_COUNT };

struct frame_list {
    uint64_t f[SMTP_MAX_FRAMES];
    size_t n;
    int64_t ts; /* time of the last frame added */
};

/* One partial line of one direction (Suricata SMTPGetLine keeps the same). */
struct line_acc {
    char buf[SMTP_LINE_CAP];
    size_t kept;       /* bytes stored in buf, <= SMTP_LINE_CAP */
    uint64_t wire;     /* bytes of the line so far, stored or not */
    int last_cr;       /* the last byte seen was CR */
    int after_gap;     /* the next completed line gets SMTP_LINE_AFTER_GAP */
    enum smtp_client_mode mode; /* client: mode when the line began */
    struct frame_list fr;
};

/* A multi-line reply being gathered (RFC 5321 4.2.1). */
struct reply_acc {
    char buf[SMTP_REPLY_BUF];
    size_t used;
    struct smtp_span lines[SMTP_REPLY_MAX_LINES];
    size_t n_lines, dropped;
    int pending, code;
    unsigned flags;
    uint64_t bytes;
    struct smtp_span enhanced;
    struct frame_list fr;
};

struct header_cap {
    char val[H_COUNT][SMTP_HEADER_CAP];
    size_t len[H_COUNT];
    unsigned seen;
    int cur;       /* field receiving value bytes, or -1 */
    int fold;      /* a continuation line is about to append */
    enum hdr_state st;
    char name[HDR_NAME_MAX];
    size_t name_len;
};

struct body_state {
    enum body_pos pos;
    size_t held; /* bytes of "." or ".\r" withheld at a line start */
    struct frame_list held_fr;
    uint64_t line_len, bytes, lines, long_lines;
    int eightbit, head_done;
    struct header_cap hdr;
};

struct smtp_parser {
    struct smtp_parser_callbacks cbs;
    void *user;
    enum smtp_client_mode mode;
    int tls;
    struct line_acc line[2];
    struct reply_acc reply;
    struct body_state body;
    uint64_t bdat_left, bdat_size, last_bdat_size;
    int bdat_last, last_bdat_last;
    /* The head of a message sent in BDAT chunks (RFC 3030): captured from the first chunk's octets,
     * delivered with the LAST chunk's BDAT_END; bdat_msg_open while such a message is under way. */
    struct body_state bdat_head;
    int bdat_msg_open;
    struct frame_list bdat_fr;
    size_t orphan_held; /* held bytes of a body the session replaced before they were sent */
    struct frame_list orphan_fr;
};

/* In enum smtp_verb order; UNKNOWN has no name (its wire text is in verb_text). */
static const char *const verb_names[SMTP_VERB_COUNT] = {
    "",     "HELO", "EHLO", "MAIL", "RCPT",  "DATA",    "BDAT",        "RSET",
    "VRFY", "EXPN", "HELP", "NOOP", "QUIT",  "STARTTLS", "AUTH",       "ETRN",
    "ATRN", "TURN", "SEND", "SOML", "SAML",  "XAUTH",   "XEXCH50",     "X-LINK2STATE",
};

static const char *const kind_names[SMTP_EV_KIND_COUNT] = {
    "command", "reply", "bad_reply", "auth_response", "body",
    "body_end", "bdat_data", "bdat_end", "tls_data", "gap",
};

static const char *const hdr_names[H_COUNT] = {"subject", "from", "to", "message-id", "date"};

/* Only ".", ".\r" are ever held back; released bytes point here. */
static const char held_text[] = ".\r";

const char *smtp_verb_name(enum smtp_verb verb)
{
    if ((unsigned)verb >= SMTP_VERB_COUNT)
        return "";
    return verb_names[verb];
}

const char *smtp_event_kind_name(enum smtp_event_kind kind)
{
    if ((unsigned)kind >= SMTP_EV_KIND_COUNT)
        return "";
    return kind_names[kind];
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_wsp(int c)
{
    return c == ' ' || c == '\t';
}

/* Case-insensitive equality of a span with a NUL-terminated ASCII word. */
static int span_ieq(const char *p, size_t len, const char *word)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (word[i] == '\0' || lower((unsigned char)p[i]) != lower((unsigned char)word[i]))
            return 0;
    return word[len] == '\0';
}

/* Appends frame f; a full list keeps its first frames and the newest in the last slot. */
static void frames_add(struct frame_list *fl, uint64_t f, int64_t ts)
{
    fl->ts = ts;
    if (fl->n > 0 && fl->f[fl->n - 1] == f)
        return;
    if (fl->n < SMTP_MAX_FRAMES)
        fl->f[fl->n++] = f;
    else
        fl->f[SMTP_MAX_FRAMES - 1] = f;
}

static void frames_merge(struct frame_list *dst, const struct frame_list *src)
{
    size_t i;

    for (i = 0; i < src->n; i++)
        frames_add(dst, src->f[i], src->ts);
}

static void ev_init(struct smtp_event *ev, enum smtp_event_kind kind, enum smtp_dir dir,
                    const struct frame_list *fl)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    ev->dir = dir;
    memcpy(ev->frames, fl->f, fl->n * sizeof fl->f[0]);
    ev->n_frames = fl->n;
    ev->ts_usec = fl->ts;
}

static void emit(struct smtp_parser *ps, const struct smtp_event *ev)
{
    if (ps->cbs.on_event)
        ps->cbs.on_event(ps->user, ev);
}

/* A BODY, BDAT_DATA or TLS_DATA event: this push's bytes, its one frame. */
static void emit_data(struct smtp_parser *ps, enum smtp_event_kind kind, enum smtp_dir dir,
                      const void *p, size_t len, uint64_t frame, int64_t ts)
{
    struct smtp_event ev;
    struct frame_list fl;

    fl.n = 0;
    frames_add(&fl, frame, ts);
    ev_init(&ev, kind, dir, &fl);
    ev.data.p = p;
    ev.data.len = len;
    ev.bytes = len;
    emit(ps, &ev);
}

/* ---- server replies (RFC 5321 4.2) ---- */

/* RFC 3463 section 2: class "." subject "." detail, 1-3 digits each, then SP or end. */
static struct smtp_span enhanced_code(const char *p, size_t len)
{
    struct smtp_span out = {NULL, 0};
    size_t i = 0, part, digits;

    if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return out;
    i = 2;
    for (part = 0; part < 2; part++) {
        digits = 0;
        while (i < len && is_digit((unsigned char)p[i]) && digits < 4) {
            i++;
            digits++;
        }
        if (digits < 1 || digits > 3)
            return out;
        if (part == 0) {
            if (i >= len || p[i] != '.')
                return out;
            i++;
        }
    }
    if (i < len && p[i] != ' ')
        return out;
    out.p = p;
    out.len = i;
    return out;
}

static void reply_reset(struct reply_acc *r)
{
    r->used = 0;
    r->n_lines = 0;
    r->dropped = 0;
    r->pending = 0;
    r->code = 0;
    r->flags = 0;
    r->bytes = 0;
    r->enhanced.p = NULL;
    r->enhanced.len = 0;
    r->fr.n = 0;
}

static void reply_emit(struct smtp_parser *ps, unsigned extra_flags)
{
    struct reply_acc *r = &ps->reply;
    struct smtp_event ev;

    ev_init(&ev, SMTP_EV_REPLY, SMTP_FROM_SERVER, &r->fr);
    ev.code = r->code;
    ev.enhanced = r->enhanced;
    memcpy(ev.lines, r->lines, r->n_lines * sizeof r->lines[0]);
    ev.n_lines = r->n_lines;
    ev.lines_dropped = r->dropped;
    ev.bytes = r->bytes;
    ev.flags = r->flags | extra_flags;
    if (r->n_lines > 0)
        ev.line = r->lines[0];
    reply_reset(r);
    emit(ps, &ev);
}

/* One complete server line: part of a reply, or a BAD_REPLY. */
static void server_line(struct smtp_parser *ps, const char *p, size_t len, uint64_t wire,
                        unsigned flags, const struct frame_list *fl)
{
    struct reply_acc *r = &ps->reply;
    struct smtp_event ev;
    int last;

    if (wire > SMTP_RFC_REPLY_LINE)
        flags |= SMTP_LINE_OVER_RFC;
    if (len < 3 || p[0] < '1' || p[0] > '5' || !is_digit((unsigned char)p[1]) ||
        !is_digit((unsigned char)p[2]) || (len > 3 && p[3] != ' ' && p[3] != '-')) {
        if (r->pending)
            reply_emit(ps, 0);
        ev_init(&ev, SMTP_EV_BAD_REPLY, SMTP_FROM_SERVER, fl);
        ev.line.p = p;
        ev.line.len = len;
        ev.bytes = wire;
        ev.flags = flags;
        emit(ps, &ev);
        return;
    }
    last = len == 3 || p[3] == ' ';
    if (!r->pending) {
        r->pending = 1;
        r->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    }
    /* Kept lines are a prefix of the reply: once one is dropped, the rest are too. */
    if (r->dropped == 0 && r->n_lines < SMTP_REPLY_MAX_LINES && len <= SMTP_REPLY_BUF - r->used) {
        memcpy(r->buf + r->used, p, len);
        r->lines[r->n_lines].p = r->buf + r->used;
        r->lines[r->n_lines].len = len;
        if (r->n_lines == 0 && len > 4)
            r->enhanced = enhanced_code(r->buf + 4, len - 4);
        r->used += len;
        r->n_lines++;
    } else {
        r->dropped++;
    }
    r->bytes += wire;
    r->flags |= flags;
    frames_merge(&r->fr, fl);
    if (last)
        reply_emit(ps, 0);
}

/* ---- client commands (RFC 5321 4.1.1) ---- */

static enum smtp_verb verb_lookup(const char *p, size_t len)
{
    int v;

    if (len == 0 || len > 12)
        return SMTP_VERB_UNKNOWN;
    for (v = 1; v < SMTP_VERB_COUNT; v++)
        if (span_ieq(p, len, verb_names[v]))
            return (enum smtp_verb)v;
    return SMTP_VERB_UNKNOWN;
}

/* RFC 3030 section 2: "BDAT" SP chunk-size [SP "LAST"]. Returns 0 if invalid. */
static int parse_bdat(const char *p, size_t len, uint64_t *size, int *last)
{
    size_t i = 0;
    uint64_t v = 0;
    unsigned d;

    *size = 0;
    *last = 0;
    while (i < len && is_digit((unsigned char)p[i])) {
        d = (unsigned)(p[i] - '0');
        if (v > (BDAT_SIZE_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        i++;
    }
    if (i == 0)
        return 0;
    if (i < len) {
        if (!is_wsp((unsigned char)p[i]))
            return 0;
        while (i < len && is_wsp((unsigned char)p[i]))
            i++;
        if (i < len) {
            if (len - i < 4 || !span_ieq(p + i, 4, "last"))
                return 0;
            i += 4;
            while (i < len && is_wsp((unsigned char)p[i]))
                i++;
            if (i < len)
                return 0;
            *last = 1;
        }
    }
    *size = v;
    return 1;
}

/* RFC 4954 section 4: responses are base64 or "*"; a line with SP or ':' or a bare verb is a command. */
static int looks_like_command(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] == ' ' || p[i] == '\t' || p[i] == ':')
            return 1;
    return verb_lookup(p, len) != SMTP_VERB_UNKNOWN;
}

static void body_start(struct smtp_parser *ps)
{
    struct body_state *b = &ps->body;

    if (b->held > 0) {
        ps->orphan_held = b->held;
        ps->orphan_fr = b->held_fr;
    }
    memset(b, 0, sizeof *b);
    b->pos = B_LINESTART;
    b->hdr.cur = -1;
    b->hdr.st = HS_LINESTART;
}

static void bdat_head_start(struct smtp_parser *ps)
{
    struct body_state *b = &ps->bdat_head;

    memset(b, 0, sizeof *b);
    b->hdr.cur = -1;
    b->hdr.st = HS_LINESTART;
    ps->bdat_msg_open = 1;
}

static void trimmed(const char *v, size_t len, struct smtp_span *out);

/* Fills ev->headers from a captured head (DATA body or BDAT message). */
static void headers_out(const struct header_cap *h, struct smtp_event *ev)
{
    trimmed(h->val[H_SUBJECT], h->len[H_SUBJECT], &ev->headers.subject);
    trimmed(h->val[H_FROM], h->len[H_FROM], &ev->headers.from);
    trimmed(h->val[H_TO], h->len[H_TO], &ev->headers.to);
    trimmed(h->val[H_MESSAGE_ID], h->len[H_MESSAGE_ID], &ev->headers.message_id);
    trimmed(h->val[H_DATE], h->len[H_DATE], &ev->headers.date);
}

/*
 * One complete client line read in mode `as` (COMMAND or AUTH). With
 * transitions, DATA, BDAT n and AUTH switch the client mode before the
 * event goes out, so the callback sees and may overrule the new mode.
 */
static void client_line(struct smtp_parser *ps, enum smtp_client_mode as, int transitions,
                        const char *p, size_t len, uint64_t wire, unsigned flags,
                        const struct frame_list *fl)
{
    struct smtp_event ev;
    size_t i = 0, vs;
    int bdat_ok = 0;

    if (as == SMTP_MODE_AUTH && !looks_like_command(p, len)) {
        ev_init(&ev, SMTP_EV_AUTH_RESPONSE, SMTP_FROM_CLIENT, fl);
        ev.line.p = p;
        ev.line.len = len;
        ev.bytes = wire;
        ev.flags = flags;
        emit(ps, &ev);
        return;
    }
    if (transitions && ps->mode == SMTP_MODE_AUTH)
        ps->mode = SMTP_MODE_COMMAND;
    ev_init(&ev, SMTP_EV_COMMAND, SMTP_FROM_CLIENT, fl);
    ev.line.p = p;
    ev.line.len = len;
    ev.bytes = wire;
    ev.flags = flags | (wire > SMTP_RFC_COMMAND_LINE ? SMTP_LINE_OVER_RFC : 0u);
    while (i < len && is_wsp((unsigned char)p[i]))
        i++;
    vs = i;
    while (i < len && !is_wsp((unsigned char)p[i]))
        i++;
    ev.verb_text.p = p + vs;
    ev.verb_text.len = i - vs;
    ev.verb = verb_lookup(p + vs, i - vs);
    while (i < len && is_wsp((unsigned char)p[i]))
        i++;
    /* RFC 5321 4.1.1.2/4.1.1.3: "MAIL FROM:" and "RCPT TO:" prefix the path. */
    if (ev.verb == SMTP_VERB_MAIL && len - i >= 5 && span_ieq(p + i, 5, "from:"))
        i += 5;
    else if (ev.verb == SMTP_VERB_RCPT && len - i >= 3 && span_ieq(p + i, 3, "to:"))
        i += 3;
    if (ev.verb == SMTP_VERB_MAIL || ev.verb == SMTP_VERB_RCPT)
        while (i < len && is_wsp((unsigned char)p[i]))
            i++;
    ev.args.p = p + i;
    ev.args.len = len - i;
    if (ev.verb == SMTP_VERB_BDAT) {
        bdat_ok = parse_bdat(p + i, len - i, &ev.chunk_size, &ev.chunk_last);
        if (bdat_ok) {
            ps->last_bdat_size = ev.chunk_size;
            ps->last_bdat_last = ev.chunk_last;
        }
    }
    if (transitions) {
        if (ev.verb == SMTP_VERB_DATA) {
            ps->mode = SMTP_MODE_DATA; /* RFC 5321 4.1.1.4: the body follows */
            body_start(ps);
        } else if (ev.verb == SMTP_VERB_BDAT && bdat_ok && ev.chunk_size > 0) {
            ps->mode = SMTP_MODE_BDAT; /* RFC 3030: exactly chunk_size octets follow */
            if (!ps->bdat_msg_open)
                bdat_head_start(ps);
            ps->bdat_left = ev.chunk_size;
            ps->bdat_size = ev.chunk_size;
            ps->bdat_last = ev.chunk_last;
            ps->bdat_fr.n = 0;
        } else if (ev.verb == SMTP_VERB_AUTH) {
            ps->mode = SMTP_MODE_AUTH; /* RFC 4954 4: 334 challenges, client responses */
        }
    }
    emit(ps, &ev);
    if (transitions && ev.verb == SMTP_VERB_BDAT && bdat_ok && ev.chunk_size == 0) {
        struct frame_list last;

        last.n = 0;
        frames_add(&last, fl->f[fl->n - 1], fl->ts);
        ev_init(&ev, SMTP_EV_BDAT_END, SMTP_FROM_CLIENT, &last);
        ev.chunk_size = 0;
        ev.chunk_last = ps->last_bdat_last;
        if (ev.chunk_last && ps->bdat_msg_open) {
            headers_out(&ps->bdat_head.hdr, &ev);
            ps->bdat_msg_open = 0;
        }
        emit(ps, &ev);
    }
}

/* ---- line assembly ---- */

static void acc_reset(struct line_acc *a)
{
    a->kept = 0;
    a->wire = 0;
    a->last_cr = 0;
    a->fr.n = 0;
}

static void acc_append(struct smtp_parser *ps, enum smtp_dir dir, const uint8_t *p, size_t n,
                       uint64_t frame, int64_t ts)
{
    struct line_acc *a = &ps->line[dir];
    size_t room = SMTP_LINE_CAP - a->kept;

    if (a->wire == 0)
        a->mode = ps->mode;
    if (n > 0) {
        if (room > n)
            room = n;
        memcpy(a->buf + a->kept, p, room);
        a->kept += room;
        a->wire += n;
        a->last_cr = p[n - 1] == '\r';
    }
    frames_add(&a->fr, frame, ts);
}

static void dispatch_line(struct smtp_parser *ps, enum smtp_dir dir, enum smtp_client_mode as,
                          int transitions, const char *p, size_t len, uint64_t wire,
                          unsigned flags, const struct frame_list *fl)
{
    if (wire > SMTP_LINE_CAP)
        flags |= SMTP_LINE_CUT;
    if (dir == SMTP_FROM_SERVER)
        server_line(ps, p, len, wire, flags, fl);
    else
        client_line(ps, as, transitions, p, len, wire, flags, fl);
}

/* Delivers the partial line of dir as UNTERMINATED (finish, or its mode ended). */
static void acc_flush(struct smtp_parser *ps, enum smtp_dir dir, int transitions)
{
    struct line_acc *a = &ps->line[dir];
    struct frame_list fl = a->fr;
    uint64_t content = a->wire - (uint64_t)a->last_cr;
    uint64_t wire = a->wire;
    size_t len = content < a->kept ? (size_t)content : a->kept;
    unsigned flags = SMTP_LINE_UNTERMINATED | (a->after_gap ? SMTP_LINE_AFTER_GAP : 0u);
    enum smtp_client_mode as = transitions ? ps->mode : a->mode;

    if (wire == 0)
        return;
    if (as != SMTP_MODE_AUTH)
        as = SMTP_MODE_COMMAND;
    a->after_gap = 0;
    acc_reset(a);
    dispatch_line(ps, dir, as, transitions, a->buf, len, wire, flags, &fl);
}

/* Consumes bytes up to and including one LF (or all of them); returns the count. */
static size_t feed_line(struct smtp_parser *ps, enum smtp_dir dir, const uint8_t *p, size_t n,
                        uint64_t frame, int64_t ts)
{
    struct line_acc *a = &ps->line[dir];
    const uint8_t *lf = memchr(p, '\n', n);
    size_t take, len;
    uint64_t wire, content;
    int cr;
    unsigned flags = 0;
    struct frame_list fl;
    const char *text;

    if (!lf) {
        acc_append(ps, dir, p, n, frame, ts);
        return n;
    }
    take = (size_t)(lf - p);
    if (a->wire == 0) {
        /* Whole line in this push: the span points into the caller's buffer. */
        cr = take > 0 && p[take - 1] == '\r';
        wire = (uint64_t)take + 1;
        len = take - (size_t)cr;
        if (len > SMTP_LINE_CAP)
            len = SMTP_LINE_CAP;
        text = (const char *)p;
        fl.n = 0;
        frames_add(&fl, frame, ts);
    } else {
        acc_append(ps, dir, p, take, frame, ts);
        cr = a->last_cr;
        wire = a->wire + 1;
        content = a->wire - (uint64_t)cr;
        len = content < a->kept ? (size_t)content : a->kept;
        text = a->buf;
        fl = a->fr;
    }
    if (!cr)
        flags |= SMTP_LINE_BARE_LF;
    if (a->after_gap)
        flags |= SMTP_LINE_AFTER_GAP;
    a->after_gap = 0;
    acc_reset(a);
    dispatch_line(ps, dir, ps->mode, 1, text, len, wire, flags, &fl);
    return take + 1;
}

/* ---- DATA body (RFC 5321 4.1.1.4, 4.5.2) ---- */

static void hdr_append(struct header_cap *h, char c)
{
    if (h->len[h->cur] < SMTP_HEADER_CAP)
        h->val[h->cur][h->len[h->cur]++] = c;
}

static void hdr_name_done(struct header_cap *h)
{
    size_t n = h->name_len;
    int i;

    while (n > 0 && is_wsp((unsigned char)h->name[n - 1]))
        n--;
    h->cur = -1;
    for (i = 0; i < H_COUNT; i++)
        if (span_ieq(h->name, n, hdr_names[i]) && !(h->seen & (1u << i))) {
            h->seen |= 1u << i;
            h->cur = i;
        }
}

/*
 * Feeds unstuffed head bytes (RFC 5322 2.2: name ":" value, folded lines
 * start with SP/HTAB) until the empty line that ends the head.
 */
static void header_feed(struct body_state *b, const uint8_t *s, size_t n)
{
    struct header_cap *h = &b->hdr;
    size_t k;
    const uint8_t *lf;
    int c;

    for (k = 0; k < n && !b->head_done; k++) {
        c = s[k];
        switch (h->st) {
        case HS_LINESTART:
            if (c == '\r')
                break;
            if (c == '\n') {
                b->head_done = 1;
            } else if (is_wsp(c)) {
                h->fold = h->cur >= 0;
                h->st = h->cur >= 0 ? HS_LEADWS : HS_SKIP;
            } else {
                h->cur = -1;
                h->name[0] = (char)c;
                h->name_len = 1;
                h->st = HS_NAME;
            }
            break;
        case HS_NAME:
            if (c == ':') {
                hdr_name_done(h);
                h->fold = 0;
                h->st = h->cur >= 0 ? HS_LEADWS : HS_SKIP;
            } else if (c == '\n') {
                h->st = HS_LINESTART;
            } else if (h->name_len < HDR_NAME_MAX) {
                h->name[h->name_len++] = (char)c;
            } else {
                h->st = HS_SKIP;
            }
            break;
        case HS_LEADWS:
            if (c == '\n') {
                h->st = HS_LINESTART;
            } else if (!is_wsp(c) && c != '\r') {
                if (h->fold) {
                    /* Unfold: the line break and its white space become one SP. */
                    while (h->len[h->cur] > 0 && is_wsp((unsigned char)h->val[h->cur][h->len[h->cur] - 1]))
                        h->len[h->cur]--;
                    if (h->len[h->cur] > 0)
                        hdr_append(h, ' ');
                    h->fold = 0;
                }
                hdr_append(h, (char)c);
                h->st = HS_VALUE;
            }
            break;
        case HS_VALUE:
            if (c == '\n')
                h->st = HS_LINESTART;
            else if (c != '\r')
                hdr_append(h, (char)c);
            break;
        case HS_SKIP:
            lf = memchr(s + k, '\n', n - k);
            if (!lf)
                return;
            k = (size_t)(lf - s);
            h->st = HS_LINESTART;
            break;
        }
    }
}

/* A gap inside the head: a value being read may have lost bytes, so it is not kept. */
static void hdr_gap(struct header_cap *h)
{
    if (h->cur >= 0 && (h->st == HS_LEADWS || h->st == HS_VALUE || h->st == HS_LINESTART)) {
        h->len[h->cur] = 0;
        h->seen &= ~(1u << h->cur);
    }
    h->cur = -1;
    h->st = HS_SKIP;
}

/* Eight bytes at a time (memcpy keeps it alignment-safe); most bodies are 7-bit. */
static int any_8bit(const uint8_t *s, size_t n)
{
    uint64_t acc = 0, w;
    size_t i = 0;
    uint8_t tail = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, sizeof w);
        acc |= w;
    }
    for (; i < n; i++)
        tail |= s[i];
    return ((acc & UINT64_C(0x8080808080808080)) | (tail & 0x80u)) != 0;
}

/* Statistics of n unstuffed body bytes; ends_line if the last one is the LF. */
static void body_account(struct body_state *b, const uint8_t *s, size_t n, int ends_line)
{
    b->bytes += n;
    b->line_len += n;
    if (ends_line) {
        b->lines++;
        if (b->line_len > SMTP_RFC_BODY_LINE) /* RFC 5321 4.5.3.1.6 */
            b->long_lines++;
        b->line_len = 0;
    }
    if (!b->eightbit)
        b->eightbit = any_8bit(s, n);
    if (!b->head_done)
        header_feed(b, s, n);
}

static void body_hold(struct body_state *b, uint64_t frame, int64_t ts)
{
    if (b->held == 0)
        b->held_fr.n = 0;
    b->held++;
    frames_add(&b->held_fr, frame, ts);
}

/* Delivers held-back bytes from earlier pushes as BODY data. */
static void body_release(struct smtp_parser *ps, size_t count, const struct frame_list *fl)
{
    struct smtp_event ev;

    if (count == 0)
        return;
    ev_init(&ev, SMTP_EV_BODY, SMTP_FROM_CLIENT, fl);
    ev.data.p = held_text;
    ev.data.len = count;
    ev.bytes = count;
    emit(ps, &ev);
}

static void body_span(struct smtp_parser *ps, const uint8_t *p, size_t n, uint64_t frame,
                      int64_t ts)
{
    if (n > 0)
        emit_data(ps, SMTP_EV_BODY, SMTP_FROM_CLIENT, p, n, frame, ts);
}

static void trimmed(const char *v, size_t len, struct smtp_span *out)
{
    while (len > 0 && is_wsp((unsigned char)*v)) {
        v++;
        len--;
    }
    while (len > 0 && is_wsp((unsigned char)v[len - 1]))
        len--;
    out->p = v;
    out->len = len;
}

/* The "." line at p[i] ended the body: BODY for what precedes it, then BODY_END. */
static size_t body_end(struct smtp_parser *ps, const uint8_t *p, size_t i, size_t carried,
                       uint64_t frame, int64_t ts)
{
    struct body_state *b = &ps->body;
    struct header_cap *h = &b->hdr;
    struct smtp_event ev;
    size_t start = i - (b->held - carried);

    body_span(ps, p, start, frame, ts);
    body_hold(b, frame, ts);
    ev_init(&ev, SMTP_EV_BODY_END, SMTP_FROM_CLIENT, &b->held_fr);
    ev.bytes = b->held;
    ev.body_bytes = b->bytes;
    ev.body_lines = b->lines;
    ev.body_long_lines = b->long_lines;
    ev.body_8bit = b->eightbit;
    headers_out(h, &ev);
    b->held = 0;
    b->pos = B_LINESTART;
    if (ps->mode == SMTP_MODE_DATA)
        ps->mode = SMTP_MODE_COMMAND;
    emit(ps, &ev);
    return i + 1;
}

/*
 * Body bytes: memchr from LF to LF, one BODY event per push pointing into
 * the caller's buffer. Only a line start needs a byte-level look, for the
 * "." of dot-stuffing or of the end line. Returns the bytes consumed.
 */
static size_t body_run(struct smtp_parser *ps, const uint8_t *p, size_t n, uint64_t frame,
                       int64_t ts)
{
    struct body_state *b = &ps->body;
    size_t i = 0, carried = b->held;
    const uint8_t *lf;
    size_t end;

    while (i < n) {
        switch (b->pos) {
        case B_LINESTART:
            if (p[i] == '.') {
                b->pos = B_DOT;
                body_hold(b, frame, ts);
                i++;
                break;
            }
            b->pos = B_MID;
            /* fall through */
        case B_MID:
            lf = memchr(p + i, '\n', n - i);
            end = lf ? (size_t)(lf - p) + 1 : n;
            body_account(b, p + i, end - i, lf != NULL);
            if (lf)
                b->pos = B_LINESTART;
            i = end;
            break;
        case B_DOT:
        case B_DOTCR:
            if (p[i] == '\n')
                return body_end(ps, p, i, carried, frame, ts);
            if (p[i] == '\r' && b->pos == B_DOT) {
                b->pos = B_DOTCR;
                body_hold(b, frame, ts);
                i++;
                break;
            }
            /* RFC 5321 4.5.2: a data line starting with "." loses that dot. */
            b->line_len = b->held;
            b->bytes += b->held - 1;
            b->held = 0;
            b->pos = B_MID;
            if (carried > 0) {
                body_release(ps, carried, &b->held_fr);
                carried = 0;
                if (ps->mode != SMTP_MODE_DATA) {
                    body_span(ps, p, i, frame, ts);
                    return i;
                }
            }
            break;
        }
    }
    body_span(ps, p, n - (b->held - carried), frame, ts);
    return n;
}

/* ---- BDAT chunks (RFC 3030) and TLS (RFC 3207) ---- */

static void bdat_end(struct smtp_parser *ps)
{
    struct smtp_event ev;

    if (ps->mode == SMTP_MODE_BDAT)
        ps->mode = SMTP_MODE_COMMAND;
    ps->bdat_left = 0;
    ev_init(&ev, SMTP_EV_BDAT_END, SMTP_FROM_CLIENT, &ps->bdat_fr);
    ev.chunk_size = ps->bdat_size;
    ev.chunk_last = ps->bdat_last;
    if (ps->bdat_last && ps->bdat_msg_open) {
        headers_out(&ps->bdat_head.hdr, &ev);
        ps->bdat_msg_open = 0;
    }
    emit(ps, &ev);
}

static size_t bdat_run(struct smtp_parser *ps, const uint8_t *p, size_t n, uint64_t frame,
                       int64_t ts)
{
    size_t take = n;

    if ((uint64_t)take > ps->bdat_left)
        take = (size_t)ps->bdat_left;
    frames_add(&ps->bdat_fr, frame, ts);
    ps->bdat_left -= take;
    /* Chunks are octets, never lines (RFC 3030 2): only the message head is read, for its headers. */
    if (ps->bdat_msg_open && !ps->bdat_head.head_done)
        header_feed(&ps->bdat_head, p, take);
    emit_data(ps, SMTP_EV_BDAT_DATA, SMTP_FROM_CLIENT, p, take, frame, ts);
    if (ps->bdat_left == 0 && ps->mode == SMTP_MODE_BDAT)
        bdat_end(ps);
    return take;
}

/*
 * Work left behind when the mode of a direction changed under it (the
 * session may switch modes from a callback, where the parser cannot emit):
 * a partial line no longer read as a line, held-back body bytes.
 */
static void flush_leftovers(struct smtp_parser *ps, enum smtp_dir dir)
{
    int line_mode;

    if (dir == SMTP_FROM_CLIENT) {
        if (ps->orphan_held > 0) {
            body_release(ps, ps->orphan_held, &ps->orphan_fr);
            ps->orphan_held = 0;
        }
        if (ps->mode != SMTP_MODE_DATA && ps->body.held > 0) {
            body_release(ps, ps->body.held, &ps->body.held_fr);
            ps->body.held = 0;
            ps->body.pos = B_LINESTART;
        }
        line_mode = ps->mode == SMTP_MODE_COMMAND || ps->mode == SMTP_MODE_AUTH;
    } else {
        line_mode = !ps->tls;
    }
    if (!line_mode && ps->line[dir].wire > 0)
        acc_flush(ps, dir, 0);
    if (dir == SMTP_FROM_SERVER && ps->tls && ps->reply.pending)
        reply_emit(ps, 0);
}

/* ---- public API ---- */

/* The one allocation: every buffer the parser needs lives in the struct. */
struct smtp_parser *smtp_parser_new(const struct smtp_parser_callbacks *cbs, void *user)
{
    struct smtp_parser *ps = calloc(1, sizeof *ps);

    if (!ps)
        return NULL;
    if (cbs)
        ps->cbs = *cbs;
    ps->user = user;
    ps->mode = SMTP_MODE_COMMAND;
    body_start(ps);
    return ps;
}

void smtp_parser_free(struct smtp_parser *parser)
{
    free(parser);
}

/*
 * Dispatches by the direction's mode, re-read after every item so that a
 * mode set from a callback applies from the very next byte.
 */
int smtp_parser_execute(struct smtp_parser *parser, enum smtp_dir dir, const uint8_t *data,
                        size_t len, uint64_t frame, int64_t ts_usec)
{
    size_t i = 0;

    if (!parser || !data || (dir != SMTP_FROM_CLIENT && dir != SMTP_FROM_SERVER))
        return 0;
    while (i < len) {
        flush_leftovers(parser, dir);
        if (dir == SMTP_FROM_SERVER) {
            if (parser->tls) {
                emit_data(parser, SMTP_EV_TLS_DATA, dir, data + i, len - i, frame, ts_usec);
                i = len;
            } else {
                i += feed_line(parser, dir, data + i, len - i, frame, ts_usec);
            }
            continue;
        }
        switch (parser->mode) {
        case SMTP_MODE_COMMAND:
        case SMTP_MODE_AUTH:
            i += feed_line(parser, dir, data + i, len - i, frame, ts_usec);
            break;
        case SMTP_MODE_DATA:
            i += body_run(parser, data + i, len - i, frame, ts_usec);
            break;
        case SMTP_MODE_BDAT:
            if (parser->bdat_left == 0) /* cannot happen: BDAT mode always has octets to go */
                parser->mode = SMTP_MODE_COMMAND;
            else
                i += bdat_run(parser, data + i, len - i, frame, ts_usec);
            break;
        case SMTP_MODE_TLS:
        default:
            emit_data(parser, SMTP_EV_TLS_DATA, dir, data + i, len - i, frame, ts_usec);
            i = len;
            break;
        }
    }
    return 0;
}

void smtp_parser_gap(struct smtp_parser *parser, enum smtp_dir dir, uint64_t len, uint64_t frame,
                     int64_t ts_usec)
{
    struct smtp_event ev;
    struct frame_list fl;
    struct line_acc *a;
    uint64_t dropped = 0;
    int chunk_over = 0, resync = 0;

    if (!parser || (dir != SMTP_FROM_CLIENT && dir != SMTP_FROM_SERVER))
        return;
    flush_leftovers(parser, dir);
    a = &parser->line[dir];
    if (dir == SMTP_FROM_SERVER && !parser->tls) {
        if (parser->reply.pending)
            reply_emit(parser, 0);
        resync = 1;
    } else if (dir == SMTP_FROM_CLIENT) {
        switch (parser->mode) {
        case SMTP_MODE_COMMAND:
        case SMTP_MODE_AUTH:
            resync = 1;
            break;
        case SMTP_MODE_DATA:
            /* The body goes on, but where its current line stands is unknown. */
            body_release(parser, parser->body.held, &parser->body.held_fr);
            parser->body.held = 0;
            parser->body.pos = B_MID;
            hdr_gap(&parser->body.hdr);
            break;
        case SMTP_MODE_BDAT:
            frames_add(&parser->bdat_fr, frame, ts_usec);
            if (parser->bdat_msg_open && !parser->bdat_head.head_done)
                hdr_gap(&parser->bdat_head.hdr);
            if (len >= parser->bdat_left) {
                chunk_over = 1;
                resync = len > parser->bdat_left;
            } else {
                parser->bdat_left -= len;
            }
            break;
        case SMTP_MODE_TLS:
        default:
            break;
        }
    }
    if (resync) {
        dropped = a->wire;
        acc_reset(a);
        a->after_gap = 1;
    }
    fl.n = 0;
    frames_add(&fl, frame, ts_usec);
    ev_init(&ev, SMTP_EV_GAP, dir, &fl);
    ev.gap_len = len;
    ev.bytes = dropped;
    emit(parser, &ev);
    if (chunk_over)
        bdat_end(parser);
}

/* Everything the client side still holds, whatever its mode: partial line, held-back body bytes. */
static void client_drain(struct smtp_parser *ps)
{
    flush_leftovers(ps, SMTP_FROM_CLIENT);
    if (ps->body.held > 0) {
        /* An unfinished body has no BODY_END; only its held-back bytes still go out. */
        body_release(ps, ps->body.held, &ps->body.held_fr);
        ps->body.held = 0;
        ps->body.pos = B_LINESTART;
    }
    if (ps->line[SMTP_FROM_CLIENT].wire > 0)
        acc_flush(ps, SMTP_FROM_CLIENT,
                  ps->mode == SMTP_MODE_COMMAND || ps->mode == SMTP_MODE_AUTH);
}

/*
 * Delivers what is pending, client first. Server events may make the
 * session switch client modes, so the client side is drained once more
 * afterwards. Events keep their own frames, so frame and ts go unused.
 */
void smtp_parser_finish(struct smtp_parser *parser, uint64_t frame, int64_t ts_usec)
{
    (void)frame;
    (void)ts_usec;
    if (!parser)
        return;
    client_drain(parser);
    flush_leftovers(parser, SMTP_FROM_SERVER);
    if (!parser->tls) {
        acc_flush(parser, SMTP_FROM_SERVER, 1);
        if (parser->reply.pending)
            reply_emit(parser, SMTP_LINE_UNTERMINATED);
    }
    client_drain(parser);
}

void smtp_parser_set_client_mode(struct smtp_parser *parser, enum smtp_client_mode mode)
{
    if (!parser || mode == parser->mode)
        return;
    switch (mode) {
    case SMTP_MODE_COMMAND:
    case SMTP_MODE_AUTH:
        parser->mode = mode;
        break;
    case SMTP_MODE_DATA:
        parser->mode = mode;
        body_start(parser);
        break;
    case SMTP_MODE_BDAT:
        /* Only a size announced by an earlier valid BDAT can be resumed. */
        if (parser->last_bdat_size > 0) {
            parser->mode = mode;
            parser->bdat_left = parser->last_bdat_size;
            parser->bdat_size = parser->last_bdat_size;
            parser->bdat_last = parser->last_bdat_last;
            parser->bdat_fr.n = 0;
        }
        break;
    case SMTP_MODE_TLS:
        smtp_parser_start_tls(parser);
        break;
    default:
        break;
    }
}

enum smtp_client_mode smtp_parser_client_mode(const struct smtp_parser *parser)
{
    return parser ? parser->mode : SMTP_MODE_COMMAND;
}

void smtp_parser_start_tls(struct smtp_parser *parser)
{
    if (!parser)
        return;
    parser->mode = SMTP_MODE_TLS;
    parser->tls = 1;
}
