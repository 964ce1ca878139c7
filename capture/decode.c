/* decode.c: link layer, IPv4/IPv6 and TCP header decoding of one captured frame into a tcp_segment. */
#include "capture/decode.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "capture/bytes.h"

/* Link types by number: libpcap maps LINKTYPE_* to DLT_* on read, but some files keep the raw values. */
enum {
    LINK_NULL = 0,
    LINK_EN10MB = 1,
    LINK_RAW_12 = 12, /* DLT_RAW on most systems */
    LINK_RAW_14 = 14, /* DLT_RAW on OpenBSD */
    LINK_RAW = 101,   /* LINKTYPE_RAW */
    LINK_LOOP = 108,
    LINK_SLL = 113,
    LINK_IPV4 = 228,
    LINK_IPV6 = 229,
    LINK_SLL2 = 276
};

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_8021Q = 0x8100,
    ETHERTYPE_8021AD = 0x88a8,
    ETHERTYPE_QINQ_OLD = 0x9100
};

enum { IPPROTO_NUM_TCP = 6 };

/* IPv6 next-header values that matter while walking the chain (RFC 8200 4, IANA registry). */
enum {
    NH_HOPOPT = 0, NH_TCP = 6, NH_ROUTING = 43, NH_FRAGMENT = 44, NH_ESP = 50, NH_AH = 51,
    NH_NONE = 59, NH_DSTOPTS = 60, NH_MOBILITY = 135, NH_HIP = 139, NH_SHIM6 = 140,
    NH_EXP1 = 253, NH_EXP2 = 254
};

/* Per-call state: where the answer and the reason go. */
struct decode_ctx {
    struct tcp_segment *seg;
    struct decode_stats *stats;
    char *reason;
    size_t reason_len;
    int vlan_counted;
};

__attribute__((format(printf, 3, 4))) static enum decode_status
fail(struct decode_ctx *c, enum decode_status status, const char *fmt, ...)
{
    va_list ap;

    if (c->reason && c->reason_len > 0) {
        va_start(ap, fmt);
        vsnprintf(c->reason, c->reason_len, fmt, ap);
        va_end(ap);
    }
    return status;
}

/*
 * n more header bytes are needed. wire_left is what the IP length says is
 * left: asking beyond it means the header values are impossible (INVALID);
 * asking beyond what was captured means the snaplen cut us short (TRUNCATED).
 */
static enum decode_status need(struct decode_ctx *c, const struct byte_window *w, size_t wire_left,
                               size_t n, const char *what)
{
    if (n > wire_left)
        return fail(c, DECODE_INVALID, "%s: %zu bytes exceed ip length (%zu left)", what, n,
                    wire_left);
    if (!bw_has(w, n))
        return fail(c, DECODE_TRUNCATED, "%s: %zu of %zu bytes captured", what, bw_left(w), n);
    return DECODE_OK;
}

static void set_addr(struct ip_address *a, int family, const struct byte_window *w, size_t off,
                     size_t len)
{
    memset(a, 0, sizeof(*a));
    a->family = (uint8_t)family;
    memcpy(a->bytes, w->p + off, len);
}

/* TCP header (RFC 9293 3.1): w covers the captured bytes within the IP length, wire_left the IP length. */
static enum decode_status decode_tcp(struct decode_ctx *c, struct byte_window *w, size_t wire_left)
{
    enum decode_status st;
    unsigned doff;
    size_t hlen;

    st = need(c, w, wire_left, 20, "tcp header");
    if (st != DECODE_OK)
        return st;
    doff = bw_u8_at(w, 12) >> 4;
    if (doff < 5)
        return fail(c, DECODE_INVALID, "tcp data offset %u < 5", doff);
    hlen = (size_t)doff * 4;
    st = need(c, w, wire_left, hlen, "tcp options");
    if (st != DECODE_OK)
        return st;

