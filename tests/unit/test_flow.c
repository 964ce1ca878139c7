/* test_flow.c: cmocka unit tests for capture/flow.c driven by synthetic segments and recording callbacks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "capture/flow.h"

#define TF_MAX_FLOWS 8
#define TF_MAX_EVENTS 4096
#define TF_STREAM_CAP 32768
#define TF_CPORT 40000
#define TF_SEC 1000000LL

/* One upward call as recorded: 'o'pen, 'd'ata, 'g'ap, 'c'lose. */
struct tf_event {
    char kind;
    int flow, dir, how;
    uint64_t len, frame;
    int64_t ts;
};

struct tf_rec {
    struct tf_event ev[TF_MAX_EVENTS];
    size_t nev;
    int ids[TF_MAX_FLOWS];
    int nflows;
    struct flow_info info[TF_MAX_FLOWS];
    uint8_t stream[TF_MAX_FLOWS][2][TF_STREAM_CAP];
    size_t slen[TF_MAX_FLOWS][2];
    uint64_t gap_bytes[TF_MAX_FLOWS][2];
    int closed[TF_MAX_FLOWS];
    int refuse;       /* open() returns NULL this many times */
    int swap_port_25; /* open() swaps a guessed orientation whose client port is 25 */
};

static struct tf_event *tf_push(struct tf_rec *r, char kind, void *user)
{
    struct tf_event *e;

    assert_true(r->nev < TF_MAX_EVENTS);
    e = &r->ev[r->nev++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->flow = user ? (int)((int *)user - r->ids) : -1;
    return e;
}

static void *tf_open(void *ctx, const struct flow_info *info, int *swap)
{
    struct tf_rec *r = ctx;
    int idx;

    if (r->refuse > 0) {
        r->refuse--;
        return NULL;
    }
    assert_true(r->nflows < TF_MAX_FLOWS);
    idx = r->nflows++;
    r->info[idx] = *info;
    if (r->swap_port_25 && !info->syn_seen && info->client_port == 25)
        *swap = 1;
    tf_push(r, 'o', &r->ids[idx])->frame = info->first_frame;
    return &r->ids[idx];
}

static void tf_data(void *ctx, void *user, enum flow_dir dir, const uint8_t *bytes, size_t len,
                    uint64_t frame, int64_t ts)
{
    struct tf_rec *r = ctx;
    struct tf_event *e = tf_push(r, 'd', user);
    size_t *sl;

    assert_int_not_equal(e->flow, -1);
    assert_true(e->flow >= 0 && e->flow < r->nflows);
    assert_int_equal(r->closed[e->flow], 0);
    assert_true(len > 0);
    e->dir = dir;
    e->len = len;
    e->frame = frame;
    e->ts = ts;
    sl = &r->slen[e->flow][dir];
    assert_true(*sl + len <= TF_STREAM_CAP);
    memcpy(r->stream[e->flow][dir] + *sl, bytes, len);
    *sl += len;
}

static void tf_gap(void *ctx, void *user, enum flow_dir dir, uint64_t len, uint64_t frame,
                   int64_t ts)
{
    struct tf_rec *r = ctx;
    struct tf_event *e = tf_push(r, 'g', user);

    assert_true(e->flow >= 0 && e->flow < r->nflows);
    assert_true(len > 0);
    e->dir = dir;
    e->len = len;
    e->frame = frame;
    e->ts = ts;
    r->gap_bytes[e->flow][dir] += len;
}

static void tf_close(void *ctx, void *user, enum flow_end how, uint64_t frame, int64_t ts)
{
    struct tf_rec *r = ctx;
    struct tf_event *e = tf_push(r, 'c', user);

    assert_true(e->flow >= 0 && e->flow < r->nflows);
    assert_int_equal(r->closed[e->flow], 0);
    r->closed[e->flow] = 1;
    e->how = how;
    e->frame = frame;
    e->ts = ts;
}

/* Test fixture: a recorder and a table with the given limits (NULL: defaults). */
struct tf_fix {
    struct tf_rec *rec;
    struct flow_table *t;
};

static void tf_setup(struct tf_fix *fx, const struct flow_limits *limits)
{
    struct flow_callbacks cbs;
    struct flow_limits def;

    memset(&cbs, 0, sizeof cbs);
    cbs.open = tf_open;
    cbs.data = tf_data;
    cbs.gap = tf_gap;
    cbs.close = tf_close;
    flow_limits_default(&def);
    fx->rec = calloc(1, sizeof(*fx->rec));
    assert_non_null(fx->rec);
    fx->t = flow_table_new(limits ? limits : &def, &cbs, fx->rec);
    assert_non_null(fx->t);
}

static void tf_teardown(struct tf_fix *fx)
{
    flow_table_free(fx->t);
    free(fx->rec);
}

/* Feeds one segment of the conversation 10.0.0.1:cport <-> 10.0.0.2:25. */
static int tf_feed_full(struct tf_fix *fx, uint16_t cport, int from_client, uint32_t seq,
                        uint32_t ack, uint8_t flags, const void *data, size_t len, size_t wire,
                        uint64_t frame, int64_t ts)
{
    struct tcp_segment s;
    struct ip_address c, v;

    memset(&s, 0, sizeof(s));
    memset(&c, 0, sizeof(c));
    memset(&v, 0, sizeof(v));
    c.family = v.family = 4;
    c.bytes[0] = v.bytes[0] = 10;
    c.bytes[3] = 1;
    v.bytes[3] = 2;
    s.src = from_client ? c : v;
    s.dst = from_client ? v : c;
    s.sport = from_client ? cport : 25;
    s.dport = from_client ? 25 : cport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.payload = data;
    s.payload_len = len;
    s.wire_payload_len = wire;
    return flow_table_segment(fx->t, &s, frame, ts);
}

static void tf_feed(struct tf_fix *fx, int from_client, uint32_t seq, uint32_t ack, uint8_t flags,
                    const char *text, uint64_t frame)
{
    size_t len = text ? strlen(text) : 0;

    assert_int_equal(tf_feed_full(fx, TF_CPORT, from_client, seq, ack, flags, text, len, len, frame,
                                  (int64_t)frame * 1000),
                     0);
}

/* Client ISN 1000, server ISN 5000: client data starts at 1001, server data at 5001. */
static void tf_handshake(struct tf_fix *fx)
{
    tf_feed(fx, 1, 1000, 0, TCPF_SYN, NULL, 1);
    tf_feed(fx, 0, 5000, 1001, TCPF_SYN | TCPF_ACK, NULL, 2);
    tf_feed(fx, 1, 1001, 5001, TCPF_ACK, NULL, 3);
}

static void tf_expect_stream(const struct tf_rec *r, int flow, int dir, const char *text)
{
    assert_int_equal(r->slen[flow][dir], strlen(text));
    assert_memory_equal(r->stream[flow][dir], text, strlen(text));
}

static size_t tf_count(const struct tf_rec *r, char kind)
{
    size_t i, n = 0;

    for (i = 0; i < r->nev; i++)
        n += r->ev[i].kind == kind;
    return n;
}

static const struct tf_event *tf_last(const struct tf_rec *r, char kind)
{
    size_t i;

    for (i = r->nev; i-- > 0;)
        if (r->ev[i].kind == kind)
            return &r->ev[i];
    return NULL;
}

static void test_flow_in_order_and_fin(void **state)
{
    struct tf_fix fx;
    const struct flow_stats *st;
    const struct tf_event *e;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    assert_int_equal(fx.rec->nflows, 1);
    assert_int_equal(fx.rec->info[0].syn_seen, 1);
    assert_int_equal(fx.rec->info[0].client_port, TF_CPORT);
    assert_int_equal(fx.rec->info[0].server_port, 25);
    assert_int_equal(fx.rec->info[0].first_frame, 1);
    tf_feed(&fx, 0, 5001, 1001, TCPF_ACK | TCPF_PSH, "220 hi\r\n", 4);
    tf_feed(&fx, 1, 1001, 5009, TCPF_ACK | TCPF_PSH, "EHLO x\r\n", 5);
    tf_feed(&fx, 0, 5009, 1009, TCPF_ACK | TCPF_PSH, "250 ok\r\n", 6);
    tf_feed(&fx, 1, 1009, 5017, TCPF_ACK | TCPF_FIN, NULL, 7);
    assert_int_equal(fx.rec->closed[0], 0);
    tf_feed(&fx, 0, 5017, 1010, TCPF_ACK | TCPF_FIN, NULL, 8);
    assert_int_equal(fx.rec->closed[0], 1);
    e = tf_last(fx.rec, 'c');
    assert_int_equal(e->how, FLOW_END_FIN);
    assert_int_equal(e->frame, 8);
    /* The last ACK after the close opens nothing. */
    tf_feed(&fx, 1, 1010, 5018, TCPF_ACK, NULL, 9);

    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "220 hi\r\n250 ok\r\n");
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "EHLO x\r\n");
    e = tf_last(fx.rec, 'd');
    assert_int_equal(e->frame, 6);
    assert_int_equal(e->dir, FLOW_FROM_SERVER);
    st = flow_table_stats(fx.t);
    assert_int_equal(st->segments, 9);
    assert_int_equal(st->flows_opened, 1);
    assert_int_equal(st->closed[FLOW_END_FIN], 1);
    assert_int_equal(st->open_flows, 0);
    assert_int_equal(st->open_flows_peak, 1);
    assert_int_equal(st->gaps, 0);
    assert_int_equal(fx.rec->nflows, 1);
    tf_teardown(&fx);
}

