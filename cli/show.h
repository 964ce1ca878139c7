/* show.h: the transcript part of `smtptrace show`, shared with `smtptrace report`. */
#ifndef SMTPTRACE_SHOW_H
#define SMTPTRACE_SHOW_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/*
 * Prints session_id's Network Monitor transcript, rebuilt from the events table exactly as
 * `read --netmon` printed it, each finding under the event it points at ("  ! finding ...").
 * db is an open (read-only) connection to db_path. Returns 0, or -1 after a message on stderr.
 */
int show_transcript(FILE *out, sqlite3 *db, const char *db_path, int64_t session_id, const char *client_addr,
                    const char *server_addr);

#endif