    c->seg->sport = bw_be16_at(w, 0);
    c->seg->dport = bw_be16_at(w, 2);
    c->seg->seq = bw_be32_at(w, 4);
    c->seg->ack = bw_be32_at(w, 8);
    c->seg->flags = bw_u8_at(w, 13);
    bw_skip(w, hlen);
    c->seg->payload = w->p;
    c->seg->payload_len = bw_left(w);
    c->seg->wire_payload_len = wire_left - hlen;
    if (c->seg->payload_len < c->seg->wire_payload_len)
        c->stats->snaplen_cut++;
    return DECODE_OK;
}

/* IPv4 (RFC 791 3.1): total length bounds the payload, so Ethernet padding never becomes TCP data. */
static enum decode_status decode_ipv4(struct decode_ctx *c, const struct byte_window *w)
{
    struct byte_window in;
    unsigned version, ihl, total, frag, proto;
    size_t hlen, avail;

    if (!bw_has(w, 20))
        return fail(c, DECODE_TRUNCATED, "ipv4 header: %zu of 20 bytes captured", bw_left(w));
    version = bw_u8_at(w, 0) >> 4;
    if (version != 4)
        return fail(c, DECODE_INVALID, "ip version %u, expected 4", version);
    c->stats->ipv4++;
    ihl = bw_u8_at(w, 0) & 0x0f;
    if (ihl < 5)
        return fail(c, DECODE_INVALID, "ihl %u < 5", ihl);
    hlen = (size_t)ihl * 4;
    total = bw_be16_at(w, 2);
    if (total < hlen)
        return fail(c, DECODE_INVALID, "ipv4 total length %u < header length %zu", total, hlen);
    if (!bw_has(w, hlen))
        return fail(c, DECODE_TRUNCATED, "ipv4 options: %zu of %zu bytes captured", bw_left(w),
                    hlen);
    /* MF set or a non-zero offset: a fragment; we do not reassemble IP. */
    frag = bw_be16_at(w, 6);
    if ((frag & 0x2000) || (frag & 0x1fff))
        return fail(c, DECODE_FRAGMENT, "ipv4 fragment offset %u mf %u", (frag & 0x1fff) * 8,
                    (frag >> 13) & 1);
    proto = bw_u8_at(w, 9);
    if (proto != IPPROTO_NUM_TCP)
        return fail(c, DECODE_NOT_TCP, "ip protocol %u", proto);

    set_addr(&c->seg->src, 4, w, 12, 4);
    set_addr(&c->seg->dst, 4, w, 16, 4);
    avail = bw_left(w) < total ? bw_left(w) : total;
    c->seg->ip_header = w->p;
    c->seg->ip_len = avail;
    in.p = w->p + hlen;
    in.end = w->p + avail;
    return decode_tcp(c, &in, total - hlen);
}

/* IPv6 (RFC 8200 3-4): payload length bounds the payload; the extension header chain is walked. */
static enum decode_status decode_ipv6(struct decode_ctx *c, const struct byte_window *w)
{
    struct byte_window in;
    enum decode_status st;
    unsigned version, nh, plen, fo;
    size_t wire_left, hlen, avail;

    if (!bw_has(w, 40))
        return fail(c, DECODE_TRUNCATED, "ipv6 header: %zu of 40 bytes captured", bw_left(w));
    version = bw_u8_at(w, 0) >> 4;
    if (version != 6)
        return fail(c, DECODE_INVALID, "ip version %u, expected 6", version);
    c->stats->ipv6++;
    plen = bw_be16_at(w, 4);
    nh = bw_u8_at(w, 6);
    if (plen == 0 && nh != NH_NONE)
        return fail(c, DECODE_INVALID, "ipv6 payload length 0 (jumbogram?)");
    set_addr(&c->seg->src, 6, w, 8, 16);
    set_addr(&c->seg->dst, 6, w, 24, 16);
    avail = bw_left(w) - 40;
    if (avail > plen)
        avail = plen;
    c->seg->ip_header = w->p;
    c->seg->ip_len = 40 + avail;
    in.p = w->p + 40;
    in.end = in.p + avail;
    wire_left = plen;

