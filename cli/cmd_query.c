/* cmd_query.c: `smtptrace query`: reports and read-only SQL over the session database. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "dissect/findings.h"
#include "store/query.h"

#define DEFAULT_DB "smtptrace.db"

static void query_usage(FILE *out)
{
    fputs("usage: smtptrace query [-d DB] REPORT [filters] [--format table|csv|json]\n"
          "       smtptrace query [-d DB] sql \"SELECT ...\" [--format table|csv|json]\n"
          "reports: sessions, findings, servers, messages (default database ./" DEFAULT_DB ")\n"
          "filters: --finding KIND  --server ADDR  --client ADDR  --since TS  --until TS  --capture ID\n",
          out);
}

static int parse_id(const char *text, int64_t *id)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 0)
        return -1;
    *id = (int64_t)v;
    return 0;
}

int cmd_query(int argc, char **argv)
{
    const char *db_path = DEFAULT_DB, *report = NULL, *sql = NULL;
    struct query_filters filters;
    enum query_format fmt = QUERY_FORMAT_TABLE;
    enum query_open_error why;
    char errbuf[1024];
    sqlite3 *db;
    int i, rc;

    memset(&filters, 0, sizeof filters);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            query_usage(stdout);
            return EXIT_ALL_READ;
        } else if ((strcmp(a, "-d") == 0 || strcmp(a, "--db") == 0) && has_value) {
            db_path = argv[++i];
        } else if (strcmp(a, "--format") == 0 && has_value) {
            if (query_parse_format(argv[++i], &fmt) < 0) {
                fprintf(stderr, "smtptrace query: unknown format '%s' (table, csv or json)\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--finding") == 0 && has_value) {
            filters.finding = argv[++i];
            if (finding_kind_parse(filters.finding) < 0) {
                fprintf(stderr, "smtptrace query: unknown finding kind '%s'\n", filters.finding);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--server") == 0 && has_value) {
            filters.server = argv[++i];
        } else if (strcmp(a, "--client") == 0 && has_value) {
            filters.client = argv[++i];
        } else if (strcmp(a, "--since") == 0 && has_value) {
            filters.since = argv[++i];
        } else if (strcmp(a, "--until") == 0 && has_value) {
            filters.until = argv[++i];
        } else if (strcmp(a, "--capture") == 0 && has_value) {
            if (parse_id(argv[++i], &filters.capture_id) < 0) {
                fprintf(stderr, "smtptrace query: --capture wants a capture id, not '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
            filters.has_capture = 1;
        } else if (a[0] == '-' && a[1] != '\0' && !(report && strcmp(report, "sql") == 0 && !sql)) {
            fprintf(stderr, "smtptrace query: unknown option '%s' (or missing value)\n", a);
            query_usage(stderr);
            return EXIT_USAGE;
        } else if (!report) {
            report = a;
        } else if (strcmp(report, "sql") == 0 && !sql) {
            sql = a;
        } else {
            fprintf(stderr, "smtptrace query: unexpected argument '%s'\n", a);
            return EXIT_USAGE;
        }
    }
    if (!report) {
        fprintf(stderr, "smtptrace query: no report given\n");
        query_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(report, "sql") == 0 ? !sql : !query_is_report(report)) {
        if (sql || strcmp(report, "sql") != 0)
            fprintf(stderr, "smtptrace query: unknown report '%s'\n", report);
        else
            fprintf(stderr, "smtptrace query: sql wants a statement\n");
        query_usage(stderr);
        return EXIT_USAGE;
    }
    db = query_open(db_path, &why, errbuf, sizeof errbuf);
    if (!db) {
        fprintf(stderr, "smtptrace query: %s\n", errbuf);
        return EXIT_UNREADABLE;
    }
    if (sql)
        rc = query_sql(db, db_path, sql, fmt, stdout, errbuf, sizeof errbuf);
    else
        rc = query_report(db, db_path, report, &filters, fmt, stdout, errbuf, sizeof errbuf);
    if (rc < 0)
        fprintf(stderr, "smtptrace query: %s\n", errbuf);
    if (sqlite3_close(db) != SQLITE_OK && rc == 0) {
        fprintf(stderr, "smtptrace query: %s: %s\n", db_path, sqlite3_errmsg(db));
        rc = -1;
    }
    return rc < 0 ? EXIT_UNREADABLE : EXIT_ALL_READ;
}
