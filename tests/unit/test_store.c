/* test_store.c: the session database: schema, sink rows, AUTH redaction, read-only access, versions, duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/query.h"
#include "store/store.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct fixture {
    char dir[64];
    char db[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);

    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->db, sizeof fx->db, "%s/t.db", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[160];
    size_t i;

    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(path, sizeof path, "%s%s", fx->db, suffixes[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/v99.db", fx->dir);
    unlink(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static struct smtp_span span(const char *s)
{
    struct smtp_span sp;

    sp.p = s;
    sp.len = strlen(s);
    return sp;
}

static void fill_summary(struct session_summary *s)
{
    memset(s, 0, sizeof *s);
    s->id = 1;
    snprintf(s->ep.client_ip, sizeof s->ep.client_ip, "192.0.2.10");
    snprintf(s->ep.server_ip, sizeof s->ep.server_ip, "198.51.100.25");
    s->ep.client_port = 40000;
    s->ep.server_port = 25;
    snprintf(s->client_addr, sizeof s->client_addr, "192.0.2.10:40000");
    snprintf(s->server_addr, sizeof s->server_addr, "198.51.100.25:25");
    s->first_frame = 1;
    s->start_ts_usec = INT64_C(1717501768979341);
    snprintf(s->app_protocol, sizeof s->app_protocol, "SMTP");
}

static void event(const struct session_sink *sink, struct store *st, const struct session_summary *s,
                  struct session_event *ev, uint64_t *seq)
{
    ev->seq = ++*seq;
    sink->event(st, s, ev);
}

/* One session with a greeting, EHLO, AUTH PLAIN with its secret, a message of two recipients, findings. */
static void feed_session(struct store *st, struct session_summary *s)
{
    const struct session_sink *sink = store_session_sink();
    static const struct smtp_span ehlo_lines[] = {
        {"250-mx.example.com", 18}, {"250-PIPELINING", 14}, {"250 AUTH PLAIN LOGIN", 20}};
    static const uint64_t frames[] = {7, 8};
    static const struct session_recipient rcpts[] = {
        {"<a@example.com>", "", 250, "2.1.5 Ok"},
        {"<b@example.com>", "NOTIFY=NEVER", 550, "5.1.1 unknown"},
    };
    static const struct session_capability caps[] = {
        {"PIPELINING", ""}, {"AUTH", "PLAIN LOGIN"}, {"SIZE", "10240000"}};
    struct session_event ev;
    struct session_message msg;
    struct finding f;
    uint64_t seq = 0;

    fill_summary(s);
    sink->opened(st, s);
    assert_non_null(s->sink_data);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_REPLY;
    ev.frame = 4;
    ev.ts_usec = s->start_ts_usec + 1000;
    ev.code = 220;
    ev.lines = ehlo_lines; /* reused: any reply text will do */
    ev.n_lines = 1;
    ev.bytes = 20;
    event(sink, st, s, &ev, &seq);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_COMMAND;
    ev.from_client = 1;
    ev.frame = 5;
    ev.verb = SMTP_VERB_EHLO;
    ev.verb_text = span("EHLO");
    ev.args = span("client.example");
    ev.text = span("EHLO client.example");
    ev.bytes = 21;
    event(sink, st, s, &ev, &seq);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_REPLY;
    ev.frames = frames;
    ev.n_frames = 2;
    ev.frame = 8;
    ev.code = 250;
    ev.lines = ehlo_lines;
    ev.n_lines = 3;
    ev.bytes = 58;
    ev.reply_to_seq = 2;
    event(sink, st, s, &ev, &seq);

    /* AUTH with an initial response: the session layer redacts text and args; the parser's args hold the secret. */
    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_COMMAND;
    ev.from_client = 1;
    ev.frame = 9;
    ev.verb = SMTP_VERB_AUTH;
    ev.verb_text = span("AUTH");
    ev.args = span("PLAIN AGJvYgBzM2NyM3Q=");
    ev.text = span("AUTH PLAIN <redacted>");
    ev.bytes = 33;
    event(sink, st, s, &ev, &seq);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_AUTH_RESPONSE;
    ev.from_client = 1;
    ev.frame = 10;
    ev.text = span("<redacted>");
    ev.bytes = 14;
    event(sink, st, s, &ev, &seq);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_BODY;
    ev.from_client = 1;
    ev.frame = 11;
    ev.data = span("Subject: hi\r\nFrom: a@example.com\r\n\r\nsecond part\r\n");
    ev.bytes = ev.data.len;
    event(sink, st, s, &ev, &seq);

    memset(&ev, 0, sizeof ev);
    ev.kind = SMTP_EV_BDAT_DATA;
    ev.from_client = 1;
    ev.frame = 12;
    ev.data = span("BINARY-SECRET");
    ev.bytes = ev.data.len;
    event(sink, st, s, &ev, &seq);

    memset(&msg, 0, sizeof msg);
    msg.seq = 1;
    snprintf(msg.mail_from, sizeof msg.mail_from, "<bob@example.com>");
    msg.declared_size = -1;
    msg.transport = "DATA";
    msg.body_bytes = 1234;
    snprintf(msg.subject, sizeof msg.subject, "hi");
    msg.result_code = 250;
    snprintf(msg.result_text, sizeof msg.result_text, "2.0.0 queued");
    msg.recipients = rcpts;
    msg.n_recipients = 2;
    msg.recipients_seen = 2;
    sink->message(st, s, &msg);

    memset(&f, 0, sizeof f);
    f.kind = FINDING_REPLY_5XX;
    f.severity = FINDING_ERROR;
    f.extension = "";
    f.frame = 9;
    f.event_seq = 4;
    f.detail = "RCPT answered 550";
    sink->finding(st, s, &f);
    f.kind = FINDING_CAPABILITY_MISMATCH;
    f.severity = FINDING_WARNING;
    f.extension = "CHUNKING";
    f.event_seq = 0;
    f.detail = "BDAT used but CHUNKING was not advertised";
    sink->finding(st, s, &f);

    s->ended = 1;
    s->end_reason = SESSION_END_QUIT;
    s->end_ts_usec = s->start_ts_usec + 2000000;
    s->banner_code = 220;
    snprintf(s->banner, sizeof s->banner, "220 mx.example.com ESMTP Postfix");
    snprintf(s->banner_host, sizeof s->banner_host, "mx.example.com");
    s->banner_esmtp = 1;
    snprintf(s->greeting_verb, sizeof s->greeting_verb, "EHLO");
    snprintf(s->greeting_arg, sizeof s->greeting_arg, "client.example");
    s->ehlo_accepted = 1;
    snprintf(s->auth_mech, sizeof s->auth_mech, "PLAIN");
    snprintf(s->auth_user, sizeof s->auth_user, "bob");
    s->auth_result = 235;
    s->messages = 1;
    s->client_bytes = 500;
    s->server_bytes = 300;
    sink->closed(st, s, caps, 3);
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

static void assert_text(sqlite3 *db, const char *sql, const char *want)
{
    sqlite3_stmt *stmt = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    if (!want)
        assert_int_equal(sqlite3_column_type(stmt, 0), SQLITE_NULL);
    else
        assert_string_equal((const char *)sqlite3_column_text(stmt, 0), want);
    sqlite3_finalize(stmt);
}

static sqlite3 *open_ro(const char *path)
{
    enum query_open_error why;
    char err[512];
    sqlite3 *db = query_open(path, &why, err, sizeof err);

    if (!db)
        fail_msg("query_open: %s", err);
    assert_int_equal(why, QUERY_OPEN_OK);
    return db;
}

static int use_writer; /* write_capture() through the writer thread */

static void write_capture(const char *path, const char *sha, int force, int expect, int64_t *capture_id)
{
    char err[512];
    struct store *st = store_open(path, err, sizeof err);
    struct session_summary s;
    int64_t existing = -1;
    int rc;

    if (!st)
        fail_msg("store_open: %s", err);
    if (use_writer)
        assert_int_equal(store_start_writer(st), 0);
    rc = store_capture_begin(st, "t.pcap", "file", "EN10MB", sha, force, capture_id, &existing, err, sizeof err);
    assert_int_equal(rc, expect);
    if (rc == 0) {
        feed_session(st, &s);
        assert_int_equal(store_capture_end(st, *capture_id, s.start_ts_usec, s.end_ts_usec, 12, 3456, err,
                                           sizeof err),
                         0);
    } else {
        assert_true(existing > 0);
        *capture_id = existing;
    }
    assert_null(store_error(st));
    assert_int_equal(store_close(st), 0);
}

static void test_rows(void **state)
{
    struct fixture *fx = *state;
    int64_t cid = 0;
    sqlite3 *db;

    write_capture(fx->db, SHA_A, 0, 0, &cid);
    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT count(*) FROM captures"), 1);
    assert_int_equal(scalar(db, "SELECT complete FROM captures"), 1);
    assert_int_equal(scalar(db, "SELECT packets FROM captures"), 12);
    assert_text(db, "SELECT link_type FROM captures", "EN10MB");
    assert_text(db, "SELECT first_ts FROM captures", "2024-06-04T11:49:28.979341Z");
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(scalar(db, "SELECT capture_id FROM sessions"), cid);
    assert_text(db, "SELECT client_addr FROM sessions", "192.0.2.10:40000");
    assert_text(db, "SELECT server_ip FROM sessions", "198.51.100.25");
    assert_text(db, "SELECT start_ts FROM sessions", "2024-06-04T11:49:28.979341Z");
    assert_text(db, "SELECT end_ts FROM sessions", "2024-06-04T11:49:30.979341Z");
    assert_text(db, "SELECT end_reason FROM sessions", "quit");
    assert_text(db, "SELECT banner_host FROM sessions", "mx.example.com");
    assert_text(db, "SELECT greeting_verb || ' ' || greeting_arg FROM sessions", "EHLO client.example");
    assert_text(db, "SELECT auth_mech || ' ' || auth_user || ' ' || auth_result FROM sessions", "PLAIN bob 235");
    assert_text(db, "SELECT tls FROM sessions", "none");
    assert_int_equal(scalar(db, "SELECT closed FROM sessions"), 1);

    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 7);
    assert_text(db, "SELECT group_concat(kind, ',') FROM (SELECT kind FROM events ORDER BY seq)",
                "reply,command,reply,command,auth_response,body,bdat_data");
    assert_text(db, "SELECT verb || '|' || args || '|' || text FROM events WHERE seq = 2",
                "EHLO|client.example|EHLO client.example");
    assert_text(db, "SELECT lines FROM events WHERE seq = 3",
                "250-mx.example.com\n250-PIPELINING\n250 AUTH PLAIN LOGIN");
    assert_text(db, "SELECT frames FROM events WHERE seq = 3", "7,8");
    assert_text(db, "SELECT frames FROM events WHERE seq = 2", NULL);
    assert_int_equal(scalar(db, "SELECT reply_to_seq FROM events WHERE seq = 3"), 2);
    assert_text(db, "SELECT text FROM events WHERE seq = 4", "AUTH PLAIN <redacted>");
    assert_text(db, "SELECT args FROM events WHERE seq = 4", "PLAIN <redacted>");
    assert_text(db, "SELECT text FROM events WHERE seq = 5", "<redacted>");
    assert_text(db, "SELECT lines FROM events WHERE seq = 6", "Subject: hi\nFrom: a@example.com\n");
    assert_text(db, "SELECT lines FROM events WHERE seq = 7", NULL);
    assert_text(db, "SELECT ts FROM events WHERE seq = 1", "2024-06-04T11:49:28.980341Z");
    assert_text(db, "SELECT dir FROM events WHERE seq = 1", "S");
    /* Nothing of the secret or of BDAT content anywhere. */
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE coalesce(args, '') || coalesce(text, '') || "
                                "coalesce(lines, '') || coalesce(verb_text, '') LIKE '%AGJvYgBzM2NyM3Q%'"),
                     0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE coalesce(text, '') || coalesce(lines, '') "
                                "LIKE '%BINARY-SECRET%'"),
                     0);

    assert_int_equal(scalar(db, "SELECT count(*) FROM messages"), 1);
    assert_text(db, "SELECT mail_from || ' ' || transport || ' ' || body_bytes || ' ' || result_code FROM messages",
                "<bob@example.com> DATA 1234 250");
    assert_text(db, "SELECT declared_size FROM messages", NULL);
    assert_int_equal(scalar(db, "SELECT count(*) FROM recipients"), 2);
    assert_text(db, "SELECT group_concat(address || '=' || code, ',') FROM (SELECT * FROM recipients ORDER BY seq)",
                "<a@example.com>=250,<b@example.com>=550");
    assert_text(db, "SELECT params FROM recipients WHERE seq = 2", "NOTIFY=NEVER");
    assert_int_equal(scalar(db, "SELECT count(*) FROM findings"), 2);
    assert_text(db, "SELECT kind || '/' || severity || '/' || event_seq FROM findings WHERE extension IS NULL",
                "reply_5xx/error/4");
    assert_text(db, "SELECT kind || '/' || extension || '/' || severity FROM findings WHERE extension IS NOT NULL",
                "capability_mismatch/CHUNKING/warning");
    assert_int_equal(scalar(db, "SELECT count(*) FROM capabilities"), 3);
    assert_text(db, "SELECT params FROM capabilities WHERE keyword = 'AUTH'", "PLAIN LOGIN");
    assert_text(db, "PRAGMA integrity_check", "ok");
    sqlite3_close(db);
}

