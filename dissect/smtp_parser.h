/* smtp_parser.h: incremental push parser turning the two byte streams of an SMTP conversation into events. */
#ifndef SMTPTRACE_SMTP_PARSER_H
#define SMTPTRACE_SMTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Model: llhttp / http-parser. One parser per conversation; bytes of either
 * direction are pushed with smtp_parser_execute() in any split, down to one
 * byte at a time, and yield the same events as one buffer would (the BODY,
 * BDAT_DATA and TLS_DATA events carry "bytes in this push", so only their
 * concatenation is split-independent). The parser keeps no policy: it knows
 * line syntax, DATA/BDAT framing and AUTH continuation lines; the session
 * layer tells it when a reply changes the mode (smtp_parser_set_client_mode,
 * smtp_parser_start_tls). No allocation after smtp_parser_new().
 */

enum smtp_dir { SMTP_FROM_CLIENT = 0, SMTP_FROM_SERVER = 1 };

/* Limits (STYLE.md, Suricata SMTP_LINE_BUFFER_LIMIT). RFC 5321 4.5.3.1 sizes are flagged, not cut. */
#define SMTP_LINE_CAP 4096          /* longer lines are cut, flagged, rest skipped to LF */
#define SMTP_RFC_COMMAND_LINE 512   /* RFC 5321 4.5.3.1.4, including CRLF */
#define SMTP_RFC_REPLY_LINE 512     /* RFC 5321 4.5.3.1.5, including CRLF */
#define SMTP_RFC_TEXT_LINE 1000     /* RFC 5321 4.5.3.1.6, including CRLF */
#define SMTP_REPLY_MAX_LINES 64     /* further lines of one reply are counted in lines_dropped */
#define SMTP_REPLY_BUF 8192         /* bytes of one reply kept (lines, without CRLF) */
#define SMTP_HEADER_CAP 256         /* bytes kept of each captured message header */
#define SMTP_MAX_FRAMES 8           /* frames remembered per item; the last slot is the completing frame */

/* Known verbs (case-insensitive on the wire). Stable order: names in smtp_parser.c. */
enum smtp_verb {
    SMTP_VERB_UNKNOWN = 0,
    SMTP_VERB_HELO, SMTP_VERB_EHLO, SMTP_VERB_MAIL, SMTP_VERB_RCPT, SMTP_VERB_DATA,
    SMTP_VERB_BDAT, SMTP_VERB_RSET, SMTP_VERB_VRFY, SMTP_VERB_EXPN, SMTP_VERB_HELP,
    SMTP_VERB_NOOP, SMTP_VERB_QUIT, SMTP_VERB_STARTTLS, SMTP_VERB_AUTH, SMTP_VERB_ETRN,
    SMTP_VERB_ATRN, SMTP_VERB_TURN, SMTP_VERB_SEND, SMTP_VERB_SOML, SMTP_VERB_SAML,
    SMTP_VERB_XAUTH, SMTP_VERB_XEXCH50, SMTP_VERB_X_LINK2STATE,
    SMTP_VERB_COUNT
};

enum smtp_event_kind {
    SMTP_EV_COMMAND,       /* one client line in command mode */
    SMTP_EV_REPLY,         /* one complete server reply, multi-line joined */
    SMTP_EV_BAD_REPLY,     /* a server line that is not "ddd" + SP/-/CRLF (kept as text) */
    SMTP_EV_AUTH_RESPONSE, /* one client line inside an AUTH exchange: a secret, never print it */
    SMTP_EV_BODY,          /* DATA body bytes of this push (raw, still dot-stuffed) */
    SMTP_EV_BODY_END,      /* the CRLF.CRLF ending DATA: totals and captured headers */
    SMTP_EV_BDAT_DATA,     /* BDAT chunk octets of this push */
    SMTP_EV_BDAT_END,      /* the chunk announced by BDAT is complete */
    SMTP_EV_TLS_DATA,      /* encrypted bytes of this push, after STARTTLS */
    SMTP_EV_GAP,           /* bytes missing from the capture in this direction */
    SMTP_EV_KIND_COUNT
};

/* Flags on line events (COMMAND, REPLY, BAD_REPLY, AUTH_RESPONSE). */
enum {
    SMTP_LINE_OVER_RFC = 1u << 0,      /* a line longer than RFC 5321 allows (still parsed) */
    SMTP_LINE_CUT = 1u << 1,           /* a line longer than SMTP_LINE_CAP: cut, rest skipped */
    SMTP_LINE_UNTERMINATED = 1u << 2,  /* the stream ended (finish) without LF */
    SMTP_LINE_BARE_LF = 1u << 3,       /* ended by LF without CR */
    SMTP_LINE_AFTER_GAP = 1u << 4      /* the line's start may be missing (a gap came before it) */
};

