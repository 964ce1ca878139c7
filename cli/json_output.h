/* json_output.h: a session sink writing one JSON object per finished session (JSON lines, Zeek-style field names). */
#ifndef SMTPTRACE_JSON_OUTPUT_H
#define SMTPTRACE_JSON_OUTPUT_H

#include <stdio.h>

#include "dissect/session.h"

/*
 * One line per session, written when the session closes:
 *   {"type":"session","ts":"2026-11-23T17:27:22.197305Z","uid":"S1",
 *    "id.orig_h":"127.0.0.1","id.orig_p":55966,"id.resp_h":"127.0.0.1","id.resp_p":2501, ...,
 *    "helo":"client.example.org","mailfrom":"<a@b>","rcptto":["<c@d>"],"last_reply":"250 OK",
 *    "tls":false,"capabilities":[...],"messages":[{...,"rcpt":[...]}],"findings":[...]}
 * With with_events, each event also gets its own line ({"type":"event","uid":"S1","seq":3,...}),
 * written as it happens (so before its session's line). Every field is documented in smtptrace(1).
 * Strings: ", \ and control bytes are escaped (\n, \r, \t, else \u00XX); valid UTF-8 is kept;
 * a byte that is not valid UTF-8 becomes \u00XX of the byte (as `query --format json`), so every
 * line is valid JSON whatever the capture holds. AUTH secrets never reach the sink (the session
 * layer redacts them).
 * Memory: sessions open at the same time are kept in a hash table by summary->id; each keeps its
 * messages and findings as rendered JSON (at most JSON_OUTPUT_MAX_BUFFER bytes each, then counted
 * in "messages_dropped" / "findings_dropped"), freed when the session closes.
 */
#define JSON_OUTPUT_MAX_BUFFER (1u << 20)

struct json_output;

/* Returns NULL when out of memory. out is not closed by json_output_free. */
struct json_output *json_output_new(FILE *out, int with_events);

/* The sink whose callbacks take a struct json_output * as ctx. */
const struct session_sink *json_output_sink(void);

/* Nonzero once an allocation or a write failed (a line may be missing or cut); the caller reports it. */
int json_output_failed(const struct json_output *jo);

/* Frees the context and any session still open (those never get their line). NULL is fine. */
void json_output_free(struct json_output *jo);

#endif
