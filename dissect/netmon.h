/* netmon.h: renders SMTP items the way Microsoft Network Monitor printed SMTP frames. */
#ifndef SMTPTRACE_NETMON_H
#define SMTPTRACE_NETMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dissect/smtp_parser.h"

enum netmon_kind {
    NETMON_COMMAND,       /* "SMTP: Cmd: <name>, N bytes" */
    NETMON_AUTH_RESPONSE, /* a client line inside AUTH, already redacted by the caller */
    NETMON_REPLY,         /* "SMTP: Rsp: <meaning>, N bytes" */
    NETMON_BAD_REPLY,     /* a server line without a reply code */
    NETMON_BODY,          /* message data of one frame */
    NETMON_BDAT_DATA,     /* BDAT chunk octets of one frame */
    NETMON_TLS,           /* encrypted bytes of one frame */
    NETMON_GAP            /* bytes missing from the capture */
};

/*
 * One thing to print, independent of where it came from (the live parser or
 * a row in the database), so `read --netmon` and `show` print the same text.
 * Text fields need not be NUL-terminated; non-printable bytes are escaped.
 */
struct netmon_item {
    enum netmon_kind kind;
    uint64_t frame;            /* the frame that completed the item */
    const uint64_t *frames;    /* all frames it came from (may be NULL when n_frames <= 1) */
    size_t n_frames;
    int64_t ts_usec;
    const char *src, *dst;     /* "ip:port" of sender and receiver (IPv6 as [addr]:port) */
    uint64_t bytes;
    enum smtp_verb verb;       /* COMMAND */
    int code;                  /* REPLY */
    const struct smtp_span *lines; /* COMMAND/AUTH/BAD_REPLY: 1 line; REPLY: every line; BODY: its text */
    size_t n_lines;
};

/* Remembers which frame header was printed last; zero-initialise before the first item. */
struct netmon_state {
    uint64_t last_frame;
    int have_last;
};

/*
 * Prints item to out: a frame header line when item->frame differs from the
 * previous item's, then the summary line and its detail lines. Returns 0, or
 * -1 when writing failed (errno set by stdio).
 */
int netmon_print(FILE *out, struct netmon_state *state, const struct netmon_item *item);

/* Network Monitor's name for a command ("Extended Hello", "Quit, losing connection"). */
const char *netmon_command_name(enum smtp_verb verb);

/* Meaning of a reply code from RFC 5321 4.2.2/4.2.3, RFC 4954, RFC 3207, RFC 7504; by class when unknown. */
const char *netmon_reply_meaning(int code);

/*
 * Writes text[0..len) to out with bytes outside printable ASCII escaped as \xHH
 * (so terminals and golden files see plain ASCII). Returns 0 or -1 on error.
 */
int netmon_write_escaped(FILE *out, const char *text, size_t len);

#endif
