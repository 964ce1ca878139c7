/* cmd_show.c: `smtptrace show`: one stored session as its Network Monitor transcript, findings and summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/db_column.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/ladder.h"
#include "cli/show.h"
#include "dissect/netmon.h"
#include "dissect/smtp_parser.h"
#include "store/query.h"

#define DEFAULT_DB "smtptrace.db"
#define SHOW_MAX_FRAMES 64

struct show_finding {
    char *kind, *extension, *severity, *detail;
    int64_t event_seq;
};

struct show {
    sqlite3 *db;
    const char *path;
    FILE *out;
    int64_t id;
    char client_addr[80], server_addr[80];
    struct show_finding *findings;
    size_t n_findings, next_finding;
    struct smtp_span *spans;
    size_t spans_cap;
    char *buf;
    size_t buf_cap;
    int write_failed;
};

static void show_usage(FILE *out)
{
    fputs("usage: smtptrace show [-d DB] [--ladder] SESSION_ID   (default database ./" DEFAULT_DB ")\n", out);
}

static void free_findings(struct show *sh)
{
    size_t i;

    for (i = 0; i < sh->n_findings; i++) {
        free(sh->findings[i].kind);
        free(sh->findings[i].extension);
        free(sh->findings[i].severity);
        free(sh->findings[i].detail);
    }
    free(sh->findings);
}

static int db_error(const struct show *sh)
{
    fprintf(stderr, "smtptrace show: %s: %s\n", sh->path, sqlite3_errmsg(sh->db));
    return -1;
}

static int prepare_id(struct show *sh, const char *sql, sqlite3_stmt **stmt, int64_t id)
{
    if (sqlite3_prepare_v2(sh->db, sql, -1, stmt, NULL) != SQLITE_OK || sqlite3_bind_int64(*stmt, 1, id) != SQLITE_OK) {
        db_error(sh);
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        return -1;
    }
    return 0;
}

static int load_findings(struct show *sh)
{
    sqlite3_stmt *stmt = NULL;
    size_t cap = 0;
    int rc;

    if (prepare_id(sh,
                   "SELECT kind, extension, severity, detail, event_seq FROM findings WHERE session_id = ?1"
                   " ORDER BY (event_seq IS NULL OR event_seq = 0), event_seq, id",
                   &stmt, sh->id) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct show_finding *f;
        if (sh->n_findings == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct show_finding *nf = realloc(sh->findings, ncap * sizeof *nf);
            if (!nf)
                goto nomem;
            sh->findings = nf;
            cap = ncap;
        }
        f = &sh->findings[sh->n_findings];
        memset(f, 0, sizeof *f);
        sh->n_findings++;
        f->kind = db_column_dup(stmt, 0);
        f->extension = db_column_dup(stmt, 1);
        f->severity = db_column_dup(stmt, 2);
        f->detail = db_column_dup(stmt, 3);
        f->event_seq = sqlite3_column_int64(stmt, 4);
        if (!f->kind || !f->extension || !f->severity || !f->detail)
            goto nomem;
    }
    if (rc != SQLITE_DONE) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
nomem:
    sqlite3_finalize(stmt);
    fprintf(stderr, "smtptrace show: out of memory\n");
    return -1;
}

static void put_escaped(struct show *sh, const char *s)
{
    if (netmon_write_escaped(sh->out, s, strlen(s)) < 0)
        sh->write_failed = 1;
}

/* "  ! finding KIND[/EXTENSION] (SEVERITY): DETAIL" */
static void print_finding(struct show *sh, const struct show_finding *f)
{
    fputs("  ! finding ", sh->out);
    put_escaped(sh, f->kind);
    if (f->extension[0]) {
        fputc('/', sh->out);
        put_escaped(sh, f->extension);
    }
    fprintf(sh->out, " (%s): ", f->severity);
    put_escaped(sh, f->detail);
    if (fputc('\n', sh->out) == EOF)
        sh->write_failed = 1;
}

