/* query.c: read-only reports over the session database, printed as aligned tables, CSV or JSON. */
#include "store/query.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"

/* One value of a result set, copied out of the statement. */
struct cell {
    int type; /* SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL */
    sqlite3_int64 i;
    double d;
    char *p; /* TEXT/BLOB bytes (NUL-terminated copy) */
    size_t len;
};

struct result_set {
    const char *name; /* key in JSON when several sets are printed */
    int ncols;
    char **cols;
    struct cell *cells; /* nrows * ncols */
    size_t nrows, cap;
};

/* Sessions kept by the filters; the reports join on sessions s. */
#define SESSION_FILTER                                                                                      \
    "(:finding IS NULL OR EXISTS (SELECT 1 FROM findings f0 WHERE f0.session_id = s.id AND f0.kind = :finding))" \
    " AND (:server IS NULL OR s.server_ip = :server OR s.server_addr = :server)"                            \
    " AND (:client IS NULL OR s.client_ip = :client OR s.client_addr = :client)"                            \
    " AND (:since IS NULL OR s.start_ts >= :since)"                                                         \
    " AND (:until IS NULL OR substr(s.start_ts, 1, length(:until)) <= :until)"                              \
    " AND (:capture IS NULL OR s.capture_id = :capture)"

static const char sql_sessions[] =
    "SELECT s.id AS id, s.start_ts AS start, s.client_addr AS client, s.server_addr AS server,"
    " s.end_reason AS end_reason,"
    " CASE WHEN s.greeting_verb IS NULL THEN NULL ELSE s.greeting_verb || COALESCE(' ' || s.greeting_arg, '') END"
    " AS greeting,"
    " s.ehlo_accepted AS ehlo_accepted, s.fallback AS fallback, s.tls AS tls, s.auth_mech AS auth_mech,"
    " s.auth_user AS auth_user, s.messages AS messages,"
    " (SELECT group_concat(k || ':' || n, ',') FROM (SELECT f.kind AS k, count(*) AS n FROM findings f"
    "   WHERE f.session_id = s.id GROUP BY f.kind ORDER BY f.kind)) AS findings"
    " FROM sessions s WHERE " SESSION_FILTER " ORDER BY s.id";

static const char sql_findings_by_kind[] =
    "SELECT f.kind AS kind, f.extension AS extension, f.severity AS severity, count(*) AS count,"
    " count(DISTINCT f.session_id) AS sessions"
    " FROM findings f JOIN sessions s ON s.id = f.session_id"
    " WHERE " SESSION_FILTER " AND (:finding IS NULL OR f.kind = :finding)"
    " GROUP BY f.kind, f.extension, f.severity ORDER BY count DESC, f.kind, f.extension";

static const char sql_findings_by_server[] =
    "SELECT s.server_ip AS server_ip, f.kind AS kind, count(*) AS count"
    " FROM findings f JOIN sessions s ON s.id = f.session_id"
    " WHERE " SESSION_FILTER " AND (:finding IS NULL OR f.kind = :finding)"
    " GROUP BY s.server_ip, f.kind ORDER BY s.server_ip, f.kind";

