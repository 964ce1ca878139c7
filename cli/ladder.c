/* ladder.c: draws one stored session as an ASCII ladder diagram (client left, server right), from the database. */
#include "cli/db_column.h"
#include "cli/ladder.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/query.h"

#define PREFIX 24                               /* "   Frame  HH:MM:SS.mmm  " */
#define INNER (LADDER_WIDTH - PREFIX - 2)       /* columns between the two bars */
#define ARROW_TEXT (INNER - 8)                  /* text inside an arrow: at least 4 dashes before, 4 after */
#define LINE_CAP (LADDER_WIDTH * 4 + 16)

struct lfinding {
    char *kind, *extension, *severity, *detail;
    int64_t event_seq;
};

/* Consecutive data events drawn as one row. */
enum group_kind { GROUP_NONE = 0, GROUP_DATA, GROUP_BDAT, GROUP_TLS };

struct group {
    enum group_kind kind;
    int from_client;
    uint64_t first_frame, last_frame_seen, frames, bytes, client_bytes, server_bytes;
    int64_t first_ts;
    int64_t last_seq;
};

struct ladder {
    FILE *out;
    sqlite3 *db;
    const char *path;
    int64_t id;
    char *errbuf;
    size_t errlen;
    struct lfinding *findings;
    size_t n_findings, next_finding;
    struct group g;
    int write_failed;
};

static int db_fail(struct ladder *l)
{
    snprintf(l->errbuf, l->errlen, "%s: %s", l->path, sqlite3_errmsg(l->db));
    return -1;
}

static int no_memory(struct ladder *l)
{
    snprintf(l->errbuf, l->errlen, "out of memory");
    return -1;
}

static void put_line(struct ladder *l, const char *s)
{
    if (fputs(s, l->out) == EOF || fputc('\n', l->out) == EOF)
        l->write_failed = 1;
}

/*
 * Copies src[0..len) into dst as ASCII (printable bytes as is, others \xHH), at most maxw
 * columns: longer text is cut and ends with "...". Returns the columns written.
 */
static size_t esc_cut(char *dst, size_t cap, const char *src, size_t len, size_t maxw)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0, lim = maxw < cap - 1 ? maxw : cap - 1, cut_at = 0;
    int cut = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        size_t w = c >= 0x20 && c < 0x7f ? 1 : 4;
        if (o + w > lim) {
            cut = 1;
            break;
        }
        if (o + w <= (lim >= 3 ? lim - 3 : 0))
            cut_at = o + w;
        if (w == 1) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    if (cut && lim >= 3) {
        o = cut_at;
        memcpy(dst + o, "...", 3);
        o += 3;
    } else if (cut) {
        o = 0;
    }
    dst[o] = '\0';
    return o;
}

