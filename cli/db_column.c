/* db_column.c: heap copies of SQLite text columns. */
#include "cli/db_column.h"

#include <stdlib.h>
#include <string.h>

char *db_column_dup(sqlite3_stmt *stmt, int col)
{
    const unsigned char *p = sqlite3_column_text(stmt, col);
    size_t n = (size_t)sqlite3_column_bytes(stmt, col);
    char *q = malloc(n + 1);

    if (!q)
        return NULL;
    if (p && n)
        memcpy(q, p, n);
    q[p ? n : 0] = '\0';
    return q;
}