static const char sql_servers[] =
    "WITH fs AS (SELECT s.* FROM sessions s WHERE " SESSION_FILTER "),"
    " capset AS (SELECT fs.id, fs.server_addr, fs.ehlo_accepted,"
    "   COALESCE((SELECT group_concat(keyword, ' ') FROM (SELECT c.keyword FROM capabilities c"
    "     WHERE c.session_id = fs.id ORDER BY c.keyword)), '') AS caps FROM fs)"
    " SELECT fs.server_addr AS server,"
    " (SELECT group_concat(h, ', ') FROM (SELECT DISTINCT x.banner_host AS h FROM fs x"
    "   WHERE x.server_addr = fs.server_addr AND x.banner_host IS NOT NULL ORDER BY h)) AS banner_host,"
    " (SELECT group_concat(h, ', ') FROM (SELECT DISTINCT x.banner_software AS h FROM fs x"
    "   WHERE x.server_addr = fs.server_addr AND x.banner_software IS NOT NULL ORDER BY h)) AS banner_software,"
    " (SELECT group_concat(caps, ' | ') FROM (SELECT DISTINCT c.caps FROM capset c"
    "   WHERE c.server_addr = fs.server_addr AND c.ehlo_accepted ORDER BY c.caps)) AS capability_sets,"
    " CASE (SELECT count(DISTINCT c.caps) FROM capset c WHERE c.server_addr = fs.server_addr AND c.ehlo_accepted)"
    "   WHEN 0 THEN NULL WHEN 1 THEN 'yes' ELSE 'no' END AS same_capabilities,"
    " count(*) AS sessions, sum(fs.fallback) AS fallbacks,"
    " (SELECT count(*) FROM findings f JOIN fs x ON x.id = f.session_id"
    "   WHERE x.server_addr = fs.server_addr AND f.kind = 'reply_5xx') AS replies_5xx,"
    " CASE WHEN min(fs.banner_esmtp) = 1 THEN 'yes' WHEN max(fs.banner_esmtp) = 1 THEN 'some' ELSE 'no' END"
    " AS esmtp_banner"
    " FROM fs GROUP BY fs.server_addr ORDER BY fs.server_ip, fs.server_port, fs.server_addr";

static const char sql_messages[] =
    "SELECT m.id AS id, m.session_id AS session, m.mail_from AS mail_from,"
    " m.recipients_seen AS rcpt_count,"
    /* Every recipient kept (at most session_limits.max_recipients); rcpt_count says how many were sent. */
    " (SELECT group_concat(address, ', ') FROM (SELECT r.address FROM recipients r WHERE r.message_id = m.id"
    "   ORDER BY r.seq)) AS recipients,"
    " m.transport AS transport, m.body_bytes AS body_bytes, m.subject AS subject, m.result_code AS result_code"
    " FROM messages m JOIN sessions s ON s.id = m.session_id WHERE " SESSION_FILTER " ORDER BY m.id";

struct report_set {
    const char *name;
    const char *sql;
};

struct report {
    const char *name;
    struct report_set sets[2];
    size_t n_sets;
};

static const struct report reports[] = {
    {"sessions", {{"sessions", sql_sessions}, {NULL, NULL}}, 1},
    {"findings", {{"by_kind", sql_findings_by_kind}, {"by_server", sql_findings_by_server}}, 2},
    {"servers", {{"servers", sql_servers}, {NULL, NULL}}, 1},
    {"messages", {{"messages", sql_messages}, {NULL, NULL}}, 1},
};

int query_parse_format(const char *name, enum query_format *fmt)
{
    if (strcmp(name, "table") == 0)
        *fmt = QUERY_FORMAT_TABLE;
    else if (strcmp(name, "csv") == 0)
        *fmt = QUERY_FORMAT_CSV;
    else if (strcmp(name, "json") == 0)
        *fmt = QUERY_FORMAT_JSON;
    else
        return -1;
    return 0;
}

int query_is_report(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof reports / sizeof reports[0]; i++)
        if (strcmp(reports[i].name, name) == 0)
            return 1;
    return 0;
}

static void errf(char *errbuf, size_t errlen, const char *path, const char *msg)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s: %s", path, msg);
}

sqlite3 *query_open(const char *path, enum query_open_error *why, char *errbuf, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    struct stat sb;
    int64_t version;
    char msg[256];

    *why = QUERY_OPEN_FAILED;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) {
            *why = QUERY_OPEN_MISSING;
            errf(errbuf, errlen, path, "no such database");
        } else {
            errf(errbuf, errlen, path, strerror(errno));
        }
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        errf(errbuf, errlen, path, db ? sqlite3_errmsg(db) : "cannot open database");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    if (sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        errf(errbuf, errlen, path, sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return NULL;
    }
    version = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (version > STORE_SCHEMA_VERSION) {
        snprintf(msg, sizeof msg, "database schema version %" PRId64 " is newer than this smtptrace supports (%d)",
                 version, STORE_SCHEMA_VERSION);
        errf(errbuf, errlen, path, msg);
        sqlite3_close(db);
        return NULL;
    }
    if (version < 1) {
        errf(errbuf, errlen, path, "not an smtptrace database (schema version 0)");
        sqlite3_close(db);
        return NULL;
    }
    *why = QUERY_OPEN_OK;
    return db;
}

