/* flow.h: the TCP flow table and per-direction reassembly; hands upward ordered bytes, gaps and closes. */
#ifndef SMTPTRACE_FLOW_H
#define SMTPTRACE_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "capture/decode.h"

/* Directions of a conversation, named by who sends the bytes. */
enum flow_dir { FLOW_FROM_CLIENT = 0, FLOW_FROM_SERVER = 1 };

/* How a conversation ended; stable names in flow_end_name(). */
enum flow_end {
    FLOW_END_FIN = 0,     /* both sides sent FIN (or one FIN and the data drained) */
    FLOW_END_RST,         /* a RST was seen */
    FLOW_END_IDLE,        /* nothing for limits.idle_timeout_usec */
    FLOW_END_EVICTED,     /* the table was full: the longest idle flow made room */
    FLOW_END_CAPTURE_END, /* still open when the input ended */
    FLOW_END_COUNT
};

/*
 * Every limit, one place, defaults in flow_limits_default() and README.md.
 * Hitting one is counted in flow_stats and never crashes or drops silently:
 * the bytes given up are reported upward as a gap.
 */
struct flow_limits {
    size_t max_flows;            /* default 262144 open conversations */
    size_t max_buffered_per_dir; /* default 1 MiB of out-of-order bytes per direction */
    size_t max_buffered_total;   /* default 64 MiB across all flows */
    int64_t idle_timeout_usec;   /* default 300 s, as Zeek's tcp_inactivity_timeout */
    int64_t close_linger_usec;   /* default 5 s, as Zeek's tcp_close_delay: a closed flow's tombstone */
};

void flow_limits_default(struct flow_limits *limits);

/* What is known of a conversation when its first packet arrives. */
struct flow_info {
    struct ip_address client_ip, server_ip;
    uint16_t client_port, server_port;
    int syn_seen;          /* orientation from the handshake; else from the first packet's sender */
    uint64_t first_frame;  /* 1-based frame number in the input */
    int64_t first_ts_usec; /* UTC microseconds since the epoch */
    /* Payload of the packet asking (NULL/0 for a bare SYN), so open() can judge by content. */
    const uint8_t *payload;
    size_t payload_len;
    int payload_from_client; /* as the roles above guess them */
};

/*
 * Upward interface. All callbacks get the caller's ctx and, except open, the
 * user pointer open returned for that flow.
 *  open:  first packet of a flow (a SYN, or any segment with payload; bare
 *         ACK/FIN/RST of an unknown flow are ignored). Returns the flow's
 *         user pointer, or NULL to not track the flow (open is then asked
 *         again on its next packet). When info->syn_seen is 0 the roles are a
 *         guess (first sender = client) and the callee may set *swap = 1 to
 *         reverse them (the SMTP port is on the "client" side).
 *  data:  bytes in stream order for one direction; frame/ts of the segment
 *         they came from. bytes die when the callback returns.
 *  gap:   len bytes of that direction are missing (lost, never captured, or
 *         given up at a limit); the next data call continues after them.
 *  close: the flow ended; called once; the user pointer is not used again.
 */
struct flow_callbacks {
    void *(*open)(void *ctx, const struct flow_info *info, int *swap);
    void (*data)(void *ctx, void *user, enum flow_dir dir, const uint8_t *bytes, size_t len,
                 uint64_t frame, int64_t ts_usec);
    void (*gap)(void *ctx, void *user, enum flow_dir dir, uint64_t len, uint64_t frame,
                int64_t ts_usec);
    void (*close)(void *ctx, void *user, enum flow_end how, uint64_t frame, int64_t ts_usec);
    /* Optional: every segment of a tracked flow, as captured, before reassembly (classification). */
    void (*segment)(void *ctx, void *user, enum flow_dir dir, const struct tcp_segment *seg, uint64_t frame,
                    int64_t ts_usec);
};

struct flow_stats {
    uint64_t segments, flows_opened, flows_ignored;
    uint64_t closed[FLOW_END_COUNT];
    uint64_t retransmitted_bytes, overlap_bytes, out_of_order_segments;
    uint64_t gaps, gap_bytes;
    uint64_t limit_per_dir_hits, limit_total_hits, limit_flows_hits;
    uint64_t buffered_bytes, buffered_bytes_peak; /* out-of-order bytes held now and at most */
    uint64_t open_flows, open_flows_peak;
};

struct flow_table;

/* Returns a new table, or NULL on allocation failure. limits and cbs are copied. */
struct flow_table *flow_table_new(const struct flow_limits *limits, const struct flow_callbacks *cbs,
                                  void *ctx);

/*
 * Feeds one decoded segment. Expires idle flows first (by ts_usec), then
 * finds or creates the flow, reassembles and calls data/gap/close as bytes
 * become contiguous. Returns 0, or -1 on allocation failure (nothing leaked).
 */
int flow_table_segment(struct flow_table *table, const struct tcp_segment *seg, uint64_t frame,
                       int64_t ts_usec);

/* End of input: every open flow is drained (buffered bytes after gaps) and closed as CAPTURE_END. */
void flow_table_finish(struct flow_table *table, uint64_t frame, int64_t ts_usec);

/*
 * A clock tick without a packet (live capture on a quiet interface): closes,
 * as FLOW_END_IDLE, every flow idle for longer than the timeout at ts_usec.
 */
void flow_table_expire(struct flow_table *table, int64_t ts_usec);

const struct flow_stats *flow_table_stats(const struct flow_table *table);

/* Frees the table; flows still open are dropped without callbacks (call finish first). */
void flow_table_free(struct flow_table *table);

const char *flow_end_name(enum flow_end how);

#endif