/* Findings that point at events up to seq (seq 0: all that are left). */
static void flush_findings(struct show *sh, int64_t seq)
{
    while (sh->next_finding < sh->n_findings) {
        const struct show_finding *f = &sh->findings[sh->next_finding];
        if (seq && (f->event_seq == 0 || f->event_seq > seq))
            break;
        print_finding(sh, f);
        sh->next_finding++;
    }
}

static int event_kind_parse(const char *name)
{
    int k;

    for (k = 0; k < SMTP_EV_KIND_COUNT; k++)
        if (strcmp(name, smtp_event_kind_name((enum smtp_event_kind)k)) == 0)
            return k;
    return -1;
}

static enum smtp_verb verb_parse(const char *name)
{
    int v;

    if (!name)
        return SMTP_VERB_UNKNOWN;
    for (v = 1; v < SMTP_VERB_COUNT; v++)
        if (strcmp(name, smtp_verb_name((enum smtp_verb)v)) == 0)
            return (enum smtp_verb)v;
    return SMTP_VERB_UNKNOWN;
}

static size_t parse_frames(const char *text, uint64_t *frames, size_t max)
{
    size_t n = 0;

    while (text && *text && n < max) {
        char *end;
        unsigned long long v;
        errno = 0;
        v = strtoull(text, &end, 10);
        if (errno || end == text)
            break;
        frames[n++] = (uint64_t)v;
        text = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
    return n;
}

static int spans_reserve(struct show *sh, size_t n)
{
    struct smtp_span *p;

    if (n <= sh->spans_cap)
        return 0;
    p = realloc(sh->spans, n * sizeof *p);
    if (!p)
        return -1;
    sh->spans = p;
    sh->spans_cap = n;
    return 0;
}

/* Splits stored lines ("a\nb") into spans. Returns the count, or -1 when out of memory. */
static long split_lines(struct show *sh, const char *p, size_t len)
{
    size_t n = 1, i, start = 0, k = 0;

    for (i = 0; i < len; i++)
        n += p[i] == '\n';
    if (spans_reserve(sh, n) < 0)
        return -1;
    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == '\n') {
            sh->spans[k].p = p + start;
            sh->spans[k].len = i - start;
            k++;
            start = i + 1;
        }
    }
    return (long)k;
}

/* Body lines stored CR-less: each gets its CR LF back, so netmon splits and trims them as it did live. */
static int rebuild_body(struct show *sh, const char *p, size_t len, struct smtp_span *span)
{
    size_t need = len + 2, i, o = 0;

    for (i = 0; i < len; i++)
        need += p[i] == '\n';
    if (need > sh->buf_cap) {
        char *nb = realloc(sh->buf, need);
        if (!nb)
            return -1;
        sh->buf = nb;
        sh->buf_cap = need;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '\n')
            sh->buf[o++] = '\r';
        sh->buf[o++] = p[i];
    }
    sh->buf[o++] = '\r';
    sh->buf[o++] = '\n';
    span->p = sh->buf;
    span->len = o;
    return 0;
}

/*
 * A stored run of data segments ("frame:ts_usec:bytes:dir;..."): one netmon item per segment, as
 * `read --netmon` printed them; only the first carries the body's first lines.
 */
static int print_run(struct show *sh, struct netmon_state *state, const struct netmon_item *first, const char *run)
{
    struct netmon_item item = *first;
    const char *p = run;
    int index = 0;

    while (*p) {
        char *end, dir;
        unsigned long long frame, bytes;
        long long ts;

        frame = strtoull(p, &end, 10);
        if (*end != ':')
            break;
        ts = strtoll(end + 1, &end, 10);
        if (*end != ':')
            break;
        bytes = strtoull(end + 1, &end, 10);
        if (*end != ':' || (end[1] != 'C' && end[1] != 'S') || end[2] != ';')
            break;
        dir = end[1];
        p = end + 3;
        item.frame = frame;
        item.frames = NULL;
        item.n_frames = 1;
        item.ts_usec = ts;
        item.bytes = bytes;
        item.src = dir == 'C' ? sh->client_addr : sh->server_addr;
        item.dst = dir == 'C' ? sh->server_addr : sh->client_addr;
        if (index++ > 0)
            item.n_lines = 0;
        if (netmon_print(sh->out, state, &item) < 0)
            return -1;
    }
    return 0;
}

