/* text_output.c: prints sessions as a Network Monitor transcript or as one summary line each. */
#include "cli/text_output.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void text_output_init(struct text_output *to, FILE *out, int netmon, int summaries)
{
    memset(to, 0, sizeof *to);
    to->out = out;
    to->netmon = netmon;
    to->summaries = summaries;
}

int text_output_netmon_item(const struct session_summary *s, const struct session_event *ev,
                            struct netmon_item *item, struct smtp_span *scratch_line)
{
    memset(item, 0, sizeof *item);
    item->frame = ev->frame;
    item->frames = ev->frames;
    item->n_frames = ev->n_frames;
    item->ts_usec = ev->ts_usec;
    item->src = ev->from_client ? s->client_addr : s->server_addr;
    item->dst = ev->from_client ? s->server_addr : s->client_addr;
    item->bytes = ev->bytes;
    item->verb = ev->verb;
    item->code = ev->code;
    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        item->kind = NETMON_COMMAND;
        break;
    case SMTP_EV_AUTH_RESPONSE:
        item->kind = NETMON_AUTH_RESPONSE;
        break;
    case SMTP_EV_BAD_REPLY:
        item->kind = NETMON_BAD_REPLY;
        break;
    case SMTP_EV_REPLY:
        item->kind = NETMON_REPLY;
        item->lines = ev->lines;
        item->n_lines = ev->n_lines;
        return 1;
    case SMTP_EV_BODY:
        item->kind = NETMON_BODY;
        /* The first lines of a message once, where it starts; later segments print their size only. */
        *scratch_line = ev->data;
        item->lines = scratch_line;
        item->n_lines = ev->data_index == 0 ? 1 : 0;
        return 1;
    case SMTP_EV_BODY_END:
        if (ev->bytes == 0)
            return 0;
        item->kind = NETMON_BODY;
        scratch_line->p = ".";
        scratch_line->len = 1;
        item->lines = scratch_line;
        item->n_lines = 1;
        return 1;
    case SMTP_EV_BDAT_DATA:
        item->kind = NETMON_BDAT_DATA;
        return 1;
    case SMTP_EV_TLS_DATA:
        item->kind = NETMON_TLS;
        return 1;
    case SMTP_EV_GAP:
        item->kind = NETMON_GAP;
        item->bytes = ev->gap_len;
        return 1;
    case SMTP_EV_BDAT_END:
    case SMTP_EV_KIND_COUNT:
        return 0;
    }
    *scratch_line = ev->text;
    item->lines = scratch_line;
    item->n_lines = 1;
    return 1;
}

void text_output_event(void *ctx, const struct session_summary *s, const struct session_event *ev)
{
    struct text_output *to = ctx;
    struct netmon_item item;
    struct smtp_span line;

    if (!to->netmon || !text_output_netmon_item(s, ev, &item, &line))
        return;
    if (netmon_print(to->out, &to->netmon_state, &item) < 0)
        to->write_failed = 1;
}

void text_output_finding(void *ctx, const struct session_summary *s, const struct finding *f)
{
    struct text_output *to = ctx;

    (void)s;
    if ((unsigned)f->kind < FINDING_KIND_COUNT)
        to->findings_by_kind[f->kind]++;
}

void text_output_message(void *ctx, const struct session_summary *s, const struct session_message *m)
{
    struct text_output *to = ctx;

    /* Totals count what the session lines count: messages whose body was sent (at close). */
    (void)to;
    (void)s;
    (void)m;
}

static void format_time(int64_t ts_usec, char *buf, size_t len)
{
    time_t secs = (time_t)(ts_usec / 1000000);
    struct tm tm;

    if (!gmtime_r(&secs, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%" PRId64, ts_usec / 1000000);
}

void text_output_closed(void *ctx, const struct session_summary *s, const struct session_capability *caps,
                        size_t n_caps)
{
    struct text_output *to = ctx;
    char when[32];
    int k, any = 0;

    (void)caps;
    (void)n_caps;
    to->sessions++;
    to->messages += s->messages;
    if (!to->summaries)
        return;
    format_time(s->start_ts_usec, when, sizeof when);
    fprintf(to->out, "#%" PRIu64 " %s %s -> %s frames %" PRIu64 "-%" PRIu64 " end=%s", s->id, when,
            s->client_addr, s->server_addr, s->first_frame, s->last_frame, session_end_name(s->end_reason));
    if (s->banner_code) {
        fputs(" banner=\"", to->out);
        netmon_write_escaped(to->out, s->banner, strlen(s->banner));
        fputc('"', to->out);
    }
    if (s->greeting_verb[0]) {
        fprintf(to->out, " %s=\"", s->greeting_verb);
        netmon_write_escaped(to->out, s->greeting_arg, strlen(s->greeting_arg));
        fputc('"', to->out);
    }
    if (s->tls != SESSION_TLS_NONE)
        fprintf(to->out, " tls=%s", session_tls_name(s->tls));
    if (s->tls_server_name[0]) {
        fputs(" sni=\"", to->out);
        netmon_write_escaped(to->out, s->tls_server_name, strlen(s->tls_server_name));
        fputc('"', to->out);
    }
    if (strcmp(s->app_protocol, "SMTP") != 0)
        fprintf(to->out, " app=%s", s->app_protocol);
    if (s->auth_mech[0]) {
        fprintf(to->out, " auth=%s", s->auth_mech);
        if (s->auth_user[0]) {
            fputs(" user=\"", to->out);
            netmon_write_escaped(to->out, s->auth_user, strlen(s->auth_user));
            fputc('"', to->out);
        }
    }
    fprintf(to->out, " messages=%" PRIu64, s->messages);
    if (s->gap_bytes)
        fprintf(to->out, " missing=%" PRIu64, s->gap_bytes);
    for (k = 0; k < FINDING_KIND_COUNT; k++) {
        enum finding_severity sev = finding_default_severity((enum finding_kind)k);
        const char *on = !to->color ? "" : sev == FINDING_ERROR ? "\033[31m" : sev == FINDING_WARNING ? "\033[33m" : "";
        if (!s->finding_counts[k])
            continue;
        fprintf(to->out, "%s%s%s", any ? "," : " findings=", on, finding_kind_name((enum finding_kind)k));
        if (s->finding_counts[k] > 1)
            fprintf(to->out, ":%u", (unsigned)s->finding_counts[k]);
        if (on[0])
            fputs("\033[0m", to->out);
        any = 1;
    }
    if (fputc('\n', to->out) == EOF)
        to->write_failed = 1;
}

void text_output_totals(struct text_output *to)
{
    int k, any = 0;

    if (!to->summaries)
        return;
    fprintf(to->out, "sessions %" PRIu64 ", messages %" PRIu64, to->sessions, to->messages);
    for (k = 0; k < FINDING_KIND_COUNT; k++) {
        if (!to->findings_by_kind[k])
            continue;
        fprintf(to->out, "%s%s %" PRIu64, any ? ", " : "; findings: ", finding_kind_name((enum finding_kind)k),
                to->findings_by_kind[k]);
        any = 1;
    }
    fputc('\n', to->out);
}
