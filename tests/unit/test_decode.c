/* test_decode.c: cmocka unit tests for capture/decode.c on hand-built frames of every supported link type. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "capture/decode.h"

#define TD_BUF 256

static void td_be16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void td_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* TCP header 2525 -> 25, seq 0x01020304, ack 0x0a0b0c0d, PSH|ACK, doff words (NOP options), then payload. */
static size_t td_tcp(uint8_t *b, unsigned doff, const char *payload, size_t plen)
{
    size_t hlen = (size_t)(doff < 5 ? 5 : doff) * 4;

    memset(b, 0, hlen);
    td_be16(b, 2525);
    td_be16(b + 2, 25);
    td_be32(b + 4, 0x01020304);
    td_be32(b + 8, 0x0a0b0c0d);
    b[12] = (uint8_t)(doff << 4);
    b[13] = TCPF_PSH | TCPF_ACK;
    td_be16(b + 14, 65535);
    memset(b + 20, 1, hlen - 20);
    memcpy(b + hlen, payload, plen);
    return hlen + plen;
}

/* IPv4 192.0.2.1 -> 192.0.2.2 with ihl words (NOP options), proto, frag field; TCP follows. */
static size_t td_ipv4(uint8_t *b, unsigned ihl, uint8_t proto, uint16_t frag, unsigned doff,
                      const char *payload, size_t plen)
{
    size_t hlen = (size_t)(ihl < 5 ? 5 : ihl) * 4, tlen;

    memset(b, 0, hlen);
    b[0] = (uint8_t)(0x40 | ihl);
    td_be16(b + 6, frag);
    b[8] = 64;
    b[9] = proto;
    b[12] = 192, b[13] = 0, b[14] = 2, b[15] = 1;
    b[16] = 192, b[17] = 0, b[18] = 2, b[19] = 2;
    memset(b + 20, 1, hlen - 20);
    tlen = td_tcp(b + hlen, doff, payload, plen);
    td_be16(b + 2, (uint16_t)(hlen + tlen));
    return hlen + tlen;
}

/* IPv6 2001:db8::1 -> 2001:db8::2 fixed header; the caller appends plen bytes starting with nh. */
static void td_ipv6(uint8_t *b, uint8_t nh, uint16_t plen)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    td_be16(b + 4, plen);
    b[6] = nh;
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1;
    b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 2;
}

static size_t td_eth(uint8_t *b, uint16_t type)
{
    memset(b, 0, 12);
    b[0] = 0x02, b[6] = 0x04;
    td_be16(b + 12, type);
    return 14;
}

static void td_expect_payload(const struct tcp_segment *seg, const char *text)
{
    assert_int_equal(seg->payload_len, strlen(text));
    assert_int_equal(seg->wire_payload_len, strlen(text));
    assert_memory_equal(seg->payload, text, strlen(text));
}

static void test_decode_ethernet_ipv4_padding(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    char reason[64], addr[64];
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(f, 0xee, sizeof(f));
    n = td_eth(f, 0x0800);
    n += td_ipv4(f + n, 5, 6, 0x4000, 5, "abc", 3);
    /* 57 bytes: padded to the Ethernet minimum of 60 with 0xee bytes that must not become payload. */
    assert_int_equal(n, 57);
    assert_int_equal(decode_packet(1, f, 60, &seg, &st, reason, sizeof(reason)), DECODE_OK);
    td_expect_payload(&seg, "abc");
    assert_int_equal(seg.sport, 2525);
    assert_int_equal(seg.dport, 25);
    assert_int_equal(seg.seq, 0x01020304);
    assert_int_equal(seg.ack, 0x0a0b0c0d);
    assert_int_equal(seg.flags, TCPF_PSH | TCPF_ACK);
    assert_string_equal(ip_address_format(&seg.src, addr, sizeof(addr)), "192.0.2.1");
    assert_string_equal(ip_address_format(&seg.dst, addr, sizeof(addr)), "192.0.2.2");
    assert_int_equal(seg.src.bytes[4], 0); /* unused bytes are zero */
    assert_string_equal(reason, "");
    assert_int_equal(st.frames, 1);
    assert_int_equal(st.by_status[DECODE_OK], 1);
    assert_int_equal(st.ipv4, 1);
    assert_int_equal(st.vlan_tagged, 0);
    assert_int_equal(st.snaplen_cut, 0);
}