static int print_events(struct show *sh)
{
    static const char sql[] = "SELECT seq, kind, dir, frame, frames, ts_usec, bytes, verb, code, text, lines, gap_len,"
                              " run FROM events WHERE session_id = ?1 ORDER BY seq";
    sqlite3_stmt *stmt = NULL;
    struct netmon_state state;
    uint64_t frames[SHOW_MAX_FRAMES];
    int rc;

    memset(&state, 0, sizeof state);
    if (prepare_id(sh, sql, &stmt, sh->id) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct netmon_item item;
        struct smtp_span one = {"", 0};
        int64_t seq = sqlite3_column_int64(stmt, 0);
        const char *kind_name = (const char *)sqlite3_column_text(stmt, 1);
        const char *dir = (const char *)sqlite3_column_text(stmt, 2);
        const char *text = (const char *)sqlite3_column_text(stmt, 9);
        size_t text_len = (size_t)sqlite3_column_bytes(stmt, 9);
        const char *lines = (const char *)sqlite3_column_text(stmt, 10);
        size_t lines_len = (size_t)sqlite3_column_bytes(stmt, 10);
        int kind = kind_name ? event_kind_parse(kind_name) : -1, print = 1, from_client = dir && dir[0] == 'C';

        memset(&item, 0, sizeof item);
        item.frame = (uint64_t)sqlite3_column_int64(stmt, 3);
        item.n_frames = parse_frames((const char *)sqlite3_column_text(stmt, 4), frames, SHOW_MAX_FRAMES);
        if (item.n_frames > 1)
            item.frames = frames;
        else
            item.n_frames = 1;
        item.ts_usec = sqlite3_column_int64(stmt, 5);
        item.src = from_client ? sh->client_addr : sh->server_addr;
        item.dst = from_client ? sh->server_addr : sh->client_addr;
        item.bytes = (uint64_t)sqlite3_column_int64(stmt, 6);
        item.verb = verb_parse((const char *)sqlite3_column_text(stmt, 7));
        item.code = sqlite3_column_int(stmt, 8);
        if (text) {
            one.p = text;
            one.len = text_len;
        }
        item.lines = &one;
        item.n_lines = 1;
        switch (kind) {
        case SMTP_EV_COMMAND:
            item.kind = NETMON_COMMAND;
            break;
        case SMTP_EV_AUTH_RESPONSE:
            item.kind = NETMON_AUTH_RESPONSE;
            break;
        case SMTP_EV_BAD_REPLY:
            item.kind = NETMON_BAD_REPLY;
            break;
        case SMTP_EV_REPLY: {
            long n = lines ? split_lines(sh, lines, lines_len) : 0;
            if (n < 0)
                goto nomem;
            item.kind = NETMON_REPLY;
            item.lines = n ? sh->spans : NULL;
            item.n_lines = (size_t)n;
            break;
        }
        case SMTP_EV_BODY:
            item.kind = NETMON_BODY;
            one.p = "";
            one.len = 0;
            if (lines && rebuild_body(sh, lines, lines_len, &one) < 0)
                goto nomem;
            break;
        case SMTP_EV_BODY_END:
            item.kind = NETMON_BODY;
            one.p = ".";
            one.len = 1;
            print = item.bytes != 0;
            break;
        case SMTP_EV_BDAT_DATA:
            item.kind = NETMON_BDAT_DATA;
            break;
        case SMTP_EV_TLS_DATA:
            item.kind = NETMON_TLS;
            break;
        case SMTP_EV_GAP:
            item.kind = NETMON_GAP;
            item.bytes = (uint64_t)sqlite3_column_int64(stmt, 11);
            break;
        default:
            print = 0;
            break;
        }
        if (print && sqlite3_column_type(stmt, 12) == SQLITE_TEXT) {
            if (print_run(sh, &state, &item, (const char *)sqlite3_column_text(stmt, 12)) < 0)
                sh->write_failed = 1;
        } else if (print && netmon_print(sh->out, &state, &item) < 0) {
            sh->write_failed = 1;
        }
        flush_findings(sh, seq > 0 ? seq : 1);
    }
    if (rc != SQLITE_DONE) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    flush_findings(sh, 0);
    return 0;
nomem:
    sqlite3_finalize(stmt);
    fprintf(stderr, "smtptrace show: out of memory\n");
    return -1;
}