    /* Each pass consumes at least 8 bytes, so the loop ends with the window. */
    for (;;) {
        switch (nh) {
        case NH_TCP:
            return decode_tcp(c, &in, wire_left);
        case NH_HOPOPT:
        case NH_ROUTING:
        case NH_DSTOPTS:
        case NH_MOBILITY:
        case NH_HIP:
        case NH_SHIM6:
        case NH_EXP1:
        case NH_EXP2:
            /* RFC 8200 4.4-4.6 layout: next header, length in 8-octet units beyond the first 8. */
            st = need(c, &in, wire_left, 2, "ipv6 extension header");
            if (st != DECODE_OK)
                return st;
            hlen = ((size_t)bw_u8_at(&in, 1) + 1) * 8;
            st = need(c, &in, wire_left, hlen, "ipv6 extension header");
            if (st != DECODE_OK)
                return st;
            break;
        case NH_AH:
            /* RFC 4302 2.2: length in 4-octet units, minus 2. */
            st = need(c, &in, wire_left, 2, "ipv6 ah header");
            if (st != DECODE_OK)
                return st;
            hlen = ((size_t)bw_u8_at(&in, 1) + 2) * 4;
            st = need(c, &in, wire_left, hlen, "ipv6 ah header");
            if (st != DECODE_OK)
                return st;
            break;
        case NH_FRAGMENT:
            /* RFC 8200 4.5; an atomic fragment (offset 0, M 0, RFC 6946) is a whole packet. */
            hlen = 8;
            st = need(c, &in, wire_left, hlen, "ipv6 fragment header");
            if (st != DECODE_OK)
                return st;
            fo = bw_be16_at(&in, 2);
            if ((fo >> 3) != 0 || (fo & 1))
                return fail(c, DECODE_FRAGMENT, "ipv6 fragment offset %u m %u", (fo >> 3) * 8,
                            fo & 1);
            break;
        case NH_NONE:
            return fail(c, DECODE_NOT_TCP, "ipv6 no next header");
        default:
            return fail(c, DECODE_NOT_TCP, "ipv6 next header %u", nh);
        }
        nh = bw_u8_at(&in, 0);
        bw_skip(&in, hlen);
        wire_left -= hlen;
    }
}

/* Skips any stack of VLAN tags (802.1Q, 802.1ad, legacy 0x9100) and dispatches on the ethertype. */
static enum decode_status decode_ethertype(struct decode_ctx *c, struct byte_window *w,
                                           unsigned type)
{
    while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
        if (!c->vlan_counted) {
            c->stats->vlan_tagged++;
            c->vlan_counted = 1;
        }
        if (!bw_has(w, 4))
            return fail(c, DECODE_TRUNCATED, "vlan tag: %zu of 4 bytes captured", bw_left(w));
        type = bw_be16_at(w, 2);
        bw_skip(w, 4);
    }
    if (type == ETHERTYPE_IPV4)
        return decode_ipv4(c, w);
    if (type == ETHERTYPE_IPV6)
        return decode_ipv6(c, w);
    return fail(c, DECODE_NOT_TCP, "ethertype 0x%04x", type);
}

static int null_is_v4(uint32_t family)
{
    return family == 2;
}

