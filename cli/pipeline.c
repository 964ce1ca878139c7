/* pipeline.c: decodes frames, tracks TCP flows on SMTP ports and feeds their bytes to SMTP sessions. */
#include "cli/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One tracked conversation; its session exists once bytes flowed. */
struct conv {
    struct session *session;
    struct session_endpoints ep;
    int syn_seen, failed;
    uint64_t first_frame;
    int64_t first_ts;
};

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

static void *on_flow_open(void *ctx, const struct flow_info *info, int *swap)
{
    struct pipeline *pl = ctx;
    struct session_endpoints *ep;
    struct conv *conv;
    int server_on_port = port_selected(pl, info->server_port);
    int client_on_port = port_selected(pl, info->client_port);
    int by_content = 0;

    if (!server_on_port && !client_on_port) {
        /* FTP greets with 220 too (RFC 959 5.4): its control port is never taken by content. */
        if (!pl->config.detect || !info->payload || info->server_port == 21 || info->client_port == 21)
            return NULL;
        by_content = smtp_by_content(info->payload, info->payload_len);
        if (!by_content)
            return NULL;
        pl->stats.detected_by_content++;
    }
    conv = calloc(1, sizeof *conv);
    if (!conv)
        return NULL;
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
        char ip[sizeof ep->client_ip];
        uint16_t port = ep->client_port;
        *swap = 1;
        memcpy(ip, ep->client_ip, sizeof ip);
        memcpy(ep->client_ip, ep->server_ip, sizeof ip);
        memcpy(ep->server_ip, ip, sizeof ip);
        ep->client_port = ep->server_port;
        ep->server_port = port;
    }
    conv->syn_seen = info->syn_seen;
    conv->first_frame = info->first_frame;
    conv->first_ts = info->first_ts_usec;
    return conv;
}

/* The SMTP session of a conversation, made at its first byte: a SYN flood costs a flow, not a parser. */
static struct session *conv_session(struct pipeline *pl, struct conv *conv)
{
    if (!conv->session && !conv->failed) {
        conv->session = session_new(&pl->config.session_limits, &pl->sink, pl->sink_ctx, &conv->ep,
                                    conv->syn_seen, pl->config.session_id_base + pl->stats.sessions_opened + 1,
                                    conv->first_frame, conv->first_ts);
        if (conv->session)
            pl->stats.sessions_opened++;
        else
            conv->failed = pl->out_of_memory = 1;
    }
    return conv->session;
}

static void on_flow_data(void *ctx, void *user, enum flow_dir dir, const uint8_t *bytes, size_t len,
                         uint64_t frame, int64_t ts_usec)
{
    struct session *s = conv_session(ctx, user);

    if (s)
        session_data(s, dir == FLOW_FROM_CLIENT, bytes, len, frame, ts_usec);
}

static void on_flow_gap(void *ctx, void *user, enum flow_dir dir, uint64_t len, uint64_t frame,
                        int64_t ts_usec)
{
    struct session *s = conv_session(ctx, user);

    if (s)
        session_gap(s, dir == FLOW_FROM_CLIENT, len, frame, ts_usec);
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

    if (conv->session) {
        session_end(conv->session, session_end_of(how), frame, ts_usec);
        session_free(conv->session);
        pl->stats.sessions_closed++;
    }
    free(conv);
}

struct pipeline *pipeline_new(const struct pipeline_config *config, const struct session_sink *sink,
                              void *sink_ctx)
{
    struct pipeline *pl = calloc(1, sizeof *pl);
    struct flow_callbacks cbs = {on_flow_open, on_flow_data, on_flow_gap, on_flow_close};
    size_t i;

    if (!pl)
        return NULL;
    pl->config = *config;
    if (sink)
        pl->sink = *sink;
    pl->sink_ctx = sink_ctx;
    for (i = 0; i < config->n_ports; i++)
        pl->port_map[config->ports[i] >> 3] |= (uint8_t)(1u << (config->ports[i] & 7));
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

void pipeline_free(struct pipeline *pl)
{
    if (!pl)
        return;
    flow_table_free(pl->flows);
    free(pl);
}
