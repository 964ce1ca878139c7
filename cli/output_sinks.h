/* output_sinks.h: one session sink that fans out to the terminal output and, when open, the database. */
#ifndef SMTPTRACE_OUTPUT_SINKS_H
#define SMTPTRACE_OUTPUT_SINKS_H

#include <stdint.h>

#include "cli/json_output.h"
#include "cli/text_output.h"
#include "dissect/session.h"
#include "store/store.h"

/* Shared by read and live. store may be NULL (--no-db). */
struct output_sinks {
    struct text_output *text;
    struct json_output *json;              /* --format jsonl, or NULL */
    struct store *store;
    const struct session_sink *store_sink; /* store_session_sink() when store is set */
    uint64_t sessions_numbered;            /* sessions opened so far in this run (numbering across files) */
    int store_failed;                      /* the database error was reported already */
};

/* The sink whose callbacks take a struct output_sinks * as ctx. */
const struct session_sink *output_sinks_sink(void);

#endif
