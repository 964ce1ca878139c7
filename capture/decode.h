/* decode.h: link-layer, IPv4/IPv6 and TCP decoding of one captured frame into a TCP segment view. */
#ifndef SMTPTRACE_DECODE_H
#define SMTPTRACE_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* An IP address of either family; unused bytes are zero so structs compare with memcmp. */
struct ip_address {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
};

/* TCP flag bits as on the wire (RFC 9293 3.1). */
enum {
    TCPF_FIN = 0x01, TCPF_SYN = 0x02, TCPF_RST = 0x04,
    TCPF_PSH = 0x08, TCPF_ACK = 0x10, TCPF_URG = 0x20
};

/*
 * One decoded TCP segment. payload points into the caller's frame buffer and
 * is valid only as long as that buffer. payload_len counts the captured
 * payload; wire_payload_len what the IP header says was sent (larger when the
 * snaplen cut the frame: the missing tail is a capture gap, not lost data).
 */
struct tcp_segment {
    struct ip_address src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const uint8_t *payload;
    size_t payload_len;
    size_t wire_payload_len;
    const uint8_t *ip_header; /* the IP header onward, as captured and bounded by the IP length */
    size_t ip_len;
};

/* Why a frame yielded no segment. Stable names in decode_status_name(). */
enum decode_status {
    DECODE_OK = 0,
    DECODE_NOT_TCP,          /* valid, but not TCP over IP (ARP, UDP, ICMP, ...) */
    DECODE_FRAGMENT,         /* IP fragment: counted, not reassembled */
    DECODE_UNSUPPORTED_LINK, /* link type we do not decode */
    DECODE_TRUNCATED,        /* the capture ended inside a header */
    DECODE_INVALID,          /* the bytes are wrong (bad version, ihl < 20, ...) */
    DECODE_STATUS_COUNT
};

/* Counters kept by the caller across frames; decode_packet() increments them. */
struct decode_stats {
    uint64_t frames;
    uint64_t by_status[DECODE_STATUS_COUNT];
    uint64_t ipv4, ipv6, vlan_tagged;
    uint64_t snaplen_cut; /* TCP segments whose payload was cut by the snaplen */
};

/* Link types decoded (DLT values as libpcap reports them). */
int decode_link_supported(int dlt);

/*
 * Decodes frame[0..caplen) of link type dlt into *seg. Returns DECODE_OK with
 * *seg filled, or another status with *seg unspecified; in the TRUNCATED and
 * INVALID cases a short reason ("ihl 16 < 20") is written to reason (always
 * NUL-terminated when reason_len > 0). Never reads outside the frame.
 * Handles Ethernet with any stack of 802.1Q/802.1ad tags, Linux SLL and SLL2,
 * BSD NULL/LOOP, raw IPv4/IPv6 (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6);
 * IPv4 options, IPv6 extension header chains, TCP options length checks.
 */
enum decode_status decode_packet(int dlt, const uint8_t *frame, size_t caplen,
                                 struct tcp_segment *seg, struct decode_stats *stats,
                                 char *reason, size_t reason_len);

const char *decode_status_name(enum decode_status status);

/* Formats addr as text (IPv6 compressed as inet_ntop does) into buf; returns buf. */
char *ip_address_format(const struct ip_address *addr, char *buf, size_t buf_len);

#endif
