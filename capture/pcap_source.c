/* pcap_source.c: libpcap offline reading with a BPF filter, nanosecond-safe timestamps and clear errors. */
#include "capture/pcap_source.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_SOURCE_IO_BUFFER (1 << 20)

struct pcap_source {
    pcap_t *handle;
    char *io_buffer; /* stdio buffer of the capture file; freed after pcap_close() closed the file */
    int precision_nano;
    char dlt_name[32];
};

struct pcap_source *pcap_source_open(const char *path, const char *filter, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct pcap_source *src = calloc(1, sizeof *src);
    struct bpf_program program;
    const char *name;
    FILE *f;

    if (!src) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    /*
     * We open the file ourselves to give it a 1 MiB stdio buffer: libpcap reads record by record
     * through stdio, and the default buffer (st_blksize, 4 KiB) costs a read() per 4 KiB.
     * Nanosecond precision when the file has it; we keep microseconds, rounding down.
     */
    if (strcmp(path, "-") == 0) {
        f = stdin;
    } else if (!(f = fopen(path, "rb"))) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        free(src);
        return NULL;
    }
    /* glibc ignores the size unless it is given the buffer (setvbuf(3)); it lives until close. */
    src->io_buffer = malloc(PCAP_SOURCE_IO_BUFFER);
    if (src->io_buffer)
        setvbuf(f, src->io_buffer, _IOFBF, PCAP_SOURCE_IO_BUFFER);
    src->handle = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
    if (!src->handle) {
        snprintf(errbuf, errlen, "%s: %s", path, pcap_err[0] ? pcap_err : "cannot read capture");
        if (f != stdin)
            fclose(f);
        free(src->io_buffer);
        free(src);
        return NULL;
    }
    src->precision_nano = pcap_get_tstamp_precision(src->handle) == PCAP_TSTAMP_PRECISION_NANO;
    name = pcap_datalink_val_to_name(pcap_datalink(src->handle));
    if (name)
        snprintf(src->dlt_name, sizeof src->dlt_name, "%s", name);
    else
        snprintf(src->dlt_name, sizeof src->dlt_name, "DLT %d", pcap_datalink(src->handle));
    if (filter) {
        if (pcap_compile(src->handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(errbuf, errlen, "%s: bad filter '%s': %s", path, filter, pcap_geterr(src->handle));
            pcap_close(src->handle);
            free(src->io_buffer);
            free(src);
            return NULL;
        }
        if (pcap_setfilter(src->handle, &program) != 0) {
            snprintf(errbuf, errlen, "%s: cannot apply filter: %s", path, pcap_geterr(src->handle));
            pcap_freecode(&program);
            pcap_close(src->handle);
            free(src->io_buffer);
            free(src);
            return NULL;
        }
        pcap_freecode(&program);
    }
    return src;
}

int64_t pcap_source_timestamp_usec(int64_t sec, int64_t frac, int nano)
{
    /* pcapng carries 64-bit timestamps: a hostile one must not overflow the arithmetic. */
    const int64_t max_sec = INT64_MAX / 1000000 - 1;

    if (nano)
        frac /= 1000;
    if (sec > max_sec)
        sec = max_sec;
    if (sec < -max_sec)
        sec = -max_sec;
    if (frac > 999999 || frac < 0)
        frac = frac < 0 ? 0 : 999999; /* tcpdump's timestamp_invalid_micro: 1000000 and beyond */
    return sec * 1000000 + frac;
}

enum pcap_next_status pcap_source_next(struct pcap_source *src, struct pcap_frame *frame, char *errbuf,
                                       size_t errlen)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(src->handle, &hdr, &data);

    if (rc == 1) {
        frame->data = data;
        frame->caplen = hdr->caplen;
        frame->wirelen = hdr->len;
        frame->ts_usec = pcap_source_timestamp_usec((int64_t)hdr->ts.tv_sec, (int64_t)hdr->ts.tv_usec,
                                                    src->precision_nano);
        return PCAP_SOURCE_FRAME;
    }
    if (rc == PCAP_ERROR_BREAK)
        return PCAP_SOURCE_EOF;
    snprintf(errbuf, errlen, "%s", pcap_geterr(src->handle));
    return PCAP_SOURCE_ERROR;
}

int64_t pcap_source_offset(const struct pcap_source *src)
{
    FILE *f = pcap_file(src->handle);

    return f ? (int64_t)ftello(f) : -1;
}

int pcap_source_datalink(const struct pcap_source *src)
{
    return pcap_datalink(src->handle);
}

const char *pcap_source_datalink_name(const struct pcap_source *src)
{
    return src->dlt_name;
}

void pcap_source_close(struct pcap_source *src)
{
    if (!src)
        return;
    pcap_close(src->handle);
    free(src->io_buffer);
    free(src);
}

const char *pcap_source_lib_version(void)
{
    return pcap_lib_version();
}
