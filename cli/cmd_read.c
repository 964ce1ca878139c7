/* cmd_read.c: `smtptrace read`: analyze capture files into transcripts, summaries and findings. */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/pcap_source.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/pipeline.h"
#include "cli/output_sinks.h"
#include "cli/text_output.h"
#include "store/store.h"

static volatile sig_atomic_t stop_requested;

static void read_usage(FILE *out)
{
    fputs("usage: smtptrace read [options] FILE...   analyze capture files (pcap, pcapng, - for stdin)\n"
          "options:\n"
          "  --netmon          print every SMTP frame the way Network Monitor did\n"
          "  -f EXPR           BPF filter applied while reading (as tcpdump)\n"
          "  --port LIST       TCP ports that carry SMTP (default 25,587,2525); other ports are\n"
          "                    taken when their first bytes are SMTP or nDPI says so (--no-detect: ports only)\n"
          "  -d PATH           session database (default ./smtptrace.db); --no-db for none\n"
          "  --force           read again a capture already in the database\n"
          "  --format FMT      text (default) or jsonl: one JSON object per session on stdout; --events adds events\n"
          "  --color WHEN      findings in colour: auto (default: when stdout is a terminal and NO_COLOR is unset),\n"
          "                    always or never\n"
          "  -q                no warnings about damaged packets, no progress\n"
          "progress (bytes, rate, time left) goes to stderr when it is a terminal and stdout is not.\n"
          "exit status: 0 all read, 1 an input was damaged (what came before is kept),\n"
          "             2 an input or the database could not be used, 64 usage, 70 out of memory, 130 interrupted\n",
          out);
}

/* Only sets a flag: the loop notices it between frames (no SA_RESTART needed for file reads). */
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct read_options {
    const char *filter;
    const char *db_path; /* NULL: --no-db */
    int force;
    int netmon;
    int quiet;
    int jsonl, json_events; /* --format jsonl [--events] */
    int color;              /* 1 always, 0 never, -1 auto */
    struct pipeline_config config;
};

/* The capture file's SHA-256, computed by a second thread while the first analyzes the file. */
struct hash_job {
    pthread_t thread;
    int started, ok;
    const char *path; /* the caller's: read_one joins the thread before it returns */
    char hex[65];
};

static void *hash_main(void *arg)
{
    struct hash_job *job = arg;

    job->ok = store_file_sha256(job->path, job->hex) == 0;
    return NULL;
}

static void hash_join(struct hash_job *job)
{
    if (job->started) {
        pthread_join(job->thread, NULL);
        job->started = 0;
    }
}

static int64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "capture.pcap: 45% 480.1/1062.6 MB, 352 MB/s, 2 s left" on stderr, rewritten in place. */
static void show_progress(const char *path, int64_t done, uint64_t total, int64_t started)
{
    double secs = (double)(now_usec() - started) / 1e6, rate = secs > 0 ? (double)done / secs : 0;

    if (total > 0 && done >= 0)
        fprintf(stderr, "\r%s: %3d%% %.1f/%.1f MB, %.0f MB/s, %.0f s left \033[K", path,
                (int)(100.0 * (double)done / (double)total), (double)done / 1e6, (double)total / 1e6, rate / 1e6,
                rate > 0 ? (double)(total - (uint64_t)done) / rate : 0.0);
    else
        fprintf(stderr, "\r%s: %.1f MB, %.0f MB/s \033[K", path, (double)done / 1e6, rate / 1e6);
}

