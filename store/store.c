/* store.c: writes sessions, events, messages and findings into the SQLite database in batched transactions. */
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gcrypt.h>
#include <sqlite3.h>

#include "cli/commands.h"

#define STORE_BATCH_ROWS 50000
#define STORE_BATCH_USEC 1000000
#define STORE_BODY_LINES 3       /* body lines kept per event, as netmon prints them */
#define STORE_BODY_LINE_KEEP 121 /* netmon shows 120 and "..." when longer: one more byte keeps that */
/* Encoded rows are handed to the writer thread in buffers of about this size, at most WRITER_QUEUE of
 * them waiting: the parsing thread runs ahead of SQLite by at most ~1 MiB of rows. A 4 MiB queue
 * absorbed the writer's checkpoint stalls better (-7% wall at 1 GiB) but made peak memory depend on
 * how far behind it fell: +15% from a 100 MB capture to a 1 GiB one, against +9% with 1 MiB. */
#define ROWS_HANDOFF_BYTES (128 * 1024)
#define WRITER_QUEUE 8
/*
 * WAL size (pages) at which the checkpointer is asked for a checkpoint, and beyond which the writer
 * does one itself. The WAL only restarts from its beginning when a checkpoint has caught up before
 * the writer's next frame, which a writer that never pauses rarely allows: WAL_FORCE_PAGES is in
 * effect the WAL's size on disk during a long read (32 MiB). The checkpointer having copied most
 * pages already, the writer's own checkpoint is mostly an fsync: 2x and 4x ran alike at 1 GiB.
 */
#define WAL_CHECKPOINT_PAGES 4096
#define WAL_FORCE_PAGES (2 * WAL_CHECKPOINT_PAGES)

/* Keep identical to store/schema.sql (tests/unit/test_store.c compares them). */
static const char schema_sql[] =
    "-- schema.sql: the smtptrace session database, version 2 (PRAGMA user_version); embedded in store/store.c.\n"
    "-- Version 2 added sessions.tls_server_name (the SNI of implicit TLS, from nDPI), sessions.pipelining,\n"
    "-- events.run (a run of\n"
    "-- data segments stored as one row: \"frame:ts_usec:bytes:dir;...\") and captures.file_size.\n"
    "-- Times: *_ts are ISO-8601 UTC text with microseconds, *_usec the same instant in microseconds since 1970.\n"
    "CREATE TABLE captures (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    source TEXT NOT NULL,\n"
    "    kind TEXT NOT NULL,\n"
    "    link_type TEXT,\n"
    "    first_ts TEXT,\n"
    "    last_ts TEXT,\n"
    "    first_ts_usec INTEGER,\n"
    "    last_ts_usec INTEGER,\n"
    "    packets INTEGER,\n"
    "    bytes INTEGER,\n"
    "    sha256 TEXT,\n"
    "    file_size INTEGER,\n"
    "    analyzed_at TEXT NOT NULL,\n"
    "    tool_version TEXT NOT NULL,\n"
    "    complete INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE TABLE sessions (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    capture_id INTEGER REFERENCES captures(id),\n"
    "    session_no INTEGER,\n"
    "    client_ip TEXT,\n"
    "    client_port INTEGER,\n"
    "    server_ip TEXT,\n"
    "    server_port INTEGER,\n"
    "    client_addr TEXT,\n"
    "    server_addr TEXT,\n"
    "    ipv6 INTEGER,\n"
    "    first_frame INTEGER,\n"
    "    last_frame INTEGER,\n"
    "    start_ts TEXT,\n"
    "    end_ts TEXT,\n"
    "    start_ts_usec INTEGER,\n"
    "    end_ts_usec INTEGER,\n"
    "    end_reason TEXT,\n"
    "    banner_code INTEGER,\n"
    "    banner TEXT,\n"
    "    banner_host TEXT,\n"
    "    banner_software TEXT,\n"
    "    banner_datetime TEXT,\n"
    "    banner_esmtp INTEGER,\n"
    "    greeting_verb TEXT,\n"
    "    greeting_arg TEXT,\n"
    "    ehlo_attempts INTEGER,\n"
    "    helo_attempts INTEGER,\n"
    "    ehlo_accepted INTEGER,\n"
    "    fallback INTEGER,\n"
    "    tls TEXT,\n"
    "    auth_mech TEXT,\n"
    "    auth_user TEXT,\n"
    "    auth_result INTEGER,\n"
    "    messages INTEGER,\n"
    "    commands INTEGER,\n"
    "    replies INTEGER,\n"
    "    client_bytes INTEGER,\n"
    "    server_bytes INTEGER,\n"
    "    gap_bytes INTEGER,\n"
    "    app_protocol TEXT,\n"
    "    tls_server_name TEXT,\n"
    "    pipelining INTEGER,\n"
    "    closed INTEGER NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE TABLE capabilities (\n"
    "    session_id INTEGER NOT NULL REFERENCES sessions(id),\n"
    "    seq INTEGER NOT NULL,\n"
    "    keyword TEXT NOT NULL,\n"
    "    params TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE events (\n"
    "    session_id INTEGER NOT NULL REFERENCES sessions(id),\n"
    "    seq INTEGER NOT NULL,\n"
    "    frame INTEGER,\n"
    "    frames TEXT,\n"
    "    ts TEXT,\n"
    "    ts_usec INTEGER,\n"
    "    dir TEXT NOT NULL,\n"
    "    kind TEXT NOT NULL,\n"
    "    verb TEXT,\n"
    "    verb_text TEXT,\n"
    "    args TEXT,\n"
    "    code INTEGER,\n"
    "    enhanced_code TEXT,\n"
    "    text TEXT,\n"
    "    lines TEXT,\n"
    "    bytes INTEGER,\n"
    "    flags INTEGER,\n"
    "    gap_len INTEGER,\n"
    "    reply_to_seq INTEGER,\n"
    "    run TEXT\n"
    ");\n"
    "CREATE TABLE messages (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    session_id INTEGER NOT NULL REFERENCES sessions(id),\n"
    "    seq INTEGER NOT NULL,\n"
    "    mail_from TEXT,\n"
    "    mail_params TEXT,\n"
    "    declared_size INTEGER,\n"
    "    transport TEXT,\n"
    "    body_bytes INTEGER,\n"
    "    subject TEXT,\n"
    "    header_from TEXT,\n"
    "    header_to TEXT,\n"
    "    message_id TEXT,\n"
    "    header_date TEXT,\n"
    "    result_code INTEGER,\n"
    "    result_text TEXT,\n"
    "    first_frame INTEGER,\n"
    "    recipients_seen INTEGER\n"
    ");\n"
    "CREATE TABLE recipients (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    message_id INTEGER NOT NULL REFERENCES messages(id),\n"
    "    seq INTEGER NOT NULL,\n"
    "    address TEXT,\n"
    "    params TEXT,\n"
    "    code INTEGER,\n"
    "    text TEXT\n"
    ");\n"
    "CREATE TABLE findings (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    session_id INTEGER NOT NULL REFERENCES sessions(id),\n"
    "    kind TEXT NOT NULL,\n"
    "    extension TEXT,\n"
    "    severity TEXT NOT NULL,\n"
    "    frame INTEGER,\n"
    "    event_seq INTEGER,\n"
    "    detail TEXT\n"
    ");\n"
    "CREATE INDEX captures_sha256 ON captures(sha256);\n"
    "CREATE INDEX sessions_capture ON sessions(capture_id);\n"
    "CREATE INDEX sessions_server ON sessions(server_ip);\n"
    "CREATE INDEX sessions_client ON sessions(client_ip);\n"
    "CREATE INDEX capabilities_session ON capabilities(session_id, seq);\n"
    "CREATE INDEX events_session ON events(session_id, seq);\n"
    "CREATE INDEX messages_session ON messages(session_id, seq);\n"
    "CREATE INDEX recipients_message ON recipients(message_id, seq);\n"
    "CREATE INDEX findings_kind ON findings(kind);\n"
    "CREATE INDEX findings_session ON findings(session_id, event_seq);\n";

enum stmt_id {
    ST_SESSION_INSERT,
    ST_SESSION_UPDATE,
    ST_CAPABILITY,
    ST_EVENT,
    ST_MESSAGE,
    ST_RECIPIENT,
    ST_FINDING,
    ST_COUNT
};

struct strbuf {
    char *p;
    size_t len, cap;
};

