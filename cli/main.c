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
          "       smtptrace help COMMAND | --version\n"
          "see smtptrace(1) and smtptrace help COMMAND\n",
          out);
}

/* `smtptrace help COMMAND`: the command's own --help. */
static int help(const char *command)
{
    static char help_flag[] = "--help";
    char *args[2];

    args[0] = (char *)command;
    args[1] = help_flag;
    if (strcmp(command, "read") == 0)
        return cmd_read(2, args);
    if (strcmp(command, "live") == 0)
        return cmd_live(2, args);
    if (strcmp(command, "query") == 0)
        return cmd_query(2, args);
    if (strcmp(command, "show") == 0)
        return cmd_show(2, args);
    if (strcmp(command, "report") == 0)
        return cmd_report(2, args);
    fprintf(stderr, "smtptrace: no command '%s' (read, live, query, show, report)\n", command);
    return EXIT_USAGE;
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
    if (strcmp(argv[1], "help") == 0 && argc > 2)
        return help(argv[2]);
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