static void test_flow_out_of_order(void **state)
{
    struct tf_fix fx;
    const struct flow_stats *st;
    const struct tf_event *d[3];
    size_t i, k = 0;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1007, 5001, TCPF_ACK, "CCC", 10);
    tf_feed(&fx, 1, 1004, 5001, TCPF_ACK, "BBB", 11);
    assert_int_equal(tf_count(fx.rec, 'd'), 0);
    st = flow_table_stats(fx.t);
    assert_int_equal(st->buffered_bytes, 6);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "AAA", 12);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "AAABBBCCC");
    for (i = 0; i < fx.rec->nev; i++)
        if (fx.rec->ev[i].kind == 'd')
            d[k++] = &fx.rec->ev[i];
    assert_int_equal(k, 3);
    /* Each piece is attributed to the frame that carried it. */
    assert_int_equal(d[0]->frame, 12);
    assert_int_equal(d[1]->frame, 11);
    assert_int_equal(d[2]->frame, 10);
    assert_int_equal(d[2]->ts, 10000);
    assert_int_equal(st->out_of_order_segments, 2);
    assert_int_equal(st->buffered_bytes, 0);
    assert_int_equal(st->buffered_bytes_peak, 6);
    assert_int_equal(st->gaps, 0);
    tf_teardown(&fx);
}

static void test_flow_retransmission(void **state)
{
    struct tf_fix fx;
    const struct flow_stats *st;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "hello", 4);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "hello", 5);
    tf_feed(&fx, 1, 1003, 5001, TCPF_ACK, "ll", 6);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "hello");
    st = flow_table_stats(fx.t);
    assert_int_equal(st->retransmitted_bytes, 7);
    assert_int_equal(st->overlap_bytes, 0);
    assert_int_equal(tf_count(fx.rec, 'd'), 1);
    tf_teardown(&fx);
}