int show_transcript(FILE *out, sqlite3 *db, const char *db_path, int64_t session_id, const char *client_addr,
                    const char *server_addr)
{
    struct show sh;
    int rc;

    memset(&sh, 0, sizeof sh);
    sh.db = db;
    sh.path = db_path;
    sh.out = out;
    sh.id = session_id;
    snprintf(sh.client_addr, sizeof sh.client_addr, "%s", client_addr ? client_addr : "?");
    snprintf(sh.server_addr, sizeof sh.server_addr, "%s", server_addr ? server_addr : "?");
    rc = load_findings(&sh) < 0 || print_events(&sh) < 0 || sh.write_failed ? -1 : 0;
    free_findings(&sh);
    free(sh.spans);
    free(sh.buf);
    return rc;
}

/* Text column, escaped; "-" when NULL or empty. */
static void put_col(struct show *sh, sqlite3_stmt *stmt, int col)
{
    const char *p = (const char *)sqlite3_column_text(stmt, col);
    size_t n = (size_t)sqlite3_column_bytes(stmt, col);

    if (!p || n == 0) {
        fputc('-', sh->out);
        return;
    }
    if (netmon_write_escaped(sh->out, p, n) < 0)
        sh->write_failed = 1;
}

static const char *yes_no(sqlite3_stmt *stmt, int col)
{
    return sqlite3_column_int(stmt, col) ? "yes" : "no";
}

static int print_capabilities(struct show *sh)
{
    sqlite3_stmt *stmt = NULL;
    int rc, any = 0;

    if (prepare_id(sh, "SELECT keyword, params FROM capabilities WHERE session_id = ?1 ORDER BY seq", &stmt,
                   sh->id) < 0)
        return -1;
    fputs("capabilities:", sh->out);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *params = (const char *)sqlite3_column_text(stmt, 1);
        fputs(any ? "\n  " : "\n  ", sh->out);
        put_col(sh, stmt, 0);
        if (params && params[0]) {
            fputc(' ', sh->out);
            put_col(sh, stmt, 1);
        }
        any = 1;
    }
    fputs(any ? "\n" : " none\n", sh->out);
    if (rc != SQLITE_DONE) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

static int print_recipients(struct show *sh, int64_t message_id)
{
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (prepare_id(sh, "SELECT address, code, text FROM recipients WHERE message_id = ?1 ORDER BY seq", &stmt,
                   message_id) < 0)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fputs("    to ", sh->out);
        put_col(sh, stmt, 0);
        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL)
            fprintf(sh->out, " -> %d", sqlite3_column_int(stmt, 1));
        else
            fputs(" -> no reply", sh->out);
        fputc('\n', sh->out);
    }
    if (rc != SQLITE_DONE) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

