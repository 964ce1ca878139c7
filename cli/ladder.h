/* ladder.h: one stored session drawn as a ladder diagram (client left, server right), like Wireshark's flow graph. */
#ifndef SMTPTRACE_LADDER_H
#define SMTPTRACE_LADDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#define LADDER_WIDTH 100 /* columns of every line */

/*
 * Prints session session_id of the database as a ladder, ASCII only, every line at most
 * LADDER_WIDTH columns:
 *
 *   Frame  Time (UTC)    127.0.0.1:40000                                          127.0.0.1:2525
 *       4  17:40:01.123  |<---220 exchange.example.com ESMTP Server ready--------------------|
 *       6  17:40:01.124  |----EHLO sub2.---------------------------------------------------->|
 *                        |  ! invalid_helo_argument (warning): EHLO argument 'sub2.': trailing dot
 *
 * One arrow per command (left to right) and per reply (right to left, first line, "(+N lines)"),
 * a message body or a BDAT chunk as one row ("DATA 1502 bytes in 3 frames"), the encrypted part
 * after STARTTLS as one row, gaps as "[N bytes missing]", each finding under the row of the event
 * it points at. Text is escaped (\xHH) and cut with "...".
 *
 * ladder_print opens db_path read-only (query_open); ladder_print_db uses an open connection
 * (db_path only names it in messages). Both return 0, or -1 with a one-line message in errbuf:
 * "PATH: no such database", "no session N in PATH", "PATH: <sqlite3_errmsg>", "cannot write output".
 */
int ladder_print(FILE *out, const char *db_path, int64_t session_id, char *errbuf, size_t errlen);
int ladder_print_db(FILE *out, sqlite3 *db, const char *db_path, int64_t session_id, char *errbuf, size_t errlen);

#endif
