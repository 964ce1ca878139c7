/* session.h: one SMTP conversation: pairs replies with commands, tracks state, messages and findings. */
#ifndef SMTPTRACE_SESSION_H
#define SMTPTRACE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/findings.h"
#include "dissect/smtp_parser.h"

/* Limits of one session; defaults in session_limits_default() and README.md. */
struct session_limits {
    size_t max_pending;    /* commands awaiting a reply (pipelining queue); default 1000 as Zeek */
    size_t max_recipients; /* RCPT kept per message; default 1000; more are counted, not kept */
};

void session_limits_default(struct session_limits *limits);

/* How a conversation ended; stable names in session_end_name(). */
enum session_end {
    SESSION_END_QUIT = 0,     /* QUIT was answered (221) */
    SESSION_END_FIN,          /* closed by FIN without a completed QUIT */
    SESSION_END_RST,
    SESSION_END_IDLE,
    SESSION_END_EVICTED,
    SESSION_END_CAPTURE_END,
    SESSION_END_COUNT
};

enum session_tls { SESSION_TLS_NONE = 0, SESSION_TLS_STARTTLS, SESSION_TLS_IMPLICIT };

/* Endpoints as text, filled by the caller when it opens the session. */
struct session_endpoints {
    char client_ip[48], server_ip[48];
    uint16_t client_port, server_port;
    int ipv6;
};

/* Exchanges the client and server sides of ep. */
void session_endpoints_swap(struct session_endpoints *ep);

#define SESSION_TEXT 256 /* bytes kept of a banner line, HELO argument, AUTH user, ... */

/*
 * The session's summary, owned by the session and updated as it goes; sinks
 * read it. Strings are NUL-terminated and capped at SESSION_TEXT - 1 bytes.
 * sink_data is the sink's: its opened() callback may set it.
 */
struct session_summary {
    uint64_t id;      /* 1-based, in order of opening within a run */
    void *sink_data;  /* the sink's own per-session state: set in opened(), released in closed() */
    struct session_endpoints ep;
    char client_addr[64], server_addr[64]; /* "ip:port", "[ip6]:port" */
    uint64_t first_frame, last_frame;
    int64_t start_ts_usec, end_ts_usec;
    enum session_end end_reason;
    int ended;

    int banner_code;
    char banner[SESSION_TEXT]; /* first line of the greeting, as sent */
    char banner_host[SESSION_TEXT], banner_software[SESSION_TEXT], banner_datetime[SESSION_TEXT];
    int banner_esmtp; /* some greeting line says ESMTP (KB Q164060) */

    char greeting_verb[8];          /* last HELO/EHLO sent: "EHLO" or "HELO", "" if none */
    char greeting_arg[SESSION_TEXT];
    unsigned ehlo_attempts, helo_attempts;
    int ehlo_accepted;              /* some EHLO answered 250 */
    int fallback;                   /* EHLO refused (or unanswered), then HELO */
    int pipelining;                 /* the client sent a command before the previous one's reply (RFC 2920) */
    enum session_tls tls;
    char auth_mech[32], auth_user[SESSION_TEXT];
    int auth_result;                /* final reply code of the last AUTH, 0 if none */
    uint64_t messages;              /* messages whose body was sent (DATA end or BDAT LAST) */
    uint64_t client_bytes, server_bytes, gap_bytes;
    uint64_t commands, replies;
    char app_protocol[32];          /* nDPI's name when it classified the conversation, else "SMTP" */
    char tls_server_name[SESSION_TEXT]; /* SNI of implicit TLS, when nDPI saw it */
    uint32_t finding_counts[FINDING_KIND_COUNT];
};

/*
 * One event of the conversation, in stream order, numbered from 1. text is
 * the line to show and store: for AUTH the secret parts are "<redacted>".
 * For BODY / BDAT_DATA / TLS_DATA, data holds this push's bytes (BDAT/TLS
 * content is never shown). reply_to_seq names the command a reply answers
 * (0: the greeting, or nothing was waiting).
 */