static void test_flow_overlap_policies(void **state)
{
    struct tf_fix fx;
    const struct flow_stats *st;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    /* Overlap with delivered bytes: the new tail is delivered once. */
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "hello", 4);
    tf_feed(&fx, 1, 1004, 5001, TCPF_ACK, "lo world", 5);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "hello world");
    st = flow_table_stats(fx.t);
    assert_int_equal(st->overlap_bytes, 2);

    /* Overlap with buffered bytes: the first received win, the new ones only fill holes. */
    tf_feed(&fx, 0, 5005, 1001, TCPF_ACK, "EFGH", 6);
    tf_feed(&fx, 0, 5003, 1001, TCPF_ACK, "cdXXXXij", 7);
    assert_int_equal(fx.rec->slen[0][FLOW_FROM_SERVER], 0);
    tf_feed(&fx, 0, 5001, 1001, TCPF_ACK, "ab", 8);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "abcdEFGHij");
    assert_int_equal(st->overlap_bytes, 2 + 4);
    assert_int_equal(st->buffered_bytes, 0);

    /* A segment from next that runs into buffered bytes: its own prefix, then the old bytes. */
    tf_feed(&fx, 0, 5014, 1001, TCPF_ACK, "NOP", 9);
    tf_feed(&fx, 0, 5011, 1001, TCPF_ACK, "klmZZZq", 10);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "abcdEFGHijklmNOPq");
    assert_int_equal(st->overlap_bytes, 2 + 4 + 3);
    assert_int_equal(st->gaps, 0);
    tf_teardown(&fx);
}

static void test_flow_rst_with_data(void **state)
{
    struct tf_fix fx;
    const struct tf_event *e;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "QUIT\r\n", 4);
    tf_feed(&fx, 0, 5001, 1007, TCPF_RST | TCPF_ACK, "bye", 5);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "bye");
    e = tf_last(fx.rec, 'c');
    assert_non_null(e);
    assert_int_equal(e->how, FLOW_END_RST);
    assert_int_equal(e->frame, 5);
    assert_int_equal(flow_table_stats(fx.t)->closed[FLOW_END_RST], 1);
    /* Data still in flight after the RST opens no ghost flow. */
    tf_feed(&fx, 1, 1007, 5004, TCPF_ACK, "late", 6);
    assert_int_equal(fx.rec->nflows, 1);
    assert_int_equal(flow_table_stats(fx.t)->open_flows, 0);
    tf_teardown(&fx);
}

static void test_flow_syn_ack_only(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    /* The SYN was not captured: the SYN+ACK gives both roles and both start points. */
    tf_feed(&fx, 0, 5000, 1001, TCPF_SYN | TCPF_ACK, NULL, 1);
    assert_int_equal(fx.rec->info[0].syn_seen, 1);
    assert_int_equal(fx.rec->info[0].client_port, TF_CPORT);
    tf_feed(&fx, 1, 1004, 5001, TCPF_ACK, "lo", 2);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "hel", 3);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "hello");
    tf_teardown(&fx);
}

static void test_flow_sequence_wrap(void **state)
{
    struct tf_fix fx;
    char buf[33];
    int i;

    (void)state;
    for (i = 0; i < 32; i++)
        buf[i] = (char)('A' + i % 26);
    buf[32] = '\0';
    tf_setup(&fx, NULL);
    tf_feed(&fx, 1, 0xffffffefu, 0, TCPF_SYN, NULL, 1);
    tf_feed(&fx, 0, 7, 0xfffffff0u, TCPF_SYN | TCPF_ACK, NULL, 2);
    /* 32 bytes from 0xfffffff0: the second half lies past 2^32 and arrives first. */
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 0x00000008u, 8, TCPF_ACK, buf + 24, 8, 8, 3, 3),
                     0);
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 0xfffffff0u, 8, TCPF_ACK, buf, 20, 20, 4, 4), 0);
    assert_int_equal(fx.rec->slen[0][0], 20);
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 0x00000004u, 8, TCPF_ACK, buf + 20, 4, 4, 5, 5),
                     0);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, buf);
    /* A retransmission from before the wrap is recognised as old. */
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 0xfffffffcu, 8, TCPF_ACK, buf + 12, 8, 8, 6, 6),
                     0);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, buf);
    assert_int_equal(flow_table_stats(fx.t)->retransmitted_bytes, 8);
    assert_int_equal(flow_table_stats(fx.t)->gaps, 0);
    tf_teardown(&fx);
}

static void test_flow_mid_session_swap(void **state)
{
    struct tf_fix fx;
    const struct tf_event *e;

    (void)state;
    tf_setup(&fx, NULL);
    fx.rec->swap_port_25 = 1;
    /* A bare ACK of an unknown flow is ignored. */
    tf_feed(&fx, 0, 90000, 70000, TCPF_ACK, NULL, 1);
    assert_int_equal(fx.rec->nflows, 0);
    /* The first packet with data comes from port 25: the guess is reversed by open(). */
    tf_feed(&fx, 0, 90000, 70000, TCPF_ACK | TCPF_PSH, "250 ok\r\n", 2);
    assert_int_equal(fx.rec->nflows, 1);
    assert_int_equal(fx.rec->info[0].syn_seen, 0);
    tf_feed(&fx, 1, 70000, 90008, TCPF_ACK | TCPF_PSH, "DATA\r\n", 3);
    tf_feed(&fx, 0, 90008, 70006, TCPF_ACK | TCPF_PSH, "354 go\r\n", 4);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "250 ok\r\n354 go\r\n");
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "DATA\r\n");
    e = tf_last(fx.rec, 'd');
    assert_int_equal(e->dir, FLOW_FROM_SERVER);
    flow_table_finish(fx.t, 5, 5000);
    assert_int_equal(tf_last(fx.rec, 'c')->how, FLOW_END_CAPTURE_END);
    assert_int_equal(flow_table_stats(fx.t)->segments, 4);
    tf_teardown(&fx);
}

