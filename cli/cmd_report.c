/* cmd_report.c: `smtptrace report`: placeholder until the HTML report lands (issue 8). */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smtptrace report: not available in this build\n");
    return EXIT_USAGE;
}
