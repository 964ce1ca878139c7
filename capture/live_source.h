/* live_source.h: capturing frames from a network interface through libpcap, with an optional packet dump. */
#ifndef SMTPTRACE_LIVE_SOURCE_H
#define SMTPTRACE_LIVE_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/pcap_source.h"

#define LIVE_DEFAULT_SNAPLEN 262144 /* tcpdump's default: whole frames, even with offloads */
#define LIVE_DEFAULT_TIMEOUT_MS 100 /* longest live_source_wait(); also the kernel's block timeout */

struct live_config {
    const char *device;  /* interface name, e.g. "lo" */
    const char *filter;  /* BPF expression, or NULL for every frame */
    int snaplen;         /* 0: LIVE_DEFAULT_SNAPLEN */
    int promisc;         /* 1 as tcpdump; 0 with -p */
    int timeout_ms;      /* 0: LIVE_DEFAULT_TIMEOUT_MS */
    unsigned buffer_mib; /* kernel capture buffer; 0 keeps libpcap's default */
    int immediate;       /* hand over each frame at once (on Linux: one ring slot per frame, snaplen-sized) */
};

enum live_next_status {
    LIVE_FRAME = 0, /* *frame is set */
    LIVE_EMPTY = 1, /* nothing queued now: the batch is over (show it), then live_source_wait() */
    LIVE_BREAK = 2, /* live_source_breakloop() was called (a signal) */
    LIVE_ERROR = -1 /* the interface failed (went away, ...): message in errbuf */
};

struct live_stats {
    uint64_t received;   /* ps_recv: packets that passed the filter */
    uint64_t dropped;    /* ps_drop: no room in the kernel buffer */
    uint64_t if_dropped; /* ps_ifdrop: dropped by the interface or its driver */
};

struct live_source;

/*
 * Creates, configures and activates a capture on config->device (immediate
 * mode), then compiles and sets the filter with the device's netmask.
 * Warnings from activation (e.g. promiscuous mode not supported) are written
 * one per line to warn (if not NULL). Returns NULL with a one-line message
 * naming the interface in errbuf when the device does not exist, access is
 * denied, or the filter is bad.
 */
struct live_source *live_source_open(const struct live_config *config, FILE *warn, char *errbuf,
                                     size_t errlen);

/* The next frame already captured, without waiting; frame->data is valid until the next call. */
enum live_next_status live_source_next(struct live_source *src, struct pcap_frame *frame, char *errbuf,
                                       size_t errlen);

/*
 * Waits at most the timeout for frames. Returns 1 when some may be there,
 * 0 on timeout or when a signal came (time for periodic work and the
 * caller's flags), -1 with errbuf on error.
 */
int live_source_wait(struct live_source *src, char *errbuf, size_t errlen);

/*
 * Async-signal-safe (pcap_breakloop): a live_source_next() busy with frames
 * returns LIVE_BREAK; a live_source_wait() is cut short by the signal itself,
 * so callers also keep their own flag.
 */
void live_source_breakloop(struct live_source *src);

/*
 * Also writes every captured frame, as captured, to the pcap file path.
 * Call after dropping privileges so the file belongs to the capture user.
 * Returns 0, or -1 with a message naming the file in errbuf.
 */
int live_source_dump_open(struct live_source *src, const char *path, char *errbuf, size_t errlen);

/* Pushes buffered dump bytes to the file. Returns 0 (also without a dump), or -1 with errbuf. */
int live_source_dump_flush(struct live_source *src, char *errbuf, size_t errlen);

/* libpcap's counters since activation. Returns 0, or -1 with errbuf. */
int live_source_stats(struct live_source *src, struct live_stats *stats, char *errbuf, size_t errlen);

int live_source_datalink(const struct live_source *src);
/* "EN10MB" */
const char *live_source_datalink_name(const struct live_source *src);
/* "Ethernet" (libpcap's description), or the name. */
const char *live_source_datalink_description(const struct live_source *src);
int live_source_snaplen(const struct live_source *src);

/*
 * Flushes and closes the dump file (if any) and the capture. Returns 0, or -1
 * with errbuf if the dump failed.
 */
int live_source_close(struct live_source *src, char *errbuf, size_t errlen);

/*
 * Prints the capture devices as `tcpdump -D` does: "1.lo [Up, Running, Loopback]".
 * Returns the number listed, or -1 with libpcap's message in errbuf.
 */
int live_source_list_devices(FILE *out, char *errbuf, size_t errlen);

#endif