static void set_free(struct result_set *rs)
{
    size_t i;
    int c;

    for (i = 0; i < rs->nrows * (size_t)rs->ncols; i++)
        free(rs->cells[i].p);
    free(rs->cells);
    for (c = 0; c < rs->ncols; c++)
        free(rs->cols[c]);
    free(rs->cols);
    memset(rs, 0, sizeof *rs);
}

static char *dup_bytes(const void *p, size_t len)
{
    char *q = malloc(len + 1);

    if (!q)
        return NULL;
    if (len)
        memcpy(q, p, len);
    q[len] = '\0';
    return q;
}

/* Steps stmt to the end, copying every row. Returns SQLITE_DONE, an SQLite error code, or SQLITE_NOMEM. */
static int collect(sqlite3_stmt *stmt, const char *name, struct result_set *rs)
{
    int c, rc;

    memset(rs, 0, sizeof *rs);
    rs->name = name;
    rs->ncols = sqlite3_column_count(stmt);
    if (rs->ncols > 0) {
        rs->cols = calloc((size_t)rs->ncols, sizeof *rs->cols);
        if (!rs->cols)
            return SQLITE_NOMEM;
        for (c = 0; c < rs->ncols; c++) {
            const char *n = sqlite3_column_name(stmt, c);
            if (!(rs->cols[c] = dup_bytes(n ? n : "", n ? strlen(n) : 0)))
                return SQLITE_NOMEM;
        }
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct cell *row;
        if (rs->ncols == 0)
            continue;
        if (rs->nrows == rs->cap) {
            size_t cap = rs->cap ? rs->cap * 2 : 64;
            struct cell *cells = realloc(rs->cells, cap * (size_t)rs->ncols * sizeof *cells);
            if (!cells)
                return SQLITE_NOMEM;
            rs->cells = cells;
            rs->cap = cap;
        }
        row = rs->cells + rs->nrows * (size_t)rs->ncols;
        memset(row, 0, (size_t)rs->ncols * sizeof *row);
        rs->nrows++;
        for (c = 0; c < rs->ncols; c++) {
            struct cell *cell = &row[c];
            cell->type = sqlite3_column_type(stmt, c);
            switch (cell->type) {
            case SQLITE_INTEGER:
                cell->i = sqlite3_column_int64(stmt, c);
                break;
            case SQLITE_FLOAT:
                cell->d = sqlite3_column_double(stmt, c);
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB: {
                const void *p = cell->type == SQLITE_TEXT ? (const void *)sqlite3_column_text(stmt, c)
                                                          : sqlite3_column_blob(stmt, c);
                int n = sqlite3_column_bytes(stmt, c);
                cell->len = n > 0 ? (size_t)n : 0;
                if (!(cell->p = dup_bytes(p, p ? cell->len : 0)))
                    return SQLITE_NOMEM;
                if (!p)
                    cell->len = 0;
                break;
            }
            default:
                cell->type = SQLITE_NULL;
                break;
            }
        }
    }
    return rc;
}