static void format_hms(int64_t ts_usec, char *buf, size_t len)
{
    int64_t secs = ts_usec / 1000000, frac = ts_usec % 1000000;
    time_t t;
    struct tm tm;
    char hms[16];

    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    t = (time_t)secs;
    if (!gmtime_r(&t, &tm) || strftime(hms, sizeof hms, "%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%s.%03d", hms, (int)(frac / 1000));
}

/* "   Frame  HH:MM:SS.mmm  " (frame 0 or ts_usec < 0 with have_ts 0: blank). */
static void put_prefix(char *line, uint64_t frame, int64_t ts_usec, int have_ts)
{
    char fr[24] = "", tm[24] = "";

    if (frame)
        snprintf(fr, sizeof fr, "%" PRIu64, frame);
    if (have_ts)
        format_hms(ts_usec, tm, sizeof tm);
    snprintf(line, PREFIX + 1, "%8.8s  %-12.12s  ", fr, tm);
}

/* An arrow row: text (already escaped and cut to ARROW_TEXT) from client (right) or server (left). */
static void arrow_row(struct ladder *l, uint64_t frame, int64_t ts, int to_server, const char *text, char fill)
{
    char line[LINE_CAP];
    size_t o, tl = strlen(text), i, used;

    if (tl > ARROW_TEXT)
        tl = ARROW_TEXT;
    put_prefix(line, frame, ts, 1);
    o = PREFIX;
    line[o++] = '|';
    if (to_server) {
        for (i = 0; i < 4; i++)
            line[o++] = fill;
        memcpy(line + o, text, tl);
        o += tl;
        used = 4 + tl;
        while (used < INNER - 1) {
            line[o++] = fill;
            used++;
        }
        line[o++] = '>';
    } else {
        line[o++] = '<';
        for (i = 0; i < 3; i++)
            line[o++] = fill;
        memcpy(line + o, text, tl);
        o += tl;
        used = 4 + tl;
        while (used < INNER) {
            line[o++] = fill;
            used++;
        }
    }
    line[o++] = '|';
    line[o] = '\0';
    put_line(l, line);
}

/* A row across both columns ("<====TLS ...====>"), for what goes both ways. */
static void both_row(struct ladder *l, uint64_t frame, int64_t ts, const char *text)
{
    char line[LINE_CAP];
    size_t o, tl = strlen(text), used;

    if (tl > ARROW_TEXT)
        tl = ARROW_TEXT;
    put_prefix(line, frame, ts, 1);
    o = PREFIX;
    line[o++] = '|';
    line[o++] = '<';
    memcpy(line + o, "===", 3);
    o += 3;
    memcpy(line + o, text, tl);
    o += tl;
    used = 4 + tl;
    while (used < INNER - 1) {
        line[o++] = '=';
        used++;
    }
    line[o++] = '>';
    line[o++] = '|';
    line[o] = '\0';
    put_line(l, line);
}

static void print_finding(struct ladder *l, const struct lfinding *f)
{
    char line[LINE_CAP], text[LINE_CAP];
    char label[LINE_CAP];
    size_t o;
    int n;

    put_prefix(line, 0, 0, 0);
    o = PREFIX;
    n = snprintf(label, sizeof label, "%s%s%s (%s): ", f->kind, f->extension[0] ? "/" : "", f->extension, f->severity);
    if (n < 0)
        label[0] = '\0';
    memcpy(line + o, "|  ! ", 5);
    o += 5;
    o += esc_cut(line + o, sizeof line - o, label, strlen(label), LADDER_WIDTH - o);
    if (o + 3 < LADDER_WIDTH) {
        esc_cut(text, sizeof text, f->detail, strlen(f->detail), LADDER_WIDTH - o);
        snprintf(line + o, sizeof line - o, "%s", text);
    }
    put_line(l, line);
}

/* Findings pointing at events up to seq (0: all that are left). */
static void flush_findings(struct ladder *l, int64_t seq)
{
    while (l->next_finding < l->n_findings) {
        const struct lfinding *f = &l->findings[l->next_finding];
        if (seq && (f->event_seq == 0 || f->event_seq > seq))
            break;
        print_finding(l, f);
        l->next_finding++;
    }
}

static void group_flush(struct ladder *l)
{
    struct group *g = &l->g;
    char text[LINE_CAP];

    if (g->kind == GROUP_NONE)
        return;
    if (g->kind == GROUP_TLS) {
        snprintf(text, sizeof text, "TLS %" PRIu64 " bytes in %" PRIu64 " frame%s (client %" PRIu64 ", server %" PRIu64 ")",
                 g->bytes, g->frames, g->frames == 1 ? "" : "s", g->client_bytes, g->server_bytes);
        both_row(l, g->first_frame, g->first_ts, text);
    } else {
        snprintf(text, sizeof text, "%s %" PRIu64 " bytes in %" PRIu64 " frame%s", g->kind == GROUP_DATA ? "DATA" : "BDAT chunk",
                 g->bytes, g->frames, g->frames == 1 ? "" : "s");
        arrow_row(l, g->first_frame, g->first_ts, g->from_client, text, '=');
    }
    flush_findings(l, g->last_seq);
    memset(g, 0, sizeof *g);
}

static void group_frame(struct group *g, uint64_t frame, int64_t ts, uint64_t bytes, int from_client)
{
    if (!g->first_frame) {
        g->first_frame = frame;
        g->first_ts = ts;
    }
    if (frame != g->last_frame_seen) {
        g->frames++;
        g->last_frame_seen = frame;
    }
    g->bytes += bytes;
    if (from_client)
        g->client_bytes += bytes;
    else
        g->server_bytes += bytes;
}

/* Adds one data event (its stored run of segments when it has one, else its frames) to the group. */
static void group_add(struct ladder *l, enum group_kind kind, int from_client, int64_t seq, uint64_t frame,
                      const char *frames, int64_t ts, uint64_t bytes, const char *run)
{
    struct group *g = &l->g;

    if (g->kind != kind || (kind != GROUP_TLS && g->from_client != from_client))
        group_flush(l);
    g->kind = kind;
    g->from_client = from_client;
    g->last_seq = seq;
    if (run && *run) {
        const char *p = run;
        while (*p) {
            char *end;
            unsigned long long fr, by;
            long long t;
            fr = strtoull(p, &end, 10);
            if (*end != ':')
                break;
            t = strtoll(end + 1, &end, 10);
            if (*end != ':')
                break;
            by = strtoull(end + 1, &end, 10);
            if (*end != ':' || (end[1] != 'C' && end[1] != 'S') || end[2] != ';')
                break;
            group_frame(g, fr, t, by, end[1] == 'C');
            p = end + 3;
        }
        return;
    }
    if (frames && *frames) {
        /* "a,b,c": the bytes go with the last (completing) frame. */
        const char *p = frames;
        while (*p) {
            char *end;
            unsigned long long fr = strtoull(p, &end, 10);
            if (end == p)
                break;
            group_frame(g, fr, ts, *end == ',' ? 0 : bytes, from_client);
            if (*end != ',')
                break;
            p = end + 1;
        }
        return;
    }
    if (bytes || frame)
        group_frame(g, frame, ts, bytes, from_client);
}

static int load_findings(struct ladder *l)
{
    sqlite3_stmt *stmt = NULL;
    size_t cap = 0;
    int rc;

    if (sqlite3_prepare_v2(l->db,
                           "SELECT kind, extension, severity, detail, event_seq FROM findings WHERE session_id = ?1"
                           " ORDER BY (event_seq IS NULL OR event_seq = 0), event_seq, id",
                           -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 1, l->id) != SQLITE_OK) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct lfinding *f;
        if (l->n_findings == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct lfinding *nf = realloc(l->findings, ncap * sizeof *nf);
            if (!nf) {
                sqlite3_finalize(stmt);
                return no_memory(l);
            }
            l->findings = nf;
            cap = ncap;
        }
        f = &l->findings[l->n_findings++];
        f->kind = db_column_dup(stmt, 0);
        f->extension = db_column_dup(stmt, 1);
        f->severity = db_column_dup(stmt, 2);
        f->detail = db_column_dup(stmt, 3);
        f->event_seq = sqlite3_column_int64(stmt, 4);
        if (!f->kind || !f->extension || !f->severity || !f->detail) {
            sqlite3_finalize(stmt);
            return no_memory(l);
        }
    }
    if (rc != SQLITE_DONE) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    return 0;
}

