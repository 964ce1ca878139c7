/* flow.c: the TCP flow table (hash + LRU) and per-direction reassembly handing ordered bytes, gaps and closes upward. */
#include "capture/flow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>

/*
 * Reassembly policy (RFC 9293 3.4 sequence space, all comparisons modulo 2^32
 * through a signed difference so wrap-around works):
 *
 *  - Each direction keeps `next`, the first byte not yet delivered. It starts
 *    at SYN seq + 1 (or the SYN+ACK's ack for the client side when only the
 *    SYN+ACK was captured), else at the first segment seen carrying data or
 *    FIN (the capture started mid-session).
 *  - In-order bytes are handed up straight from the caller's payload; only
 *    out-of-order bytes are copied, into a sorted list of disjoint pieces,
 *    each remembering its own frame and timestamp.
 *  - Overlaps: first received wins (Suricata "first", BSD). Bytes already
 *    delivered or already buffered are never replaced; a new segment only
 *    contributes the bytes that fill holes. A segment made only of known bytes
 *    counts as retransmitted_bytes, the known part of a mixed one as
 *    overlap_bytes.
 *  - Gaps are declared (gap callback, then delivery resumes after the hole):
 *      a. when a direction is flushed (RST, idle, eviction, capture end, or the
 *         FIN close below), holes between buffered pieces and before the FIN;
 *      b. when a limit is exceeded: the first hole is given up, then whatever
 *         is contiguous after it is delivered, repeated until under the limit;
 *      c. when the receiver has ACKed the end of the first hole (so it got
 *         bytes the capture missed), there is something captured after the
 *         hole (buffered data, or the FIN), and ACK_RULE_SEGMENTS segments of
 *         the flow have passed since that later data was buffered; a merely
 *         reordered capture fills the hole well within that. Once both FINs
 *         are seen no wait applies: nothing more is coming;
 *      d. at once, when one side sends data whose ACK covers bytes of the other
 *         side that the capture never showed (a hole, or a missing tail): that
 *         side already answered what it received, so the bytes are lost, not
 *         late, and the gap must come before the answer for the dialogue to
 *         pair. Pure ACKs do not trigger this (captures reorder them).
 *    A snaplen-cut segment delivers its captured bytes then a gap for the rest.
 *  - A stream jumping more than SEQ_WINDOW (RFC 7323's largest window) either
 *    way is resynchronised: buffered data is flushed, a gap of the forward
 *    distance (always < 2^32) is reported and reassembly restarts there.
 *  - Limits count buffered payload plus PIECE_COST per piece, so a flood of
 *    one-byte segments cannot hold more memory than the limit says.
 *
 * Flow life: created on a SYN or a segment with payload. Closes as FIN once
 * both FINs are seen and everything before them was delivered (or given up
 * by rule c), as RST at once after flushing. FIN/RST-closed flows stay as
 * tombstones (no callbacks) so stray retransmissions and ACKs after the end do
 * not open ghost flows; a new SYN on the tuple replaces the tombstone (port
 * reuse). Tombstones expire like idle flows and are capped at max_flows.
 * Idle expiry and eviction walk an LRU list ordered by last packet, so both are
 * O(1) per packet; an idle flow is closed with the frame and time of its own
 * last packet.
 */

#define KEY_LEN 37                 /* family, address A, port A, address B, port B */
#define SEQ_WINDOW (1u << 30)      /* RFC 7323 2.3: windows never exceed 2^30 */
#define ACK_RULE_SEGMENTS 8        /* flow segments to wait before trusting an ACK over a hole */
#define INITIAL_SLOTS 1024
#define PIECE_COST sizeof(struct piece)

struct piece {
    struct piece *prev, *next;
    uint32_t seq;
    size_t len;
    uint64_t frame;
    int64_t ts_usec;
    uint64_t born;  /* flow segment count when buffered: a hole before it was seen then */
    int is_gap;     /* a snaplen-cut tail: len bytes known missing, nothing stored */
    uint8_t data[]; /* len bytes unless is_gap */
};