static void test_flow_lost_segment_gap_at_fin(void **state)
{
    struct tf_fix fx;
    const struct tf_event *ev;
    size_t i, k = 0;
    char kinds[8];

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "AAAAAAAAAA", 4);
    /* 1011..1020 never captured */
    tf_feed(&fx, 1, 1021, 5001, TCPF_ACK | TCPF_FIN, "CCCCCCCCCC", 5);
    tf_feed(&fx, 0, 5001, 1032, TCPF_ACK | TCPF_FIN, NULL, 6);
    ev = fx.rec->ev;
    for (i = 0; i < fx.rec->nev && k < sizeof(kinds); i++)
        if (ev[i].kind != 'o')
            kinds[k++] = ev[i].kind;
    assert_int_equal(k, 4);
    assert_memory_equal(kinds, "dgdc", 4);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 10);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "AAAAAAAAAACCCCCCCCCC");
    assert_int_equal(tf_last(fx.rec, 'c')->how, FLOW_END_FIN);
    assert_int_equal(flow_table_stats(fx.t)->gaps, 1);
    assert_int_equal(flow_table_stats(fx.t)->gap_bytes, 10);
    tf_teardown(&fx);
}

static void test_flow_lost_last_segment_before_fin(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "AAAA", 4);
    /* 1005..1010 lost, then a bare FIN at 1011: the FIN position shows the hole. */
    tf_feed(&fx, 1, 1011, 5001, TCPF_ACK | TCPF_FIN, NULL, 5);
    assert_int_equal(fx.rec->closed[0], 0);
    tf_feed(&fx, 0, 5001, 1012, TCPF_ACK | TCPF_FIN, NULL, 6);
    assert_int_equal(fx.rec->closed[0], 1);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 6);
    assert_int_equal(tf_last(fx.rec, 'c')->how, FLOW_END_FIN);
    tf_teardown(&fx);
}

static void test_flow_ack_rule_gap(void **state)
{
    struct tf_fix fx;
    const struct tf_event *g;
    uint64_t frame = 10;
    int i;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "MAIL\r\n", 4);
    /* 1007..1012 lost in the capture; the next command is buffered. */
    tf_feed(&fx, 1, 1013, 5001, TCPF_ACK, "RCPT\r\n", 5);
    /* The server acknowledged everything (pure ACKs): it got the bytes the capture missed. */
    tf_feed(&fx, 0, 5001, 1019, TCPF_ACK, NULL, 6);
    assert_int_equal(tf_count(fx.rec, 'g'), 0);
    for (i = 0; i < 6; i++)
        tf_feed(&fx, 0, 5001, 1019, TCPF_ACK, NULL, frame++);
    assert_int_equal(tf_count(fx.rec, 'g'), 0); /* 7 segments since the hole: wait */
    tf_feed(&fx, 0, 5001, 1019, TCPF_ACK, NULL, frame++);
    assert_int_equal(tf_count(fx.rec, 'g'), 1); /* the 8th: declared */
    g = tf_last(fx.rec, 'g');
    assert_int_equal(g->len, 6);
    assert_int_equal(g->dir, FLOW_FROM_CLIENT);
    assert_int_equal(g->frame, 16);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "MAIL\r\nRCPT\r\n");
    assert_int_equal(tf_last(fx.rec, 'd')->frame, 5);
    assert_int_equal(fx.rec->closed[0], 0);
    tf_teardown(&fx);
}

/* Rule d: an answer (data) acknowledging bytes never captured declares them lost at once, before the answer. */
static void test_flow_data_acks_missing(void **state)
{
    struct tf_fix fx;
    const struct tf_event *g;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "MAIL\r\n", 4);
    /* The server's "250 ok\r\n" (5001..5008) is not in the capture; the client's next command acks it. */
    tf_feed(&fx, 1, 1007, 5009, TCPF_ACK, "RCPT\r\n", 6);
    assert_int_equal(tf_count(fx.rec, 'g'), 1);
    g = tf_last(fx.rec, 'g');
    assert_int_equal(g->dir, FLOW_FROM_SERVER);
    assert_int_equal(g->len, 8);
    assert_int_equal(g->frame, 6);
    /* The next reply continues after the missing bytes. */
    tf_feed(&fx, 0, 5009, 1013, TCPF_ACK, "250 b\r\n", 7);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_SERVER, "250 b\r\n");
    /* A hole with later data buffered is given up when the other side answers past it. */
    tf_feed(&fx, 1, 1019, 5016, TCPF_ACK, "QUIT\r\n", 8); /* 1013..1018 missing */
    assert_int_equal(tf_count(fx.rec, 'g'), 1);
    tf_feed(&fx, 0, 5016, 1025, TCPF_ACK, "221 c\r\n", 9);
    assert_int_equal(tf_count(fx.rec, 'g'), 2);
    g = tf_last(fx.rec, 'g');
    assert_int_equal(g->dir, FLOW_FROM_CLIENT);
    assert_int_equal(g->len, 6);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "MAIL\r\nRCPT\r\nQUIT\r\n");
    /* A FIN's sequence number is not a missing byte. */
    tf_feed(&fx, 0, 5023, 1025, TCPF_ACK | TCPF_FIN, NULL, 10);
    tf_feed(&fx, 1, 1025, 5024, TCPF_ACK, "X\r\n", 11);
    assert_int_equal(tf_count(fx.rec, 'g'), 2);
    tf_teardown(&fx);
}

