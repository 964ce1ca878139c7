/* output_sinks.c: fans each session callback out to the terminal output and the database. */
#include "cli/output_sinks.h"

static void fan_opened(void *ctx, struct session_summary *s)
{
    struct output_sinks *os = ctx;
    if (os->store && os->store_sink->opened)
        os->store_sink->opened(os->store, s);
    if (os->json && json_output_sink()->opened)
        json_output_sink()->opened(os->json, s);
}

static void fan_event(void *ctx, const struct session_summary *s, const struct session_event *ev)
{
    struct output_sinks *os = ctx;
    text_output_event(os->text, s, ev);
    if (os->store && os->store_sink->event)
        os->store_sink->event(os->store, s, ev);
    if (os->json && json_output_sink()->event)
        json_output_sink()->event(os->json, s, ev);
}

static void fan_message(void *ctx, const struct session_summary *s, const struct session_message *m)
{
    struct output_sinks *os = ctx;
    text_output_message(os->text, s, m);
    if (os->store && os->store_sink->message)
        os->store_sink->message(os->store, s, m);
    if (os->json && json_output_sink()->message)
        json_output_sink()->message(os->json, s, m);
}

static void fan_finding(void *ctx, const struct session_summary *s, const struct finding *f)
{
    struct output_sinks *os = ctx;
    text_output_finding(os->text, s, f);
    if (os->store && os->store_sink->finding)
        os->store_sink->finding(os->store, s, f);
    if (os->json && json_output_sink()->finding)
        json_output_sink()->finding(os->json, s, f);
}

static void fan_closed(void *ctx, const struct session_summary *s, const struct session_capability *caps,
                       size_t n_caps)
{
    struct output_sinks *os = ctx;
    text_output_closed(os->text, s, caps, n_caps);
    if (os->store && os->store_sink->closed)
        os->store_sink->closed(os->store, s, caps, n_caps);
    if (os->json && json_output_sink()->closed)
        json_output_sink()->closed(os->json, s, caps, n_caps);
}

const struct session_sink *output_sinks_sink(void)
{
    static const struct session_sink sink = {fan_opened, fan_event, fan_message, fan_finding, fan_closed};
    return &sink;
}