static const char *col_text(sqlite3_stmt *stmt, int col, size_t *len)
{
    const char *p = (const char *)sqlite3_column_text(stmt, col);

    *len = p ? (size_t)sqlite3_column_bytes(stmt, col) : 0;
    return p ? p : "";
}

/* A reply's text: its first line as sent, "(+N lines)" when there are more. */
static void reply_text(sqlite3_stmt *stmt, char *text, size_t cap)
{
    size_t lines_len, txt_len, first, n_more = 0, i;
    const char *lines = col_text(stmt, 9, &lines_len);
    const char *txt = col_text(stmt, 8, &txt_len);
    char more[32] = "";

    if (lines_len == 0) {
        char tmp[LADDER_WIDTH + 1];
        esc_cut(tmp, sizeof tmp, txt, txt_len, ARROW_TEXT - 4);
        snprintf(text, cap, "%d %s", sqlite3_column_int(stmt, 7), tmp);
        return;
    }
    for (first = 0; first < lines_len && lines[first] != '\n'; first++)
        ;
    for (i = first; i < lines_len; i++)
        n_more += lines[i] == '\n';
    if (lines_len && lines[lines_len - 1] == '\n' && n_more)
        n_more--;
    if (n_more)
        snprintf(more, sizeof more, " (+%zu line%s)", n_more, n_more == 1 ? "" : "s");
    i = esc_cut(text, cap, lines, first, ARROW_TEXT - strlen(more));
    snprintf(text + i, cap - i, "%s", more);
}