static void test_flow_ack_rule_needs_ack(void **state)
{
    struct tf_fix fx;
    int i;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "AAAA", 4);
    tf_feed(&fx, 1, 1009, 5001, TCPF_ACK, "CCCC", 5);
    /* The receiver only acknowledges up to the hole: a reordered capture, keep waiting. */
    for (i = 0; i < 20; i++)
        tf_feed(&fx, 0, 5001, 1005, TCPF_ACK, NULL, (uint64_t)(6 + i));
    assert_int_equal(tf_count(fx.rec, 'g'), 0);
    tf_feed(&fx, 1, 1005, 5001, TCPF_ACK, "BBBB", 30);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "AAAABBBBCCCC");
    assert_int_equal(flow_table_stats(fx.t)->gaps, 0);
    tf_teardown(&fx);
}

static void test_flow_per_dir_limit(void **state)
{
    struct tf_fix fx;
    struct flow_limits lim;
    static char big[1500];
    const struct flow_stats *st;

    (void)state;
    memset(big, 'x', sizeof(big));
    flow_limits_default(&lim);
    lim.max_buffered_per_dir = 2000;
    tf_setup(&fx, &lim);
    tf_handshake(&fx);
    tf_feed_full(&fx, TF_CPORT, 1, 1001, 5001, TCPF_ACK, "abc", 3, 3, 4, 4);
    /* 1004..1103 lost; 1104.. buffered until the limit gives up the hole. */
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 1104, 5001, TCPF_ACK, big, 900, 900, 5, 5), 0);
    assert_int_equal(tf_count(fx.rec, 'g'), 0);
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 2004, 5001, TCPF_ACK, big, 1400, 1400, 6, 6),
                     0);
    st = flow_table_stats(fx.t);
    assert_int_equal(st->limit_per_dir_hits, 1);
    assert_int_equal(tf_count(fx.rec, 'g'), 1);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 100);
    assert_int_equal(fx.rec->slen[0][FLOW_FROM_CLIENT], 3 + 900 + 1400);
    assert_int_equal(st->buffered_bytes, 0);
    assert_int_equal(st->buffered_bytes_peak, 2300);
    /* Delivery resumes in order afterwards. */
    tf_feed_full(&fx, TF_CPORT, 1, 3404, 5001, TCPF_ACK, "end", 3, 3, 7, 7);
    assert_int_equal(fx.rec->slen[0][FLOW_FROM_CLIENT], 3 + 900 + 1400 + 3);
    tf_teardown(&fx);
}

static void test_flow_total_limit(void **state)
{
    struct tf_fix fx;
    struct flow_limits lim;
    static char big[1000];

    (void)state;
    memset(big, 'y', sizeof(big));
    flow_limits_default(&lim);
    lim.max_buffered_total = 1500;
    tf_setup(&fx, &lim);
    /* Two mid-session flows, each with a hole before 800 buffered bytes. */
    tf_feed_full(&fx, 40001, 1, 100, 1, TCPF_ACK, "a", 1, 1, 1, 1);
    tf_feed_full(&fx, 40002, 1, 100, 1, TCPF_ACK, "a", 1, 1, 2, 2);
    tf_feed_full(&fx, 40001, 1, 200, 1, TCPF_ACK, big, 800, 800, 3, 3);
    assert_int_equal(flow_table_stats(fx.t)->limit_total_hits, 0);
    tf_feed_full(&fx, 40002, 1, 200, 1, TCPF_ACK, big, 800, 800, 4, 4);
    assert_int_equal(flow_table_stats(fx.t)->limit_total_hits, 1);
    /* The flow that pushed the total over gave up its hole. */
    assert_int_equal(fx.rec->gap_bytes[1][FLOW_FROM_CLIENT], 99);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 0);
    assert_int_equal(flow_table_stats(fx.t)->buffered_bytes, 800);
    flow_table_finish(fx.t, 5, 5);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 99);
    assert_int_equal(fx.rec->slen[0][FLOW_FROM_CLIENT], 801);
    assert_int_equal(flow_table_stats(fx.t)->buffered_bytes, 0);
    tf_teardown(&fx);
}

static void test_flow_idle_timeout(void **state)
{
    struct tf_fix fx;
    const struct tf_event *c;

    (void)state;
    tf_setup(&fx, NULL);
    tf_feed_full(&fx, 40001, 1, 100, 1, TCPF_ACK, "one", 3, 3, 1, 0);
    tf_feed_full(&fx, 40001, 1, 107, 1, TCPF_ACK, "late", 4, 4, 2, 10 * TF_SEC); /* hole at 103 */
    tf_feed_full(&fx, 40002, 1, 100, 1, TCPF_ACK, "two", 3, 3, 3, 100 * TF_SEC);
    /* 300 s after frame 2 nothing happens yet; past it, flow 0 goes idle. */
    tf_feed_full(&fx, 40002, 1, 103, 1, TCPF_ACK, "x", 1, 1, 4, 310 * TF_SEC);
    assert_int_equal(fx.rec->closed[0], 0);
    tf_feed_full(&fx, 40002, 1, 104, 1, TCPF_ACK, "y", 1, 1, 5, 310 * TF_SEC + 1);
    assert_int_equal(fx.rec->closed[0], 1);
    assert_int_equal(fx.rec->closed[1], 0);
    c = tf_last(fx.rec, 'c');
    assert_int_equal(c->how, FLOW_END_IDLE);
    assert_int_equal(c->frame, 2); /* the flow's own last packet */
    assert_int_equal(c->ts, 10 * TF_SEC);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 4);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "onelate");
    assert_int_equal(flow_table_stats(fx.t)->closed[FLOW_END_IDLE], 1);
    /* A later packet of the expired tuple with data starts a new conversation. */
    tf_feed_full(&fx, 40001, 1, 111, 1, TCPF_ACK, "again", 5, 5, 6, 311 * TF_SEC);
    assert_int_equal(fx.rec->nflows, 3);
    assert_int_equal(flow_table_stats(fx.t)->open_flows, 2);
    tf_teardown(&fx);
}