static const char *const stmt_what[ST_COUNT] = {
    "insert session", "update session", "insert capability", "insert event",
    "insert message", "insert recipient", "insert finding",
};

struct store {
    /* The connection and its transaction: used by one thread at a time, under db_mu once the writer
     * thread runs. */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    int in_tx;
    unsigned pending_rows;
    int64_t tx_started_usec;
    int64_t last_message_id;

    /* The first error, from either thread: err is written once, before failed is set. */
    atomic_int failed;
    pthread_mutex_t err_mu;
    char err[1024];

    /* The caller's (parsing) thread only. */
    char *path;
    int64_t capture_id;
    struct strbuf buf;
    struct strbuf rows;                /* rows encoded, not yet handed over */
    size_t row_start;
    unsigned row_values;
    int row_bad;
    int64_t ts_cache_secs;             /* format_ts_cached(): the last second formatted */
    char ts_cache_day[32];

    /* Hand-over to the writer thread. */
    pthread_t writer;
    int writer_started, writer_stop, writer_busy;
    pthread_mutex_t queue_mu, db_mu;
    pthread_cond_t queue_work, queue_done;
    struct strbuf queue[WRITER_QUEUE];
    size_t queue_head, queue_count;
    struct strbuf spare[WRITER_QUEUE];
    size_t n_spare;

    /* Checkpoints on a connection of their own, so the writer does not wait for their fsync. */
    sqlite3 *ckpt_db;
    pthread_t ckpt_thread;
    int ckpt_started, ckpt_wanted, ckpt_stop;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
};

static void handoff_if_full(struct store *st);

#define RUN_MAX_ENTRIES_BYTES 65536

struct data_run {
    int active;
    struct session_event first; /* the run's first event; its spans are not kept */
    uint64_t bytes;
    struct strbuf entries, lines;
    int have_lines;
};

/* Session columns bound from ?2 on, in this order, by bind_session(). */
static const char *const session_cols[] = {
    "session_no", "client_ip", "client_port", "server_ip", "server_port", "client_addr", "server_addr", "ipv6",
    "first_frame", "last_frame", "start_ts", "end_ts", "start_ts_usec", "end_ts_usec", "end_reason",
    "banner_code", "banner", "banner_host", "banner_software", "banner_datetime", "banner_esmtp",
    "greeting_verb", "greeting_arg", "ehlo_attempts", "helo_attempts", "ehlo_accepted", "fallback", "tls",
    "auth_mech", "auth_user", "auth_result", "messages", "commands", "replies", "client_bytes",
    "server_bytes", "gap_bytes", "app_protocol", "tls_server_name", "pipelining", "closed",
};
#define N_SESSION_COLS (sizeof session_cols / sizeof session_cols[0])

static const char sql_capability[] = "INSERT INTO capabilities (session_id, seq, keyword, params) VALUES (?1, ?2, ?3, ?4)";
static const char sql_event[] =
    "INSERT INTO events (session_id, seq, frame, frames, ts, ts_usec, dir, kind, verb, verb_text, args, code, "
    "enhanced_code, text, lines, bytes, flags, gap_len, reply_to_seq, run) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";
static const char sql_message[] =
    "INSERT INTO messages (session_id, seq, mail_from, mail_params, declared_size, transport, body_bytes, "
    "subject, header_from, header_to, message_id, header_date, result_code, result_text, first_frame, "
    "recipients_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
static const char sql_recipient[] =
    "INSERT INTO recipients (message_id, seq, address, params, code, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_finding[] =
    "INSERT INTO findings (session_id, kind, extension, severity, frame, event_seq, detail) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

const char *store_schema_sql(void)
{
    return schema_sql;
}

static void set_errbuf(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", msg);
}

/* Records the first error (sticky); later writes are skipped. */
__attribute__((format(printf, 2, 3))) static void fail(struct store *st, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&st->err_mu);
    if (!atomic_load(&st->failed)) {
        va_start(ap, fmt);
        vsnprintf(st->err, sizeof st->err, fmt, ap);
        va_end(ap);
        atomic_store(&st->failed, 1);
    }
    pthread_mutex_unlock(&st->err_mu);
}

