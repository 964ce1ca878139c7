/* classify.h: application-protocol classification of TCP conversations with nDPI, behind a small interface. */
#ifndef SMTPTRACE_CLASSIFY_H
#define SMTPTRACE_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* Packets with payload given to nDPI per conversation before classification stops (nDPI needs a few). */
#define CLASSIFY_MAX_PACKETS 12

struct classifier;
struct flow_class;

enum classify_verdict {
    CLASSIFY_PENDING = 0, /* keep feeding packets */
    CLASSIFY_DONE         /* final: stop feeding, read the results */
};

/*
 * Starts nDPI with every protocol enabled. Checks at start-up that the
 * library is the API version we were built against (Debian's 4.2); returns
 * NULL with a one-line message in errbuf otherwise or on allocation failure.
 */
struct classifier *classifier_new(char *errbuf, size_t errlen);
void classifier_free(struct classifier *cls);

/* Per-conversation state (about 1 KiB inside nDPI), or NULL when out of memory. */
struct flow_class *classifier_flow_new(struct classifier *cls);
void classifier_flow_free(struct flow_class *fc);

/*
 * One packet of the conversation, from its IP header (ip_len bytes captured). With want_details,
 * classification goes on after the protocol is known while nDPI can still learn more (a TLS
 * certificate, credentials); without, it ends at the first verdict.
 */
enum classify_verdict classifier_packet(struct classifier *cls, struct flow_class *fc, const uint8_t *ip,
                                        size_t ip_len, int64_t ts_usec, int want_details);

/* Ends classification (nDPI's give-up guess when nothing matched yet). Idempotent. */
void classifier_finish(struct classifier *cls, struct flow_class *fc);

/* nDPI's protocol name ("SMTP", "SMTPS", "TLS", "HTTP", "Unknown"); valid until fc is freed. */
const char *classifier_protocol(const struct flow_class *fc);

/* 1 when nDPI says the mail family's SMTP (plain or STARTTLS), 2 for SMTPS, 0 otherwise. */
int classifier_is_smtp(const struct flow_class *fc);

/* TLS server name (SNI) nDPI saw, or "". */
const char *classifier_server_name(const struct flow_class *fc);

/* Names of the risks nDPI flagged, joined with ", " into buf (e.g. "Clear-Text Credentials"); returns buf. */
const char *classifier_risks(const struct flow_class *fc, char *buf, size_t len);

/* "4.2.0 (API 8668)" */
const char *classifier_version(void);

#endif