struct dir_state {
    int init, fin, ack_valid;
    uint32_t next;     /* first sequence number not yet handed up */
    uint32_t fin_seq;  /* sequence number of the FIN */
    uint64_t fin_born; /* flow segment count when the FIN was seen */
    uint32_t ack;      /* highest ack sent by this side, i.e. about the other direction */
    struct piece *head, *tail;
    size_t charged; /* bytes counted against the limits */
};

struct flow {
    uint8_t key[KEY_LEN];
    uint64_t hash;
    struct flow *lru_prev, *lru_next;
    struct ip_address client_ip;
    uint16_t client_port;
    int closed; /* tombstone: ended by FIN/RST, kept only to ignore stragglers */
    void *user;
    uint64_t first_frame, last_frame, segments;
    int64_t first_ts, last_ts;
    struct dir_state dir[2];
};

struct lru_list {
    struct flow *head, *tail;
    size_t count;
};

struct flow_table {
    struct flow_limits limits;
    struct flow_callbacks cbs;
    void *ctx;
    struct flow **slots; /* open addressing, linear probing, power-of-two size */
    size_t cap, used;
    struct lru_list open, tombs;
    size_t charged_total;
    struct flow *spare; /* preallocated so ignored flows never allocate per packet */
    struct flow_stats stats;
    uint64_t hash_seed;
};

/* ---- sequence arithmetic (RFC 9293 3.4) ---- */

static int64_t seq_sub(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;

    return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

static uint32_t piece_end(const struct piece *p)
{
    return p->seq + (uint32_t)p->len;
}

/* ---- keys and hashing ---- */

static size_t addr_len(const struct ip_address *a)
{
    return a->family == 6 ? 16 : 4;
}

static void endpoint_bytes(uint8_t out[18], const struct ip_address *a, uint16_t port)
{
    memset(out, 0, 18);
    memcpy(out, a->bytes, addr_len(a));
    out[16] = (uint8_t)(port >> 8);
    out[17] = (uint8_t)port;
}

/* Both directions give the same key: the smaller endpoint goes first. */
static void make_key(uint8_t key[KEY_LEN], const struct tcp_segment *seg)
{
    uint8_t a[18], b[18];

    endpoint_bytes(a, &seg->src, seg->sport);
    endpoint_bytes(b, &seg->dst, seg->dport);
    key[0] = seg->src.family;
    if (memcmp(a, b, sizeof(a)) <= 0) {
        memcpy(key + 1, a, sizeof(a));
        memcpy(key + 19, b, sizeof(b));
    } else {
        memcpy(key + 1, b, sizeof(b));
        memcpy(key + 19, a, sizeof(a));
    }
}

/*
 * Eight key bytes at a time with a multiply-xorshift mix: byte-wise FNV was a 37-step serial chain,
 * the largest single cost of the packet path. The per-table seed keeps a crafted capture from
 * aiming every conversation at one probe chain; nothing in the output depends on slot order.
 */
static uint64_t hash_key(uint64_t seed, const uint8_t key[KEY_LEN])
{
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ULL, w;
    size_t i;

    for (i = 0; i + 8 <= KEY_LEN; i += 8) {
        memcpy(&w, key + i, sizeof w);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, key + i, KEY_LEN - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint64_t table_seed(const void *table)
{
    uint64_t seed = 0;
    struct timespec ts;

    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)(uintptr_t)table ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec;
}

static int same_endpoint(const struct ip_address *a, uint16_t aport, const struct ip_address *b,
                         uint16_t bport)
{
    return aport == bport && a->family == b->family && memcmp(a->bytes, b->bytes, addr_len(a)) == 0;
}

/* ---- hash table ---- */

static size_t slot_find(const struct flow_table *t, const uint8_t *key, uint64_t hash)
{
    size_t mask = t->cap - 1, i = (size_t)hash & mask;

    while (t->slots[i] &&
           (t->slots[i]->hash != hash || memcmp(t->slots[i]->key, key, KEY_LEN) != 0))
        i = (i + 1) & mask;
    return i;
}

static int slots_grow(struct flow_table *t)
{
    struct flow **old = t->slots;
    size_t old_cap = t->cap, i, j, ncap = t->cap * 2;
    struct flow **ns = calloc(ncap, sizeof(*ns));

    if (!ns)
        return -1;
    for (i = 0; i < old_cap; i++) {
        if (!old[i])
            continue;
        j = (size_t)old[i]->hash & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = old[i];
    }
    t->slots = ns;
    t->cap = ncap;
    free(old);
    return 0;
}

/* Linear-probing delete by backward shift: no deleted markers, probes stay short. */
static void slot_remove(struct flow_table *t, const struct flow *f)
{
    size_t mask = t->cap - 1, i = slot_find(t, f->key, f->hash), j = i, k;

    if (t->slots[i] != f)
        return;
    t->slots[i] = NULL;
    t->used--;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slots[j])
            break;
        k = (size_t)t->slots[j]->hash & mask;
        /* Move slots[j] into the hole unless its home lies cyclically in (i, j]. */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j] = NULL;
        i = j;
    }
}