static int draw_events(struct ladder *l)
{
    static const char sql[] = "SELECT seq, kind, dir, frame, frames, ts_usec, bytes, code, text, lines, gap_len, run"
                              " FROM events WHERE session_id = ?1 ORDER BY seq";
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sqlite3_prepare_v2(l->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 1, l->id) != SQLITE_OK) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(stmt, 0);
        const char *kind = (const char *)sqlite3_column_text(stmt, 1);
        const char *dir = (const char *)sqlite3_column_text(stmt, 2);
        uint64_t frame = (uint64_t)sqlite3_column_int64(stmt, 3);
        const char *frames = (const char *)sqlite3_column_text(stmt, 4);
        int64_t ts = sqlite3_column_int64(stmt, 5);
        uint64_t bytes = (uint64_t)sqlite3_column_int64(stmt, 6);
        const char *run = (const char *)sqlite3_column_text(stmt, 11);
        int from_client = dir && dir[0] == 'C';
        char text[LINE_CAP];
        size_t tlen;
        const char *t;

        if (!kind)
            kind = "";
        if (strcmp(kind, "body") == 0 || strcmp(kind, "body_end") == 0) {
            group_add(l, GROUP_DATA, from_client, seq, frame, frames, ts, bytes, run);
            if (strcmp(kind, "body_end") == 0)
                group_flush(l);
            continue;
        }
        if (strcmp(kind, "bdat_data") == 0) {
            group_add(l, GROUP_BDAT, from_client, seq, frame, frames, ts, bytes, run);
            continue;
        }
        if (strcmp(kind, "bdat_end") == 0) {
            if (l->g.kind == GROUP_BDAT)
                l->g.last_seq = seq;
            group_flush(l);
            continue;
        }
        if (strcmp(kind, "tls_data") == 0) {
            group_add(l, GROUP_TLS, from_client, seq, frame, frames, ts, bytes, run);
            continue;
        }
        group_flush(l);
        if (strcmp(kind, "reply") == 0) {
            reply_text(stmt, text, sizeof text);
        } else if (strcmp(kind, "gap") == 0) {
            snprintf(text, sizeof text, "[%lld bytes missing from the capture]",
                     (long long)sqlite3_column_int64(stmt, 10));
        } else if (strcmp(kind, "bad_reply") == 0) {
            char tmp[LADDER_WIDTH + 1];
            t = col_text(stmt, 8, &tlen);
            esc_cut(tmp, sizeof tmp, t, tlen, ARROW_TEXT - 11);
            snprintf(text, sizeof text, "(no code) %s", tmp);
        } else {
            /* command, auth_response (already redacted in the database), or a kind from a newer version */
            t = col_text(stmt, 8, &tlen);
            esc_cut(text, sizeof text, t, tlen, ARROW_TEXT);
        }
        arrow_row(l, frame, ts, from_client, text, strcmp(kind, "gap") == 0 ? '~' : '-');
        flush_findings(l, seq > 0 ? seq : 1);
    }
    if (rc != SQLITE_DONE) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    sqlite3_finalize(stmt);
    group_flush(l);
    return 0;
}

