/* exit_codes.h: the documented exit statuses of smtptrace (see README.md). */
#ifndef SMTPTRACE_EXIT_CODES_H
#define SMTPTRACE_EXIT_CODES_H

enum smtptrace_exit {
    EXIT_ALL_READ = 0,     /* every input read to its end (damaged packets are counted, not fatal) */
    EXIT_DAMAGED = 1,      /* an input ended early (truncated or corrupt file): what came before is kept */
    EXIT_UNREADABLE = 2,   /* an input or the database could not be used at all */
    EXIT_USAGE = 64,       /* bad command line (sysexits EX_USAGE) */
    EXIT_NO_MEMORY = 70,   /* out of memory: stopped cleanly */
    EXIT_INTERRUPTED = 130 /* stopped by SIGINT/SIGTERM: finished sessions kept */
};

#endif
