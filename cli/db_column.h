/* db_column.h: small helpers for reading SQLite result columns, shared by show, ladder and report. */
#ifndef SMTPTRACE_DB_COLUMN_H
#define SMTPTRACE_DB_COLUMN_H

#include <sqlite3.h>

/* A NUL-terminated heap copy of a text column ("" for NULL); the caller frees it. NULL when out of memory. */
char *db_column_dup(sqlite3_stmt *stmt, int col);

#endif
