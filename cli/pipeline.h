/* pipeline.h: frames in, SMTP sessions out: joins decode, the flow table and the session layer. */
#ifndef SMTPTRACE_PIPELINE_H
#define SMTPTRACE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "capture/classify.h"
#include "capture/decode.h"
#include "capture/flow.h"
#include "dissect/session.h"

#define PIPELINE_MAX_PORTS 64

struct pipeline_config {
    uint16_t ports[PIPELINE_MAX_PORTS]; /* TCP ports that carry SMTP; default 25, 587, 2525 */
    size_t n_ports;
    int detect;                 /* also take conversations whose first bytes are SMTP, on any port */
    struct classifier *classifier; /* nDPI, or NULL: label sessions, count the rest, find SMTP it knows */
    uint64_t session_id_base;   /* sessions are numbered from base + 1 (several files in one run) */
    struct flow_limits flow_limits;
    struct session_limits session_limits;
};

void pipeline_config_default(struct pipeline_config *config);

/*
 * Parses "25,587,2525" into config->ports. Returns 0, or -1 with a message in
 * errbuf when an item is not a port number 1..65535 or there are too many.
 */
int pipeline_parse_ports(struct pipeline_config *config, const char *list, char *errbuf, size_t errlen);

struct pipeline_stats {
    uint64_t sessions_opened, sessions_closed;
    uint64_t detected_by_content; /* conversations taken off the port list by their first bytes */
    uint64_t detected_by_ndpi;    /* ... because nDPI said SMTP */
    uint64_t unsupported_link_frames;
};

struct pipeline;

/* sink receives every session's output; returns NULL on allocation failure. */
struct pipeline *pipeline_new(const struct pipeline_config *config, const struct session_sink *sink,
                              void *sink_ctx);

/*
 * One captured frame of link type dlt. Damaged frames are counted (see
 * pipeline_decode_stats) and skipped; returns 0, or -1 when out of memory.
 */
int pipeline_frame(struct pipeline *pl, int dlt, const uint8_t *data, size_t caplen, uint64_t frame,
                   int64_t ts_usec);

/*
 * Live capture with no frames for a while: conversations idle at now_usec
 * (UTC microseconds, the clock of frame timestamps) end as idle_timeout.
 */
void pipeline_tick(struct pipeline *pl, int64_t now_usec);

/* End of input: every open conversation ends as capture_end, in order of first frame. */
void pipeline_finish(struct pipeline *pl);

const struct decode_stats *pipeline_decode_stats(const struct pipeline *pl);
const struct flow_stats *pipeline_flow_stats(const struct pipeline *pl);
const struct pipeline_stats *pipeline_stats(const struct pipeline *pl);

/* The reason of the first damaged frame, with its number, for a one-line warning; "" if none. */
const char *pipeline_first_damage(const struct pipeline *pl, uint64_t *frame);

/* Conversations with payload that were not SMTP, by nDPI protocol name; returns how many names. */
size_t pipeline_other_protocols(const struct pipeline *pl, const char **names, uint64_t *counts, size_t max);

void pipeline_free(struct pipeline *pl);

#endif
