/* findings.h: the stable names, severities and record of what smtptrace flags in a session. */
#ifndef SMTPTRACE_FINDINGS_H
#define SMTPTRACE_FINDINGS_H

#include <stdint.h>

/* Kinds are stable API (stored in the database, matched by users): append only. */
enum finding_kind {
    FINDING_FALLBACK = 0,          /* EHLO refused or unanswered, then HELO */
    FINDING_EHLO_REJECTED,         /* an EHLO answered 5xx */
    FINDING_REPLY_5XX,
    FINDING_REPLY_4XX,
    FINDING_SERVICE_UNAVAILABLE,   /* 421 */
    FINDING_CAPABILITY_MISMATCH,   /* extension used without being advertised */
    FINDING_SIZE_EXCEEDED,
    FINDING_BANNER_WITHOUT_ESMTP,  /* EHLO accepted, greeting never says ESMTP (KB Q164060) */
    FINDING_ESMTP_BANNER_EHLO_REJECTED,
    FINDING_INVALID_HELO_ARGUMENT, /* not an RFC 5321 Domain or address literal (KB Q240832) */
    FINDING_AUTH_CLEARTEXT,
    FINDING_SESSION_ABORTED,
    FINDING_CAPTURE_GAP,
    FINDING_LINE_TOO_LONG,
    FINDING_UNMATCHED_REPLY,
    FINDING_BAD_REPLY,             /* a server line without a reply code */
    FINDING_INVALID_BDAT,          /* BDAT size not a number, negative or too large */
    FINDING_LIMIT_REACHED,         /* a session limit (pending commands, recipients) was hit */
    FINDING_NDPI_RISK,             /* a risk nDPI flagged on the conversation (e.g. clear-text credentials) */
    FINDING_TLS_NOT_STARTED,       /* STARTTLS answered 220, then the conversation went on in clear */
    FINDING_KIND_COUNT
};

enum finding_severity { FINDING_INFO = 0, FINDING_WARNING, FINDING_ERROR };

struct finding {
    enum finding_kind kind;
    enum finding_severity severity;
    const char *extension; /* capability_mismatch: "PIPELINING", "CHUNKING", ...; else "" */
    uint64_t frame;        /* the frame that shows it (0: none, e.g. end of capture) */
    uint64_t event_seq;    /* the session event it points at (0: none) */
    const char *detail;    /* one line for humans */
};

const char *finding_kind_name(enum finding_kind kind);
enum finding_severity finding_default_severity(enum finding_kind kind);
const char *finding_severity_name(enum finding_severity severity);

/* Parses a kind name; returns the kind or -1. */
int finding_kind_parse(const char *name);

#endif