static void test_flow_eviction(void **state)
{
    struct tf_fix fx;
    struct flow_limits lim;
    const struct tf_event *c;

    (void)state;
    flow_limits_default(&lim);
    lim.max_flows = 2;
    tf_setup(&fx, &lim);
    tf_feed_full(&fx, 40001, 1, 100, 1, TCPF_ACK, "a", 1, 1, 1, 1);
    tf_feed_full(&fx, 40002, 1, 100, 1, TCPF_ACK, "b", 1, 1, 2, 2);
    tf_feed_full(&fx, 40001, 1, 101, 1, TCPF_ACK, "a", 1, 1, 3, 3); /* flow 1 is now the idlest */
    tf_feed_full(&fx, 40003, 1, 100, 1, TCPF_ACK, "c", 1, 1, 4, 4);
    assert_int_equal(fx.rec->closed[1], 1);
    assert_int_equal(fx.rec->closed[0], 0);
    c = tf_last(fx.rec, 'c');
    assert_int_equal(c->how, FLOW_END_EVICTED);
    assert_int_equal(c->frame, 4);
    assert_int_equal(flow_table_stats(fx.t)->limit_flows_hits, 1);
    assert_int_equal(flow_table_stats(fx.t)->closed[FLOW_END_EVICTED], 1);
    assert_int_equal(flow_table_stats(fx.t)->open_flows, 2);
    assert_int_equal(flow_table_stats(fx.t)->open_flows_peak, 2);
    tf_teardown(&fx);
}

static void test_flow_finish_order(void **state)
{
    struct tf_fix fx;
    int order[3], k = 0;
    size_t i;

    (void)state;
    tf_setup(&fx, NULL);
    tf_feed_full(&fx, 40001, 1, 100, 1, TCPF_ACK, "a", 1, 1, 1, 1);
    tf_feed_full(&fx, 40002, 1, 100, 1, TCPF_ACK, "b", 1, 1, 2, 2);
    tf_feed_full(&fx, 40003, 1, 100, 1, TCPF_ACK, "c", 1, 1, 3, 3);
    /* Touch them in reverse so the LRU order differs from the first-frame order. */
    tf_feed_full(&fx, 40003, 1, 101, 1, TCPF_ACK, "c", 1, 1, 4, 4);
    tf_feed_full(&fx, 40002, 1, 101, 1, TCPF_ACK, "b", 1, 1, 5, 5);
    tf_feed_full(&fx, 40001, 1, 105, 1, TCPF_ACK, "zz", 2, 2, 6, 6); /* hole at 101 */
    flow_table_finish(fx.t, 7, 7);
    for (i = 0; i < fx.rec->nev; i++) {
        if (fx.rec->ev[i].kind != 'c')
            continue;
        assert_true(k < 3);
        assert_int_equal(fx.rec->ev[i].how, FLOW_END_CAPTURE_END);
        assert_int_equal(fx.rec->ev[i].frame, 7);
        order[k++] = fx.rec->ev[i].flow;
    }
    assert_int_equal(k, 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 4);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "azz");
    assert_int_equal(flow_table_stats(fx.t)->closed[FLOW_END_CAPTURE_END], 3);
    assert_int_equal(flow_table_stats(fx.t)->open_flows, 0);
    tf_teardown(&fx);
}

static void test_flow_port_reuse(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "first", 4);
    tf_feed(&fx, 1, 1006, 5001, TCPF_ACK | TCPF_FIN, NULL, 5);
    tf_feed(&fx, 0, 5001, 1007, TCPF_ACK | TCPF_FIN, NULL, 6);
    assert_int_equal(fx.rec->closed[0], 1);
    /* Stragglers of the closed conversation: a retransmission and an ACK. */
    tf_feed(&fx, 1, 1001, 5002, TCPF_ACK, "first", 7);
    tf_feed(&fx, 1, 1007, 5002, TCPF_ACK, NULL, 8);
    assert_int_equal(fx.rec->nflows, 1);
    /* The same tuple reused with a new SYN is a new conversation. */
    tf_feed(&fx, 1, 777000, 0, TCPF_SYN, NULL, 9);
    assert_int_equal(fx.rec->nflows, 2);
    assert_int_equal(fx.rec->info[1].first_frame, 9);
    tf_feed(&fx, 0, 888000, 777001, TCPF_SYN | TCPF_ACK, NULL, 10);
    tf_feed(&fx, 1, 777001, 888001, TCPF_ACK, "second", 11);
    tf_expect_stream(fx.rec, 1, FLOW_FROM_CLIENT, "second");
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "first");
    assert_int_equal(flow_table_stats(fx.t)->flows_opened, 2);
    tf_teardown(&fx);
}