static int print_messages(struct show *sh)
{
    sqlite3_stmt *stmt = NULL;
    int rc, any = 0;

    if (prepare_id(sh,
                   "SELECT id, seq, mail_from, transport, body_bytes, subject, result_code, result_text,"
                   " recipients_seen, declared_size FROM messages WHERE session_id = ?1 ORDER BY seq",
                   &stmt, sh->id) < 0)
        return -1;
    fputs("messages:", sh->out);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fprintf(sh->out, "\n  #%lld from ", (long long)sqlite3_column_int64(stmt, 1));
        if (sqlite3_column_bytes(stmt, 2) > 0)
            put_col(sh, stmt, 2);
        else
            fputs("<>", sh->out);
        if (sqlite3_column_type(stmt, 9) != SQLITE_NULL)
            fprintf(sh->out, " size=%lld", (long long)sqlite3_column_int64(stmt, 9));
        fprintf(sh->out, ", %lld recipient(s), ", (long long)sqlite3_column_int64(stmt, 8));
        if (sqlite3_column_type(stmt, 3) != SQLITE_NULL) {
            put_col(sh, stmt, 3);
            fprintf(sh->out, " %lld bytes", (long long)sqlite3_column_int64(stmt, 4));
        } else {
            fputs("no body", sh->out);
        }
        if (sqlite3_column_bytes(stmt, 7) > 0) {
            fputs(", result ", sh->out);
            put_col(sh, stmt, 7);
        } else if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) {
            fprintf(sh->out, ", result %d", sqlite3_column_int(stmt, 6));
        } else {
            fputs(", no result", sh->out);
        }
        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) {
            fputs("\n    subject: ", sh->out);
            put_col(sh, stmt, 5);
        }
        fputc('\n', sh->out);
        any = 1;
        if (print_recipients(sh, sqlite3_column_int64(stmt, 0)) < 0) {
            sqlite3_finalize(stmt);
            return -1;
        }
    }
    if (!any)
        fputs(" none\n", sh->out);
    if (rc != SQLITE_DONE) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

static int print_summary(struct show *sh, sqlite3_stmt *s)
{
    /* Columns of the session query in cmd_show(). */
    fprintf(sh->out, "--- session %lld summary ---\n", (long long)sh->id);
    fprintf(sh->out, "client %s -> server %s, frames %lld-%lld, ", sh->client_addr, sh->server_addr,
            (long long)sqlite3_column_int64(s, 2), (long long)sqlite3_column_int64(s, 3));
    put_col(sh, s, 4);
    fputs(" .. ", sh->out);
    put_col(sh, s, 5);
    fputs("\nbanner: ", sh->out);
    if (sqlite3_column_type(s, 6) == SQLITE_NULL) {
        fputs("none\n", sh->out);
    } else {
        fprintf(sh->out, "%d host=", sqlite3_column_int(s, 6));
        put_col(sh, s, 8);
        fputs(" software=", sh->out);
        put_col(sh, s, 9);
        fputs(" date-time=", sh->out);
        put_col(sh, s, 10);
        fprintf(sh->out, " ESMTP %s\n  \"", yes_no(s, 11));
        put_col(sh, s, 7);
        fputs("\"\n", sh->out);
    }
    fputs("greeting: ", sh->out);
    put_col(sh, s, 12);
    fputc(' ', sh->out);
    put_col(sh, s, 13);
    fprintf(sh->out, "\nEHLO accepted: %s\nfallback: %s\nTLS: ", yes_no(s, 14), yes_no(s, 15));
    put_col(sh, s, 16);
    fputs("\nAUTH: ", sh->out);
    if (sqlite3_column_type(s, 17) == SQLITE_NULL) {
        fputs("none\n", sh->out);
    } else {
        put_col(sh, s, 17);
        fputs(" user=", sh->out);
        put_col(sh, s, 18);
        fputs(" result=", sh->out);
        put_col(sh, s, 19);
        fputc('\n', sh->out);
    }
    if (print_capabilities(sh) < 0 || print_messages(sh) < 0)
        return -1;
    fputs("end: ", sh->out);
    put_col(sh, s, 20);
    fprintf(sh->out, "\nbytes: client %lld, server %lld\nmissing bytes: %lld\n", (long long)sqlite3_column_int64(s, 21),
            (long long)sqlite3_column_int64(s, 22), (long long)sqlite3_column_int64(s, 23));
    return 0;
}