/* The same rows when the writer thread executes them. */
static void test_rows_writer(void **state)
{
    use_writer = 1;
    test_rows(state);
    use_writer = 0;
}

/* A store with its writer thread started and a capture row begun. */
static struct store *writer_store(const char *path, const char *source, int64_t *capture_id)
{
    char err[512];
    int64_t existing = 0;
    struct store *st = store_open(path, err, sizeof err);

    if (!st)
        fail_msg("store_open: %s", err);
    assert_int_equal(store_start_writer(st), 0);
    assert_int_equal(store_capture_begin(st, source, "file", "EN10MB", "", 0, capture_id, &existing, err, sizeof err),
                     0);
    return st;
}

static void writer_store_close(struct store *st, int64_t capture_id)
{
    char err[512];

    assert_int_equal(store_capture_end(st, capture_id, 0, 0, 1, 1, err, sizeof err), 0);
    assert_null(store_error(st));
    assert_int_equal(store_close(st), 0);
}

/*
 * Many sessions through the writer thread: rows are handed over in many buffers, the parsing side
 * waits when the queue is full, a commit in the middle drains it, and every row lands under its own
 * session (the ids the writer learns are the ones later rows use).
 */
static void test_writer_many_sessions(void **state)
{
    struct fixture *fx = *state;
    enum { N = 3000 };
    struct session_summary s;
    int64_t cid = 0;
    struct store *st = writer_store(fx->db, "many.pcap", &cid);
    sqlite3 *db;
    int i;

    assert_int_equal(store_start_writer(st), 0); /* once only: a second call changes nothing */
    for (i = 0; i < N; i++) {
        feed_session(st, &s);
        if (i == N / 2) {
            assert_int_equal(store_commit(st), 0);
            db = open_ro(fx->db);
            assert_int_equal(scalar(db, "SELECT count(*) FROM sessions WHERE closed = 1"), N / 2 + 1);
            assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 7 * (N / 2 + 1));
            sqlite3_close(db);
        }
    }
    writer_store_close(st, cid);

    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions"), N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions WHERE closed = 1 AND end_reason = 'quit'"), N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM (SELECT session_id FROM events GROUP BY session_id "
                                "HAVING count(*) = 7 AND min(seq) = 1 AND max(seq) = 7)"),
                     N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events WHERE session_id NOT IN (SELECT id FROM sessions)"), 0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM (SELECT message_id FROM recipients GROUP BY message_id "
                                "HAVING count(*) = 2)"),
                     N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM recipients WHERE message_id NOT IN (SELECT id FROM messages)"),
                     0);
    assert_int_equal(scalar(db, "SELECT count(*) FROM (SELECT session_id FROM capabilities GROUP BY session_id "
                                "HAVING count(*) = 3)"),
                     N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM findings"), 2 * N);
    assert_text(db, "PRAGMA integrity_check", "ok");
    sqlite3_close(db);
}

