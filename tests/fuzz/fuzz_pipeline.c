/* fuzz_pipeline.c: libFuzzer target: a whole capture file in memory through libpcap, reassembly, SMTP and the store. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture/pcap_source.h"
#include "cli/pipeline.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opening a store parses the schema and prepares every statement: half the time of a run. One
 * in-memory store serves STORE_REUSE_RUNS runs (each its own capture row), then is replaced, so the
 * rows it holds stay bounded and a run still starts from a near-empty database. */
enum { STORE_REUSE_RUNS = 256 };
static struct store *shared_store;
static unsigned shared_store_runs;

static struct store *fuzz_store(void)
{
    char serr[256];

    /* A store whose writes failed stays failed (sticky error): replace it at once too. */
    if (shared_store && (++shared_store_runs >= STORE_REUSE_RUNS || store_error(shared_store))) {
        store_close(shared_store);
        shared_store = NULL;
    }
    if (!shared_store) {
        shared_store = store_open(":memory:", serr, sizeof serr);
        shared_store_runs = 0;
    }
    return shared_store;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char errbuf[PCAP_ERRBUF_SIZE], serr[256];
    struct pipeline_config config;
    struct pipeline *pl;
    struct store *st;
    struct pcap_pkthdr *hdr;
    const u_char *pkt;
    int64_t capture_id = 0, existing = 0;
    uint64_t frame = 0;
    FILE *f;
    pcap_t *p;

    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    p = pcap_fopen_offline(f, errbuf); /* takes ownership of f */
    if (!p) {
        fclose(f);
        return 0;
    }
    st = fuzz_store();
    pipeline_config_default(&config);
    config.flow_limits.max_flows = 64;
    config.flow_limits.max_buffered_total = 1 << 20;
    if (st && store_capture_begin(st, "fuzz", "file", "x", "", 0, &capture_id, &existing, serr, sizeof serr) != 0)
        st = NULL;
    pl = pipeline_new(&config, st ? store_session_sink() : NULL, st);
    if (pl) {
        while (pcap_next_ex(p, &hdr, &pkt) == 1 && frame < 100000)
            pipeline_frame(pl, pcap_datalink(p), pkt, hdr->caplen, ++frame,
                           pcap_source_timestamp_usec((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec, 0));
        pipeline_finish(pl);
        pipeline_free(pl);
    }
    if (st)
        store_capture_end(st, capture_id, 0, 0, frame, size, serr, sizeof serr);
    pcap_close(p);
    return 0;
}