size_t query_utf8_len(const unsigned char *p, size_t len)
{
    unsigned char c = p[0];
    size_t n, i;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int query_json_escape(FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        if (c == '"' || c == '\\') {
            if (fputc('\\', out) == EOF || fputc(c, out) == EOF)
                return -1;
            i++;
            continue;
        }
        if (c == '\n' || c == '\t' || c == '\r') {
            if (fputs(c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", out) == EOF)
                return -1;
            i++;
            continue;
        }
        n = c < 0x20 || c == 0x7f ? 0 : query_utf8_len(p + i, len - i);
        if (n == 0) {
            /* Control characters and bytes that are not UTF-8: the byte as a code point, so the JSON stays valid. */
            if (fprintf(out, "\\u%04x", c) < 0)
                return -1;
            i++;
            continue;
        }
        if (fwrite(p + i, 1, n, out) != n)
            return -1;
        i += n;
    }
    return 0;
}

/* Table cells: printable ASCII and valid UTF-8 as is, anything else as \xHH; width in characters. */
static size_t table_width(const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, w = 0;

    while (i < len) {
        size_t n = p[i] < 0x20 || p[i] == 0x7f ? 0 : query_utf8_len(p + i, len - i);
        if (n == 0) {
            w += 4;
            i++;
        } else {
            w += p[i] == '\\' ? 2 : 1;
            i += n;
        }
    }
    return w;
}

static int table_write(FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    while (i < len) {
        size_t n = p[i] < 0x20 || p[i] == 0x7f ? 0 : query_utf8_len(p + i, len - i);
        if (n == 0) {
            if (fprintf(out, "\\x%02X", p[i]) < 0)
                return -1;
            i++;
        } else if (p[i] == '\\') {
            if (fputs("\\\\", out) == EOF)
                return -1;
            i++;
        } else {
            if (fwrite(p + i, 1, n, out) != n)
                return -1;
            i += n;
        }
    }
    return 0;
}

/* A number cell as text; returns its length. */
static size_t number_text(const struct cell *cell, char *buf, size_t len)
{
    int n;

    if (cell->type == SQLITE_INTEGER)
        n = snprintf(buf, len, "%lld", (long long)cell->i);
    else if (isfinite(cell->d))
        n = snprintf(buf, len, "%.15g", cell->d);
    else
        n = snprintf(buf, len, "%s", cell->d > 0 ? "Inf" : cell->d < 0 ? "-Inf" : "NaN");
    return n > 0 ? (size_t)n : 0;
}

static size_t cell_width(const struct cell *cell)
{
    char num[64];

    switch (cell->type) {
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
        return number_text(cell, num, sizeof num);
    case SQLITE_TEXT:
    case SQLITE_BLOB:
        return table_width(cell->p, cell->len);
    default:
        return 0;
    }
}

static int pad(FILE *out, size_t n)
{
    while (n-- > 0)
        if (fputc(' ', out) == EOF)
            return -1;
    return 0;
}

static int print_table(FILE *out, const struct result_set *rs)
{
    size_t *w, r;
    int c, rc = 0;
    char num[64];

    if (rs->ncols == 0)
        return 0;
    w = calloc((size_t)rs->ncols, sizeof *w);
    if (!w)
        return -1;
    for (c = 0; c < rs->ncols; c++) {
        w[c] = table_width(rs->cols[c], strlen(rs->cols[c]));
        for (r = 0; r < rs->nrows; r++) {
            size_t cw = cell_width(&rs->cells[r * (size_t)rs->ncols + (size_t)c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (c = 0; c < rs->ncols && rc == 0; c++) {
        size_t len = strlen(rs->cols[c]);
        rc |= c ? (fputs("  ", out) == EOF ? -1 : 0) : 0;
        rc |= table_write(out, rs->cols[c], len);
        if (c + 1 < rs->ncols)
            rc |= pad(out, w[c] - table_width(rs->cols[c], len));
    }
    rc |= fputc('\n', out) == EOF ? -1 : 0;
    for (c = 0; c < rs->ncols && rc == 0; c++) {
        size_t k;
        rc |= c ? (fputs("  ", out) == EOF ? -1 : 0) : 0;
        for (k = 0; k < w[c] && rc == 0; k++)
            rc |= fputc('-', out) == EOF ? -1 : 0;
    }
    rc |= fputc('\n', out) == EOF ? -1 : 0;
    for (r = 0; r < rs->nrows && rc == 0; r++) {
        for (c = 0; c < rs->ncols && rc == 0; c++) {
            const struct cell *cell = &rs->cells[r * (size_t)rs->ncols + (size_t)c];
            size_t cw = cell_width(cell);
            int last = c + 1 == rs->ncols;
            rc |= c ? (fputs("  ", out) == EOF ? -1 : 0) : 0;
            if (cell->type == SQLITE_INTEGER || cell->type == SQLITE_FLOAT) {
                /* Numbers right-aligned. */
                rc |= pad(out, w[c] - cw);
                rc |= fwrite(num, 1, number_text(cell, num, sizeof num), out) == cw ? 0 : -1;
            } else {
                if (cell->type == SQLITE_TEXT || cell->type == SQLITE_BLOB)
                    rc |= table_write(out, cell->p, cell->len);
                if (!last)
                    rc |= pad(out, w[c] - cw);
            }
        }
        rc |= fputc('\n', out) == EOF ? -1 : 0;
    }
    free(w);
    return rc ? -1 : 0;
}

/* RFC 4180: quoted when the field holds a comma, quote, CR or LF; quotes doubled. */
static int csv_field(FILE *out, const char *p, size_t len)
{
    size_t i;

    if (!memchr(p, ',', len) && !memchr(p, '"', len) && !memchr(p, '\r', len) && !memchr(p, '\n', len))
        return len && fwrite(p, 1, len, out) != len ? -1 : 0;
    if (fputc('"', out) == EOF)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] == '"' && fputc('"', out) == EOF)
            return -1;
        if (fputc(p[i], out) == EOF)
            return -1;
    }
    return fputc('"', out) == EOF ? -1 : 0;
}

static int print_csv(FILE *out, const struct result_set *rs)
{
    size_t r;
    int c, rc = 0;
    char num[64];

    if (rs->ncols == 0)
        return 0;
    for (c = 0; c < rs->ncols; c++) {
        rc |= c ? (fputc(',', out) == EOF ? -1 : 0) : 0;
        rc |= csv_field(out, rs->cols[c], strlen(rs->cols[c]));
    }
    rc |= fputc('\n', out) == EOF ? -1 : 0;
    for (r = 0; r < rs->nrows && rc == 0; r++) {
        for (c = 0; c < rs->ncols; c++) {
            const struct cell *cell = &rs->cells[r * (size_t)rs->ncols + (size_t)c];
            rc |= c ? (fputc(',', out) == EOF ? -1 : 0) : 0;
            if (cell->type == SQLITE_INTEGER || cell->type == SQLITE_FLOAT) {
                size_t n = number_text(cell, num, sizeof num);
                rc |= fwrite(num, 1, n, out) == n ? 0 : -1;
            } else if (cell->type == SQLITE_TEXT || cell->type == SQLITE_BLOB) {
                rc |= csv_field(out, cell->p, cell->len);
            }
        }
        rc |= fputc('\n', out) == EOF ? -1 : 0;
    }
    return rc ? -1 : 0;
}

static int json_string(FILE *out, const char *p, size_t len)
{
    if (fputc('"', out) == EOF || query_json_escape(out, p, len) < 0 || fputc('"', out) == EOF)
        return -1;
    return 0;
}

static int print_json(FILE *out, const struct result_set *rs, const char *indent)
{
    size_t r;
    int c, rc = 0;

    if (rs->nrows == 0 || rs->ncols == 0)
        return fputs("[]", out) == EOF ? -1 : 0;
    rc |= fputs("[\n", out) == EOF ? -1 : 0;
    for (r = 0; r < rs->nrows && rc == 0; r++) {
        rc |= fprintf(out, "%s  {", indent) < 0 ? -1 : 0;
        for (c = 0; c < rs->ncols; c++) {
            const struct cell *cell = &rs->cells[r * (size_t)rs->ncols + (size_t)c];
            rc |= c ? (fputs(", ", out) == EOF ? -1 : 0) : 0;
            rc |= json_string(out, rs->cols[c], strlen(rs->cols[c]));
            rc |= fputs(": ", out) == EOF ? -1 : 0;
            switch (cell->type) {
            case SQLITE_INTEGER:
                rc |= fprintf(out, "%lld", (long long)cell->i) < 0 ? -1 : 0;
                break;
            case SQLITE_FLOAT:
                rc |= (isfinite(cell->d) ? fprintf(out, "%.17g", cell->d) : fprintf(out, "null")) < 0 ? -1 : 0;
                break;
            case SQLITE_TEXT:
            case SQLITE_BLOB:
                rc |= json_string(out, cell->p, cell->len);
                break;
            default:
                rc |= fputs("null", out) == EOF ? -1 : 0;
                break;
            }
        }
        rc |= fprintf(out, "}%s\n", r + 1 < rs->nrows ? "," : "") < 0 ? -1 : 0;
    }
    rc |= fprintf(out, "%s]", indent) < 0 ? -1 : 0;
    return rc ? -1 : 0;
}

/* Prints the sets: tables and CSV one after the other (blank line between); JSON one array, or an object of arrays. */
static int print_sets(FILE *out, const struct result_set *sets, size_t n, enum query_format fmt)
{
    size_t i;
    int rc = 0;

    if (fmt == QUERY_FORMAT_JSON) {
        if (n == 1)
            return print_json(out, &sets[0], "") < 0 || fputc('\n', out) == EOF ? -1 : 0;
        rc |= fputs("{\n", out) == EOF ? -1 : 0;
        for (i = 0; i < n; i++) {
            rc |= fputs("  ", out) == EOF ? -1 : 0;
            rc |= json_string(out, sets[i].name, strlen(sets[i].name));
            rc |= fputs(": ", out) == EOF ? -1 : 0;
            rc |= print_json(out, &sets[i], "  ");
            rc |= fputs(i + 1 < n ? ",\n" : "\n", out) == EOF ? -1 : 0;
        }
        rc |= fputs("}\n", out) == EOF ? -1 : 0;
        return rc ? -1 : 0;
    }
    for (i = 0; i < n; i++) {
        if (i)
            rc |= fputc('\n', out) == EOF ? -1 : 0;
        rc |= fmt == QUERY_FORMAT_CSV ? print_csv(out, &sets[i]) : print_table(out, &sets[i]);
    }
    return rc ? -1 : 0;
}

static int bind_named(sqlite3_stmt *stmt, const char *name, const char *value)
{
    int idx = sqlite3_bind_parameter_index(stmt, name);

    if (idx == 0 || !value)
        return SQLITE_OK;
    return sqlite3_bind_text(stmt, idx, value, -1, SQLITE_TRANSIENT);
}

/* "2024-06-04 11:00" compares as "2024-06-04T11:00". */
static void normalize_ts(const char *in, char *out, size_t len)
{
    size_t i;

    snprintf(out, len, "%s", in);
    for (i = 0; out[i]; i++)
        if (out[i] == ' ' && i == 10)
            out[i] = 'T';
}

static int bind_filters(sqlite3_stmt *stmt, const struct query_filters *f)
{
    char since[64], until[64];
    int rc = SQLITE_OK, idx;

    if (!f)
        return SQLITE_OK;
    if (f->since)
        normalize_ts(f->since, since, sizeof since);
    if (f->until)
        normalize_ts(f->until, until, sizeof until);
    if (rc == SQLITE_OK)
        rc = bind_named(stmt, ":finding", f->finding);
    if (rc == SQLITE_OK)
        rc = bind_named(stmt, ":server", f->server);
    if (rc == SQLITE_OK)
        rc = bind_named(stmt, ":client", f->client);
    if (rc == SQLITE_OK)
        rc = bind_named(stmt, ":since", f->since ? since : NULL);
    if (rc == SQLITE_OK)
        rc = bind_named(stmt, ":until", f->until ? until : NULL);
    idx = sqlite3_bind_parameter_index(stmt, ":capture");
    if (rc == SQLITE_OK && idx && f->has_capture)
        rc = sqlite3_bind_int64(stmt, idx, f->capture_id);
    return rc;
}

int query_report(sqlite3 *db, const char *path, const char *report, const struct query_filters *filters,
                 enum query_format fmt, FILE *out, char *errbuf, size_t errlen)
{
    const struct report *rep = NULL;
    struct result_set sets[2];
    size_t i, n = 0;
    int rc = 0;

    for (i = 0; i < sizeof reports / sizeof reports[0]; i++)
        if (strcmp(reports[i].name, report) == 0)
            rep = &reports[i];
    if (!rep) {
        errf(errbuf, errlen, path, "unknown report");
        return -1;
    }
    memset(sets, 0, sizeof sets);
    for (i = 0; i < rep->n_sets && rc == 0; i++) {
        sqlite3_stmt *stmt = NULL;
        int src;
        if (sqlite3_prepare_v2(db, rep->sets[i].sql, -1, &stmt, NULL) != SQLITE_OK ||
            bind_filters(stmt, filters) != SQLITE_OK) {
            errf(errbuf, errlen, path, sqlite3_errmsg(db));
            sqlite3_finalize(stmt);
            rc = -1;
            break;
        }
        src = collect(stmt, rep->sets[i].name, &sets[n++]);
        if (src != SQLITE_DONE) {
            errf(errbuf, errlen, path, src == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
            rc = -1;
        }
        sqlite3_finalize(stmt);
    }
    if (rc == 0 && (print_sets(out, sets, n, fmt) < 0 || fflush(out) != 0)) {
        errf(errbuf, errlen, path, "cannot write output");
        rc = -1;
    }
    for (i = 0; i < n; i++)
        set_free(&sets[i]);
    return rc;
}

int query_sql(sqlite3 *db, const char *path, const char *sql, enum query_format fmt, FILE *out, char *errbuf,
              size_t errlen)
{
    struct result_set *sets = NULL;
    size_t n = 0, cap = 0, i;
    const char *tail = sql;
    char names[32];
    int rc = 0;

    while (rc == 0 && tail && *tail) {
        sqlite3_stmt *stmt = NULL;
        const char *next = NULL;
        int src;
        if (sqlite3_prepare_v2(db, tail, -1, &stmt, &next) != SQLITE_OK) {
            errf(errbuf, errlen, path, sqlite3_errmsg(db));
            rc = -1;
            break;
        }
        tail = next;
        if (!stmt) /* whitespace or a comment */
            continue;
        if (!sqlite3_stmt_readonly(stmt)) {
            /* query_only stops writes to the database, not e.g. VACUUM INTO creating another file. */
            errf(errbuf, errlen, path, "attempt to write a readonly database (the statement would change a database)");
            sqlite3_finalize(stmt);
            rc = -1;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            struct result_set *ns = realloc(sets, ncap * sizeof *ns);
            if (!ns) {
                errf(errbuf, errlen, path, "out of memory");
                sqlite3_finalize(stmt);
                rc = -1;
                break;
            }
            sets = ns;
            cap = ncap;
        }
        src = collect(stmt, "", &sets[n]);
        n++;
        if (src != SQLITE_DONE) {
            errf(errbuf, errlen, path, src == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
            rc = -1;
        }
        sqlite3_finalize(stmt);
        if (rc == 0 && sets[n - 1].ncols == 0) {
            set_free(&sets[n - 1]);
            n--;
        }
    }
    if (rc == 0) {
        /* JSON keys of several result sets: "1", "2", ... */
        char(*keys)[sizeof names] = n ? calloc(n, sizeof *keys) : NULL;
        if (n && !keys) {
            errf(errbuf, errlen, path, "out of memory");
            rc = -1;
        } else {
            for (i = 0; i < n; i++) {
                snprintf(keys[i], sizeof names, "%zu", i + 1);
                sets[i].name = keys[i];
            }
            if (n == 0 && fmt == QUERY_FORMAT_JSON)
                rc = fputs("[]\n", out) == EOF ? -1 : 0;
            else if (n > 0)
                rc = print_sets(out, sets, n, fmt);
            if (rc == 0 && fflush(out) != 0)
                rc = -1;
            if (rc < 0)
                errf(errbuf, errlen, path, "cannot write output");
        }
        free(keys);
    }
    for (i = 0; i < n; i++)
        set_free(&sets[i]);
    free(sets);
    return rc;
}