/* ---- LRU lists ---- */

static void lru_unlink(struct lru_list *l, struct flow *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        l->head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
    l->count--;
}

static void lru_append(struct lru_list *l, struct flow *f)
{
    f->lru_next = NULL;
    f->lru_prev = l->tail;
    if (l->tail)
        l->tail->lru_next = f;
    else
        l->head = f;
    l->tail = f;
    l->count++;
}

/* ---- upward calls ---- */

static void emit_data(struct flow_table *t, struct flow *f, int di, const uint8_t *bytes, size_t len,
                      uint64_t frame, int64_t ts)
{
    if (len > 0 && t->cbs.data)
        t->cbs.data(t->ctx, f->user, (enum flow_dir)di, bytes, len, frame, ts);
}

static void emit_gap(struct flow_table *t, struct flow *f, int di, uint64_t len, uint64_t frame,
                     int64_t ts)
{
    if (len == 0)
        return;
    t->stats.gaps++;
    t->stats.gap_bytes += len;
    if (t->cbs.gap)
        t->cbs.gap(t->ctx, f->user, (enum flow_dir)di, len, frame, ts);
}

/* ---- out-of-order buffer ---- */

static size_t piece_cost(const struct piece *p)
{
    return PIECE_COST + (p->is_gap ? 0 : p->len);
}

static void piece_release(struct flow_table *t, struct dir_state *d, struct piece *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        d->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        d->tail = p->prev;
    d->charged -= piece_cost(p);
    t->charged_total -= piece_cost(p);
    if (!p->is_gap)
        t->stats.buffered_bytes -= p->len;
    free(p);
}

/* Copies len bytes (or records a gap when bytes is NULL) as a piece before `before` (NULL: at the tail). */
static int piece_insert(struct flow_table *t, struct flow *f, struct dir_state *d,
                        struct piece *before, uint32_t seq, const uint8_t *bytes, size_t len,
                        uint64_t frame, int64_t ts)
{
    struct piece *p = malloc(sizeof(*p) + (bytes ? len : 0));

    if (!p)
        return -1;
    p->seq = seq;
    p->len = len;
    p->frame = frame;
    p->ts_usec = ts;
    p->born = f->segments;
    p->is_gap = bytes == NULL;
    if (bytes)
        memcpy(p->data, bytes, len);
    p->next = before;
    p->prev = before ? before->prev : d->tail;
    if (p->prev)
        p->prev->next = p;
    else
        d->head = p;
    if (before)
        before->prev = p;
    else
        d->tail = p;
    d->charged += piece_cost(p);
    t->charged_total += piece_cost(p);
    if (bytes) {
        t->stats.buffered_bytes += len;
        if (t->stats.buffered_bytes > t->stats.buffered_bytes_peak)
            t->stats.buffered_bytes_peak = t->stats.buffered_bytes;
    }
    return 0;
}

