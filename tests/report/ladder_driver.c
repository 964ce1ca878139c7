/* ladder_driver.c: test driver: prints ladder_print() of one session (until show --ladder is wired). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/ladder.h"

/* usage: ladder_driver DB SESSION_ID; exit 0, or 2 with the error on stderr. */
int main(int argc, char **argv)
{
    char errbuf[512];

    if (argc != 3) {
        fprintf(stderr, "usage: ladder_driver DB SESSION_ID\n");
        return 64;
    }
    if (ladder_print(stdout, argv[1], strtoll(argv[2], NULL, 10), errbuf, sizeof errbuf) < 0) {
        fprintf(stderr, "ladder_driver: %s\n", errbuf);
        return 2;
    }
    return 0;
}
