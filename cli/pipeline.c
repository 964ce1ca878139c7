/* pipeline.c: decodes frames, tracks TCP flows, decides which carry SMTP and feeds their bytes to SMTP sessions. */
#include "cli/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a tracked conversation is, as far as we know. */
enum conv_kind {
    CONV_SMTP,     /* dissected: by port, by its first bytes, or because nDPI said so */
    CONV_CANDIDATE /* watched: its first bytes or nDPI may still make it SMTP; else it is counted */
};

/* One tracked conversation; its session exists once bytes flowed. */
struct conv {
    struct session *session;
    struct flow_class *fc; /* nDPI state until classification ends */
    struct session_endpoints ep;
    enum conv_kind kind;
    int syn_seen, failed, saw_bytes, implicit_tls, classify, classification_applied, not_smtp;
    unsigned ndpi_packets;
    uint64_t first_frame;
    int64_t first_ts;
    struct conv_verdict *verdict; /* what nDPI said, once it said it */
};

/* nDPI's verdict on a conversation, kept apart so a half-open flood's conversations stay small. */
struct conv_verdict {
    char app_protocol[32], server_name[96], risks[256];
};

#define MAX_OTHER_PROTOCOLS 64

/*
 * Packets nDPI sees of a conversation already known to be plain SMTP (by port or first bytes): the
 * handshake and the greeting are enough for its name and sub-protocol; the rest would only cost
 * (detection is to cost at most 15 % of the pipeline).
 */
#define SMTP_CLASSIFY_PACKETS 4

struct pipeline {
    struct pipeline_config config;
    int out_of_memory;
    struct session_sink sink;
    void *sink_ctx;
    struct flow_table *flows;
    struct decode_stats decode;
    struct pipeline_stats stats;
    uint64_t last_frame;
    int64_t last_ts;
    char first_damage[160];
    uint64_t first_damage_frame;
    uint8_t port_map[65536 / 8]; /* bit per port: O(1) membership on the per-packet path */
    struct {
        char name[32];
        uint64_t count;
    } other[MAX_OTHER_PROTOCOLS]; /* conversations that were not SMTP, by nDPI protocol */
    size_t n_other;
};

void pipeline_config_default(struct pipeline_config *config)
{
    memset(config, 0, sizeof *config);
    config->ports[0] = 25;
    config->ports[1] = 587;
    config->ports[2] = 2525;
    config->n_ports = 3;
    config->detect = 1;
    flow_limits_default(&config->flow_limits);
    session_limits_default(&config->session_limits);
}

int pipeline_parse_ports(struct pipeline_config *config, const char *list, char *errbuf, size_t errlen)
{
    const char *p = list;

    config->n_ports = 0;
    while (*p) {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (end == p || errno || v == 0 || v > 65535 || (*end && *end != ',')) {
            snprintf(errbuf, errlen, "bad port list '%s': expected numbers 1-65535 separated by commas", list);
            return -1;
        }
        if (config->n_ports == PIPELINE_MAX_PORTS) {
            snprintf(errbuf, errlen, "too many ports in '%s' (at most %d)", list, PIPELINE_MAX_PORTS);
            return -1;
        }
        config->ports[config->n_ports++] = (uint16_t)v;
        p = *end ? end + 1 : end;
    }
    if (config->n_ports == 0) {
        snprintf(errbuf, errlen, "empty port list");
        return -1;
    }
    return 0;
}

static int port_selected(const struct pipeline *pl, uint16_t port)
{
    return (pl->port_map[port >> 3] >> (port & 7)) & 1;
}