/* Hands up every buffered piece that has become contiguous with next. */
static void drain(struct flow_table *t, struct flow *f, int di)
{
    struct dir_state *d = &f->dir[di];
    struct piece *p;
    int64_t skip;

    while ((p = d->head) && seq_sub(p->seq, d->next) <= 0) {
        skip = seq_sub(d->next, p->seq);
        if ((uint64_t)skip < p->len) {
            if (p->is_gap)
                emit_gap(t, f, di, p->len - (size_t)skip, p->frame, p->ts_usec);
            else
                emit_data(t, f, di, p->data + skip, p->len - (size_t)skip, p->frame, p->ts_usec);
            d->next = piece_end(p);
        }
        piece_release(t, d, p);
    }
}

/* The first piece that ends after cur; the tail check keeps appends O(1). */
static struct piece *first_piece_after(struct dir_state *d, uint32_t cur)
{
    struct piece *p;

    if (!d->tail || seq_sub(cur, piece_end(d->tail)) >= 0)
        return NULL;
    for (p = d->head; p && seq_sub(piece_end(p), cur) <= 0; p = p->next)
        ;
    return p;
}

/*
 * Merges [s, s + len) into the direction, first-received-wins: bytes before
 * next or inside a piece are only counted in *covered; bytes at next are
 * handed up from the caller's buffer; the others are copied into new pieces.
 * bytes NULL means a known-missing range (snaplen cut). Returns -1 if a copy
 * could not be allocated (those bytes become a hole).
 */
static int merge(struct flow_table *t, struct flow *f, int di, uint32_t s, const uint8_t *bytes,
                 size_t len, uint64_t frame, int64_t ts, size_t *covered, int *buffered)
{
    struct dir_state *d = &f->dir[di];
    struct piece *p = first_piece_after(d, s);
    size_t off = 0, n, rest;
    uint32_t cur;
    int64_t behind;

    while (off < len) {
        cur = s + (uint32_t)off;
        rest = len - off;
        behind = seq_sub(d->next, cur);
        if (behind > 0) {
            n = (uint64_t)behind < rest ? (size_t)behind : rest;
            *covered += n;
            off += n;
            continue;
        }
        while (p && seq_sub(piece_end(p), cur) <= 0)
            p = p->next;
        if (p && seq_sub(p->seq, cur) <= 0) {
            n = (size_t)seq_sub(piece_end(p), cur);
            n = n < rest ? n : rest;
            *covered += n;
            off += n;
            continue;
        }
        n = rest;
        if (p && (uint64_t)seq_sub(p->seq, cur) < n)
            n = (size_t)seq_sub(p->seq, cur);
        if (behind == 0) {
            if (bytes)
                emit_data(t, f, di, bytes + off, n, frame, ts);
            else
                emit_gap(t, f, di, n, frame, ts);
            d->next = cur + (uint32_t)n;
            off += n;
            drain(t, f, di);
            p = first_piece_after(d, s + (uint32_t)off);
            continue;
        }
        if (piece_insert(t, f, d, p, cur, bytes ? bytes + off : NULL, n, frame, ts) < 0)
            return -1;
        *buffered = 1;
        off += n;
    }
    return 0;
}

/* End of the first hole: the first piece, else a FIN not yet reached. Returns 0 when no hole. */
static int first_hole_end(const struct dir_state *d, uint32_t *end, uint64_t *born)
{
    if (d->head) {
        *end = d->head->seq;
        *born = d->head->born;
        return 1;
    }
    if (d->fin && seq_sub(d->fin_seq, d->next) > 0 && seq_sub(d->fin_seq, d->next) <= SEQ_WINDOW) {
        *end = d->fin_seq;
        *born = d->fin_born;
        return 1;
    }
    return 0;
}

/* Declares the first hole missing and delivers what is contiguous after it. */
static int give_up_first_hole(struct flow_table *t, struct flow *f, int di, uint64_t frame,
                              int64_t ts)
{
    struct dir_state *d = &f->dir[di];
    uint32_t end;
    uint64_t born;

    if (!first_hole_end(d, &end, &born))
        return 0;
    emit_gap(t, f, di, (uint32_t)(end - d->next), frame, ts);
    d->next = end;
    drain(t, f, di);
    return 1;
}