static long long file_size(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/*
 * A long write through the writer thread: the checkpointer copies the WAL into the database while
 * rows go on (the file grows before the end), and the WAL stays bounded (README: about 36 MiB).
 */
static void test_writer_checkpoints(void **state)
{
    struct fixture *fx = *state;
    enum { N = 60000 };
    struct session_summary s;
    char wal[160];
    int64_t cid = 0;
    long long wal_max = 0, db_mid = 0, db_fifth = 0;
    struct store *st = writer_store(fx->db, "long.pcap", &cid);
    sqlite3 *db;
    int i;

    snprintf(wal, sizeof wal, "%s-wal", fx->db);
    for (i = 0; i < N; i++) {
        feed_session(st, &s);
        if (i % 500 == 0 && file_size(wal) > wal_max)
            wal_max = file_size(wal);
        if (i == N / 5) {
            /* About 21 MB written, past the checkpointer's 16 MiB and under the writer's own 32 MiB:
             * only the checkpointer can have moved pages into the database file (it runs on its own,
             * so give it time). */
            int tries;
            assert_int_equal(store_commit(st), 0);
            for (tries = 0; tries < 500 && (db_fifth = file_size(fx->db)) <= 8LL << 20; tries++)
                usleep(10000);
        }
        if (i == N * 3 / 4) {
            assert_int_equal(store_commit(st), 0);
            db_mid = file_size(fx->db);
        }
    }
    writer_store_close(st, cid);
    assert_int_equal(file_size(wal), 0); /* removed at close */
    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions WHERE closed = 1"), N);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 7 * N);
    assert_text(db, "PRAGMA integrity_check", "ok");
    sqlite3_close(db);
    /* Checkpoints happened during the run: without them the database file stays a few pages until
     * the last close. The data written exceeds the WAL bound, so the bound was exercised. */
    assert_true(db_fifth > 8LL << 20);
    assert_true(db_mid > 16LL << 20);
    assert_true(file_size(fx->db) > 80LL << 20);
    assert_true(wal_max > 0);
    assert_true(wal_max <= 48LL << 20);
}

static void test_read_only(void **state)
{
    struct fixture *fx = *state;
    int64_t cid = 0;
    sqlite3 *db;
    char *buf = NULL, err[512];
    size_t len = 0;
    FILE *out;

    write_capture(fx->db, SHA_A, 0, 0, &cid);
    db = open_ro(fx->db);
    assert_int_not_equal(sqlite3_exec(db, "INSERT INTO findings (session_id, kind, severity) VALUES (1, 'x', 'y')",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_non_null(strstr(sqlite3_errmsg(db), "readonly"));
    assert_int_not_equal(sqlite3_exec(db, "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(scalar(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);

    out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(query_sql(db, fx->db, "DELETE FROM sessions", QUERY_FORMAT_TABLE, out, err, sizeof err), -1);
    assert_non_null(strstr(err, "attempt to write a readonly database"));
    assert_non_null(strstr(err, fx->db));
    assert_int_equal(query_report(db, fx->db, "sessions", NULL, QUERY_FORMAT_CSV, out, err, sizeof err), 0);
    fclose(out);
    assert_non_null(strstr(buf, "id,start,client,server,end_reason,greeting"));
    assert_non_null(strstr(buf, "192.0.2.10:40000"));
    assert_non_null(strstr(buf, "\"capability_mismatch:1,reply_5xx:1\""));
    free(buf);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions"), 1);
    sqlite3_close(db);
}

static void test_newer_version_refused(void **state)
{
    struct fixture *fx = *state;
    char path[160], err[512], want[300];
    enum query_open_error why;
    sqlite3 *db = NULL;

    snprintf(path, sizeof path, "%s/v99.db", fx->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE x (a); PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    snprintf(want, sizeof want, "%s: database schema version 99 is newer than this smtptrace supports (%d)", path,
             STORE_SCHEMA_VERSION);
    assert_null(store_open(path, err, sizeof err));
    assert_string_equal(err, want);
    assert_null(query_open(path, &why, err, sizeof err));
    assert_string_equal(err, want);
    assert_null(query_open("/nonexistent/x.db", &why, err, sizeof err));
    assert_int_equal(why, QUERY_OPEN_MISSING);
    assert_string_equal(err, "/nonexistent/x.db: no such database");
}

/* A version 1 database (no sessions.tls_server_name) is migrated on open and keeps its rows. */
static void test_migration_from_v1(void **state)
{
    struct fixture *fx = *state;
    char path[160], err[512];
    struct store *st;
    sqlite3 *db = NULL;

    snprintf(path, sizeof path, "%s/v1.db", fx->dir);
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_close(st), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE sessions DROP COLUMN tls_server_name;"
                                  "ALTER TABLE sessions DROP COLUMN pipelining;"
                                  "ALTER TABLE events DROP COLUMN run;"
                                  "ALTER TABLE captures DROP COLUMN file_size;"
                                  "INSERT INTO captures (source, kind, analyzed_at, tool_version) "
                                  "VALUES ('old.pcap', 'file', 'x', '0.0');"
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_close(st), 0);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(scalar(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'tls_server_name'"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'run'"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM captures WHERE source = 'old.pcap'"), 1);
    sqlite3_close(db);
}

static void test_duplicate_capture(void **state)
{
    struct fixture *fx = *state;
    int64_t first = 0, again = 0, forced = 0;
    sqlite3 *db;

    write_capture(fx->db, SHA_A, 0, 0, &first);
    write_capture(fx->db, SHA_A, 0, 1, &again);
    assert_int_equal(again, first);
    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM captures"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions"), 1);
    sqlite3_close(db);

    write_capture(fx->db, SHA_A, 1, 0, &forced);
    (void)forced; /* the id may be reused: rowids restart after the delete */
    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM captures"), 1);
    assert_int_equal(scalar(db, "SELECT id FROM captures"), forced);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM events"), 7);
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM recipients"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM findings"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM capabilities"), 3);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sessions WHERE capture_id <> (SELECT id FROM captures)"), 0);
    sqlite3_close(db);
}

/* A capture that never reached store_capture_end (killed) is replaced without --force. */
static void test_unfinished_capture_replaced(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    struct store *st = store_open(fx->db, err, sizeof err);
    int64_t cid = 0, existing = 0, again = 0;
    sqlite3 *db;

    assert_non_null(st);
    assert_int_equal(store_capture_begin(st, "t.pcap", "file", "EN10MB", SHA_A, 0, &cid, &existing, err,
                                         sizeof err),
                     0);
    assert_int_equal(store_close(st), 0);
    write_capture(fx->db, SHA_A, 0, 0, &again);
    db = open_ro(fx->db);
    assert_int_equal(scalar(db, "SELECT count(*) FROM captures"), 1);
    assert_int_equal(scalar(db, "SELECT complete FROM captures"), 1);
    sqlite3_close(db);
}

static void test_schema_file_matches(void **state)
{
    /* __FILE__ is tests/unit/test_store.c, relative to the repository root or absolute. */
    const char *suffix = "tests/unit/test_store.c";
    char path[1024];
    size_t prefix = strlen(__FILE__) - strlen(suffix);
    FILE *f;
    char *text;
    long size;

    (void)state;
    snprintf(path, sizeof path, "%.*sstore/schema.sql", (int)prefix, __FILE__);
    f = fopen(path, "rb");
    if (!f)
        f = fopen("store/schema.sql", "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    assert_string_equal(text, store_schema_sql());
    free(text);
}

static void test_json_escape(void **state)
{
    static const char in[] = "a\"b\\c\n\x01\x7f\xff\xc3\xa9\xe2\x82\xac\xed\xa0\x80\xc0\xaf";
    static const char want[] = "a\\\"b\\\\c\\n\\u0001\\u007f\\u00ff\xc3\xa9\xe2\x82\xac"
                               "\\u00ed\\u00a0\\u0080\\u00c0\\u00af";
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    (void)state;
    assert_non_null(out);
    assert_int_equal(query_json_escape(out, in, sizeof in - 1), 0);
    fclose(out);
    assert_string_equal(buf, want);
    free(buf);
}

static void test_sha256(void **state)
{
    struct fixture *fx = *state;
    char path[160], hex[65];
    FILE *f;

    snprintf(path, sizeof path, "%s/v99.db", fx->dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("abc", f);
    fclose(f);
    assert_int_equal(store_file_sha256(path, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(store_file_sha256("/nonexistent/file", hex), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_many_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unfinished_capture_replaced, setup, teardown),
        cmocka_unit_test(test_schema_file_matches),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