static int starts_with_ci(const uint8_t *bytes, size_t len, const char *word)
{
    size_t i, n = strlen(word);

    if (len < n)
        return 0;
    for (i = 0; i < n; i++)
        if (toupper(bytes[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}

/*
 * Content rule for conversations on other ports (RFC 5321 3.1, 4.1.1): the
 * responder greets with "220 " / "220-", or refuses service with an RFC 3463
 * enhanced code ("421 4.", "554 5.": FTP never sends those); or the initiator
 * opens with EHLO/HELO, or with MAIL FROM: / RCPT TO: (a capture that starts
 * mid-session). Returns 1 (sender is the server), 2 (sender is the client) or 0.
 */
static int smtp_by_content(const uint8_t *p, size_t len)
{
    if (len >= 4 && p[0] == '2' && p[1] == '2' && p[2] == '0' && (p[3] == ' ' || p[3] == '-'))
        return 1;
    if (len >= 6 && (memcmp(p, "421 4.", 6) == 0 || memcmp(p, "554 5.", 6) == 0))
        return 1;
    if (len >= 5 && (starts_with_ci(p, len, "EHLO") || starts_with_ci(p, len, "HELO")) &&
        (p[4] == ' ' || p[4] == '\r' || p[4] == '\n'))
        return 2;
    if (starts_with_ci(p, len, "MAIL FROM:") || starts_with_ci(p, len, "RCPT TO:"))
        return 2;
    return 0;
}

/* RFC 8314 3.3: SMTPS listens on 465; mail ports speaking TLS from the first byte are SMTPS too. */
static int mail_port(const struct pipeline *pl, const struct session_endpoints *ep)
{
    return ep->server_port == 465 || port_selected(pl, ep->server_port);
}

/* A TLS handshake record (RFC 8446 5.1: type 22, legacy version 3.x). */
static int looks_tls(const uint8_t *p, size_t len)
{
    return len >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

/* An HTTP request line (RFC 9112 3): SMTP clients never open with one, even on port 25. */
static int looks_http_request(const uint8_t *p, size_t len)
{
    static const char *const methods[] = {"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "CONNECT ", "DELETE "};
    size_t i;

    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (len >= strlen(methods[i]) && memcmp(p, methods[i], strlen(methods[i])) == 0)
            return 1;
    return 0;
}

static int ftp_port(uint16_t a, uint16_t b)
{
    /* FTP greets with 220 too (RFC 959 5.4): its control port is never taken by content. */
    return a == 21 || b == 21;
}

static void *on_flow_open(void *ctx, const struct flow_info *info, int *swap)
{
    struct pipeline *pl = ctx;
    struct session_endpoints *ep;
    struct conv *conv;
    int server_on_port = port_selected(pl, info->server_port);
    int client_on_port = port_selected(pl, info->client_port);
    int by_content = 0, ftp = ftp_port(info->server_port, info->client_port);
    enum conv_kind kind = CONV_SMTP;

    if (!server_on_port && !client_on_port) {
        if (pl->config.detect && info->payload && !ftp)
            by_content = smtp_by_content(info->payload, info->payload_len);
        if (by_content)
            pl->stats.detected_by_content++;
        else if (pl->config.classifier || (pl->config.detect && !info->payload && !ftp))
            kind = CONV_CANDIDATE; /* decided by its first bytes or by nDPI */
        else
            return NULL;
    }
    conv = calloc(1, sizeof *conv);
    if (!conv) {
        pl->out_of_memory = 1;
        return NULL;
    }
    conv->kind = kind;
    ep = &conv->ep;
    ip_address_format(&info->client_ip, ep->client_ip, sizeof ep->client_ip);
    ip_address_format(&info->server_ip, ep->server_ip, sizeof ep->server_ip);
    ep->client_port = info->client_port;
    ep->server_port = info->server_port;
    ep->ipv6 = info->client_ip.family == 6;
    /* Without a handshake the first sender is a guess: the SMTP port, or the greeting, marks the server. */
    if (!info->syn_seen && ((client_on_port && !server_on_port) ||
                            (by_content == 1 && info->payload_from_client) ||
                            (by_content == 2 && !info->payload_from_client))) {
        *swap = 1;
        session_endpoints_swap(ep);
    }
    conv->syn_seen = info->syn_seen;
    conv->first_frame = info->first_frame;
    conv->first_ts = info->first_ts_usec;
    conv->classify = pl->config.classifier != NULL; /* nDPI's state comes with the first payload */
    return conv;
}

/* The SMTP session of a conversation, made at its first byte: a SYN flood costs a flow, not a parser. */
static struct session *conv_session(struct pipeline *pl, struct conv *conv)
{
    if (!conv->session && !conv->failed) {
        conv->session = session_new(&pl->config.session_limits, &pl->sink, pl->sink_ctx, &conv->ep,
                                    conv->syn_seen, pl->config.session_id_base + pl->stats.sessions_opened + 1,
                                    conv->first_frame, conv->first_ts);
        if (!conv->session) {
            conv->failed = pl->out_of_memory = 1;
            return NULL;
        }
        pl->stats.sessions_opened++;
        if (conv->implicit_tls)
            session_set_implicit_tls(conv->session);
    }
    return conv->session;
}

/* nDPI's verdict reaches the session once it has spoken (its findings need the session stored first). */
static void apply_classification(struct conv *conv)
{
    if (conv->verdict && conv->session && !conv->classification_applied) {
        conv->classification_applied = 1;
        session_set_classification(conv->session, conv->verdict->app_protocol, conv->verdict->server_name,
                                   conv->verdict->risks);
    }
}

/* The conversation's first bytes settle what it is (see README "How conversations are found"). */
static void first_bytes(struct pipeline *pl, struct conv *conv, enum flow_dir dir, const uint8_t *bytes,
                        size_t len)
{
    int from_client = dir == FLOW_FROM_CLIENT;

    conv->saw_bytes = 1;
    if (from_client && looks_tls(bytes, len) && (conv->kind == CONV_SMTP || conv->ep.server_port == 465) &&
        mail_port(pl, &conv->ep)) {
        conv->kind = CONV_SMTP;
        conv->implicit_tls = 1;
        return;
    }
    if (conv->kind == CONV_SMTP) {
        if (from_client && looks_http_request(bytes, len)) {
            conv->kind = CONV_CANDIDATE; /* HTTP on an SMTP port is not SMTP */
            conv->not_smtp = 1;          /* whatever nDPI guesses from the port */
        }
        return;
    }
    if (pl->config.detect && !ftp_port(conv->ep.server_port, conv->ep.client_port) &&
        smtp_by_content(bytes, len)) {
        conv->kind = CONV_SMTP;
        pl->stats.detected_by_content++;
    }
}

static void on_flow_data(void *ctx, void *user, enum flow_dir dir, const uint8_t *bytes, size_t len,
                         uint64_t frame, int64_t ts_usec)
{
    struct pipeline *pl = ctx;
    struct conv *conv = user;
    struct session *s;

    if (!conv->saw_bytes && len > 0)
        first_bytes(pl, conv, dir, bytes, len);
    if (conv->kind != CONV_SMTP || !(s = conv_session(pl, conv)))
        return;
    session_data(s, dir == FLOW_FROM_CLIENT, bytes, len, frame, ts_usec);
    apply_classification(conv);
}

static void on_flow_gap(void *ctx, void *user, enum flow_dir dir, uint64_t len, uint64_t frame,
                        int64_t ts_usec)
{
    struct conv *conv = user;
    struct session *s;

    if (conv->kind != CONV_SMTP || !(s = conv_session(ctx, conv)))
        return;
    session_gap(s, dir == FLOW_FROM_CLIENT, len, frame, ts_usec);
    apply_classification(conv);
}

/* nDPI's name for a conversation that is not SMTP; "SMTP.HTTP" (master guessed from port 25) is HTTP. */
static const char *other_name(const struct conv *conv)
{
    const char *name = conv->verdict && conv->verdict->app_protocol[0] ? conv->verdict->app_protocol : "Unknown";

    if (strncmp(name, "SMTP.", 5) == 0)
        return name + 5;
    if (strncmp(name, "SMTPS.", 6) == 0)
        return name + 6;
    return name;
}

static void count_other(struct pipeline *pl, const char *name)
{
    size_t i;

    for (i = 0; i < pl->n_other; i++)
        if (strcmp(pl->other[i].name, name) == 0)
            break;
    if (i == pl->n_other) {
        if (pl->n_other == MAX_OTHER_PROTOCOLS)
            i = MAX_OTHER_PROTOCOLS - 1; /* the last slot collects the rest */
        else
            snprintf(pl->other[pl->n_other++].name, sizeof pl->other[0].name, "%s", name);
    }
    pl->other[i].count++;
}

static void classification_done(struct pipeline *pl, struct conv *conv)
{
    int smtp;

    struct conv_verdict *v;

    classifier_finish(pl->config.classifier, conv->fc);
    conv->classify = 0;
    smtp = classifier_is_smtp(conv->fc);
    v = conv->verdict = calloc(1, sizeof *conv->verdict);
    if (v) {
        /* Keep nDPI's name when it speaks of mail or TLS; a short failed dialogue it calls "MQTT" is still SMTP. */
        if (smtp || strstr(classifier_protocol(conv->fc), "TLS") || conv->kind == CONV_CANDIDATE)
            snprintf(v->app_protocol, sizeof v->app_protocol, "%s", classifier_protocol(conv->fc));
        snprintf(v->server_name, sizeof v->server_name, "%s", classifier_server_name(conv->fc));
        classifier_risks(conv->fc, v->risks, sizeof v->risks);
    }
    /* nDPI recognised SMTP our first-bytes rules missed: dissect from here on (a mid-session start). */
    if (conv->kind == CONV_CANDIDATE && smtp && pl->config.detect && !conv->not_smtp) {
        conv->kind = CONV_SMTP;
        conv->implicit_tls = smtp == 2;
        pl->stats.detected_by_ndpi++;
    }
    apply_classification(conv);
    classifier_flow_free(conv->fc);
    conv->fc = NULL;
}

static void on_flow_segment(void *ctx, void *user, enum flow_dir dir, const struct tcp_segment *seg,
                            uint64_t frame, int64_t ts_usec)
{
    struct pipeline *pl = ctx;
    struct conv *conv = user;

    (void)dir;
    (void)frame;
    /* nDPI learns from payload: a conversation that never carries any (a SYN flood) never costs its state. */
    if (!conv->classify || (seg->payload_len == 0 && !conv->fc))
        return;
    if (!conv->fc && !(conv->fc = classifier_flow_new(pl->config.classifier))) {
        conv->classify = 0; /* out of memory: just not classified */
        return;
    }
    if (seg->payload_len == 0 && !(seg->flags & (TCPF_FIN | TCPF_RST)))
        return; /* pure ACKs teach it nothing */
    /* Details (certificate, SNI) matter for TLS; for SMTP we have our own dissector. */
    if (classifier_packet(pl->config.classifier, conv->fc, seg->ip_header, seg->ip_len, ts_usec,
                          conv->implicit_tls || looks_tls(seg->payload, seg->payload_len)) == CLASSIFY_DONE ||
        (conv->kind == CONV_SMTP && !conv->implicit_tls && ++conv->ndpi_packets >= SMTP_CLASSIFY_PACKETS))
        classification_done(pl, conv);
}

static enum session_end session_end_of(enum flow_end how)
{
    switch (how) {
    case FLOW_END_FIN: return SESSION_END_FIN;
    case FLOW_END_RST: return SESSION_END_RST;
    case FLOW_END_IDLE: return SESSION_END_IDLE;
    case FLOW_END_EVICTED: return SESSION_END_EVICTED;
    case FLOW_END_CAPTURE_END:
    case FLOW_END_COUNT: break;
    }
    return SESSION_END_CAPTURE_END;
}

static void on_flow_close(void *ctx, void *user, enum flow_end how, uint64_t frame, int64_t ts_usec)
{
    struct pipeline *pl = ctx;
    struct conv *conv = user;

    if (conv->fc)
        classification_done(pl, conv);
    else
        conv->classify = 0;
    if (conv->kind == CONV_CANDIDATE && conv->saw_bytes)
        count_other(pl, other_name(conv));
    if (conv->session) {
        session_end(conv->session, session_end_of(how), frame, ts_usec);
        session_free(conv->session);
        pl->stats.sessions_closed++;
    }
    free(conv->verdict);
    free(conv);
}

struct pipeline *pipeline_new(const struct pipeline_config *config, const struct session_sink *sink,
                              void *sink_ctx)
{
    struct pipeline *pl = calloc(1, sizeof *pl);
    struct flow_callbacks cbs = {on_flow_open, on_flow_data, on_flow_gap, on_flow_close, NULL};
    size_t i;

    if (!pl)
        return NULL;
    pl->config = *config;
    if (sink)
        pl->sink = *sink;
    pl->sink_ctx = sink_ctx;
    for (i = 0; i < config->n_ports; i++)
        pl->port_map[config->ports[i] >> 3] |= (uint8_t)(1u << (config->ports[i] & 7));
    if (config->classifier)
        cbs.segment = on_flow_segment;
    pl->flows = flow_table_new(&config->flow_limits, &cbs, pl);
    if (!pl->flows) {
        free(pl);
        return NULL;
    }
    return pl;
}

int pipeline_frame(struct pipeline *pl, int dlt, const uint8_t *data, size_t caplen, uint64_t frame,
                   int64_t ts_usec)
{
    struct tcp_segment seg;
    char reason[96] = "";
    enum decode_status st = decode_packet(dlt, data, caplen, &seg, &pl->decode, reason, sizeof reason);

    pl->last_frame = frame;
    pl->last_ts = ts_usec;
    if (st != DECODE_OK) {
        if (st == DECODE_UNSUPPORTED_LINK)
            pl->stats.unsupported_link_frames++;
        if ((st == DECODE_TRUNCATED || st == DECODE_INVALID) && !pl->first_damage[0]) {
            snprintf(pl->first_damage, sizeof pl->first_damage, "%s: %s", decode_status_name(st),
                     reason[0] ? reason : "?");
            pl->first_damage_frame = frame;
        }
        return 0;
    }
    if (flow_table_segment(pl->flows, &seg, frame, ts_usec) < 0 || pl->out_of_memory)
        return -1;
    return 0;
}

void pipeline_tick(struct pipeline *pl, int64_t now_usec)
{
    flow_table_expire(pl->flows, now_usec);
}

void pipeline_finish(struct pipeline *pl)
{
    flow_table_finish(pl->flows, pl->last_frame, pl->last_ts);
}

const struct decode_stats *pipeline_decode_stats(const struct pipeline *pl)
{
    return &pl->decode;
}

const struct flow_stats *pipeline_flow_stats(const struct pipeline *pl)
{
    return flow_table_stats(pl->flows);
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pl)
{
    return &pl->stats;
}

const char *pipeline_first_damage(const struct pipeline *pl, uint64_t *frame)
{
    if (frame)
        *frame = pl->first_damage_frame;
    return pl->first_damage;
}

size_t pipeline_other_protocols(const struct pipeline *pl, const char **names, uint64_t *counts, size_t max)
{
    size_t i, n = pl->n_other < max ? pl->n_other : max;

    for (i = 0; i < n; i++) {
        names[i] = pl->other[i].name;
        counts[i] = pl->other[i].count;
    }
    return n;
}

void pipeline_free(struct pipeline *pl)
{
    if (!pl)
        return;
    flow_table_free(pl->flows);
    free(pl);
}
