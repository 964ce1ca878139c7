/* classify.c: nDPI 4.2 wrapper: one detection module per run, one flow struct per conversation being classified. */
#include "capture/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

struct classifier {
    struct ndpi_detection_module_struct *ndpi;
};

struct flow_class {
    struct classifier *cls;
    struct ndpi_flow_struct *flow;
    ndpi_protocol proto;
    unsigned packets;
    int done;
    char name[64];
};

struct classifier *classifier_new(char *errbuf, size_t errlen)
{
    struct classifier *cls;
    NDPI_PROTOCOL_BITMASK all;

    /* The flow struct layout changes between nDPI releases: refuse a library we were not built for. */
    if (ndpi_get_api_version() != NDPI_API_VERSION) {
        snprintf(errbuf, errlen, "nDPI API version %u at run time, %u at build time: rebuild smtptrace",
                 (unsigned)ndpi_get_api_version(), (unsigned)NDPI_API_VERSION);
        return NULL;
    }
    cls = calloc(1, sizeof *cls);
    if (!cls) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    cls->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (!cls->ndpi) {
        snprintf(errbuf, errlen, "nDPI: cannot initialise the detection module");
        free(cls);
        return NULL;
    }
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(cls->ndpi, &all);
    ndpi_finalize_initialization(cls->ndpi);
    return cls;
}

void classifier_free(struct classifier *cls)
{
    if (!cls)
        return;
    ndpi_exit_detection_module(cls->ndpi);
    free(cls);
}

struct flow_class *classifier_flow_new(struct classifier *cls)
{
    struct flow_class *fc = calloc(1, sizeof *fc);

    if (!fc)
        return NULL;
    fc->cls = cls;
    fc->flow = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
    if (!fc->flow) {
        free(fc);
        return NULL;
    }
    snprintf(fc->name, sizeof fc->name, "Unknown");
    return fc;
}

void classifier_flow_free(struct flow_class *fc)
{
    if (!fc)
        return;
    if (fc->flow) {
        ndpi_free_flow_data(fc->flow);
        free(fc->flow);
    }
    free(fc);
}

static void set_name(struct flow_class *fc)
{
    char buf[64];

    ndpi_protocol2name(fc->cls->ndpi, fc->proto, buf, sizeof buf);
    snprintf(fc->name, sizeof fc->name, "%s", buf);
}

enum classify_verdict classifier_packet(struct classifier *cls, struct flow_class *fc, const uint8_t *ip,
                                        size_t ip_len, int64_t ts_usec, int want_details)
{
    if (fc->done)
        return CLASSIFY_DONE;
    if (ip_len == 0 || ip_len > 0xffff)
        return CLASSIFY_PENDING;
    fc->proto = ndpi_detection_process_packet(cls->ndpi, fc->flow, ip, (unsigned short)ip_len,
                                              (uint64_t)(ts_usec / 1000));
    fc->packets++;
    if ((fc->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN &&
         (!want_details || !ndpi_extra_dissection_possible(cls->ndpi, fc->flow))) ||
        fc->packets >= CLASSIFY_MAX_PACKETS) {
        classifier_finish(cls, fc);
        return CLASSIFY_DONE;
    }
    return CLASSIFY_PENDING;
}

void classifier_finish(struct classifier *cls, struct flow_class *fc)
{
    uint8_t guessed = 0;

    if (fc->done)
        return;
    /* No port-based guess: a short failed SMTP dialogue on 2504 is not "MQTT" because of its port. */
    if (fc->proto.app_protocol == NDPI_PROTOCOL_UNKNOWN)
        fc->proto = ndpi_detection_giveup(cls->ndpi, fc->flow, 0, &guessed);
    fc->done = 1;
    set_name(fc);
}

const char *classifier_protocol(const struct flow_class *fc)
{
    return fc->name;
}

static int is(const struct flow_class *fc, uint16_t id)
{
    return fc->proto.app_protocol == id || fc->proto.master_protocol == id;
}

int classifier_is_smtp(const struct flow_class *fc)
{
    if (is(fc, NDPI_PROTOCOL_MAIL_SMTPS))
        return 2;
    return is(fc, NDPI_PROTOCOL_MAIL_SMTP) ? 1 : 0;
}

const char *classifier_server_name(const struct flow_class *fc)
{
    /* For plain SMTP nDPI keeps the greeting's host name in the same field: only TLS has an SNI. */
    if (!fc->flow || !(is(fc, NDPI_PROTOCOL_TLS) || is(fc, NDPI_PROTOCOL_MAIL_SMTPS)))
        return "";
    return fc->flow->host_server_name;
}

/*
 * The risks that speak about a mail conversation: credentials in clear and the
 * state of its TLS. The others come from nDPI's web and port heuristics ("TLS not
 * carrying HTTPS", "known protocol on a non-standard port", an SMTP dialogue on
 * port 5353 read as malformed mDNS) and would only be noise here.
 */
static int mail_relevant_risk(int r)
{
    switch (r) {
    case NDPI_CLEAR_TEXT_CREDENTIALS:
    case NDPI_TLS_SELFSIGNED_CERTIFICATE:
    case NDPI_TLS_OBSOLETE_VERSION:
    case NDPI_TLS_WEAK_CIPHER:
    case NDPI_TLS_CERTIFICATE_EXPIRED:
    case NDPI_TLS_CERTIFICATE_MISMATCH:
    case NDPI_TLS_CERTIFICATE_ABOUT_TO_EXPIRE:
    case NDPI_TLS_FATAL_ALERT:
    case NDPI_TLS_SUSPICIOUS_EXTENSION:
    case NDPI_MALICIOUS_JA3:
    case NDPI_MALICIOUS_SHA1_CERTIFICATE:
    case NDPI_POSSIBLE_EXPLOIT:
        return 1;
    default:
        return 0;
    }
}

const char *classifier_risks(const struct flow_class *fc, char *buf, size_t len)
{
    size_t used = 0;
    int r;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (!fc->flow)
        return buf;
    for (r = 1; r < NDPI_MAX_RISK && used < len; r++) {
        if (!NDPI_ISSET_BIT(fc->flow->risk, r) || !mail_relevant_risk(r))
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                                 ndpi_risk2str((ndpi_risk_enum)r));
    }
    if (used >= len)
        buf[len - 1] = '\0';
    return buf;
}

const char *classifier_version(void)
{
    static char text[64];

    if (!text[0])
        snprintf(text, sizeof text, "%s (API %u)", ndpi_revision(), (unsigned)ndpi_get_api_version());
    return text;
}