static void flush_dir(struct flow_table *t, struct flow *f, int di, uint64_t frame, int64_t ts)
{
    while (give_up_first_hole(t, f, di, frame, ts))
        ;
}

/* Gap rule c: the receiver ACKed the end of the hole, so the capture missed those bytes. */
static void ack_rule(struct flow_table *t, struct flow *f, int di, uint64_t frame, int64_t ts)
{
    struct dir_state *d = &f->dir[di], *peer = &f->dir[1 - di];
    int both_fin = d->fin && peer->fin;
    uint32_t end;
    uint64_t born;

    while (peer->ack_valid && first_hole_end(d, &end, &born)) {
        if (seq_sub(peer->ack, end) < 0)
            break;
        if (!both_fin && f->segments - born < ACK_RULE_SEGMENTS)
            break;
        give_up_first_hole(t, f, di, frame, ts);
    }
}

/* Gap rule d: data from side di acknowledging peer bytes that were never captured. */
static void data_acks_missing(struct flow_table *t, struct flow *f, int di, uint32_t ack, uint64_t frame,
                              int64_t ts)
{
    struct dir_state *peer = &f->dir[1 - di];
    uint32_t end, limit = ack;
    uint64_t born;
    int64_t missing;

    if (!peer->init)
        return;
    /* The peer's FIN takes one sequence number that carries no byte (RFC 9293 3.4). */
    if (peer->fin && seq_sub(ack, peer->fin_seq) > 0)
        limit = peer->fin_seq;
    while (first_hole_end(peer, &end, &born) && seq_sub(limit, end) >= 0)
        give_up_first_hole(t, f, 1 - di, frame, ts);
    missing = seq_sub(limit, peer->next);
    if (!peer->head && missing > 0 && missing <= (int64_t)SEQ_WINDOW) {
        emit_gap(t, f, 1 - di, (uint32_t)missing, frame, ts);
        peer->next = limit;
    }
}

static void enforce_limits(struct flow_table *t, struct flow *f, int di, uint64_t frame, int64_t ts)
{
    struct dir_state *d = &f->dir[di];

    while (d->head && d->charged > t->limits.max_buffered_per_dir) {
        t->stats.limit_per_dir_hits++;
        give_up_first_hole(t, f, di, frame, ts);
    }
    /* Only this direction grew, so emptying it always gets the total back under. */
    while (d->head && t->charged_total > t->limits.max_buffered_total) {
        t->stats.limit_total_hits++;
        give_up_first_hole(t, f, di, frame, ts);
    }
}

/* Payload of one segment: captured bytes, then the snaplen-cut remainder as a known gap. */
static int add_payload(struct flow_table *t, struct flow *f, int di, uint32_t seq,
                       const uint8_t *bytes, size_t cap_len, size_t wire_len, uint64_t frame,
                       int64_t ts)
{
    struct dir_state *d = &f->dir[di];
    uint32_t dist = seq - d->next;
    size_t covered = 0, ignored = 0;
    int buffered = 0, rc = 0;

    if (dist > SEQ_WINDOW && dist < 0u - SEQ_WINDOW) {
        flush_dir(t, f, di, frame, ts);
        emit_gap(t, f, di, (uint32_t)(seq - d->next), frame, ts);
        d->next = seq;
    }
    if (cap_len > 0) {
        rc = merge(t, f, di, seq, bytes, cap_len, frame, ts, &covered, &buffered);
        if (covered == cap_len)
            t->stats.retransmitted_bytes += cap_len;
        else
            t->stats.overlap_bytes += covered;
    }
    if (rc == 0 && wire_len > cap_len)
        rc = merge(t, f, di, seq + (uint32_t)cap_len, NULL, wire_len - cap_len, frame, ts, &ignored,
                   &buffered);
    if (buffered)
        t->stats.out_of_order_segments++;
    return rc;
}

