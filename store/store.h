/* store.h: the SQLite session database: schema (store/schema.sql), batched writes, read-only access. */
#ifndef SMTPTRACE_STORE_H
#define SMTPTRACE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dissect/session.h"

#define STORE_SCHEMA_VERSION 2

struct store;

/*
 * Opens (creating if needed) the database at path for writing: WAL,
 * synchronous=NORMAL, busy_timeout, schema created or migrated to
 * STORE_SCHEMA_VERSION (PRAGMA user_version). A database from a newer
 * smtptrace is refused. Returns NULL with a one-line message naming the
 * path in errbuf on any failure.
 */
struct store *store_open(const char *path, char *errbuf, size_t errlen);

/*
 * Starts a capture row. sha256 is the file's hex digest ("" when unknown,
 * e.g. stdin). If a capture with that digest exists and force is 0, returns
 * 1 and sets *existing_id (the caller skips the file); with force, the old
 * capture and everything under it are deleted first. Returns 0 on success
 * (*capture_id set), -1 with errbuf on error.
 */
int store_capture_begin(struct store *st, const char *source, const char *kind, const char *link_type,
                        const char *sha256, int force, int64_t *capture_id, int64_t *existing_id,
                        char *errbuf, size_t errlen);

/* Finishes the capture row with its totals and commits. Returns 0 or -1 with errbuf. */
int store_capture_end(struct store *st, int64_t capture_id, int64_t first_ts_usec, int64_t last_ts_usec,
                      uint64_t packets, uint64_t bytes, char *errbuf, size_t errlen);

/*
 * The session sink that writes sessions, events, messages, recipients,
 * capabilities and findings of the current capture (ctx = the store).
 * Rows are batched in transactions committed every few thousand rows and
 * at capture end; a session's row is complete when its closed() ran.
 * Write errors are sticky: see store_error().
 */
const struct session_sink *store_session_sink(void);

/*
 * Moves the SQLite work of the session sink to a writer thread of the store: the sink callbacks then
 * only encode rows and hand them over (at most about 1 MiB ahead; the caller waits beyond). Every
 * other call of this module first waits until the rows handed over are executed. Call at most once,
 * from the thread that calls the rest. Returns 0, or -1 if the thread cannot start (the store then
 * stays synchronous and usable).
 */
int store_start_writer(struct store *st);

/* The first write error since open (from either thread), or NULL. */
const char *store_error(const struct store *st);

/* Commits what is pending (e.g. on SIGINT). Returns 0 or -1. */
int store_commit(struct store *st);

/* Commits and closes. Returns 0, or -1 if the final commit failed. */
int store_close(struct store *st);

/* The schema as created by store_open: the text of store/schema.sql. */
const char *store_schema_sql(void);

/* Deletes the captures of source (with that file size) whose reading never finished. Returns 0 or -1. */
int store_capture_drop_unfinished(struct store *st, const char *source, uint64_t file_size, char *errbuf,
                                   size_t errlen);

/*
 * 1 when a complete stored capture has exactly file_size bytes (or an unknown size): only then can a
 * file be one read before, so only then must its hash be known before reading it.
 */
int store_capture_size_known(struct store *st, uint64_t file_size);

/* Records a capture's file size and SHA-256 (sha256 NULL: keep the one stored). Returns 0 or -1 with errbuf. */
int store_capture_set_file(struct store *st, int64_t capture_id, uint64_t file_size, const char *sha256,
                           char *errbuf, size_t errlen);

/* Initialises libgcrypt; call once before hashing from another thread. Returns 0 or -1. */
int store_crypto_init(void);

/* Hex SHA-256 of a file (libgcrypt), into hex[65]. Returns 0, or -1 if the file cannot be read. */
int store_file_sha256(const char *path, char hex[65]);

#endif
