/* live_source.c: libpcap live capture: set up, filter, frames without blocking, waits, dump and stats. */
#include "capture/live_source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct live_source {
    pcap_t *handle;
    pcap_dumper_t *dumper;
    int fd; /* pcap_get_selectable_fd(): we wait on it ourselves */
    int timeout_ms;
    char device[64];
    char dump_path[256];
    int dlt;
    char dlt_name[32];
    char dlt_description[96];
};

/* Status codes whose pcap_geterr() text adds detail (tcpdump prints both for these). */
static int status_has_detail(int status)
{
    return status == PCAP_ERROR || status == PCAP_ERROR_NO_SUCH_DEVICE || status == PCAP_ERROR_PERM_DENIED ||
           status == PCAP_ERROR_PROMISC_PERM_DENIED || status == PCAP_WARNING ||
           status == PCAP_WARNING_PROMISC_NOTSUP;
}

/* "lo: No such device exists (SIOCGIFHWADDR: No such device)" into buf. */
static void describe_status(char *buf, size_t len, const char *device, const char *what, pcap_t *handle,
                            int status)
{
    const char *detail = status_has_detail(status) ? pcap_geterr(handle) : "";

    if (status == PCAP_ERROR || status == PCAP_WARNING) /* generic: the detail is the whole story */
        snprintf(buf, len, "%s: %s%s", device, what, detail[0] ? detail : pcap_statustostr(status));
    else if (detail[0] && strcmp(detail, pcap_statustostr(status)) != 0)
        snprintf(buf, len, "%s: %s%s (%s)", device, what, pcap_statustostr(status), detail);
    else
        snprintf(buf, len, "%s: %s%s", device, what, pcap_statustostr(status));
}

/* Every pcap_set_*() before activation returns 0 or an error status (e.g. already activated). */
static int set_checked(struct live_source *src, int status, const char *what, char *errbuf, size_t errlen)
{
    char prefix[64];

    if (status == 0)
        return 0;
    snprintf(prefix, sizeof prefix, "cannot set %s: ", what);
    describe_status(errbuf, errlen, src->device, prefix, src->handle, status);
    return -1;
}

static int apply_filter(struct live_source *src, const char *filter, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
    struct bpf_program program;

    /* The netmask only matters for "ip broadcast"; an interface without IPv4 (or "any") has none. */
    if (pcap_lookupnet(src->device, &net, &mask, pcap_err) != 0)
        mask = PCAP_NETMASK_UNKNOWN;
    if (pcap_compile(src->handle, &program, filter, 1, mask) != 0) {
        snprintf(errbuf, errlen, "%s: bad filter '%s': %s", src->device, filter, pcap_geterr(src->handle));
        return -1;
    }
    if (pcap_setfilter(src->handle, &program) != 0) {
        snprintf(errbuf, errlen, "%s: cannot apply filter '%s': %s", src->device, filter,
                 pcap_geterr(src->handle));
        pcap_freecode(&program);
        return -1;
    }
    pcap_freecode(&program);
    return 0;
}