static int read_one(const char *path, const struct read_options *opt, struct output_sinks *sinks, int *status)
{
    char errbuf[512];
    struct pcap_source *src;
    struct pipeline *pl;
    int64_t capture_id = 0, existing_id = 0, first_ts = 0, last_ts = 0;
    struct pipeline_config config;
    uint64_t captured_bytes = 0, file_size = 0;
    struct hash_job hash;
    char sha[65] = "";
    /* A progress line on the terminal, unless the terminal is also where session lines scroll by. */
    int progress = !opt->quiet && isatty(STDERR_FILENO) && !isatty(STDOUT_FILENO);
    int64_t started = now_usec(), last_progress = started;
    struct stat file_stat;
    struct pcap_frame frame;
    uint64_t frame_no = 0;
    int dlt, rc = 0;
    enum pcap_next_status st;
    const char *damage;
    uint64_t damage_frame;

    memset(&hash, 0, sizeof hash);
    src = pcap_source_open(path, opt->filter, errbuf, sizeof errbuf);
    if (!src) {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
        *status = EXIT_UNREADABLE;
        return 0;
    }
    dlt = pcap_source_datalink(src);
    if (strcmp(path, "-") != 0 && stat(path, &file_stat) == 0 && S_ISREG(file_stat.st_mode))
        file_size = (uint64_t)file_stat.st_size;
    if (sinks->store) {
        int rc_begin;

        /*
         * A file read before is recognised by its content, whatever its name (stdin is not hashed).
         * Only a file the size of a stored capture can be one: then it is hashed first, to skip it;
         * otherwise the hash is computed on the other core while the file is analyzed.
         */
        if (file_size && store_capture_drop_unfinished(sinks->store, path, file_size, errbuf, sizeof errbuf) < 0) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            pcap_source_close(src);
            *status = EXIT_UNREADABLE;
            return -1;
        }
        if (file_size && !store_capture_size_known(sinks->store, file_size) && store_crypto_init() == 0) {
            hash.path = path;
            hash.started = pthread_create(&hash.thread, NULL, hash_main, &hash) == 0;
        }
        if (file_size && !hash.started && store_file_sha256(path, sha) < 0)
            sha[0] = '\0';
        rc_begin = store_capture_begin(sinks->store, path, "file", pcap_source_datalink_name(src), sha,
                                           opt->force, &capture_id, &existing_id, errbuf, sizeof errbuf);
        if (rc_begin != 0)
            hash_join(&hash);
        if (rc_begin == 1) {
            fprintf(stderr, "smtptrace: %s: already in the database as capture %lld; skipped (--force reads it again)\n",
                    path, (long long)existing_id);
            pcap_source_close(src);
            return 0;
        }
        /* The size now, the hash when it is ready: an interrupted run is then known as this file's. */
        if (rc_begin == 0 && file_size)
            rc_begin = store_capture_set_file(sinks->store, capture_id, file_size, NULL, errbuf, sizeof errbuf);
        if (rc_begin < 0) {
            hash_join(&hash);
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            pcap_source_close(src);
            *status = EXIT_UNREADABLE;
            return -1;
        }
    }
    if (!decode_link_supported(dlt))
        fprintf(stderr, "smtptrace: %s: link type %s is not decoded; its frames are counted and skipped\n",
                path, pcap_source_datalink_name(src));
    config = opt->config;
    config.session_id_base = sinks->sessions_numbered; /* numbering goes on across files */
    pl = pipeline_new(&config, output_sinks_sink(), sinks);
    if (!pl) {
        hash_join(&hash);
        pcap_source_close(src);
        fprintf(stderr, "smtptrace: out of memory\n");
        *status = EXIT_NO_MEMORY;
        return -1;
    }
    while (!stop_requested && (st = pcap_source_next(src, &frame, errbuf, sizeof errbuf)) == PCAP_SOURCE_FRAME) {
        frame_no++;
        if (frame_no == 1)
            first_ts = frame.ts_usec;
        /* Progress now and then (a clock read per 4096 frames), only for a person watching. */
        if (progress && (frame_no & 4095) == 0 && now_usec() - last_progress >= (last_progress == started ? 200000 : 500000)) {
            int64_t at = pcap_source_offset(src);
            show_progress(path, at >= 0 ? at : (int64_t)captured_bytes, file_size, started);
            last_progress = now_usec();
        }
        last_ts = frame.ts_usec;
        captured_bytes += frame.caplen;
        if (pipeline_frame(pl, dlt, frame.data, frame.caplen, frame_no, frame.ts_usec) < 0) {
            fprintf(stderr, "smtptrace: %s: frame %llu: out of memory\n", path, (unsigned long long)frame_no);
            *status = EXIT_NO_MEMORY;
            rc = -1;
            break;
        }
        /* A database that stopped taking writes (disk full, read-only) ends the run: what is
         * analyzed would be lost anyway. Checked now and then, not per frame. */
        if ((frame_no & 4095) == 0 && sinks->store && store_error(sinks->store)) {
            rc = -1;
            break;
        }
    }
    if (progress && last_progress != started)
        fputs("\r\033[K", stderr);
    if (rc == 0 && !stop_requested && st == PCAP_SOURCE_ERROR) {
        fprintf(stderr, "smtptrace: %s: frame %llu: %s; analysis kept up to there\n", path,
                (unsigned long long)(frame_no + 1), errbuf);
        if (*status < EXIT_DAMAGED)
            *status = EXIT_DAMAGED;
    }
    if (stop_requested)
        fprintf(stderr, "smtptrace: %s: interrupted at frame %llu; %llu conversations still open are kept "
                        "as ended by capture_end\n",
                path, (unsigned long long)frame_no,
                (unsigned long long)pipeline_flow_stats(pl)->open_flows);
    pipeline_finish(pl);
    sinks->sessions_numbered += pipeline_stats(pl)->sessions_opened;
    if (!opt->netmon && !opt->quiet && !opt->jsonl) {
        const char *names[64];
        uint64_t counts[64];
        size_t k, n = pipeline_other_protocols(pl, names, counts, 64);
        /* Not stored: what else the capture held, by nDPI protocol, so nothing is silently ignored. */
        if (n > 0) {
            printf("%s: other TCP conversations (not SMTP):", path);
            for (k = 0; k < n; k++)
                printf("%s %s %llu", k ? "," : "", names[k], (unsigned long long)counts[k]);
            printf("\n");
        }
    }
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
    hash_join(&hash);
    /* A failure here is in store_error(), reported just below. */
    if (sinks->store && capture_id)
        store_capture_set_file(sinks->store, capture_id, file_size, hash.ok ? hash.hex : NULL, errbuf, sizeof errbuf);
    if (sinks->store) {
        if (store_error(sinks->store) ||
            store_capture_end(sinks->store, capture_id, first_ts, last_ts, frame_no, captured_bytes, errbuf,
                              sizeof errbuf) < 0) {
            fprintf(stderr, "smtptrace: %s\n", store_error(sinks->store) ? store_error(sinks->store) : errbuf);
            *status = EXIT_UNREADABLE;
            sinks->store_failed = 1;
            return -1;
        }
    }
    return rc;
}