static void fail_db(struct store *st, const char *what)
{
    fail(st, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

/* Whole seconds of usec (rounded down, also before 1970) and the microseconds after them. */
static int64_t usec_split(int64_t usec, long *frac)
{
    int64_t secs = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);

    *frac = (long)(usec - secs * 1000000);
    return secs;
}

/* "2024-06-04T11:49:28" into day; -1 when that time cannot be shown. */
static int format_day(int64_t secs64, char day[32])
{
    time_t secs = (time_t)secs64;
    struct tm tm;

    return gmtime_r(&secs, &tm) && strftime(day, 32, "%Y-%m-%dT%H:%M:%S", &tm) ? 0 : -1;
}

/* "2024-06-04T11:49:28.979341Z" */
static void format_ts(int64_t usec, char *buf, size_t len)
{
    long frac;
    int64_t secs = usec_split(usec, &frac);
    char day[32];

    if (format_day(secs, day) < 0)
        snprintf(buf, len, "%" PRId64, usec);
    else
        snprintf(buf, len, "%s.%06ldZ", day, frac);
}

/* Decimal digits of v at p, no NUL; returns the end. snprintf is most of the cost of a data run's
 * "frame:ts:bytes:dir;" entries, written for every segment of every body. */
static char *u64_digits(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *i64_digits(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return u64_digits(p, (uint64_t)0 - (uint64_t)v);
    }
    return u64_digits(p, (uint64_t)v);
}

/* format_ts for the rows: consecutive events mostly share their second, so its text is reused. */
static void format_ts_cached(struct store *st, int64_t usec, char *buf, size_t len)
{
    long frac;
    int64_t secs = usec_split(usec, &frac);
    size_t day_len;
    int i;

    if (!st->ts_cache_day[0] || secs != st->ts_cache_secs) {
        if (format_day(secs, st->ts_cache_day) < 0) {
            st->ts_cache_day[0] = '\0';
            format_ts(usec, buf, len);
            return;
        }
        st->ts_cache_secs = secs;
    }
    day_len = strlen(st->ts_cache_day);
    if (day_len + 9 > len) {
        format_ts(usec, buf, len);
        return;
    }
    memcpy(buf, st->ts_cache_day, day_len);
    buf[day_len] = '.';
    for (i = 6; i >= 1; i--, frac /= 10)
        buf[day_len + (size_t)i] = (char)('0' + frac % 10);
    buf[day_len + 7] = 'Z';
    buf[day_len + 8] = '\0';
}

static int buf_reserve(struct strbuf *b, size_t more)
{
    char *p;
    size_t cap;

    if (b->len + more + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(struct strbuf *b, const char *p, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_adds(struct strbuf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

static int exec_sql(struct store *st, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fail(st, "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/*
 * Switching a new file to WAL needs an exclusive lock, and SQLite does not wait on the busy handler
 * for it: two runs starting together on a new database retry here, for the same 5 s as busy_timeout.
 */
static int set_wal(struct store *st)
{
    struct timespec pause = {0, 50 * 1000 * 1000};
    int tries;

    for (tries = 0; tries < 100; tries++) {
        int rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        nanosleep(&pause, NULL);
    }
    fail_db(st, "journal_mode WAL");
    return -1;
}

static int64_t monotonic_usec(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int tx_begin(struct store *st)
{
    if (st->failed)
        return -1;
    if (st->in_tx)
        return 0;
    /* IMMEDIATE: take the write lock now, so a second writer waits on the busy timeout instead of
     * failing at once when it would have to upgrade a read lock (SQLite lang_transaction.html). */
    if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    st->in_tx = 1;
    st->pending_rows = 0;
    st->tx_started_usec = monotonic_usec();
    return 0;
}

static int tx_commit(struct store *st)
{
    if (!st->in_tx)
        return st->failed ? -1 : 0;
    if (st->failed) {
        /* Keep what earlier batches committed; this one may be half-written. */
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        st->in_tx = 0;
        return -1;
    }
    if (exec_sql(st, "COMMIT") < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        st->in_tx = 0;
        return -1;
    }
    st->in_tx = 0;
    st->pending_rows = 0;
    return 0;
}

/* Steps a bound insert/update once and resets it; counts the row toward the batch. */
static int step_done(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);

    if (rc != SQLITE_DONE) {
        fail_db(st, what);
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return -1;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    st->pending_rows++;
    return 0;
}

/* After a sink callback: commit when the batch is full. */
static void batch_check(struct store *st)
{
    /* Every STORE_BATCH_ROWS rows or STORE_BATCH_USEC, whichever first: other writers and readers
     * wait at most that long, and a crash loses at most that much. */
    if (st->in_tx && (st->pending_rows >= STORE_BATCH_ROWS ||
                      ((st->pending_rows & 255) == 0 && monotonic_usec() - st->tx_started_usec >= STORE_BATCH_USEC)))
        tx_commit(st);
}

/* Binding helpers: every failure is recorded, and the step that follows is skipped. */
static int bind_i64(struct store *st, sqlite3_stmt *stmt, int idx, int64_t v)
{
    if (sqlite3_bind_int64(stmt, idx, v) != SQLITE_OK) {
        fail_db(st, "bind");
        return -1;
    }
    return 0;
}

static int bind_null(struct store *st, sqlite3_stmt *stmt, int idx)
{
    if (sqlite3_bind_null(stmt, idx) != SQLITE_OK) {
        fail_db(st, "bind");
        return -1;
    }
    return 0;
}

/* Text of len bytes (may hold any byte); NULL p binds NULL. */
static int bind_span(struct store *st, sqlite3_stmt *stmt, int idx, const char *p, size_t len)
{
    int rc;

    if (!p)
        return bind_null(st, stmt, idx);
    if (len > (size_t)0x7fffffff)
        len = 0x7fffffff;
    rc = sqlite3_bind_text(stmt, idx, len ? p : "", (int)len, SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) {
        fail_db(st, "bind");
        return -1;
    }
    return 0;
}

static int bind_str(struct store *st, sqlite3_stmt *stmt, int idx, const char *s)
{
    return bind_span(st, stmt, idx, s, s ? strlen(s) : 0);
}

/* "" binds NULL: optional text. */
static int bind_opt(struct store *st, sqlite3_stmt *stmt, int idx, const char *s)
{
    return s && s[0] ? bind_str(st, stmt, idx, s) : bind_null(st, stmt, idx);
}


static int bind_ts(struct store *st, sqlite3_stmt *stmt, int idx, int64_t usec)
{
    char ts[48];

    format_ts(usec, ts, sizeof ts);
    return bind_str(st, stmt, idx, ts);
}

/*
 * Rows on their way to SQLite. The sink callbacks run on the parsing thread: they only encode each
 * row (statement, then its values for ?1, ?2, ...) into a buffer. Whoever owns the connection
 * executes the buffers in order: the writer thread once store_start_writer() ran, else the caller
 * when a buffer is handed over. A session's id is known only once its row is inserted, so rows name
 * the session by a handle the executing side fills in (and frees on ROW_RELEASE).
 */
enum row_op { ROW_INSERT, ROW_RELEASE };
enum row_flag { ROWF_SET_SESSION_ID = 1, ROWF_SET_MESSAGE_ID = 2 };
enum val_type { VAL_NULL, VAL_I64, VAL_TEXT, VAL_SESSION_ID, VAL_MESSAGE_ID };

struct row_session {
    int64_t db_id; /* 0 until its row is inserted; only the executing side reads or writes it */
};

/* Producer-side state of one session: its handle and the data run being gathered. */
struct sink_session {
    struct row_session *handle;
    struct data_run run;
};

struct row_header {
    uint8_t op, stmt, flags, n_values;
    struct row_session *session;
};

/* Room for more bytes of the row being encoded; NULL (row marked bad, error recorded) when out of memory. */
static char *row_room(struct store *st, size_t more)
{
    if (st->row_bad)
        return NULL;
    if (buf_reserve(&st->rows, more) < 0) {
        fail(st, "%s: out of memory", st->path);
        st->row_bad = 1;
        return NULL;
    }
    return st->rows.p + st->rows.len;
}

/* Appends a row header (the start of a row, or a release). */
static void put_header(struct store *st, const struct row_header *h)
{
    char *d = row_room(st, sizeof *h);

    if (d) {
        memcpy(d, h, sizeof *h);
        st->rows.len += sizeof *h;
    }
}

/* Starts a row; values follow with put_*, row_end() completes it. */
static void row_begin(struct store *st, enum stmt_id stmt, struct row_session *session, unsigned flags)
{
    struct row_header h = {ROW_INSERT, (uint8_t)stmt, (uint8_t)flags, 0, session};

    st->row_start = st->rows.len;
    st->row_values = 0;
    st->row_bad = 0;
    put_header(st, &h);
}

static void put_value(struct store *st, enum val_type type, const void *payload, size_t len)
{
    char *d = row_room(st, 1 + len);

    if (!d)
        return;
    d[0] = (char)type;
    if (len)
        memcpy(d + 1, payload, len);
    st->rows.len += 1 + len;
    st->row_values++;
}

static void put_null(struct store *st)
{
    put_value(st, VAL_NULL, NULL, 0);
}

static void put_i64(struct store *st, int64_t v)
{
    put_value(st, VAL_I64, &v, sizeof v);
}

/* Text of len bytes (any byte); NULL p is NULL. */
static void put_span(struct store *st, const char *p, size_t len)
{
    uint32_t n;
    char *d;

    if (!p) {
        put_null(st);
        return;
    }
    if (len > (size_t)0x7fffffff)
        len = 0x7fffffff;
    n = (uint32_t)len;
    d = row_room(st, 1 + sizeof n + len);
    if (!d)
        return;
    d[0] = (char)VAL_TEXT;
    memcpy(d + 1, &n, sizeof n);
    if (len)
        memcpy(d + 1 + sizeof n, p, len);
    st->rows.len += 1 + sizeof n + len;
    st->row_values++;
}

static void put_str(struct store *st, const char *s)
{
    put_span(st, s, s ? strlen(s) : 0);
}

/* "" is NULL: optional text. */
static void put_opt(struct store *st, const char *s)
{
    if (s && s[0])
        put_str(st, s);
    else
        put_null(st);
}

/* 0 is NULL: optional numbers (reply codes). */
static void put_opt_i64(struct store *st, int64_t v)
{
    if (v)
        put_i64(st, v);
    else
        put_null(st);
}

static void put_ts(struct store *st, int64_t usec)
{
    char ts[48];

    format_ts_cached(st, usec, ts, sizeof ts);
    put_str(st, ts);
}

static void row_end(struct store *st)
{
    struct row_header h;

    if (st->row_bad || st->row_values > 255) {
        st->rows.len = st->row_start; /* the row is dropped; an error was recorded */
        st->row_bad = 0;
        return;
    }
    memcpy(&h, st->rows.p + st->row_start, sizeof h);
    h.n_values = (uint8_t)st->row_values;
    memcpy(st->rows.p + st->row_start, &h, sizeof h);
    handoff_if_full(st);
}

static void row_release(struct store *st, struct row_session *session)
{
    struct row_header h = {ROW_RELEASE, 0, 0, 0, session};

    /* Out of memory here, the handle leaks: rows already queued may still name it. */
    put_header(st, &h);
    st->row_bad = 0;
    handoff_if_full(st);
}

/* Executing side: binds and steps every row of one buffer, in order. */
static void exec_rows(struct store *st, const struct strbuf *b)
{
    const char *p = b->p, *end = b->p ? b->p + b->len : NULL;

    while (p && p + sizeof(struct row_header) <= end) {
        struct row_header h;
        sqlite3_stmt *stmt;
        int bad = 0, skip;
        unsigned i;

        memcpy(&h, p, sizeof h);
        p += sizeof h;
        if (h.op == ROW_RELEASE) {
            free(h.session);
            continue;
        }
        skip = atomic_load(&st->failed) || (h.session && !h.session->db_id && !(h.flags & ROWF_SET_SESSION_ID)) ||
               tx_begin(st) < 0;
        stmt = st->stmt[h.stmt];
        for (i = 1; i <= h.n_values; i++) {
            uint8_t type = (uint8_t)*p++;
            int64_t v;
            uint32_t n;

            switch (type) {
            case VAL_I64:
                memcpy(&v, p, sizeof v);
                p += sizeof v;
                if (!skip)
                    bad |= bind_i64(st, stmt, (int)i, v);
                break;
            case VAL_TEXT:
                memcpy(&n, p, sizeof n);
                p += sizeof n;
                /* STATIC: the buffer outlives the step, and bindings are cleared after it. */
                if (!skip && sqlite3_bind_text(stmt, (int)i, n ? p : "", (int)n, SQLITE_STATIC) != SQLITE_OK) {
                    fail_db(st, "bind");
                    bad = 1;
                }
                p += n;
                break;
            case VAL_SESSION_ID:
                if (!skip)
                    bad |= bind_i64(st, stmt, (int)i, h.session ? h.session->db_id : 0);
                break;
            case VAL_MESSAGE_ID:
                if (!skip)
                    bad |= bind_i64(st, stmt, (int)i, st->last_message_id);
                break;
            default:
                if (!skip)
                    bad |= bind_null(st, stmt, (int)i);
                break;
            }
        }
        if (skip)
            continue;
        if (bad) {
            sqlite3_clear_bindings(stmt);
            continue;
        }
        if (step_done(st, stmt, stmt_what[h.stmt]) < 0)
            continue;
        if ((h.flags & ROWF_SET_SESSION_ID) && h.session)
            h.session->db_id = sqlite3_last_insert_rowid(st->db);
        if (h.flags & ROWF_SET_MESSAGE_ID)
            st->last_message_id = sqlite3_last_insert_rowid(st->db);
        batch_check(st);
    }
}

/* The writer thread: executes handed-over buffers; commits an open batch when rows stop coming. */
static void *writer_main(void *arg)
{
    struct store *st = arg;

    pthread_mutex_lock(&st->queue_mu);
    for (;;) {
        struct strbuf b;

        while (!st->queue_count && !st->writer_stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&st->queue_work, &st->queue_mu, &until) == ETIMEDOUT) {
                pthread_mutex_unlock(&st->queue_mu);
                pthread_mutex_lock(&st->db_mu);
                if (st->in_tx && monotonic_usec() - st->tx_started_usec >= STORE_BATCH_USEC)
                    tx_commit(st);
                pthread_mutex_unlock(&st->db_mu);
                pthread_mutex_lock(&st->queue_mu);
            }
        }
        if (!st->queue_count)
            break; /* stop asked, nothing left */
        b = st->queue[st->queue_head];
        st->queue_head = (st->queue_head + 1) % WRITER_QUEUE;
        st->queue_count--;
        st->writer_busy = 1;
        pthread_mutex_unlock(&st->queue_mu);

        pthread_mutex_lock(&st->db_mu);
        exec_rows(st, &b);
        pthread_mutex_unlock(&st->db_mu);

        pthread_mutex_lock(&st->queue_mu);
        b.len = 0;
        if (st->n_spare < WRITER_QUEUE)
            st->spare[st->n_spare++] = b;
        else
            free(b.p);
        st->writer_busy = 0;
        pthread_cond_broadcast(&st->queue_done);
    }
    pthread_mutex_unlock(&st->queue_mu);
    return NULL;
}

/* Gives the rows encoded so far to the executing side (blocks while the writer is WRITER_QUEUE behind). */
static void handoff(struct store *st)
{
    if (!st->rows.len)
        return;
    if (!st->writer_started) {
        exec_rows(st, &st->rows);
        st->rows.len = 0;
        return;
    }
    pthread_mutex_lock(&st->queue_mu);
    while (st->queue_count == WRITER_QUEUE)
        pthread_cond_wait(&st->queue_done, &st->queue_mu);
    st->queue[(st->queue_head + st->queue_count) % WRITER_QUEUE] = st->rows;
    st->queue_count++;
    if (st->n_spare)
        st->rows = st->spare[--st->n_spare];
    else
        memset(&st->rows, 0, sizeof st->rows);
    pthread_cond_signal(&st->queue_work);
    pthread_mutex_unlock(&st->queue_mu);
}

static void handoff_if_full(struct store *st)
{
    if (st->rows.len >= ROWS_HANDOFF_BYTES)
        handoff(st);
}

/* Before the caller's thread uses the connection: every row queued is executed, the writer is idle. */
static void store_enter(struct store *st)
{
    handoff(st);
    if (!st->writer_started)
        return;
    pthread_mutex_lock(&st->queue_mu);
    while (st->queue_count || st->writer_busy)
        pthread_cond_wait(&st->queue_done, &st->queue_mu);
    pthread_mutex_unlock(&st->queue_mu);
    pthread_mutex_lock(&st->db_mu);
}

static void store_leave(struct store *st)
{
    if (st->writer_started)
        pthread_mutex_unlock(&st->db_mu);
}

/* The checkpointer thread: a PASSIVE checkpoint each time the writer's commits report a WAL over
 * WAL_CHECKPOINT_PAGES. It copies and fsyncs while the writer goes on appending to the WAL. */
static void *checkpointer_main(void *arg)
{
    struct store *st = arg;

    pthread_mutex_lock(&st->ckpt_mu);
    for (;;) {
        int rc;

        while (!st->ckpt_wanted && !st->ckpt_stop)
            pthread_cond_wait(&st->ckpt_cv, &st->ckpt_mu);
        if (st->ckpt_stop)
            break;
        st->ckpt_wanted = 0;
        pthread_mutex_unlock(&st->ckpt_mu);
        rc = sqlite3_wal_checkpoint_v2(st->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        /* BUSY: another checkpoint is running. Anything else (disk full, I/O) stops the store. */
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            fail(st, "%s: checkpoint: %s", st->path, sqlite3_errmsg(st->ckpt_db));
        pthread_mutex_lock(&st->ckpt_mu);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    return NULL;
}

/* SQLite's WAL hook, after each commit of the writer's connection (it replaces autocheckpoint). */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store *st = arg;

    if (pages >= WAL_FORCE_PAGES) {
        /* The checkpointer is behind: bound the WAL here, as autocheckpoint would have. */
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            return rc;
    } else if (pages >= WAL_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&st->ckpt_mu);
        st->ckpt_wanted = 1;
        pthread_cond_signal(&st->ckpt_cv);
        pthread_mutex_unlock(&st->ckpt_mu);
    }
    return SQLITE_OK;
}

/* For a database file (not :memory:): the checkpointer and its connection. On any failure the
 * writer keeps SQLite's own autocheckpoint. */
static void start_checkpointer(struct store *st)
{
    if (!st->path[0] || strcmp(st->path, ":memory:") == 0 || strncmp(st->path, "file:", 5) == 0)
        return;
    /* The read makes the new connection open the WAL: until then its checkpoints do nothing. */
    if (sqlite3_open_v2(st->path, &st->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(st->ckpt_db, 5000) != SQLITE_OK ||
        sqlite3_exec(st->ckpt_db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    if (pthread_create(&st->ckpt_thread, NULL, checkpointer_main, st) != 0) {
        sqlite3_close(st->ckpt_db);
        st->ckpt_db = NULL;
        return;
    }
    st->ckpt_started = 1;
    sqlite3_wal_hook(st->db, on_wal_commit, st);
}

static void stop_checkpointer(struct store *st)
{
    if (!st->ckpt_started)
        return;
    sqlite3_wal_autocheckpoint(st->db, WAL_CHECKPOINT_PAGES); /* also removes on_wal_commit */
    pthread_mutex_lock(&st->ckpt_mu);
    st->ckpt_stop = 1;
    pthread_cond_signal(&st->ckpt_cv);
    pthread_mutex_unlock(&st->ckpt_mu);
    pthread_join(st->ckpt_thread, NULL);
    sqlite3_close(st->ckpt_db);
    st->ckpt_db = NULL;
    st->ckpt_started = 0;
}

int store_start_writer(struct store *st)
{
    if (st->writer_started)
        return 0;
    handoff(st);
    if (pthread_create(&st->writer, NULL, writer_main, st) != 0)
        return -1;
    st->writer_started = 1;
    pthread_mutex_lock(&st->db_mu);
    start_checkpointer(st);
    pthread_mutex_unlock(&st->db_mu);
    return 0;
}

static void stop_writer(struct store *st)
{
    if (!st->writer_started)
        return;
    handoff(st);
    pthread_mutex_lock(&st->queue_mu);
    st->writer_stop = 1;
    pthread_cond_signal(&st->queue_work);
    pthread_mutex_unlock(&st->queue_mu);
    pthread_join(st->writer, NULL);
    st->writer_started = 0;
    /* Before the writer's connection closes: the last connection to close checkpoints and removes
     * the WAL. */
    stop_checkpointer(st);
}

static void put_session(struct store *st, const struct session_summary *s)
{
    put_i64(st, (int64_t)s->id);
    put_str(st, s->ep.client_ip);
    put_i64(st, s->ep.client_port);
    put_str(st, s->ep.server_ip);
    put_i64(st, s->ep.server_port);
    put_str(st, s->client_addr);
    put_str(st, s->server_addr);
    put_i64(st, s->ep.ipv6 != 0);
    put_i64(st, (int64_t)s->first_frame);
    put_i64(st, (int64_t)s->last_frame);
    put_ts(st, s->start_ts_usec);
    if (s->ended)
        put_ts(st, s->end_ts_usec);
    else
        put_null(st);
    put_i64(st, s->start_ts_usec);
    if (s->ended) {
        put_i64(st, s->end_ts_usec);
        put_str(st, session_end_name(s->end_reason));
    } else {
        put_null(st);
        put_null(st);
    }
    put_opt_i64(st, s->banner_code);
    put_opt(st, s->banner);
    put_opt(st, s->banner_host);
    put_opt(st, s->banner_software);
    put_opt(st, s->banner_datetime);
    put_i64(st, s->banner_esmtp != 0);
    put_opt(st, s->greeting_verb);
    put_opt(st, s->greeting_arg);
    put_i64(st, s->ehlo_attempts);
    put_i64(st, s->helo_attempts);
    put_i64(st, s->ehlo_accepted != 0);
    put_i64(st, s->fallback != 0);
    put_str(st, session_tls_name(s->tls));
    put_opt(st, s->auth_mech);
    put_opt(st, s->auth_user);
    put_opt_i64(st, s->auth_result);
    put_i64(st, (int64_t)s->messages);
    put_i64(st, (int64_t)s->commands);
    put_i64(st, (int64_t)s->replies);
    put_i64(st, (int64_t)s->client_bytes);
    put_i64(st, (int64_t)s->server_bytes);
    put_i64(st, (int64_t)s->gap_bytes);
    put_opt(st, s->app_protocol);
    put_opt(st, s->tls_server_name);
    put_i64(st, s->pipelining != 0);
    put_i64(st, s->ended != 0);
}

static void sink_opened(void *ctx, struct session_summary *s)
{
    struct store *st = ctx;
    struct sink_session *ss;

    if (atomic_load(&st->failed))
        return;
    ss = calloc(1, sizeof *ss);
    if (!ss || !(ss->handle = calloc(1, sizeof *ss->handle))) {
        free(ss);
        fail(st, "%s: out of memory", st->path);
        return;
    }
    s->sink_data = ss;
    row_begin(st, ST_SESSION_INSERT, ss->handle, ROWF_SET_SESSION_ID);
    if (st->capture_id)
        put_i64(st, st->capture_id);
    else
        put_null(st);
    put_session(st, s);
    row_end(st);
}

/* The line after its verb and the spaces that follow: "AUTH PLAIN <redacted>" -> "PLAIN <redacted>". */
static struct smtp_span after_verb(struct smtp_span text)
{
    size_t i = 0;

    while (i < text.len && text.p[i] != ' ')
        i++;
    while (i < text.len && text.p[i] == ' ')
        i++;
    text.p += i;
    text.len -= i;
    return text;
}

/* First lines of a frame's body data, CR dropped, cut one byte past what netmon shows. */
static int body_lines(struct strbuf *b, struct smtp_span data)
{
    const char *p = data.p, *end = data.p ? data.p + data.len : NULL;
    size_t shown = 0;

    while (p && p < end && shown < STORE_BODY_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > STORE_BODY_LINE_KEEP)
            len = STORE_BODY_LINE_KEEP;
        if ((shown && buf_add(b, "\n", 1) < 0) || buf_add(b, p, len) < 0)
            return -1;
        shown++;
        p = nl ? nl + 1 : end;
    }
    return (int)shown;
}

/*
 * One events row. For a data run, run holds its "frame:ts_usec:bytes:dir;" entries and run_lines the
 * first chunk's body lines (NULL: none); the row then speaks for every event of the run.
 */
static void insert_event(struct store *st, struct sink_session *ss, const struct session_event *ev,
                         const struct strbuf *run, const struct strbuf *run_lines)
{
    char frames[SMTP_MAX_FRAMES * 24 + 8];
    size_t i, off = 0;
    int have_lines = 0;
    struct smtp_span text = {NULL, 0}, args = {NULL, 0};

    st->buf.len = 0;
    for (i = 0; ev->frames && i < ev->n_frames && off + 24 < sizeof frames; i++) {
        int n = snprintf(frames + off, sizeof frames - off, "%s%" PRIu64, i ? "," : "", ev->frames[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    frames[off] = '\0';

    switch (ev->kind) {
    case SMTP_EV_COMMAND:
        text = ev->text;
        /* AUTH: only the redacted text is ever stored, never the parser's args. */
        args = ev->verb == SMTP_VERB_AUTH ? after_verb(ev->text) : ev->args;
        break;
    case SMTP_EV_AUTH_RESPONSE:
    case SMTP_EV_BAD_REPLY:
        text = ev->text;
        break;
    case SMTP_EV_REPLY:
        if (ev->n_lines > 0) {
            text = ev->lines[0];
            if (text.len > 4) {
                text.p += 4;
                text.len -= 4;
            } else {
                text.p = "";
                text.len = 0;
            }
        }
        for (i = 0; i < ev->n_lines; i++)
            if ((i && buf_add(&st->buf, "\n", 1) < 0) || buf_add(&st->buf, ev->lines[i].p, ev->lines[i].len) < 0)
                break;
        if (i < ev->n_lines) {
            fail(st, "%s: out of memory", st->path);
            return;
        }
        have_lines = ev->n_lines > 0;
        break;
    case SMTP_EV_BODY: {
        int n;
        if (run) {
            have_lines = run_lines != NULL;
            if (run_lines && buf_add(&st->buf, run_lines->p ? run_lines->p : "", run_lines->len) < 0) {
                fail(st, "%s: out of memory", st->path);
                return;
            }
            break;
        }
        n = body_lines(&st->buf, ev->data);
        if (n < 0) {
            fail(st, "%s: out of memory", st->path);
            return;
        }
        have_lines = n > 0;
        break;
    }
    default:
        break;
    }
    if (text.p && !text.len)
        text.p = "";
    row_begin(st, ST_EVENT, ss->handle, 0);
    put_value(st, VAL_SESSION_ID, NULL, 0);
    put_i64(st, (int64_t)ev->seq);
    put_i64(st, (int64_t)ev->frame);
    if (ev->n_frames > 1)
        put_str(st, frames);
    else
        put_null(st);
    put_ts(st, ev->ts_usec);
    put_i64(st, ev->ts_usec);
    put_str(st, ev->from_client ? "C" : "S");
    put_str(st, smtp_event_kind_name(ev->kind));
    if (ev->kind == SMTP_EV_COMMAND) {
        put_opt(st, ev->verb != SMTP_VERB_UNKNOWN ? smtp_verb_name(ev->verb) : "");
        put_span(st, ev->verb_text.p ? ev->verb_text.p : "", ev->verb_text.len);
        put_span(st, args.p ? args.p : "", args.len);
    } else {
        put_null(st);
        put_null(st);
        put_null(st);
    }
    if (ev->kind == SMTP_EV_REPLY) {
        put_i64(st, ev->code);
        if (ev->enhanced.len)
            put_span(st, ev->enhanced.p, ev->enhanced.len);
        else
            put_null(st);
    } else {
        put_null(st);
        put_null(st);
    }
    put_span(st, text.p, text.len);
    if (have_lines)
        put_span(st, st->buf.p ? st->buf.p : "", st->buf.len);
    else
        put_null(st);
    put_i64(st, (int64_t)ev->bytes);
    put_i64(st, (int64_t)ev->flags);
    if (ev->kind == SMTP_EV_GAP)
        put_i64(st, (int64_t)ev->gap_len);
    else
        put_null(st);
    if (ev->kind == SMTP_EV_REPLY || ev->kind == SMTP_EV_BAD_REPLY)
        put_i64(st, (int64_t)ev->reply_to_seq);
    else
        put_null(st);
    if (run)
        put_span(st, run->p ? run->p : "", run->len);
    else
        put_null(st);
    row_end(st);
}

/*
 * Message bodies, BDAT chunks and TLS bytes arrive one event per segment: a 1 MB message is hundreds of
 * them. Consecutive data events of one kind in a session become one row (its entries keep every
 * segment's frame, time, size and direction, so `show` prints them as `read --netmon` did).
 */
static int is_data_kind(enum smtp_event_kind kind)
{
    return kind == SMTP_EV_BODY || kind == SMTP_EV_BDAT_DATA || kind == SMTP_EV_TLS_DATA;
}

static void run_flush(struct store *st, struct sink_session *ss)
{
    struct data_run *run = &ss->run;

    if (!run->active)
        return;
    run->first.bytes = run->bytes;
    run->first.n_frames = 1;
    run->first.frames = NULL;
    insert_event(st, ss, &run->first, &run->entries, run->have_lines ? &run->lines : NULL);
    run->active = 0;
    run->entries.len = 0;
    run->lines.len = 0;
    run->have_lines = 0;
}

static void run_add(struct store *st, struct sink_session *ss, const struct session_event *ev)
{
    struct data_run *run = &ss->run;
    char entry[96];
    int n;

    if (run->active && run->first.kind != ev->kind)
        run_flush(st, ss);
    if (!run->active) {
        memset(&run->first, 0, sizeof run->first);
        run->first.seq = ev->seq;
        run->first.kind = ev->kind;
        run->first.from_client = ev->from_client;
        run->first.frame = ev->frame;
        run->first.ts_usec = ev->ts_usec;
        run->bytes = 0;
        run->active = 1;
        /* Network Monitor's first lines: only where the message starts (README, transcript). */
        if (ev->kind == SMTP_EV_BODY && ev->data_index == 0) {
            if (body_lines(&run->lines, ev->data) < 0) {
                fail(st, "%s: out of memory", st->path);
                return;
            }
            run->have_lines = 1;
        }
    }
    {
        char *e = u64_digits(entry, ev->frame);
        *e++ = ':';
        e = i64_digits(e, ev->ts_usec);
        *e++ = ':';
        e = u64_digits(e, ev->bytes);
        *e++ = ':';
        *e++ = ev->from_client ? 'C' : 'S';
        *e++ = ';';
        n = (int)(e - entry);
    }
    if (buf_add(&run->entries, entry, (size_t)n) < 0) {
        fail(st, "%s: out of memory", st->path);
        return;
    }
    run->bytes += ev->bytes;
    if (run->entries.len >= RUN_MAX_ENTRIES_BYTES)
        run_flush(st, ss);
}

static void sink_event(void *ctx, const struct session_summary *s, const struct session_event *ev)
{
    struct store *st = ctx;
    struct sink_session *ss = s->sink_data;

    if (!ss || atomic_load(&st->failed))
        return;
    if (is_data_kind(ev->kind)) {
        run_add(st, ss, ev);
        return;
    }
    run_flush(st, ss);
    insert_event(st, ss, ev, NULL, NULL);
}

static void sink_message(void *ctx, const struct session_summary *s, const struct session_message *m)
{
    struct store *st = ctx;
    struct sink_session *ss = s->sink_data;
    size_t i;

    if (!ss || atomic_load(&st->failed))
        return;
    row_begin(st, ST_MESSAGE, ss->handle, ROWF_SET_MESSAGE_ID);
    put_value(st, VAL_SESSION_ID, NULL, 0);
    put_i64(st, (int64_t)m->seq);
    put_str(st, m->mail_from);
    put_opt(st, m->mail_params);
    if (m->declared_size >= 0)
        put_i64(st, m->declared_size);
    else
        put_null(st);
    put_opt(st, m->transport);
    put_i64(st, (int64_t)m->body_bytes);
    put_opt(st, m->subject);
    put_opt(st, m->header_from);
    put_opt(st, m->header_to);
    put_opt(st, m->message_id);
    put_opt(st, m->header_date);
    put_opt_i64(st, m->result_code);
    put_opt(st, m->result_text);
    put_i64(st, (int64_t)m->first_frame);
    put_i64(st, (int64_t)m->recipients_seen);
    row_end(st);
    for (i = 0; m->recipients && i < m->n_recipients; i++) {
        const struct session_recipient *r = &m->recipients[i];
        row_begin(st, ST_RECIPIENT, ss->handle, 0);
        put_value(st, VAL_MESSAGE_ID, NULL, 0);
        put_i64(st, (int64_t)i + 1);
        put_str(st, r->address);
        put_opt(st, r->params);
        put_opt_i64(st, r->code);
        put_opt(st, r->text);
        row_end(st);
    }
}

static void sink_finding(void *ctx, const struct session_summary *s, const struct finding *f)
{
    struct store *st = ctx;
    struct sink_session *ss = s->sink_data;

    if (!ss || atomic_load(&st->failed))
        return;
    row_begin(st, ST_FINDING, ss->handle, 0);
    put_value(st, VAL_SESSION_ID, NULL, 0);
    put_str(st, finding_kind_name(f->kind));
    put_opt(st, f->extension);
    put_str(st, finding_severity_name(f->severity));
    put_i64(st, (int64_t)f->frame);
    put_i64(st, (int64_t)f->event_seq);
    put_str(st, f->detail ? f->detail : "");
    row_end(st);
}

static void sink_closed(void *ctx, const struct session_summary *s, const struct session_capability *caps,
                        size_t n_caps)
{
    struct store *st = ctx;
    struct sink_session *ss = s->sink_data;
    size_t i;

    if (!ss)
        return;
    if (!atomic_load(&st->failed)) {
        run_flush(st, ss);
        row_begin(st, ST_SESSION_UPDATE, ss->handle, 0);
        put_value(st, VAL_SESSION_ID, NULL, 0);
        put_session(st, s);
        row_end(st);
        for (i = 0; caps && i < n_caps; i++) {
            row_begin(st, ST_CAPABILITY, ss->handle, 0);
            put_value(st, VAL_SESSION_ID, NULL, 0);
            put_i64(st, (int64_t)i + 1);
            put_str(st, caps[i].keyword ? caps[i].keyword : "");
            put_str(st, caps[i].params ? caps[i].params : "");
            row_end(st);
        }
    }
    /* closed() is the session's last callback: nothing reads sink_data after it. The handle goes
     * with the rows, freed once they are executed. */
    row_release(st, ss->handle);
    free(ss->run.entries.p);
    free(ss->run.lines.p);
    free(ss);
}

static const struct session_sink store_sink = {sink_opened, sink_event, sink_message, sink_finding, sink_closed};

const struct session_sink *store_session_sink(void)
{
    return &store_sink;
}

const char *store_error(const struct store *st)
{
    return st && atomic_load(&st->failed) ? st->err : NULL;
}

/* Builds the session INSERT and UPDATE from session_cols. */
static int session_sql(struct strbuf *ins, struct strbuf *upd)
{
    char num[32];
    size_t i;
    int bad = 0;

    bad |= buf_adds(ins, "INSERT INTO sessions (capture_id");
    bad |= buf_adds(upd, "UPDATE sessions SET ");
    for (i = 0; i < N_SESSION_COLS; i++) {
        bad |= buf_adds(ins, ", ");
        bad |= buf_adds(ins, session_cols[i]);
        if (i)
            bad |= buf_adds(upd, ", ");
        bad |= buf_adds(upd, session_cols[i]);
        snprintf(num, sizeof num, " = ?%zu", i + 2);
        bad |= buf_adds(upd, num);
    }
    bad |= buf_adds(ins, ") VALUES (?1");
    for (i = 0; i < N_SESSION_COLS; i++) {
        snprintf(num, sizeof num, ", ?%zu", i + 2);
        bad |= buf_adds(ins, num);
    }
    bad |= buf_adds(ins, ")");
    bad |= buf_adds(upd, " WHERE id = ?1");
    return bad ? -1 : 0;
}

static int prepare_all(struct store *st)
{
    struct strbuf ins = {NULL, 0, 0}, upd = {NULL, 0, 0};
    const char *sql[ST_COUNT];
    int i, rc = 0;

    if (session_sql(&ins, &upd) < 0) {
        fail(st, "%s: out of memory", st->path);
        free(ins.p);
        free(upd.p);
        return -1;
    }
    sql[ST_SESSION_INSERT] = ins.p;
    sql[ST_SESSION_UPDATE] = upd.p;
    sql[ST_CAPABILITY] = sql_capability;
    sql[ST_EVENT] = sql_event;
    sql[ST_MESSAGE] = sql_message;
    sql[ST_RECIPIENT] = sql_recipient;
    sql[ST_FINDING] = sql_finding;
    for (i = 0; i < ST_COUNT && rc == 0; i++) {
        if (sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
            fail_db(st, "prepare");
            rc = -1;
        }
    }
    free(ins.p);
    free(upd.p);
    return rc;
}

/* One integer from a one-row query; -1 with the error recorded. */
static int query_int(struct store *st, const char *sql, int64_t *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        return -1;
    }
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        fail_db(st, "read");
        sqlite3_finalize(stmt);
        return -1;
    }
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return 0;
}

/* Creates the schema in an empty database, checks the version of an existing one. */
static int check_schema(struct store *st)
{
    int64_t version = 0, objects = 0;
    char sql[64];

    if (exec_sql(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    if (query_int(st, "PRAGMA user_version", &version) < 0 ||
        query_int(st, "SELECT count(*) FROM sqlite_master", &objects) < 0)
        goto rollback;
    if (version > STORE_SCHEMA_VERSION) {
        fail(st, "%s: database schema version %" PRId64 " is newer than this smtptrace supports (%d)", st->path,
             version, STORE_SCHEMA_VERSION);
        goto rollback;
    }
    if (version == 0 && objects > 0) {
        fail(st, "%s: not an smtptrace database (it has tables but no schema version)", st->path);
        goto rollback;
    }
    if (version == 0) {
        if (exec_sql(st, schema_sql) < 0)
            goto rollback;
    } else {
        /* Migrations, one step per version, in the same transaction as the version bump. */
        if (version < 2 && (exec_sql(st, "ALTER TABLE sessions ADD COLUMN tls_server_name TEXT") < 0 ||
                            exec_sql(st, "ALTER TABLE sessions ADD COLUMN pipelining INTEGER") < 0 ||
                            exec_sql(st, "ALTER TABLE events ADD COLUMN run TEXT") < 0 ||
                            exec_sql(st, "ALTER TABLE captures ADD COLUMN file_size INTEGER") < 0))
            goto rollback;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    if (version != STORE_SCHEMA_VERSION && exec_sql(st, sql) < 0)
        goto rollback;
    return exec_sql(st, "COMMIT");
rollback:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static void store_free(struct store *st)
{
    int i;

    stop_writer(st);
    for (i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st->buf.p);
    free(st->rows.p);
    for (i = 0; i < (int)st->n_spare; i++)
        free(st->spare[i].p);
    free(st->path);
    pthread_mutex_destroy(&st->err_mu);
    pthread_mutex_destroy(&st->queue_mu);
    pthread_mutex_destroy(&st->db_mu);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    pthread_cond_destroy(&st->queue_work);
    pthread_cond_destroy(&st->queue_done);
    free(st);
}

struct store *store_open(const char *path, char *errbuf, size_t errlen)
{
    struct store *st = calloc(1, sizeof *st);
    size_t plen = strlen(path);

    if (!st || !(st->path = malloc(plen + 1))) {
        free(st);
        set_errbuf(errbuf, errlen, "out of memory");
        return NULL;
    }
    memcpy(st->path, path, plen + 1);
    atomic_init(&st->failed, 0);
    pthread_mutex_init(&st->err_mu, NULL);
    pthread_mutex_init(&st->queue_mu, NULL);
    pthread_mutex_init(&st->db_mu, NULL);
    pthread_mutex_init(&st->ckpt_mu, NULL);
    pthread_cond_init(&st->ckpt_cv, NULL);
    pthread_cond_init(&st->queue_work, NULL);
    pthread_cond_init(&st->queue_done, NULL);
    /*
     * One thread at a time uses this connection (the caller's, or the writer thread under db_mu): no
     * per-call mutex in SQLite, and no global memory statistics, whose mutex SQLite otherwise takes
     * on every allocation. The config call only works before SQLite initialises; later it fails
     * harmlessly.
     */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fail(st, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open database");
        goto error;
    }
    sqlite3_extended_result_codes(st->db, 1);
    if (sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK) {
        fail_db(st, "busy_timeout");
        goto error;
    }
    /* WAL + NORMAL: a crash loses at most the open transaction, never the file (SQLite wal.html).
     * Foreign keys stay declared for readers but are not checked per row: this writer is their only
     * source, and the check costs an index probe per event. */
    if (set_wal(st) < 0 || exec_sql(st, "PRAGMA synchronous = NORMAL") < 0 ||
        exec_sql(st, "PRAGMA foreign_keys = OFF") < 0 || exec_sql(st, "PRAGMA cache_size = -4096") < 0 ||
        sqlite3_wal_autocheckpoint(st->db, WAL_CHECKPOINT_PAGES) != SQLITE_OK ||
        exec_sql(st, "PRAGMA temp_store = MEMORY") < 0)
        goto error;
    if (check_schema(st) < 0 || prepare_all(st) < 0)
        goto error;
    return st;
error:
    set_errbuf(errbuf, errlen, st->err);
    store_free(st);
    return NULL;
}

/* Runs sql with ?1 bound to an integer; for the deletes of --force. */
static int exec_with_id(struct store *st, const char *sql, int64_t id)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        return -1;
    }
    if (sqlite3_bind_int64(stmt, 1, id) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE) {
        fail_db(st, "delete");
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

/* Deletes a capture and everything under it. */
static int delete_capture(struct store *st, int64_t id)
{
    static const char *const deletes[] = {
        ("DELETE FROM recipients WHERE message_id IN (SELECT m.id FROM messages m JOIN sessions s "
         "ON m.session_id = s.id WHERE s.capture_id = ?1)"),
        "DELETE FROM messages WHERE session_id IN (SELECT id FROM sessions WHERE capture_id = ?1)",
        "DELETE FROM events WHERE session_id IN (SELECT id FROM sessions WHERE capture_id = ?1)",
        "DELETE FROM capabilities WHERE session_id IN (SELECT id FROM sessions WHERE capture_id = ?1)",
        "DELETE FROM findings WHERE session_id IN (SELECT id FROM sessions WHERE capture_id = ?1)",
        "DELETE FROM sessions WHERE capture_id = ?1",
        "DELETE FROM captures WHERE id = ?1",
    };
    size_t i;

    for (i = 0; i < sizeof deletes / sizeof deletes[0]; i++)
        if (exec_with_id(st, deletes[i], id) < 0)
            return -1;
    return 0;
}

/*
 * Captures with this digest: a complete one is returned in *complete_id; every
 * one is deleted when delete_all (force, or only unfinished runs were found).
 */
static int find_captures(struct store *st, const char *sha256, int64_t *complete_id, int64_t *ids, size_t max,
                         size_t *n)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    *complete_id = 0;
    *n = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT id, complete FROM captures WHERE sha256 = ?1 ORDER BY id", -1, &stmt,
                           NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        return -1;
    }
    if (sqlite3_bind_text(stmt, 1, sha256, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        fail_db(st, "bind");
        sqlite3_finalize(stmt);
        return -1;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(stmt, 0);
        if (sqlite3_column_int(stmt, 1) && !*complete_id)
            *complete_id = id;
        if (*n < max)
            ids[(*n)++] = id;
    }
    if (rc != SQLITE_DONE) {
        fail_db(st, "read captures");
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

static int store_capture_begin_locked(struct store *st, const char *source, const char *kind, const char *link_type,
                        const char *sha256, int force, int64_t *capture_id, int64_t *existing_id, char *errbuf,
                        size_t errlen)
{
    static const char sql[] = "INSERT INTO captures (source, kind, link_type, sha256, analyzed_at, tool_version) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    sqlite3_stmt *stmt = NULL;
    struct timespec now;
    char when[48];
    int bad = 0;

    if (existing_id)
        *existing_id = 0;
    if (tx_begin(st) < 0)
        goto error;
    if (sha256 && sha256[0]) {
        int64_t complete_id, ids[64];
        size_t n, i;
        do {
            if (find_captures(st, sha256, &complete_id, ids, sizeof ids / sizeof ids[0], &n) < 0)
                goto error;
            if (complete_id && !force) {
                if (existing_id)
                    *existing_id = complete_id;
                if (tx_commit(st) < 0)
                    goto error;
                return 1;
            }
            for (i = 0; i < n; i++)
                if (delete_capture(st, ids[i]) < 0)
                    goto error;
        } while (n == sizeof ids / sizeof ids[0]);
    }
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        now.tv_sec = now.tv_nsec = 0;
    format_ts((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, when, sizeof when);
    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        goto error;
    }
    bad |= bind_str(st, stmt, 1, source ? source : "");
    bad |= bind_str(st, stmt, 2, kind && kind[0] ? kind : "file");
    bad |= bind_opt(st, stmt, 3, link_type);
    bad |= bind_opt(st, stmt, 4, sha256);
    bad |= bind_str(st, stmt, 5, when);
    bad |= bind_str(st, stmt, 6, SMTPTRACE_VERSION);
    if (bad || sqlite3_step(stmt) != SQLITE_DONE) {
        if (!bad)
            fail_db(st, "insert capture");
        sqlite3_finalize(stmt);
        goto error;
    }
    sqlite3_finalize(stmt);
    st->capture_id = sqlite3_last_insert_rowid(st->db);
    if (capture_id)
        *capture_id = st->capture_id;
    if (tx_commit(st) < 0)
        goto error;
    return 0;
error:
    tx_commit(st);
    set_errbuf(errbuf, errlen, st->err);
    return -1;
}

static int store_capture_drop_unfinished_locked(struct store *st, const char *source, uint64_t file_size, char *errbuf,
                                   size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int64_t ids[64];
    size_t n = 0, i;
    int rc;

    if (tx_begin(st) < 0)
        goto error;
    /* Runs of this file that never finished (killed, crashed): their hash was still being computed. */
    if (sqlite3_prepare_v2(st->db, "SELECT id FROM captures WHERE complete = 0 AND source = ?1 AND "
                                   "(file_size = ?2 OR file_size IS NULL) LIMIT 64", -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        goto error;
    }
    if (bind_str(st, stmt, 1, source) < 0 || bind_i64(st, stmt, 2, (int64_t)file_size) < 0) {
        sqlite3_finalize(stmt);
        goto error;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && n < sizeof ids / sizeof ids[0])
        ids[n++] = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    for (i = 0; i < n; i++)
        if (delete_capture(st, ids[i]) < 0)
            goto error;
    return tx_commit(st);
error:
    tx_commit(st);
    set_errbuf(errbuf, errlen, st->err);
    return -1;
}

static int store_capture_size_known_locked(struct store *st, uint64_t file_size)
{
    sqlite3_stmt *stmt = NULL;
    int known = 1; /* on any doubt, hash first */

    if (st->failed || sqlite3_prepare_v2(st->db, "SELECT count(*) FROM captures WHERE complete = 1 AND sha256 IS NOT NULL AND "
                                                 "(file_size = ?1 OR file_size IS NULL)", -1, &stmt, NULL) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return known;
    }
    if (sqlite3_bind_int64(stmt, 1, (sqlite3_int64)file_size) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        known = sqlite3_column_int64(stmt, 0) > 0;
    sqlite3_finalize(stmt);
    return known;
}

static int store_capture_set_file_locked(struct store *st, int64_t capture_id, uint64_t file_size, const char *sha256,
                           char *errbuf, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int bad = 0;

    if (tx_begin(st) < 0)
        goto error;
    if (sqlite3_prepare_v2(st->db, "UPDATE captures SET file_size = ?2, sha256 = coalesce(?3, sha256) WHERE id = ?1",
                           -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        goto error;
    }
    bad |= bind_i64(st, stmt, 1, capture_id);
    bad |= file_size ? bind_i64(st, stmt, 2, (int64_t)file_size) : bind_null(st, stmt, 2);
    bad |= bind_opt(st, stmt, 3, sha256);
    if (bad || sqlite3_step(stmt) != SQLITE_DONE) {
        if (!bad)
            fail_db(st, "update capture");
        sqlite3_finalize(stmt);
        goto error;
    }
    sqlite3_finalize(stmt);
    return 0;
error:
    set_errbuf(errbuf, errlen, st->err);
    return -1;
}

static int store_capture_end_locked(struct store *st, int64_t capture_id, int64_t first_ts_usec, int64_t last_ts_usec,
                      uint64_t packets, uint64_t bytes, char *errbuf, size_t errlen)
{
    static const char sql[] = "UPDATE captures SET first_ts = ?2, last_ts = ?3, first_ts_usec = ?4, "
                              "last_ts_usec = ?5, packets = ?6, bytes = ?7, complete = 1 WHERE id = ?1";
    sqlite3_stmt *stmt = NULL;
    int bad = 0;

    if (tx_begin(st) < 0)
        goto error;
    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        fail_db(st, "prepare");
        goto error;
    }
    bad |= bind_i64(st, stmt, 1, capture_id);
    if (packets) {
        bad |= bind_ts(st, stmt, 2, first_ts_usec);
        bad |= bind_ts(st, stmt, 3, last_ts_usec);
        bad |= bind_i64(st, stmt, 4, first_ts_usec);
        bad |= bind_i64(st, stmt, 5, last_ts_usec);
    }
    bad |= bind_i64(st, stmt, 6, (int64_t)packets);
    bad |= bind_i64(st, stmt, 7, (int64_t)bytes);
    if (bad || sqlite3_step(stmt) != SQLITE_DONE) {
        if (!bad)
            fail_db(st, "update capture");
        sqlite3_finalize(stmt);
        goto error;
    }
    sqlite3_finalize(stmt);
    if (st->capture_id == capture_id)
        st->capture_id = 0;
    if (tx_commit(st) < 0)
        goto error;
    return 0;
error:
    tx_commit(st);
    set_errbuf(errbuf, errlen, st->err);
    return -1;
}

/* The public calls below run on the caller's thread: each first lets the writer finish every row queued. */
int store_capture_begin(struct store *st, const char *source, const char *kind, const char *link_type,
                        const char *sha256, int force, int64_t *capture_id, int64_t *existing_id, char *errbuf,
                        size_t errlen)
{
    int rc;

    store_enter(st);
    rc = store_capture_begin_locked(st, source, kind, link_type, sha256, force, capture_id, existing_id, errbuf,
                                    errlen);
    store_leave(st);
    return rc;
}

int store_capture_drop_unfinished(struct store *st, const char *source, uint64_t file_size, char *errbuf,
                                  size_t errlen)
{
    int rc;

    store_enter(st);
    rc = store_capture_drop_unfinished_locked(st, source, file_size, errbuf, errlen);
    store_leave(st);
    return rc;
}

int store_capture_size_known(struct store *st, uint64_t file_size)
{
    int rc;

    store_enter(st);
    rc = store_capture_size_known_locked(st, file_size);
    store_leave(st);
    return rc;
}

int store_capture_set_file(struct store *st, int64_t capture_id, uint64_t file_size, const char *sha256,
                           char *errbuf, size_t errlen)
{
    int rc;

    store_enter(st);
    rc = store_capture_set_file_locked(st, capture_id, file_size, sha256, errbuf, errlen);
    store_leave(st);
    return rc;
}

int store_capture_end(struct store *st, int64_t capture_id, int64_t first_ts_usec, int64_t last_ts_usec,
                      uint64_t packets, uint64_t bytes, char *errbuf, size_t errlen)
{
    int rc;

    store_enter(st);
    rc = store_capture_end_locked(st, capture_id, first_ts_usec, last_ts_usec, packets, bytes, errbuf, errlen);
    store_leave(st);
    return rc;
}

int store_commit(struct store *st)
{
    int rc;

    store_enter(st);
    rc = tx_commit(st);
    store_leave(st);
    return rc;
}

int store_close(struct store *st)
{
    int rc;

    if (!st)
        return 0;
    handoff(st);
    stop_writer(st);
    rc = tx_commit(st);
    store_free(st);
    return rc;
}

int store_crypto_init(void)
{
    /* libgcrypt must be initialised once, before any thread uses it (gcrypt manual 2.4). */
    static int ready;

    if (!ready) {
        if (!gcry_check_version(NULL))
            return -1;
        gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
        gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
        ready = 1;
    }
    return 0;
}

int store_file_sha256(const char *path, char hex[65])
{
    unsigned char buf[65536];
    const unsigned char *digest;
    gcry_md_hd_t md;
    FILE *f;
    size_t n, i;
    int err;

    hex[0] = '\0';
    if (store_crypto_init() < 0)
        return -1;
    f = fopen(path, "rb");
    if (!f)
        return -1;
    if (gcry_md_open(&md, GCRY_MD_SHA256, 0) != 0) {
        fclose(f);
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        gcry_md_write(md, buf, n);
    err = ferror(f);
    fclose(f);
    digest = err ? NULL : gcry_md_read(md, GCRY_MD_SHA256);
    if (!digest) {
        gcry_md_close(md);
        return -1;
    }
    for (i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    gcry_md_close(md);
    return 0;
}