struct session_event {
    uint64_t seq;
    enum smtp_event_kind kind;
    int from_client;
    const uint64_t *frames;
    size_t n_frames;
    uint64_t frame; /* completing frame */
    int64_t ts_usec;
    uint64_t bytes;
    unsigned flags;
    enum smtp_verb verb;
    struct smtp_span verb_text, args, text;
    int code;
    struct smtp_span enhanced;
    const struct smtp_span *lines;
    size_t n_lines;
    struct smtp_span data;
    uint64_t reply_to_seq;
    uint64_t gap_len;
    uint64_t data_index; /* BODY/BDAT_DATA/TLS_DATA: 0 for the first of consecutive events of that kind */
};

struct session_recipient {
    char address[SESSION_TEXT];
    char params[SESSION_TEXT];
    int code;
    char text[SESSION_TEXT];
};

struct session_message {
    uint64_t seq; /* 1-based within the session */
    char mail_from[SESSION_TEXT], mail_params[SESSION_TEXT];
    int64_t declared_size; /* SIZE= of MAIL FROM, -1 if absent */
    const char *transport; /* "DATA", "BDAT" or "" (never got to the body) */
    uint64_t body_bytes;
    char subject[SESSION_TEXT], header_from[SESSION_TEXT], header_to[SESSION_TEXT];
    char message_id[SESSION_TEXT], header_date[SESSION_TEXT];
    int result_code; /* reply to the end of data, 0 if none */
    char result_text[SESSION_TEXT];
    uint64_t first_frame;
    const struct session_recipient *recipients;
    size_t n_recipients;     /* kept */
    uint64_t recipients_seen; /* all RCPT commands, kept or not */
};

struct session_capability {
    const char *keyword; /* upper-cased: "SIZE", "AUTH", "8BITMIME" */
    const char *params;  /* "20480", "PLAIN LOGIN", "" */
};

/*
 * Where a session's output goes. Every callback is optional (NULL = ignored)
 * and receives ctx. Pointers are valid only during the call.
 *  opened:  before any event; may set summary->sink_data.
 *  event:   every parsed event, with the session's view of it.
 *  message: a message transaction ended (body accepted/refused, RSET, QUIT or close).
 *  finding: something went wrong (or is worth noting), pointing at a frame and event.
 *  closed:  the end; the capabilities last advertised are given.
 */
struct session_sink {
    void (*opened)(void *ctx, struct session_summary *summary);
    void (*event)(void *ctx, const struct session_summary *summary, const struct session_event *ev);
    void (*message)(void *ctx, const struct session_summary *summary, const struct session_message *msg);
    void (*finding)(void *ctx, const struct session_summary *summary, const struct finding *finding);
    void (*closed)(void *ctx, const struct session_summary *summary,
                   const struct session_capability *caps, size_t n_caps);
};

struct session;

/*
 * Opens a session. syn_seen says whether the roles in ep come from the TCP
 * handshake; when not, and the "client" side speaks first with a 220 greeting,
 * the session swaps the roles itself. Returns NULL on allocation failure.
 */
struct session *session_new(const struct session_limits *limits, const struct session_sink *sink,
                            void *sink_ctx, const struct session_endpoints *ep, int syn_seen,
                            uint64_t id, uint64_t first_frame, int64_t ts_usec);

/* Bytes in stream order from one side (from_client as the caller sees it; swaps are internal). */
void session_data(struct session *s, int from_client, const uint8_t *bytes, size_t len,
                  uint64_t frame, int64_t ts_usec);

/* len bytes of that side are missing from the capture. */
void session_gap(struct session *s, int from_client, uint64_t len, uint64_t frame, int64_t ts_usec);

/* The conversation ended: flushes the parser, emits the last findings and calls closed(). Once. */
void session_end(struct session *s, enum session_end how, uint64_t frame, int64_t ts_usec);

const struct session_summary *session_summary(const struct session *s);

/* SMTPS (RFC 8314): TLS from the first byte; nothing is parsed, bytes are counted as encrypted. */
void session_set_implicit_tls(struct session *s);

/*
 * What the classifier (nDPI) said about the conversation: its protocol name,
 * the TLS server name if any, and its risks (one ndpi_risk finding per name in
 * the ", "-separated list). Any argument may be NULL or "".
 */
void session_set_classification(struct session *s, const char *app_protocol, const char *server_name,
                                const char *risks);

/* Frees the session (ending it as capture_end first if session_end was not called). */
void session_free(struct session *s);

const char *session_end_name(enum session_end how);
const char *session_tls_name(enum session_tls tls);

#endif