/* A closed conversation's tombstone swallows stragglers for close_linger (5 s), then is dropped. */
static void test_flow_close_linger(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    tf_feed(&fx, 1, 1001, 5001, TCPF_ACK, "first", 4);
    tf_feed(&fx, 1, 1006, 5001, TCPF_ACK | TCPF_FIN, NULL, 5);
    tf_feed(&fx, 0, 5001, 1007, TCPF_ACK | TCPF_FIN, NULL, 6); /* closed at ts 6000 us */
    assert_int_equal(fx.rec->closed[0], 1);
    /* 4 s later a retransmission with payload is still a straggler. */
    tf_feed_full(&fx, TF_CPORT, 1, 1001, 5002, TCPF_ACK, "first", 5, 5, 7, 6000 + 4 * TF_SEC);
    assert_int_equal(fx.rec->nflows, 1);
    /* Past 5 s the tombstone is gone: the same bytes open a conversation of their own. */
    tf_feed_full(&fx, TF_CPORT, 1, 1001, 5002, TCPF_ACK, "first", 5, 5, 8, 6000 + 5 * TF_SEC + 1);
    assert_int_equal(fx.rec->nflows, 2);
    assert_int_equal(fx.rec->info[1].first_frame, 8);
    tf_teardown(&fx);
}

static void test_flow_snaplen_cut(void **state)
{
    struct tf_fix fx;
    const struct tf_event *g;

    (void)state;
    tf_setup(&fx, NULL);
    tf_handshake(&fx);
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 1001, 5001, TCPF_ACK, "01234", 5, 10, 4, 4), 0);
    g = tf_last(fx.rec, 'g');
    assert_non_null(g);
    assert_int_equal(g->len, 5);
    assert_int_equal(g->frame, 4);
    tf_feed(&fx, 1, 1011, 5001, TCPF_ACK, "next", 5);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "01234next");
    /* A cut segment that arrives out of order keeps its gap in place. */
    tf_feed(&fx, 1, 1020, 5001, TCPF_ACK, "tail", 6);
    assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, 1015, 5001, TCPF_ACK, "ab", 2, 5, 7, 7), 0);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "01234nextabtail");
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 8);
    assert_int_equal(flow_table_stats(fx.t)->gaps, 2);
    tf_teardown(&fx);
}

static void test_flow_ignored_by_open(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    fx.rec->refuse = 1;
    tf_feed(&fx, 1, 100, 1, TCPF_ACK, "no", 1);
    assert_int_equal(fx.rec->nflows, 0);
    assert_int_equal(flow_table_stats(fx.t)->flows_ignored, 1);
    assert_int_equal(flow_table_stats(fx.t)->open_flows, 0);
    /* Asked again on the next packet. */
    tf_feed(&fx, 1, 102, 1, TCPF_ACK, "yes", 2);
    assert_int_equal(fx.rec->nflows, 1);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "yes");
    tf_teardown(&fx);
}

static void test_flow_huge_jump_resync(void **state)
{
    struct tf_fix fx;

    (void)state;
    tf_setup(&fx, NULL);
    tf_feed(&fx, 1, 100, 1, TCPF_ACK, "abc", 1);
    /* 2 GiB ahead: not a plausible hole to buffer; a resync with a bounded gap. */
    tf_feed(&fx, 1, 0x80000067u, 1, TCPF_ACK, "def", 2);
    tf_expect_stream(fx.rec, 0, FLOW_FROM_CLIENT, "abcdef");
    assert_int_equal(fx.rec->gap_bytes[0][FLOW_FROM_CLIENT], 0x80000000u);
    assert_int_equal(flow_table_stats(fx.t)->buffered_bytes_peak, 0);
    tf_teardown(&fx);
}

static void test_flow_names_and_defaults(void **state)
{
    struct flow_limits lim;

    (void)state;
    assert_string_equal(flow_end_name(FLOW_END_FIN), "fin");
    assert_string_equal(flow_end_name(FLOW_END_RST), "rst");
    assert_string_equal(flow_end_name(FLOW_END_IDLE), "idle_timeout");
    assert_string_equal(flow_end_name(FLOW_END_EVICTED), "evicted");
    assert_string_equal(flow_end_name(FLOW_END_CAPTURE_END), "capture_end");
    flow_limits_default(&lim);
    assert_int_equal(lim.max_flows, 262144);
    assert_int_equal(lim.max_buffered_per_dir, 1 << 20);
    assert_int_equal(lim.max_buffered_total, 64 << 20);
    assert_int_equal(lim.idle_timeout_usec, 300 * TF_SEC);
    assert_int_equal(lim.close_linger_usec, 5 * TF_SEC);
}