/* ---- flow life ---- */

static void flow_release(struct flow_table *t, struct flow *f)
{
    int di;

    for (di = 0; di < 2; di++)
        while (f->dir[di].head)
            piece_release(t, &f->dir[di], f->dir[di].head);
    free(f);
}

static void tomb_drop(struct flow_table *t, struct flow *f)
{
    lru_unlink(&t->tombs, f);
    slot_remove(t, f);
    flow_release(t, f);
}

/* Flushes both directions with gaps, calls close once, then frees or tombstones the flow. */
static void close_flow(struct flow_table *t, struct flow *f, enum flow_end how, uint64_t frame,
                       int64_t ts)
{
    flush_dir(t, f, FLOW_FROM_CLIENT, frame, ts);
    flush_dir(t, f, FLOW_FROM_SERVER, frame, ts);
    if (t->cbs.close)
        t->cbs.close(t->ctx, f->user, how, frame, ts);
    t->stats.closed[how]++;
    lru_unlink(&t->open, f);
    t->stats.open_flows--;
    if (how == FLOW_END_FIN || how == FLOW_END_RST) {
        f->closed = 1;
        f->user = NULL;
        f->last_ts = ts;
        lru_append(&t->tombs, f);
        if (t->tombs.count > t->limits.max_flows)
            tomb_drop(t, t->tombs.head);
        return;
    }
    slot_remove(t, f);
    flow_release(t, f);
}

static int idle_expired(const struct flow_table *t, int64_t last, int64_t now)
{
    return t->limits.idle_timeout_usec > 0 && now > last &&
           (uint64_t)now - (uint64_t)last > (uint64_t)t->limits.idle_timeout_usec;
}

/* Tombstones only absorb stragglers of a close (late ACKs, retransmitted FINs); keeping them for the
 * whole idle timeout made memory grow with every conversation of the last five minutes. */
static int tomb_expired(const struct flow_table *t, int64_t closed_at, int64_t now)
{
    return t->limits.close_linger_usec >= 0 && now > closed_at &&
           (uint64_t)now - (uint64_t)closed_at > (uint64_t)t->limits.close_linger_usec;
}

static void expire_idle(struct flow_table *t, int64_t now)
{
    struct flow *f;

    while ((f = t->open.head) && idle_expired(t, f->last_ts, now))
        close_flow(t, f, FLOW_END_IDLE, f->last_frame, f->last_ts);
    while ((f = t->tombs.head) && tomb_expired(t, f->last_ts, now))
        tomb_drop(t, f);
}

/* Asks open() about a new flow; *out stays NULL when the flow is not to be tracked. */
static int flow_create(struct flow_table *t, const struct tcp_segment *seg, const uint8_t *key,
                       uint64_t hash, uint64_t frame, int64_t ts, struct flow **out)
{
    struct flow_info info;
    struct ip_address tmp_ip;
    uint16_t tmp_port;
    struct flow *f;
    void *user = NULL;
    int swap = 0, tracked = 1, sender_is_server;

    *out = NULL;
    if ((t->used + 2) * 2 > t->cap && slots_grow(t) < 0)
        return -1;
    if (!t->spare && !(t->spare = malloc(sizeof(*t->spare))))
        return -1;

    memset(&info, 0, sizeof(info));
    /* SYN alone: the sender is the client; SYN+ACK: the sender is the server. */
    sender_is_server = (seg->flags & TCPF_SYN) && (seg->flags & TCPF_ACK);
    info.syn_seen = (seg->flags & TCPF_SYN) != 0;
    info.client_ip = sender_is_server ? seg->dst : seg->src;
    info.server_ip = sender_is_server ? seg->src : seg->dst;
    info.client_port = sender_is_server ? seg->dport : seg->sport;
    info.server_port = sender_is_server ? seg->sport : seg->dport;
    info.first_frame = frame;
    info.first_ts_usec = ts;
    info.payload = seg->payload_len ? seg->payload : NULL;
    info.payload_len = seg->payload_len;
    info.payload_from_client = !sender_is_server;
    if (t->cbs.open) {
        user = t->cbs.open(t->ctx, &info, &swap);
        tracked = user != NULL;
    }
    if (!tracked) {
        t->stats.flows_ignored++;
        return 0;
    }
    if (!info.syn_seen && swap) {
        tmp_ip = info.client_ip;
        info.client_ip = info.server_ip;
        info.server_ip = tmp_ip;
        tmp_port = info.client_port;
        info.client_port = info.server_port;
        info.server_port = tmp_port;
    }
    if (t->open.head && t->open.count >= t->limits.max_flows) {
        t->stats.limit_flows_hits++;
        close_flow(t, t->open.head, FLOW_END_EVICTED, frame, ts);
    }

    f = t->spare;
    t->spare = NULL;
    memset(f, 0, sizeof(*f));
    memcpy(f->key, key, KEY_LEN);
    f->hash = hash;
    f->client_ip = info.client_ip;
    f->client_port = info.client_port;
    f->user = user;
    f->first_frame = frame;
    f->first_ts = ts;
    f->last_ts = ts;
    t->slots[slot_find(t, key, hash)] = f;
    t->used++;
    lru_append(&t->open, f);
    t->stats.flows_opened++;
    t->stats.open_flows++;
    if (t->stats.open_flows > t->stats.open_flows_peak)
        t->stats.open_flows_peak = t->stats.open_flows;
    *out = f;
    return 0;
}

