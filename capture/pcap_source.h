/* pcap_source.h: reading frames from a capture file (pcap or pcapng, or stdin) through libpcap. */
#ifndef SMTPTRACE_PCAP_SOURCE_H
#define SMTPTRACE_PCAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct pcap_source;

/* One frame; data is valid until the next pcap_source_next() call. */
struct pcap_frame {
    const uint8_t *data;
    size_t caplen, wirelen;
    int64_t ts_usec;
};

enum pcap_next_status { PCAP_SOURCE_FRAME = 0, PCAP_SOURCE_EOF = 1, PCAP_SOURCE_ERROR = -1 };

/*
 * Opens path ("-" is standard input) and, when filter is not NULL, compiles
 * and applies it as a BPF filter. Returns NULL with a one-line message in
 * errbuf (naming the file) when the file cannot be read or the filter is bad.
 */
struct pcap_source *pcap_source_open(const char *path, const char *filter, char *errbuf, size_t errlen);

/* Next frame. On ERROR, errbuf gets libpcap's message (a truncated or corrupt file). */
enum pcap_next_status pcap_source_next(struct pcap_source *src, struct pcap_frame *frame, char *errbuf,
                                       size_t errlen);

/* Microseconds since the epoch from libpcap's (sec, usec-or-nsec), saturated instead of overflowing. */
int64_t pcap_source_timestamp_usec(int64_t sec, int64_t frac, int nano);

/* Bytes of the file consumed so far (for progress), or -1 when not known (a pipe). */
int64_t pcap_source_offset(const struct pcap_source *src);

int pcap_source_datalink(const struct pcap_source *src);
/* libpcap's name for the link type ("EN10MB"), or "DLT n". */
const char *pcap_source_datalink_name(const struct pcap_source *src);

void pcap_source_close(struct pcap_source *src);

/* libpcap's version string. */
const char *pcap_source_lib_version(void);

#endif