/* The title, the two column heads and the end row, around the events. */
static int draw(struct ladder *l)
{
    static const char sql[] = "SELECT client_addr, server_addr, start_ts, end_ts, end_reason, last_frame, end_ts_usec,"
                              " tls, client_bytes, server_bytes, start_ts_usec FROM sessions WHERE id = ?1";
    sqlite3_stmt *stmt = NULL;
    char line[LINE_CAP], buf[LINE_CAP], client[LADDER_WIDTH + 1], server[LADDER_WIDTH + 1];
    size_t len, cl, sl, o;
    const char *p;
    int rc;

    if (sqlite3_prepare_v2(l->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 1, l->id) != SQLITE_OK) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        snprintf(l->errbuf, l->errlen, "no session %lld in %s", (long long)l->id, l->path);
        sqlite3_finalize(stmt);
        return -1;
    }
    if (rc != SQLITE_ROW) {
        db_fail(l);
        sqlite3_finalize(stmt);
        return -1;
    }
    p = col_text(stmt, 0, &len);
    cl = esc_cut(client, sizeof client, p, len, INNER / 2);
    p = col_text(stmt, 1, &len);
    sl = esc_cut(server, sizeof server, p, len, INNER / 2);
    {
        int64_t dur = sqlite3_column_int64(stmt, 6) - sqlite3_column_int64(stmt, 10);
        const char *start = (const char *)sqlite3_column_text(stmt, 2), *end = (const char *)sqlite3_column_text(stmt, 4);
        snprintf(buf, sizeof buf, "Session %lld: %s -> %s, %.40s, %lld.%03lld s, end %.32s", (long long)l->id, client,
                 server, start ? start : "?", (long long)(dur / 1000000), (long long)(dur % 1000000 / 1000),
                 end ? end : "?");
    }
    esc_cut(line, sizeof line, buf, strlen(buf), LADDER_WIDTH);
    put_line(l, line);
    put_line(l, "");
    /* Column heads: the client's address over the left bar, the server's ending over the right one. */
    snprintf(line, sizeof line, "%8s  %-12s  ", "Frame", "Time (UTC)");
    o = PREFIX;
    memcpy(line + o, client, cl);
    o += cl;
    while (o < LADDER_WIDTH - sl)
        line[o++] = ' ';
    memcpy(line + o, server, sl);
    o += sl;
    line[o] = '\0';
    put_line(l, line);
    memset(line, ' ', LADDER_WIDTH);
    line[PREFIX] = '|';
    line[LADDER_WIDTH - 1] = '|';
    line[LADDER_WIDTH] = '\0';
    put_line(l, line);

    if (load_findings(l) < 0 || draw_events(l) < 0) {
        sqlite3_finalize(stmt);
        return -1;
    }
    flush_findings(l, 0);
    put_prefix(line, (uint64_t)sqlite3_column_int64(stmt, 5), sqlite3_column_int64(stmt, 6),
               sqlite3_column_type(stmt, 6) != SQLITE_NULL);
    p = col_text(stmt, 4, &len);
    esc_cut(buf, sizeof buf, p, len, 32);
    snprintf(line + PREFIX, sizeof line - PREFIX, "|  end: %.32s (client %lld bytes, server %lld bytes)", buf,
             (long long)sqlite3_column_int64(stmt, 8), (long long)sqlite3_column_int64(stmt, 9));
    line[LADDER_WIDTH] = '\0';
    put_line(l, line);
    sqlite3_finalize(stmt);
    return 0;
}

int ladder_print_db(FILE *out, sqlite3 *db, const char *db_path, int64_t session_id, char *errbuf, size_t errlen)
{
    struct ladder l;
    size_t i;
    int rc;

    memset(&l, 0, sizeof l);
    l.out = out;
    l.db = db;
    l.path = db_path;
    l.id = session_id;
    l.errbuf = errbuf;
    l.errlen = errlen;
    rc = draw(&l);
    for (i = 0; i < l.n_findings; i++) {
        free(l.findings[i].kind);
        free(l.findings[i].extension);
        free(l.findings[i].severity);
        free(l.findings[i].detail);
    }
    free(l.findings);
    if (rc == 0 && (fflush(out) != 0 || ferror(out) || l.write_failed)) {
        snprintf(errbuf, errlen, "cannot write output");
        rc = -1;
    }
    return rc;
}

int ladder_print(FILE *out, const char *db_path, int64_t session_id, char *errbuf, size_t errlen)
{
    enum query_open_error why;
    sqlite3 *db = query_open(db_path, &why, errbuf, errlen);
    int rc;

    if (!db)
        return -1;
    rc = ladder_print_db(out, db, db_path, session_id, errbuf, errlen);
    sqlite3_close(db);
    return rc;
}