void flow_limits_default(struct flow_limits *limits)
{
    limits->max_flows = 262144;
    limits->max_buffered_per_dir = (size_t)1 << 20;
    limits->max_buffered_total = (size_t)64 << 20;
    limits->idle_timeout_usec = 300LL * 1000000;
    limits->close_linger_usec = 5LL * 1000000;
}

struct flow_table *flow_table_new(const struct flow_limits *limits, const struct flow_callbacks *cbs,
                                  void *ctx)
{
    struct flow_table *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->slots = calloc(INITIAL_SLOTS, sizeof(*t->slots));
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->cap = INITIAL_SLOTS;
    t->hash_seed = table_seed(t);
    if (limits)
        t->limits = *limits;
    else
        flow_limits_default(&t->limits);
    if (cbs)
        t->cbs = *cbs;
    t->ctx = ctx;
    return t;
}

void flow_table_expire(struct flow_table *t, int64_t ts)
{
    expire_idle(t, ts);
}

int flow_table_segment(struct flow_table *t, const struct tcp_segment *seg, uint64_t frame,
                       int64_t ts)
{
    uint8_t key[KEY_LEN];
    uint64_t hash;
    struct flow *f;
    struct dir_state *d, *peer;
    int di, rc = 0, syn = (seg->flags & TCPF_SYN) != 0;
    size_t wire = seg->wire_payload_len > seg->payload_len ? seg->wire_payload_len : seg->payload_len;
    uint32_t data_seq;

    t->stats.segments++;
    expire_idle(t, ts);

    make_key(key, seg);
    hash = hash_key(t->hash_seed, key);
    f = t->slots[slot_find(t, key, hash)];
    if (f && f->closed) {
        if (!syn)
            return 0; /* a straggler after FIN/RST */
        tomb_drop(t, f);
        f = NULL;
    }
    if (!f) {
        if (!syn && wire == 0)
            return 0; /* bare ACK/FIN/RST of an unknown flow */
        if (flow_create(t, seg, key, hash, frame, ts, &f) < 0)
            return -1;
        if (!f)
            return 0;
    }

    di = same_endpoint(&seg->src, seg->sport, &f->client_ip, f->client_port) ? FLOW_FROM_CLIENT
                                                                              : FLOW_FROM_SERVER;
    d = &f->dir[di];
    peer = &f->dir[1 - di];
    f->segments++;
    f->last_frame = frame;
    if (ts > f->last_ts)
        f->last_ts = ts;
    lru_unlink(&t->open, f);
    lru_append(&t->open, f);
    if (t->cbs.segment)
        t->cbs.segment(t->ctx, f->user, (enum flow_dir)di, seg, frame, ts);

    if (syn && !d->init) {
        d->init = 1;
        d->next = seg->seq + 1;
    }
    /* The SYN+ACK acknowledges the client's ISN + 1 even when the SYN itself was not captured. */
    if (syn && (seg->flags & TCPF_ACK) && !peer->init) {
        peer->init = 1;
        peer->next = seg->ack;
    }
    if (seg->flags & TCPF_ACK) {
        int64_t adv = d->ack_valid ? seq_sub(seg->ack, d->ack) : 1;
        if (adv > 0 || adv < -(int64_t)SEQ_WINDOW) {
            d->ack = seg->ack;
            d->ack_valid = 1;
        }
    }
    data_seq = seg->seq + (syn ? 1u : 0u); /* SYN occupies one sequence number (RFC 9293 3.4) */
    if (!d->init && (wire > 0 || (seg->flags & TCPF_FIN))) {
        d->init = 1;
        d->next = data_seq;
    }
    if (wire > 0 && (seg->flags & TCPF_ACK))
        data_acks_missing(t, f, di, seg->ack, frame, ts);
    if (wire > 0)
        rc = add_payload(t, f, di, data_seq, seg->payload, seg->payload_len, wire, frame, ts);
    if ((seg->flags & TCPF_FIN) && !d->fin) {
        d->fin = 1;
        d->fin_seq = data_seq + (uint32_t)wire;
        d->fin_born = f->segments;
    }
    if (seg->flags & TCPF_RST) {
        close_flow(t, f, FLOW_END_RST, frame, ts);
        return rc;
    }
    enforce_limits(t, f, di, frame, ts);
    ack_rule(t, f, di, frame, ts);
    ack_rule(t, f, 1 - di, frame, ts);
    /* Both FINs reached: anything still buffered lies beyond a FIN and is flushed by close. */
    if (d->fin && peer->fin && seq_sub(d->next, d->fin_seq) >= 0 &&
        seq_sub(peer->next, peer->fin_seq) >= 0)
        close_flow(t, f, FLOW_END_FIN, frame, ts);
    return rc;
}