/* A span into memory owned by the parser or the caller; valid only during the callback. */
struct smtp_span {
    const char *p;
    size_t len;
};

struct smtp_headers {
    struct smtp_span subject, from, to, message_id, date; /* values, unfolded, trimmed, capped */
};

struct smtp_event {
    enum smtp_event_kind kind;
    enum smtp_dir dir;
    uint64_t frames[SMTP_MAX_FRAMES]; /* frames the item's bytes came from, in order, no repeats */
    size_t n_frames;                  /* >= 1; frames[n_frames - 1] completed the item */
    int64_t ts_usec;                  /* time of the completing frame */
    uint64_t bytes;                   /* wire bytes of the item (with CRLF); for *_DATA: of this push */
    unsigned flags;                   /* SMTP_LINE_* */

    /* COMMAND, AUTH_RESPONSE, BAD_REPLY: the line without its CR LF */
    struct smtp_span line;
    /* COMMAND */
    enum smtp_verb verb;
    struct smtp_span verb_text; /* as sent ("mail", "MAIL", "X-FOO") */
    struct smtp_span args;      /* after the verb and its separating spaces; for MAIL/RCPT after FROM:/TO: too */

    /* REPLY */
    int code;                                   /* 100..599 */
    struct smtp_span enhanced;                  /* RFC 3463 x.y.z of the first line, or len 0 */
    struct smtp_span lines[SMTP_REPLY_MAX_LINES]; /* each line as sent, without CRLF */
    size_t n_lines;
    size_t lines_dropped;

    /* BODY, BDAT_DATA, TLS_DATA: this push's bytes */
    struct smtp_span data;

    /* BODY_END */
    uint64_t body_bytes;   /* after dot-unstuffing, without the final "." line */
    uint64_t body_lines;
    uint64_t body_long_lines; /* lines over RFC 5321's 1000 */
    int body_8bit;            /* a byte >= 0x80 was seen */
    struct smtp_headers headers;

    /* BDAT_END (and COMMAND for BDAT: parsed size and LAST) */
    uint64_t chunk_size;
    int chunk_last;

    /* GAP */
    uint64_t gap_len;
};

struct smtp_parser_callbacks {
    /* Called for each event in stream order. May call smtp_parser_set_client_mode / start_tls. */
    void (*on_event)(void *user, const struct smtp_event *ev);
};

enum smtp_client_mode {
    SMTP_MODE_COMMAND = 0,
    SMTP_MODE_DATA, /* entered by the parser after a DATA command */
    SMTP_MODE_BDAT, /* entered after BDAT n (n > 0): n octets, then COMMAND */
    SMTP_MODE_AUTH, /* entered after AUTH: lines are AUTH_RESPONSE, except command-looking ones */
    SMTP_MODE_TLS   /* after smtp_parser_start_tls: everything is TLS_DATA, both ways */
};

struct smtp_parser;

/* Returns a parser, or NULL on allocation failure. cbs is copied. */
struct smtp_parser *smtp_parser_new(const struct smtp_parser_callbacks *cbs, void *user);
void smtp_parser_free(struct smtp_parser *parser);

/*
 * Pushes len bytes of direction dir, taken from frame at ts_usec. Events for
 * every item completed by these bytes are delivered before it returns.
 * Returns 0. Never fails on content: bad bytes become flagged events.
 */
int smtp_parser_execute(struct smtp_parser *parser, enum smtp_dir dir, const uint8_t *data,
                        size_t len, uint64_t frame, int64_t ts_usec);

/* len bytes of dir are missing: emits GAP, drops any partial line, and resynchronises at the next LF. */
void smtp_parser_gap(struct smtp_parser *parser, enum smtp_dir dir, uint64_t len, uint64_t frame,
                     int64_t ts_usec);

/* End of both streams: a partial line or reply is delivered with SMTP_LINE_UNTERMINATED. */
void smtp_parser_finish(struct smtp_parser *parser, uint64_t frame, int64_t ts_usec);

/* The session's word on the client direction: e.g. back to COMMAND after DATA got 503. */
void smtp_parser_set_client_mode(struct smtp_parser *parser, enum smtp_client_mode mode);
enum smtp_client_mode smtp_parser_client_mode(const struct smtp_parser *parser);

/* STARTTLS was answered 220: from the next byte on, both directions are TLS_DATA. */
void smtp_parser_start_tls(struct smtp_parser *parser);

/* Stable names: verbs as upper-case wire text, events as snake_case. */
const char *smtp_verb_name(enum smtp_verb verb);
const char *smtp_event_kind_name(enum smtp_event_kind kind);

#endif
