/* text_output.h: the terminal output of read: Network Monitor transcript or one line per session. */
#ifndef SMTPTRACE_TEXT_OUTPUT_H
#define SMTPTRACE_TEXT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "dissect/netmon.h"
#include "dissect/session.h"

struct text_output {
    FILE *out;
    int netmon;    /* print every frame's SMTP items */
    int summaries; /* print one line per finished session */
    int color;     /* findings by severity in ANSI colour (error red, warning yellow) */
    struct netmon_state netmon_state;
    uint64_t sessions, messages;
    uint64_t findings_by_kind[FINDING_KIND_COUNT];
    int write_failed;
    /* Findings of the session being printed, for its summary line. */
    uint64_t open_findings_seen;
};

void text_output_init(struct text_output *to, FILE *out, int netmon, int summaries);

/* The sink callbacks; ctx is a struct text_output *. */
void text_output_event(void *ctx, const struct session_summary *s, const struct session_event *ev);
void text_output_finding(void *ctx, const struct session_summary *s, const struct finding *f);
void text_output_message(void *ctx, const struct session_summary *s, const struct session_message *m);
void text_output_closed(void *ctx, const struct session_summary *s, const struct session_capability *caps,
                        size_t n_caps);

/* Totals line(s) after the run. */
void text_output_totals(struct text_output *to);

/* Converts a session event into a Network Monitor item (shared with `show`). Returns 0 if nothing to print. */
int text_output_netmon_item(const struct session_summary *s, const struct session_event *ev,
                            struct netmon_item *item, struct smtp_span *scratch_line);

#endif