static int by_first_frame(const void *a, const void *b)
{
    const struct flow *fa = *(const struct flow *const *)a, *fb = *(const struct flow *const *)b;

    if (fa->first_frame != fb->first_frame)
        return fa->first_frame < fb->first_frame ? -1 : 1;
    return fa->first_ts < fb->first_ts ? -1 : fa->first_ts > fb->first_ts;
}

void flow_table_finish(struct flow_table *t, uint64_t frame, int64_t ts)
{
    struct flow **list, *f;
    size_t n = 0, i;

    list = t->open.count ? malloc(t->open.count * sizeof(*list)) : NULL;
    if (!list) {
        /* Out of memory (or nothing open): LRU order is still deterministic. */
        while (t->open.head)
            close_flow(t, t->open.head, FLOW_END_CAPTURE_END, frame, ts);
        return;
    }
    for (f = t->open.head; f; f = f->lru_next)
        list[n++] = f;
    qsort(list, n, sizeof(*list), by_first_frame);
    for (i = 0; i < n; i++)
        close_flow(t, list[i], FLOW_END_CAPTURE_END, frame, ts);
    free(list);
}

const struct flow_stats *flow_table_stats(const struct flow_table *t)
{
    return &t->stats;
}

void flow_table_free(struct flow_table *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->cap; i++)
        if (t->slots[i])
            flow_release(t, t->slots[i]);
    free(t->slots);
    free(t->spare);
    free(t);
}

const char *flow_end_name(enum flow_end how)
{
    switch (how) {
    case FLOW_END_FIN: return "fin";
    case FLOW_END_RST: return "rst";
    case FLOW_END_IDLE: return "idle_timeout";
    case FLOW_END_EVICTED: return "evicted";
    case FLOW_END_CAPTURE_END: return "capture_end";
    case FLOW_END_COUNT: break;
    }
    return "unknown";
}
