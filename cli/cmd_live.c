/* cmd_live.c: `smtptrace live`: placeholder until live capture lands (issue 5). */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int cmd_live(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smtptrace live: not available in this build\n");
    return EXIT_USAGE;
}