static void test_decode_double_vlan(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = td_eth(f, 0x88a8);
    td_be16(f + n, 100);
    td_be16(f + n + 2, 0x8100);
    td_be16(f + n + 4, 200);
    td_be16(f + n + 6, 0x0800);
    n += 8;
    n += td_ipv4(f + n, 5, 6, 0, 5, "vlan", 4);
    assert_int_equal(decode_packet(1, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "vlan");
    assert_int_equal(st.vlan_tagged, 1);

    /* A tag stack cut short is truncated, not misread. */
    assert_int_equal(decode_packet(1, f, 20, &seg, &st, NULL, 0), DECODE_TRUNCATED);
    assert_int_equal(st.vlan_tagged, 2);
}

static void test_decode_sll_and_sll2(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    char addr[64];
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(f, 0, sizeof(f));
    td_be16(f + 2, 1);  /* ARPHRD_ETHER */
    td_be16(f + 4, 6);  /* address length */
    td_be16(f + 14, 0x0800);
    n = 16 + td_ipv4(f + 16, 5, 6, 0, 5, "sll", 3);
    assert_int_equal(decode_packet(113, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "sll");

    memset(f, 0, sizeof(f));
    td_be16(f, 0x86dd);
    td_be32(f + 4, 2); /* interface index */
    td_be16(f + 8, 1);
    td_ipv6(f + 20, 6, 20 + 4);
    n = 20 + 40 + td_tcp(f + 60, 5, "sll2", 4);
    assert_int_equal(decode_packet(276, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "sll2");
    assert_string_equal(ip_address_format(&seg.src, addr, sizeof(addr)), "2001:db8::1");
    assert_int_equal(st.ipv4, 1);
    assert_int_equal(st.ipv6, 1);
    assert_int_equal(st.by_status[DECODE_OK], 2);
}

static void test_decode_null_loop_byte_orders(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = 4 + td_ipv4(f + 4, 5, 6, 0, 5, "le", 2);
    f[0] = 2, f[1] = 0, f[2] = 0, f[3] = 0; /* AF_INET written little-endian */
    assert_int_equal(decode_packet(0, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "le");
    td_be32(f, 2); /* AF_INET written big-endian */
    assert_int_equal(decode_packet(0, f, n, &seg, &st, NULL, 0), DECODE_OK);
    assert_int_equal(decode_packet(108, f, n, &seg, &st, NULL, 0), DECODE_OK);

    /* AF_INET6 as macOS (30) and FreeBSD (28) write it, little-endian. */
    td_ipv6(f + 4, 6, 20 + 2);
    n = 4 + 40 + td_tcp(f + 44, 5, "v6", 2);
    f[0] = 30, f[1] = 0, f[2] = 0, f[3] = 0;
    assert_int_equal(decode_packet(0, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "v6");
    f[0] = 28;
    assert_int_equal(decode_packet(0, f, n, &seg, &st, NULL, 0), DECODE_OK);
    /* LOOP is network order only: a little-endian family is not understood. */
    assert_int_equal(decode_packet(108, f, n, &seg, &st, NULL, 0), DECODE_NOT_TCP);
    td_be32(f, 7);
    assert_int_equal(decode_packet(0, f, n, &seg, &st, NULL, 0), DECODE_NOT_TCP);
    assert_int_equal(decode_packet(0, f, 3, &seg, &st, NULL, 0), DECODE_TRUNCATED);
    assert_int_equal(st.frames, 8);
    assert_int_equal(st.by_status[DECODE_OK], 5);
    assert_int_equal(st.by_status[DECODE_NOT_TCP], 2);
}

static void test_decode_raw_ipv6_extension_chain(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    char addr[64];
    size_t n;
    int dlt;
    static const int raw_links[] = {12, 14, 101, 229};
    size_t i;

    (void)state;
    memset(&st, 0, sizeof(st));
    /* hop-by-hop (8 bytes) -> destination options (16 bytes) -> TCP. */
    td_ipv6(f, 0, 8 + 16 + 20 + 5);
    memset(f + 40, 0, 24);
    f[40] = 60, f[41] = 0, f[42] = 1, f[43] = 4; /* PadN */
    f[48] = 6, f[49] = 1, f[50] = 1, f[51] = 12;
    n = 40 + 24 + td_tcp(f + 64, 5, "chain", 5);
    for (i = 0; i < sizeof(raw_links) / sizeof(raw_links[0]); i++) {
        dlt = raw_links[i];
        assert_int_equal(decode_packet(dlt, f, n, &seg, &st, NULL, 0), DECODE_OK);
        td_expect_payload(&seg, "chain");
        assert_int_equal(seg.src.family, 6);
        assert_string_equal(ip_address_format(&seg.dst, addr, sizeof(addr)), "2001:db8::2");
    }
    /* LINKTYPE_IPV4 holds only IPv4: an IPv6 packet there is invalid. */
    assert_int_equal(decode_packet(228, f, n, &seg, &st, NULL, 0), DECODE_INVALID);

    /* A destination options length that runs past the payload length is invalid. */
    f[49] = 9;
    assert_int_equal(decode_packet(12, f, n, &seg, &st, NULL, 0), DECODE_INVALID);
    /* Cut in the middle of the destination options: truncated. */
    f[49] = 1;
    assert_int_equal(decode_packet(12, f, 52, &seg, &st, NULL, 0), DECODE_TRUNCATED);
    /* No next header: valid but not TCP. */
    f[48] = 59;
    assert_int_equal(decode_packet(12, f, n, &seg, &st, NULL, 0), DECODE_NOT_TCP);
    assert_int_equal(st.ipv6, 7);
}

static void test_decode_ipv6_fragments_and_jumbo(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    char reason[80];
    size_t n;

    (void)state;
    td_ipv6(f, 44, 8 + 20 + 3);
    memset(f + 40, 0, 8);
    f[40] = 6;
    n = 48 + td_tcp(f + 48, 5, "atm", 3);
    /* Atomic fragment (offset 0, M 0): a whole packet, RFC 6946. */
    assert_int_equal(decode_packet(101, f, n, &seg, NULL, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "atm");
    td_be16(f + 42, 1); /* M set */
    assert_int_equal(decode_packet(101, f, n, &seg, NULL, NULL, 0), DECODE_FRAGMENT);
    td_be16(f + 42, 8 << 3); /* offset 64, M clear */
    assert_int_equal(decode_packet(101, f, n, &seg, NULL, NULL, 0), DECODE_FRAGMENT);

    /* Payload length 0 is a jumbogram we do not support. */
    td_ipv6(f, 0, 0);
    assert_int_equal(decode_packet(101, f, n, &seg, NULL, reason, sizeof(reason)), DECODE_INVALID);
    assert_non_null(strstr(reason, "payload length 0"));
}

static void test_decode_ipv4_options(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = td_ipv4(f, 7, 6, 0, 8, "opts", 4); /* 8 bytes of IP options, 12 of TCP options */
    assert_int_equal(n, 28 + 32 + 4);
    assert_int_equal(decode_packet(228, f, n, &seg, &st, NULL, 0), DECODE_OK);
    td_expect_payload(&seg, "opts");
    assert_int_equal(seg.seq, 0x01020304);
    /* Options cut by the capture: truncated. */
    assert_int_equal(decode_packet(228, f, 24, &seg, &st, NULL, 0), DECODE_TRUNCATED);
}

static void test_decode_ipv4_errors(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    char reason[80];
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = td_ipv4(f, 5, 6, 0, 5, "x", 1);

    f[0] = 0x44; /* ihl 4 */
    assert_int_equal(decode_packet(12, f, n, &seg, &st, reason, sizeof(reason)), DECODE_INVALID);
    assert_string_equal(reason, "ihl 4 < 5");
    f[0] = 0x45;

    td_be16(f + 2, 19); /* total length shorter than the header */
    assert_int_equal(decode_packet(12, f, n, &seg, &st, reason, sizeof(reason)), DECODE_INVALID);
    td_be16(f + 2, (uint16_t)n);

    f[0] = 0x55; /* version 5 under an IPv4 link type */
    assert_int_equal(decode_packet(228, f, n, &seg, &st, reason, sizeof(reason)), DECODE_INVALID);
    assert_int_equal(decode_packet(12, f, n, &seg, &st, reason, sizeof(reason)), DECODE_INVALID);
    f[0] = 0x45;

    assert_int_equal(decode_packet(12, f, 19, &seg, &st, reason, sizeof(reason)), DECODE_TRUNCATED);
    assert_true(strlen(reason) > 0);

    assert_int_equal(st.frames, 5);
    assert_int_equal(st.by_status[DECODE_INVALID], 4);
    assert_int_equal(st.by_status[DECODE_TRUNCATED], 1);
}

static void test_decode_tcp_header_errors(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    char reason[80];
    size_t n;

    (void)state;
    n = td_ipv4(f, 5, 6, 0, 5, "hi", 2);
    /* The IP header promises 22 TCP bytes, the capture holds 10: truncated. */
    assert_int_equal(decode_packet(12, f, 30, &seg, NULL, reason, sizeof(reason)), DECODE_TRUNCATED);
    assert_non_null(strstr(reason, "tcp header"));

    f[32] = 4 << 4; /* data offset 4 */
    assert_int_equal(decode_packet(12, f, n, &seg, NULL, reason, sizeof(reason)), DECODE_INVALID);
    assert_string_equal(reason, "tcp data offset 4 < 5");

    f[32] = 15 << 4; /* 60 header bytes inside a 22-byte IP payload: impossible */
    assert_int_equal(decode_packet(12, f, n, &seg, NULL, reason, sizeof(reason)), DECODE_INVALID);
    assert_non_null(strstr(reason, "tcp options"));

    /* IP length too small for even a TCP header: invalid, not truncated. */
    n = td_ipv4(f, 5, 6, 0, 5, "", 0);
    td_be16(f + 2, 30);
    assert_int_equal(decode_packet(12, f, n, &seg, NULL, reason, sizeof(reason)), DECODE_INVALID);

    /* Options the IP length allows but the capture cut: truncated. */
    n = td_ipv4(f, 5, 6, 0, 10, "", 0);
    assert_int_equal(decode_packet(12, f, n - 4, &seg, NULL, reason, sizeof(reason)),
                     DECODE_TRUNCATED);
    assert_int_equal(decode_packet(12, f, n, &seg, NULL, reason, sizeof(reason)), DECODE_OK);
    assert_int_equal(seg.payload_len, 0);
}

static void test_decode_fragments_and_not_tcp(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = td_eth(f, 0x0800);
    n += td_ipv4(f + n, 5, 6, 0x2000, 5, "frag", 4); /* MF */
    assert_int_equal(decode_packet(1, f, n, &seg, &st, NULL, 0), DECODE_FRAGMENT);
    n = td_eth(f, 0x0800);
    n += td_ipv4(f + n, 5, 6, 185, 5, "frag", 4); /* offset 1480 */
    assert_int_equal(decode_packet(1, f, n, &seg, &st, NULL, 0), DECODE_FRAGMENT);
    n = td_eth(f, 0x0800);
    n += td_ipv4(f + n, 5, 17, 0x4000, 5, "udp!", 4); /* DF is fine, UDP is not TCP */
    assert_int_equal(decode_packet(1, f, n, &seg, &st, NULL, 0), DECODE_NOT_TCP);
    memset(f, 0, sizeof(f));
    td_eth(f, 0x0806); /* ARP */
    assert_int_equal(decode_packet(1, f, 42, &seg, &st, NULL, 0), DECODE_NOT_TCP);
    assert_int_equal(decode_packet(1, f, 13, &seg, &st, NULL, 0), DECODE_TRUNCATED);
    assert_int_equal(st.by_status[DECODE_FRAGMENT], 2);
    assert_int_equal(st.by_status[DECODE_NOT_TCP], 2);
    assert_int_equal(st.by_status[DECODE_TRUNCATED], 1);
    assert_int_equal(st.frames, 5);
}

static void test_decode_unknown_link(void **state)
{
    uint8_t f[64];
    struct tcp_segment seg;
    struct decode_stats st;
    char reason[32];

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(f, 0, sizeof(f));
    assert_int_equal(decode_packet(127, f, sizeof(f), &seg, &st, reason, sizeof(reason)),
                     DECODE_UNSUPPORTED_LINK);
    assert_int_equal(st.by_status[DECODE_UNSUPPORTED_LINK], 1);
    assert_false(decode_link_supported(127));
    assert_false(decode_link_supported(9));
    assert_true(decode_link_supported(1));
    assert_true(decode_link_supported(113));
    assert_true(decode_link_supported(276));
    assert_true(decode_link_supported(0));
    assert_true(decode_link_supported(108));
    assert_true(decode_link_supported(12));
    assert_true(decode_link_supported(14));
    assert_true(decode_link_supported(101));
    assert_true(decode_link_supported(228));
    assert_true(decode_link_supported(229));
}

static void test_decode_snaplen_cut(void **state)
{
    uint8_t f[TD_BUF];
    struct tcp_segment seg;
    struct decode_stats st;
    size_t n;

    (void)state;
    memset(&st, 0, sizeof(st));
    n = td_eth(f, 0x0800);
    n += td_ipv4(f + n, 5, 6, 0, 5, "0123456789", 10);
    assert_int_equal(decode_packet(1, f, n - 6, &seg, &st, NULL, 0), DECODE_OK);
    assert_int_equal(seg.payload_len, 4);
    assert_int_equal(seg.wire_payload_len, 10);
    assert_memory_equal(seg.payload, "0123", 4);
    assert_int_equal(st.snaplen_cut, 1);
    assert_int_equal(decode_packet(1, f, n, &seg, &st, NULL, 0), DECODE_OK);
    assert_int_equal(st.snaplen_cut, 1);
}

static void test_decode_names_and_format(void **state)
{
    struct ip_address a;
    char buf[64], tiny[4];

    (void)state;
    assert_string_equal(decode_status_name(DECODE_OK), "ok");
    assert_string_equal(decode_status_name(DECODE_NOT_TCP), "not_tcp");
    assert_string_equal(decode_status_name(DECODE_FRAGMENT), "fragment");
    assert_string_equal(decode_status_name(DECODE_UNSUPPORTED_LINK), "unsupported_link");
    assert_string_equal(decode_status_name(DECODE_TRUNCATED), "truncated");
    assert_string_equal(decode_status_name(DECODE_INVALID), "invalid");
    memset(&a, 0, sizeof(a));
    a.family = 6;
    a.bytes[15] = 1;
    assert_string_equal(ip_address_format(&a, buf, sizeof(buf)), "::1");
    a.family = 4;
    a.bytes[0] = 10, a.bytes[3] = 7;
    assert_string_equal(ip_address_format(&a, buf, sizeof(buf)), "10.0.0.7");
    /* Too small a buffer still yields a terminated string. */
    assert_true(strlen(ip_address_format(&a, tiny, sizeof(tiny))) < sizeof(tiny));
    a.family = 9;
    assert_string_equal(ip_address_format(&a, buf, sizeof(buf)), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_ethernet_ipv4_padding),
        cmocka_unit_test(test_decode_double_vlan),
        cmocka_unit_test(test_decode_sll_and_sll2),
        cmocka_unit_test(test_decode_null_loop_byte_orders),
        cmocka_unit_test(test_decode_raw_ipv6_extension_chain),
        cmocka_unit_test(test_decode_ipv6_fragments_and_jumbo),
        cmocka_unit_test(test_decode_ipv4_options),
        cmocka_unit_test(test_decode_ipv4_errors),
        cmocka_unit_test(test_decode_tcp_header_errors),
        cmocka_unit_test(test_decode_fragments_and_not_tcp),
        cmocka_unit_test(test_decode_unknown_link),
        cmocka_unit_test(test_decode_snaplen_cut),
        cmocka_unit_test(test_decode_names_and_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
