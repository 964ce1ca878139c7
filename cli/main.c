/* main.c: the smtptrace command line: dispatches to read (and later query, show, live). */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "capture/classify.h"
#include "capture/pcap_source.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"

static void usage(FILE *out)
{
    fputs("usage: smtptrace read [options] FILE...   analyze capture files (pcap, pcapng, - for stdin)\n"
          "       smtptrace live -i IFACE [options]   capture on an interface (smtptrace live -D lists them)\n"
          "       smtptrace query [-d DB] REPORT      sessions, findings, servers, messages, sql \"SELECT ...\"\n"
          "       smtptrace show [-d DB] [--ladder] SESSION   one stored session: transcript or ladder\n"
          "       smtptrace report [-d DB] -o FILE.html  a self-contained HTML report of the database\n"
          "       smtptrace --version\n"
          "read options:\n"
          "  --netmon          print every SMTP frame the way Network Monitor did\n"
          "  -f EXPR           BPF filter applied while reading (as tcpdump)\n"
          "  --port LIST       TCP ports that carry SMTP (default 25,587,2525); other ports are\n"
          "                    taken when their first bytes are SMTP (--no-detect: ports only)\n"
          "  -d PATH           session database (default ./smtptrace.db); --no-db for none\n"
          "  --force           read again a capture already in the database\n"
          "  --format jsonl    one JSON object per session on stdout (Zeek smtp.log names); --events adds events\n"
          "  -q                no warnings about damaged packets\n"
          "see smtptrace(1), smtptrace live --help, smtptrace query --help\n"
          "exit status: 0 all read, 1 an input was damaged (what came before is kept),\n"
          "             2 an input could not be read, 64 usage, 70 out of memory, 130 interrupted\n",
          out);
}

int main(int argc, char **argv)
{
    /*
     * Sessions come and go by the thousand, each with a parser of ~20 KiB: keep freed memory for the
     * next ones instead of returning it to the kernel and faulting it back in (glibc mallopt(3)).
     */
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_TOP_PAD, 4 << 20);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_ALL_READ;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("smtptrace %s\n%s\nnDPI %s\nSQLite %s\n", SMTPTRACE_VERSION, pcap_source_lib_version(),
               classifier_version(), sqlite3_libversion());
        return EXIT_ALL_READ;
    }
    if (strcmp(argv[1], "read") == 0)
        return cmd_read(argc - 1, argv + 1);
    if (strcmp(argv[1], "query") == 0)
        return cmd_query(argc - 1, argv + 1);
    if (strcmp(argv[1], "show") == 0)
        return cmd_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "live") == 0)
        return cmd_live(argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    fprintf(stderr, "smtptrace: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