struct live_source *live_source_open(const struct live_config *config, FILE *warn, char *errbuf,
                                     size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    struct live_source *src;
    const char *name, *description;
    int status;

    if (!config->device || !config->device[0]) {
        snprintf(errbuf, errlen, "no interface given (-i IFACE; smtptrace live -D lists them)");
        return NULL;
    }
    src = calloc(1, sizeof *src);
    if (!src) {
        snprintf(errbuf, errlen, "%s: out of memory", config->device);
        return NULL;
    }
    snprintf(src->device, sizeof src->device, "%s", config->device);
    src->handle = pcap_create(config->device, pcap_err);
    if (!src->handle) {
        snprintf(errbuf, errlen, "%s: %s", config->device,
                 pcap_err[0] ? pcap_err : "cannot open the interface");
        free(src);
        return NULL;
    }
    if (set_checked(
            src, pcap_set_snaplen(src->handle, config->snaplen > 0 ? config->snaplen : LIVE_DEFAULT_SNAPLEN),
            "snapshot length", errbuf, errlen) < 0 ||
        set_checked(src, pcap_set_promisc(src->handle, config->promisc != 0), "promiscuous mode", errbuf,
                    errlen) < 0 ||
        set_checked(src,
                    pcap_set_timeout(src->handle,
                                     config->timeout_ms > 0 ? config->timeout_ms : LIVE_DEFAULT_TIMEOUT_MS),
                    "timeout", errbuf, errlen) < 0 ||
        set_checked(src, pcap_set_immediate_mode(src->handle, config->immediate != 0), "immediate mode",
                    errbuf, errlen) < 0)
        goto fail;
    if (config->buffer_mib > 0 &&
        set_checked(src, pcap_set_buffer_size(src->handle, (int)(config->buffer_mib * 1024u * 1024u)),
                    "buffer size", errbuf, errlen) < 0)
        goto fail;
    status = pcap_activate(src->handle);
    if (status < 0) {
        describe_status(errbuf, errlen, src->device, "", src->handle, status);
        goto fail;
    }
    if (status > 0 && warn) {
        char line[PCAP_ERRBUF_SIZE + 128];
        describe_status(line, sizeof line, src->device, "warning: ", src->handle, status);
        fprintf(warn, "smtptrace: %s\n", line);
    }
    src->dlt = pcap_datalink(src->handle);
    if (src->dlt < 0) {
        describe_status(errbuf, errlen, src->device, "cannot get the link type: ", src->handle, src->dlt);
        goto fail;
    }
    name = pcap_datalink_val_to_name(src->dlt);
    description = pcap_datalink_val_to_description(src->dlt);
    if (name)
        snprintf(src->dlt_name, sizeof src->dlt_name, "%s", name);
    else
        snprintf(src->dlt_name, sizeof src->dlt_name, "DLT %d", src->dlt);
    snprintf(src->dlt_description, sizeof src->dlt_description, "%s",
             description ? description : src->dlt_name);
    if (config->filter && apply_filter(src, config->filter, errbuf, errlen) < 0)
        goto fail;
    /*
     * libpcap's own timeout is not a promise: on Linux (TPACKET_V2, immediate
     * mode) pcap_next_ex() keeps polling until a packet comes. Non-blocking
     * reads plus our own poll() make a quiet interface come back every timeout.
     */
    if (pcap_setnonblock(src->handle, 1, pcap_err) != 0) {
        snprintf(errbuf, errlen, "%s: cannot set non-blocking mode: %s", src->device,
                 pcap_err[0] ? pcap_err : pcap_geterr(src->handle));
        goto fail;
    }
    src->fd = pcap_get_selectable_fd(src->handle);
    if (src->fd < 0) {
        snprintf(errbuf, errlen, "%s: the capture has no descriptor to wait on (%s)", src->device,
                 pcap_statustostr(src->fd));
        goto fail;
    }
    src->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : LIVE_DEFAULT_TIMEOUT_MS;
    return src;
fail:
    pcap_close(src->handle);
    free(src);
    return NULL;
}

enum live_next_status live_source_next(struct live_source *src, struct pcap_frame *frame, char *errbuf,
                                       size_t errlen)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(src->handle, &hdr, &data);

    if (rc == 1) {
        frame->data = data;
        frame->caplen = hdr->caplen;
        frame->wirelen = hdr->len;
        frame->ts_usec = (int64_t)hdr->ts.tv_sec * 1000000 + (int64_t)hdr->ts.tv_usec;
        if (src->dumper)
            pcap_dump((u_char *)src->dumper, hdr, data);
        return LIVE_FRAME;
    }
    if (rc == 0) /* non-blocking: nothing in the ring */
        return LIVE_EMPTY;
    if (rc == PCAP_ERROR_BREAK)
        return LIVE_BREAK;
    describe_status(errbuf, errlen, src->device, "capture failed: ", src->handle, rc);
    return LIVE_ERROR;
}

int live_source_wait(struct live_source *src, char *errbuf, size_t errlen)
{
    struct pollfd pfd;
    int ready;

    pfd.fd = src->fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    ready = poll(&pfd, 1, src->timeout_ms);
    if (ready > 0) /* readable, or an error condition that pcap_next_ex() will now report */
        return 1;
    if (ready == 0 || errno == EINTR)
        return 0;
    snprintf(errbuf, errlen, "%s: capture failed: poll: %s", src->device, strerror(errno));
    return -1;
}

void live_source_breakloop(struct live_source *src)
{
    if (src)
        pcap_breakloop(src->handle);
}