static void test_flow_many_flows(void **state)
{
    struct flow_table *t;
    struct flow_callbacks cbs;
    struct flow_limits lim;
    struct tcp_segment s;
    uint32_t i;
    int pass;

    (void)state;
    memset(&cbs, 0, sizeof(cbs)); /* no open(): every flow is tracked */
    flow_limits_default(&lim);
    lim.max_flows = 50000;
    t = flow_table_new(&lim, &cbs, NULL);
    assert_non_null(t);
    memset(&s, 0, sizeof(s));
    s.src.family = s.dst.family = 4;
    s.dst.bytes[0] = 10;
    s.dport = 25;
    s.flags = TCPF_SYN;
    /* Inserting, finding again and evicting many flows keeps the table consistent. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < 80000; i++) {
            s.src.bytes[0] = 172;
            s.src.bytes[1] = (uint8_t)(i >> 16);
            s.src.bytes[2] = (uint8_t)(i >> 8);
            s.src.bytes[3] = (uint8_t)i;
            s.sport = (uint16_t)(1024 + i % 7);
            s.seq = i;
            assert_int_equal(flow_table_segment(t, &s, (uint64_t)pass * 80000 + i + 1, i), 0);
        }
    }
    assert_int_equal(flow_table_stats(t)->open_flows, 50000);
    assert_int_equal(flow_table_stats(t)->flows_opened, 160000);
    assert_int_equal(flow_table_stats(t)->limit_flows_hits, 110000);
    flow_table_finish(t, 1, 1);
    assert_int_equal(flow_table_stats(t)->open_flows, 0);
    flow_table_free(t);
}

/* xorshift64*: a fixed, portable sequence for the property test. */
static uint64_t tf_rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

struct tf_range {
    uint32_t off, len;
};

static void test_flow_property_random_segments(void **state)
{
    enum { TOTAL = 20000, MAXSEG = 1200 };
    static uint8_t data[TOTAL];
    static struct tf_range segs[2 * TOTAL];
    struct tf_range tmp;
    struct tf_fix fx;
    uint64_t rng;
    size_t nseg, i, j, off;
    uint32_t isn, len;
    int round;

    (void)state;
    for (round = 0; round < 40; round++) {
        rng = 0x9e3779b97f4a7c15ULL + (uint64_t)round * 7919;
        for (i = 0; i < TOTAL; i++)
            data[i] = (uint8_t)tf_rng(&rng);
        /* Half of the rounds start near 2^32 so the stream wraps. */
        isn = round % 2 ? (uint32_t)(0xffffffffu - tf_rng(&rng) % 30000) : (uint32_t)tf_rng(&rng);
        nseg = 0;
        for (off = 0; off < TOTAL; off += len) {
            len = (uint32_t)(1 + tf_rng(&rng) % (round % 4 == 3 ? 40 : MAXSEG));
            if (off + len > TOTAL)
                len = (uint32_t)(TOTAL - off);
            segs[nseg].off = (uint32_t)off;
            segs[nseg++].len = len;
            /* Some duplicates, some re-cut retransmissions straddling segment boundaries. */
            if (tf_rng(&rng) % 8 == 0) {
                segs[nseg] = segs[nseg - 1];
                nseg++;
            }
            if (tf_rng(&rng) % 10 == 0 && off > 0) {
                segs[nseg].off = (uint32_t)(off - 1 - tf_rng(&rng) % (off < 500 ? off : 500));
                segs[nseg].len = (uint32_t)(1 + tf_rng(&rng) % 700);
                if (segs[nseg].off + segs[nseg].len > TOTAL)
                    segs[nseg].len = TOTAL - segs[nseg].off;
                nseg++;
            }
        }
        /* Shuffle within a window of 6. */
        for (i = 0; i < nseg; i++) {
            j = i + (size_t)(tf_rng(&rng) % 6);
            if (j >= nseg)
                j = nseg - 1;
            tmp = segs[i];
            segs[i] = segs[j];
            segs[j] = tmp;
        }

        tf_setup(&fx, NULL);
        tf_feed_full(&fx, TF_CPORT, 1, isn - 1, 0, TCPF_SYN, NULL, 0, 0, 1, 1);
        tf_feed_full(&fx, TF_CPORT, 0, 42, isn, TCPF_SYN | TCPF_ACK, NULL, 0, 0, 2, 2);
        for (i = 0; i < nseg; i++)
            assert_int_equal(tf_feed_full(&fx, TF_CPORT, 1, isn + segs[i].off, 43, TCPF_ACK,
                                          data + segs[i].off, segs[i].len, segs[i].len, 3 + i,
                                          (int64_t)(3 + i)),
                             0);
        tf_feed_full(&fx, TF_CPORT, 1, isn + TOTAL, 43, TCPF_ACK | TCPF_FIN, NULL, 0, 0, nseg + 3,
                     (int64_t)nseg + 3);
        tf_feed_full(&fx, TF_CPORT, 0, 43, isn + TOTAL + 1, TCPF_ACK | TCPF_FIN, NULL, 0, 0,
                     nseg + 4, (int64_t)nseg + 4);
        assert_int_equal(fx.rec->slen[0][FLOW_FROM_CLIENT], TOTAL);
        assert_memory_equal(fx.rec->stream[0][FLOW_FROM_CLIENT], data, TOTAL);
        assert_int_equal(tf_count(fx.rec, 'g'), 0);
        assert_int_equal(fx.rec->closed[0], 1);
        assert_int_equal(tf_last(fx.rec, 'c')->how, FLOW_END_FIN);
        assert_int_equal(flow_table_stats(fx.t)->buffered_bytes, 0);
        tf_teardown(&fx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_in_order_and_fin),
        cmocka_unit_test(test_flow_out_of_order),
        cmocka_unit_test(test_flow_retransmission),
        cmocka_unit_test(test_flow_overlap_policies),
        cmocka_unit_test(test_flow_rst_with_data),
        cmocka_unit_test(test_flow_syn_ack_only),
        cmocka_unit_test(test_flow_sequence_wrap),
        cmocka_unit_test(test_flow_mid_session_swap),
        cmocka_unit_test(test_flow_lost_segment_gap_at_fin),
        cmocka_unit_test(test_flow_lost_last_segment_before_fin),
        cmocka_unit_test(test_flow_ack_rule_gap),
        cmocka_unit_test(test_flow_ack_rule_needs_ack),
        cmocka_unit_test(test_flow_data_acks_missing),
        cmocka_unit_test(test_flow_per_dir_limit),
        cmocka_unit_test(test_flow_total_limit),
        cmocka_unit_test(test_flow_idle_timeout),
        cmocka_unit_test(test_flow_eviction),
        cmocka_unit_test(test_flow_finish_order),
        cmocka_unit_test(test_flow_port_reuse),
        cmocka_unit_test(test_flow_close_linger),
        cmocka_unit_test(test_flow_snaplen_cut),
        cmocka_unit_test(test_flow_ignored_by_open),
        cmocka_unit_test(test_flow_huge_jump_resync),
        cmocka_unit_test(test_flow_names_and_defaults),
        cmocka_unit_test(test_flow_many_flows),
        cmocka_unit_test(test_flow_property_random_segments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