/* AF_INET6 differs by OS: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
static int null_is_v6(uint32_t family)
{
    return family == 24 || family == 28 || family == 30;
}

static enum decode_status decode_link(struct decode_ctx *c, int dlt, struct byte_window *w)
{
    uint32_t fam_le, fam_be;
    unsigned version, type;

    switch (dlt) {
    case LINK_EN10MB:
        if (!bw_has(w, 14))
            return fail(c, DECODE_TRUNCATED, "ethernet header: %zu of 14 bytes captured",
                        bw_left(w));
        type = bw_be16_at(w, 12);
        bw_skip(w, 14);
        return decode_ethertype(c, w, type);
    case LINK_SLL:
        /* packet type, ARPHRD, address length, 8 address bytes, protocol. */
        if (!bw_has(w, 16))
            return fail(c, DECODE_TRUNCATED, "sll header: %zu of 16 bytes captured", bw_left(w));
        type = bw_be16_at(w, 14);
        bw_skip(w, 16);
        return decode_ethertype(c, w, type);
    case LINK_SLL2:
        /* protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes. */
        if (!bw_has(w, 20))
            return fail(c, DECODE_TRUNCATED, "sll2 header: %zu of 20 bytes captured", bw_left(w));
        type = bw_be16_at(w, 0);
        bw_skip(w, 20);
        return decode_ethertype(c, w, type);
    case LINK_NULL:
    case LINK_LOOP:
        if (!bw_has(w, 4))
            return fail(c, DECODE_TRUNCATED, "null header: %zu of 4 bytes captured", bw_left(w));
        fam_be = bw_be32_at(w, 0);
        /* NULL stores the family in the writer's byte order, LOOP in network order. */
        fam_le = dlt == LINK_NULL ? bw_le32_at(w, 0) : fam_be;
        bw_skip(w, 4);
        if (null_is_v4(fam_le) || null_is_v4(fam_be))
            return decode_ipv4(c, w);
        if (null_is_v6(fam_le) || null_is_v6(fam_be))
            return decode_ipv6(c, w);
        return fail(c, DECODE_NOT_TCP, "null family %u", (unsigned)fam_be);
    case LINK_RAW_12:
    case LINK_RAW_14:
    case LINK_RAW:
        if (!bw_has(w, 1))
            return fail(c, DECODE_TRUNCATED, "raw ip: empty frame");
        version = bw_u8_at(w, 0) >> 4;
        if (version == 4)
            return decode_ipv4(c, w);
        if (version == 6)
            return decode_ipv6(c, w);
        return fail(c, DECODE_INVALID, "raw ip version %u", version);
    case LINK_IPV4:
        return decode_ipv4(c, w);
    case LINK_IPV6:
        return decode_ipv6(c, w);
    default:
        return fail(c, DECODE_UNSUPPORTED_LINK, "link type %d", dlt);
    }
}

int decode_link_supported(int dlt)
{
    switch (dlt) {
    case LINK_NULL:
    case LINK_EN10MB:
    case LINK_RAW_12:
    case LINK_RAW_14:
    case LINK_RAW:
    case LINK_LOOP:
    case LINK_SLL:
    case LINK_IPV4:
    case LINK_IPV6:
    case LINK_SLL2:
        return 1;
    default:
        return 0;
    }
}

enum decode_status decode_packet(int dlt, const uint8_t *frame, size_t caplen,
                                 struct tcp_segment *seg, struct decode_stats *stats,
                                 char *reason, size_t reason_len)
{
    struct decode_stats scratch;
    struct decode_ctx c;
    struct byte_window w;
    enum decode_status st;

    if (!stats) {
        memset(&scratch, 0, sizeof(scratch));
        stats = &scratch;
    }
    if (reason && reason_len > 0)
        reason[0] = '\0';
    c.seg = seg;
    c.stats = stats;
    c.reason = reason;
    c.reason_len = reason_len;
    c.vlan_counted = 0;
    w.p = frame;
    w.end = frame ? frame + caplen : frame;

    st = decode_link(&c, dlt, &w);
    stats->frames++;
    stats->by_status[st]++;
    return st;
}

const char *decode_status_name(enum decode_status status)
{
    switch (status) {
    case DECODE_OK: return "ok";
    case DECODE_NOT_TCP: return "not_tcp";
    case DECODE_FRAGMENT: return "fragment";
    case DECODE_UNSUPPORTED_LINK: return "unsupported_link";
    case DECODE_TRUNCATED: return "truncated";
    case DECODE_INVALID: return "invalid";
    case DECODE_STATUS_COUNT: break;
    }
    return "unknown";
}

char *ip_address_format(const struct ip_address *addr, char *buf, size_t buf_len)
{
    socklen_t len;
    int af;

    if (!buf || buf_len == 0)
        return buf;
    af = addr->family == 4 ? AF_INET : addr->family == 6 ? AF_INET6 : -1;
    /* inet_ntop takes socklen_t; no address text needs more than INET6_ADDRSTRLEN. */
    len = buf_len > INET6_ADDRSTRLEN ? INET6_ADDRSTRLEN : (socklen_t)buf_len;
    if (af < 0 || !inet_ntop(af, addr->bytes, buf, len))
        snprintf(buf, buf_len, "?");
    return buf;
}