int live_source_dump_open(struct live_source *src, const char *path, char *errbuf, size_t errlen)
{
    src->dumper = pcap_dump_open(src->handle, path);
    if (!src->dumper) {
        /* libpcap's text already names the file: "x.pcap: Permission denied". */
        snprintf(errbuf, errlen, "cannot write the packet dump: %s", pcap_geterr(src->handle));
        return -1;
    }
    snprintf(src->dump_path, sizeof src->dump_path, "%s", path);
    return 0;
}

int live_source_dump_flush(struct live_source *src, char *errbuf, size_t errlen)
{
    if (!src->dumper)
        return 0;
    /* pcap_dump() reports nothing; a full disk shows up here, as a flush failure or the stream's error flag.
     */
    if (pcap_dump_flush(src->dumper) != 0 || ferror(pcap_dump_file(src->dumper))) {
        snprintf(errbuf, errlen, "%s: cannot write the packet dump", src->dump_path);
        return -1;
    }
    return 0;
}

int live_source_stats(struct live_source *src, struct live_stats *stats, char *errbuf, size_t errlen)
{
    struct pcap_stat ps;

    memset(stats, 0, sizeof *stats);
    if (pcap_stats(src->handle, &ps) != 0) {
        snprintf(errbuf, errlen, "%s: cannot get capture statistics: %s", src->device,
                 pcap_geterr(src->handle));
        return -1;
    }
    stats->received = ps.ps_recv;
    stats->dropped = ps.ps_drop;
    stats->if_dropped = ps.ps_ifdrop;
    return 0;
}

int live_source_datalink(const struct live_source *src)
{
    return src->dlt;
}

const char *live_source_datalink_name(const struct live_source *src)
{
    return src->dlt_name;
}

const char *live_source_datalink_description(const struct live_source *src)
{
    return src->dlt_description;
}

int live_source_snaplen(const struct live_source *src)
{
    return pcap_snapshot(src->handle);
}

int live_source_close(struct live_source *src, char *errbuf, size_t errlen)
{
    int rc = 0;

    if (!src)
        return 0;
    if (src->dumper) {
        rc = live_source_dump_flush(src, errbuf, errlen);
        pcap_dump_close(src->dumper);
    }
    pcap_close(src->handle);
    free(src);
    return rc;
}

int live_source_list_devices(FILE *out, char *errbuf, size_t errlen)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_if_t *devs = NULL, *dev;
    int n = 0;

    if (pcap_findalldevs(&devs, pcap_err) != 0) {
        snprintf(errbuf, errlen, "cannot list interfaces: %s", pcap_err[0] ? pcap_err : "unknown error");
        return -1;
    }
    for (dev = devs; dev; dev = dev->next) {
        static const struct {
            bpf_u_int32 bit;
            const char *name;
        } flags[] = {{PCAP_IF_UP, "Up"},
                     {PCAP_IF_RUNNING, "Running"},
                     {PCAP_IF_LOOPBACK, "Loopback"},
                     {PCAP_IF_WIRELESS, "Wireless"}};
        const char *sep = "";
        size_t i;
        int wireless = (dev->flags & PCAP_IF_WIRELESS) != 0;

        n++;
        fprintf(out, "%d.%s", n, dev->name);
        if (dev->description)
            fprintf(out, " (%s)", dev->description);
        if (dev->flags != 0) {
            fputs(" [", out);
            for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
                if (dev->flags & flags[i].bit) {
                    fprintf(out, "%s%s", sep, flags[i].name);
                    sep = ", ";
                }
            }
            if (!sep[0])
                fputs("none", out);
            switch (dev->flags & PCAP_IF_CONNECTION_STATUS) {
            case PCAP_IF_CONNECTION_STATUS_UNKNOWN:
                fputs(wireless ? ", Association status unknown" : ", Connection status unknown", out);
                break;
            case PCAP_IF_CONNECTION_STATUS_CONNECTED:
                fputs(wireless ? ", Associated" : ", Connected", out);
                break;
            case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
                fputs(wireless ? ", Not associated" : ", Disconnected", out);
                break;
            default: /* not applicable (loopback, pseudo-devices) */ break;
            }
            fputc(']', out);
        }
        fputc('\n', out);
    }
    pcap_freealldevs(devs);
    return n;
}
