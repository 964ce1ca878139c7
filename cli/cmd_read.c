/* cmd_read.c: `smtptrace read`: analyze capture files into transcripts, summaries and findings. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcap_source.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/pipeline.h"
#include "cli/text_output.h"

static volatile sig_atomic_t stop_requested;

/* Only sets a flag: the loop notices it between frames (no SA_RESTART needed for file reads). */
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct read_options {
    const char *filter;
    int netmon;
    int quiet;
    struct pipeline_config config;
};

static int read_one(const char *path, const struct read_options *opt, struct text_output *to, int *status)
{
    char errbuf[512];
    struct pcap_source *src = pcap_source_open(path, opt->filter, errbuf, sizeof errbuf);
    struct session_sink sink = {NULL, text_output_event, text_output_message, text_output_finding,
                                text_output_closed};
    struct pipeline *pl;
    struct pcap_frame frame;
    uint64_t frame_no = 0;
    int dlt, rc = 0;
    enum pcap_next_status st;
    const char *damage;
    uint64_t damage_frame;

    if (!src) {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
        *status = EXIT_UNREADABLE;
        return 0;
    }
    dlt = pcap_source_datalink(src);
    if (!decode_link_supported(dlt))
        fprintf(stderr, "smtptrace: %s: link type %s is not decoded; its frames are counted and skipped\n",
                path, pcap_source_datalink_name(src));
    pl = pipeline_new(&opt->config, &sink, to);
    if (!pl) {
        pcap_source_close(src);
        fprintf(stderr, "smtptrace: out of memory\n");
        *status = EXIT_NO_MEMORY;
        return -1;
    }
    while (!stop_requested && (st = pcap_source_next(src, &frame, errbuf, sizeof errbuf)) == PCAP_SOURCE_FRAME) {
        frame_no++;
        if (pipeline_frame(pl, dlt, frame.data, frame.caplen, frame_no, frame.ts_usec) < 0) {
            fprintf(stderr, "smtptrace: %s: frame %llu: out of memory\n", path, (unsigned long long)frame_no);
            *status = EXIT_NO_MEMORY;
            rc = -1;
            break;
        }
    }
    if (rc == 0 && !stop_requested && st == PCAP_SOURCE_ERROR) {
        fprintf(stderr, "smtptrace: %s: frame %llu: %s; analysis kept up to there\n", path,
                (unsigned long long)(frame_no + 1), errbuf);
        if (*status < EXIT_DAMAGED)
            *status = EXIT_DAMAGED;
    }
    pipeline_finish(pl);
    damage = pipeline_first_damage(pl, &damage_frame);
    if (damage[0] && !opt->quiet) {
        const struct decode_stats *ds = pipeline_decode_stats(pl);
        fprintf(stderr, "smtptrace: %s: frame %llu: %s (%llu truncated, %llu invalid frames skipped)\n", path,
                (unsigned long long)damage_frame, damage,
                (unsigned long long)ds->by_status[DECODE_TRUNCATED],
                (unsigned long long)ds->by_status[DECODE_INVALID]);
    }
    pipeline_free(pl);
    pcap_source_close(src);
    return rc;
}

int cmd_read(int argc, char **argv)
{
    struct read_options opt;
    struct text_output to;
    struct sigaction sa;
    int i, status = EXIT_ALL_READ, n_files = 0;
    char errbuf[256];

    memset(&opt, 0, sizeof opt);
    pipeline_config_default(&opt.config);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--netmon") == 0) {
            opt.netmon = 1;
        } else if (strcmp(argv[i], "-q") == 0) {
            opt.quiet = 1;
        } else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            opt.filter = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (pipeline_parse_ports(&opt.config, argv[++i], errbuf, sizeof errbuf) < 0) {
                fprintf(stderr, "smtptrace read: %s\n", errbuf);
                return EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "smtptrace read: unknown option '%s' (see smtptrace --help)\n", argv[i]);
            return EXIT_USAGE;
        } else {
            n_files++;
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "smtptrace read: no capture file given (use - for standard input)\n");
        return EXIT_USAGE;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    text_output_init(&to, stdout, opt.netmon, !opt.netmon);
    for (i = 1; i < argc && !stop_requested; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--port") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        if (read_one(argv[i], &opt, &to, &status) < 0)
            break;
    }
    text_output_totals(&to);
    if (fflush(stdout) != 0 || to.write_failed) {
        fprintf(stderr, "smtptrace: cannot write output\n");
        return EXIT_UNREADABLE;
    }
    if (stop_requested) {
        fprintf(stderr, "smtptrace: interrupted\n");
        return EXIT_INTERRUPTED;
    }
    return status;
}