int cmd_read(int argc, char **argv)
{
    struct read_options opt;
    struct text_output to;
    struct output_sinks sinks;
    struct sigaction sa;
    int i, status = EXIT_ALL_READ, n_files = 0;
    char errbuf[256];

    memset(&opt, 0, sizeof opt);
    pipeline_config_default(&opt.config);
    opt.db_path = "smtptrace.db";
    opt.color = -1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            read_usage(stdout);
            return EXIT_ALL_READ;
        } else if (strcmp(argv[i], "--color") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "always") == 0)
                opt.color = 1;
            else if (strcmp(argv[i], "never") == 0)
                opt.color = 0;
            else if (strcmp(argv[i], "auto") == 0)
                opt.color = -1;
            else {
                fprintf(stderr, "smtptrace read: --color takes auto, always or never\n");
                return EXIT_USAGE;
            }
        } else if (strncmp(argv[i], "--color=", 8) == 0) {
            opt.color = strcmp(argv[i] + 8, "always") == 0 ? 1 : strcmp(argv[i] + 8, "never") == 0 ? 0 : -1;
        } else if (strcmp(argv[i], "--netmon") == 0) {
            opt.netmon = 1;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "jsonl") == 0) {
                opt.jsonl = 1;
            } else if (strcmp(argv[i], "text") != 0) {
                fprintf(stderr, "smtptrace read: unknown format '%s' (text or jsonl)\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--events") == 0) {
            opt.json_events = 1;
        } else if (strcmp(argv[i], "--no-detect") == 0) {
            opt.config.detect = 0;
        } else if (strcmp(argv[i], "--no-db") == 0) {
            opt.db_path = NULL;
        } else if (strcmp(argv[i], "--force") == 0) {
            opt.force = 1;
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            opt.db_path = argv[++i];
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
            fprintf(stderr, "smtptrace read: unknown option '%s' (see smtptrace help read)\n", argv[i]);
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

    if (opt.jsonl && opt.netmon) {
        fprintf(stderr, "smtptrace read: --format jsonl and --netmon both want standard output\n");
        return EXIT_USAGE;
    }
    if (opt.json_events && !opt.jsonl) {
        fprintf(stderr, "smtptrace read: --events goes with --format jsonl\n");
        return EXIT_USAGE;
    }
    /* With JSON lines, standard output holds JSON only: no summaries, no totals. */
    text_output_init(&to, stdout, opt.netmon, !opt.netmon && !opt.jsonl);
    /* Colour as ls and grep do: a terminal, unless NO_COLOR (no-color.org) or --color says otherwise. */
    to.color = opt.color == 1 || (opt.color == -1 && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
    memset(&sinks, 0, sizeof sinks);
    sinks.text = &to;
    if (opt.jsonl && !(sinks.json = json_output_new(stdout, opt.json_events))) {
        fprintf(stderr, "smtptrace: out of memory\n");
        return EXIT_NO_MEMORY;
    }
    if (opt.db_path) {
        sinks.store = store_open(opt.db_path, errbuf, sizeof errbuf);
        if (!sinks.store) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            return EXIT_UNREADABLE;
        }
        /* SQLite on its own thread, beside the parsing; if it cannot start, the same work runs inline. */
        store_start_writer(sinks.store);
        sinks.store_sink = store_session_sink();
    }
    if (opt.config.detect) {
        opt.config.classifier = classifier_new(errbuf, sizeof errbuf);
        if (!opt.config.classifier) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            if (sinks.store)
                store_close(sinks.store);
            return EXIT_UNREADABLE;
        }
    }
    for (i = 1; i < argc && !stop_requested; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "-d") == 0 ||
            strcmp(argv[i], "--format") == 0 || strcmp(argv[i], "--color") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            continue;
        if (read_one(argv[i], &opt, &sinks, &status) < 0)
            break;
    }
    if (sinks.store && store_close(sinks.store) < 0 && !sinks.store_failed) {
        fprintf(stderr, "smtptrace: %s: cannot commit the database\n", opt.db_path);
        status = EXIT_UNREADABLE;
    }
    classifier_free(opt.config.classifier);
    text_output_totals(&to);
    if (sinks.json) {
        if (json_output_failed(sinks.json))
            to.write_failed = 1;
        json_output_free(sinks.json);
    }
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
