/* query.h: read-only access to the session database: the reports of `smtptrace query` and their output formats. */
#ifndef SMTPTRACE_QUERY_H
#define SMTPTRACE_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

enum query_format { QUERY_FORMAT_TABLE = 0, QUERY_FORMAT_CSV, QUERY_FORMAT_JSON };

/* Parses "table", "csv" or "json". Returns 0, or -1 if unknown. */
int query_parse_format(const char *name, enum query_format *fmt);

/* Filters of the reports; NULL (or has_capture 0) = not filtered. */
struct query_filters {
    const char *finding; /* sessions with a finding of this kind */
    const char *server;  /* server ip (or "ip:port") */
    const char *client;  /* client ip (or "ip:port") */
    const char *since;   /* start_ts >= since (ISO-8601 text, "T" or " " between date and time) */
    const char *until;   /* start_ts <= until, at the precision given ("2024-06-04" includes that day) */
    int64_t capture_id;
    int has_capture;
};

/* Why query_open failed. */
enum query_open_error { QUERY_OPEN_OK = 0, QUERY_OPEN_MISSING, QUERY_OPEN_FAILED };

/*
 * Opens the database read-only (SQLITE_OPEN_READONLY and PRAGMA query_only)
 * and checks its schema version. Returns NULL with *why and a one-line
 * message naming the path in errbuf ("PATH: no such database", ...).
 */
sqlite3 *query_open(const char *path, enum query_open_error *why, char *errbuf, size_t errlen);

/* The report names: "sessions", "findings", "servers", "messages". */
int query_is_report(const char *name);

/*
 * Runs a named report with filters and prints it to out in fmt. Returns 0,
 * or -1 with "PATH: message" in errbuf (SQLite error or output failure).
 */
int query_report(sqlite3 *db, const char *path, const char *report, const struct query_filters *filters,
                 enum query_format fmt, FILE *out, char *errbuf, size_t errlen);

/* Runs the user's SQL (one or more statements) and prints each result set. Returns 0 or -1 with errbuf. */
int query_sql(sqlite3 *db, const char *path, const char *sql, enum query_format fmt, FILE *out, char *errbuf,
              size_t errlen);

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not valid UTF-8. */
size_t query_utf8_len(const unsigned char *p, size_t len);

/* Writes len bytes as the body of a JSON string (no quotes): control, invalid UTF-8 bytes as \u00XX. */
int query_json_escape(FILE *out, const char *p, size_t len);

#endif