static void copy_addr(char *dst, size_t len, sqlite3_stmt *stmt, int col)
{
    const char *p = (const char *)sqlite3_column_text(stmt, col);

    snprintf(dst, len, "%s", p ? p : "?");
}

static int show_session(struct show *sh)
{
    static const char sql[] =
        "SELECT client_addr, server_addr, first_frame, last_frame, start_ts, end_ts, banner_code, banner,"
        " banner_host, banner_software, banner_datetime, banner_esmtp, greeting_verb, greeting_arg,"
        " ehlo_accepted, fallback, tls, auth_mech, auth_user, auth_result, end_reason, client_bytes,"
        " server_bytes, gap_bytes FROM sessions WHERE id = ?1";
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (prepare_id(sh, sql, &stmt, sh->id) < 0)
        return EXIT_UNREADABLE;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        fprintf(stderr, "smtptrace show: no session %lld in %s\n", (long long)sh->id, sh->path);
        sqlite3_finalize(stmt);
        return EXIT_UNREADABLE;
    }
    if (rc != SQLITE_ROW) {
        db_error(sh);
        sqlite3_finalize(stmt);
        return EXIT_UNREADABLE;
    }
    copy_addr(sh->client_addr, sizeof sh->client_addr, stmt, 0);
    copy_addr(sh->server_addr, sizeof sh->server_addr, stmt, 1);
    if (load_findings(sh) < 0 || print_events(sh) < 0 || print_summary(sh, stmt) < 0) {
        sqlite3_finalize(stmt);
        return EXIT_UNREADABLE;
    }
    sqlite3_finalize(stmt);
    if (fflush(sh->out) != 0 || ferror(sh->out) || sh->write_failed) {
        fprintf(stderr, "smtptrace show: cannot write output\n");
        return EXIT_UNREADABLE;
    }
    return EXIT_ALL_READ;
}

int cmd_show(int argc, char **argv)
{
    const char *db_path = DEFAULT_DB, *id_text = NULL;
    enum query_open_error why;
    struct show sh;
    char errbuf[1024], *end;
    long long id;
    int i, status, ladder = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            show_usage(stdout);
            return EXIT_ALL_READ;
        } else if (strcmp(argv[i], "--ladder") == 0) {
            ladder = 1;
        } else if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--db") == 0) && i + 1 < argc) {
            db_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "smtptrace show: unknown option '%s' (or missing value)\n", argv[i]);
            show_usage(stderr);
            return EXIT_USAGE;
        } else if (!id_text) {
            id_text = argv[i];
        } else {
            fprintf(stderr, "smtptrace show: unexpected argument '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!id_text) {
        show_usage(stderr);
        return EXIT_USAGE;
    }
    errno = 0;
    id = strtoll(id_text, &end, 10);
    if (errno || end == id_text || *end != '\0' || id <= 0) {
        fprintf(stderr, "smtptrace show: '%s' is not a session id\n", id_text);
        return EXIT_USAGE;
    }
    memset(&sh, 0, sizeof sh);
    sh.path = db_path;
    sh.out = stdout;
    sh.id = id;
    sh.db = query_open(db_path, &why, errbuf, sizeof errbuf);
    if (!sh.db) {
        fprintf(stderr, "smtptrace show: %s\n", errbuf);
        return EXIT_UNREADABLE;
    }
    if (ladder) {
        status = EXIT_ALL_READ;
        if (ladder_print_db(stdout, sh.db, db_path, id, errbuf, sizeof errbuf) < 0) {
            fprintf(stderr, "smtptrace show: %s\n", errbuf);
            status = EXIT_UNREADABLE;
        }
    } else {
        status = show_session(&sh);
    }
    free_findings(&sh);
    free(sh.spans);
    free(sh.buf);
    sqlite3_close(sh.db);
    return status;
}
