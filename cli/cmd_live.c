/* cmd_live.c: `smtptrace live`: capture on an interface, print and store SMTP sessions as they end. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "capture/live_source.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output_sinks.h"
#include "cli/pipeline.h"
#include "cli/text_output.h"
#include "store/store.h"

/* The signal handler's whole world: a flag and the capture to break out of (pcap_breakloop). */
static volatile sig_atomic_t stop_requested;
static struct live_source *volatile signal_source;

/* SIGINT/SIGTERM: stop. The signal itself cuts our poll() short (no SA_RESTART); breakloop, a busy read. */
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    live_source_breakloop(signal_source);
}

#define COMMIT_INTERVAL_USEC 1000000 /* readers (smtptrace query) see finished sessions within a second */
#define FLUSH_INTERVAL_USEC 100000   /* terminal output lags the wire by at most this */

struct live_options {
    struct live_config capture;
    const char *db_path; /* NULL: --no-db */
    const char *dump_path;
    const char *user;
    uint64_t count;        /* 0: no limit */
    int64_t duration_usec; /* 0: no limit */
    int netmon, quiet, list;
    struct pipeline_config config;
};

static void live_usage(FILE *out)
{
    fputs("usage: smtptrace live -i IFACE [options]\n"
          "       smtptrace live -D                 list the interfaces (as tcpdump -D)\n"
          "options (named as tcpdump's where tcpdump has them):\n"
          "  -i IFACE          interface to capture on\n"
          "  -f EXPR           BPF capture filter, e.g. 'tcp port 25'\n"
          "  -p                do not put the interface in promiscuous mode\n"
          "  -B MIB            kernel capture buffer in MiB (default libpcap's 2 MiB; more for busy links)\n"
          "  --immediate-mode  hand over each packet at once instead of in blocks of up to 100 ms\n"
          "                    (on Linux each packet then takes a whole snaplen-sized buffer slot)\n"
          "  -c COUNT          stop after COUNT packets\n"
          "  --duration SECS   stop after SECS seconds\n"
          "  -w FILE           also write the raw packets to FILE (pcap)\n"
          "  -Z USER           drop root privileges to USER once the interface is open\n"
          "  -d PATH           session database (default ./smtptrace.db); --no-db for none\n"
          "  --netmon          print every SMTP frame the way Network Monitor did\n"
          "  --port LIST       TCP ports that carry SMTP (default 25,587,2525); --no-detect: ports only\n"
          "  -q                no warnings about damaged packets\n"
          "Stops on SIGINT/SIGTERM, -c or --duration: open conversations end as capture_end, exit 0.\n",
          out);
}

static int64_t mono_usec(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall-clock time on the scale of frame timestamps, for expiring idle conversations. */
static int64_t realtime_usec(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A whole decimal number in [min, max]; no sign, no trailing junk. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Seconds, possibly fractional ("0.5"), more than 0 and at most a year. */
static int parse_duration(const char *s, int64_t *usec)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0.0) || v > 366.0 * 86400.0)
        return -1;
    *usec = (int64_t)(v * 1e6);
    if (*usec < 1)
        *usec = 1;
    return 0;
}

/* Returns 0, EXIT_USAGE after printing why, or -1 for --help (printed). */
static int parse_args(int argc, char **argv, struct live_options *opt)
{
    char errbuf[256];
    uint64_t v;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_arg = i + 1 < argc;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            live_usage(stdout);
            return -1;
        } else if (strcmp(a, "-D") == 0 || strcmp(a, "--list-interfaces") == 0) {
            opt->list = 1;
        } else if (strcmp(a, "--netmon") == 0) {
            opt->netmon = 1;
        } else if (strcmp(a, "--no-detect") == 0) {
            opt->config.detect = 0;
        } else if (strcmp(a, "--no-db") == 0) {
            opt->db_path = NULL;
        } else if (strcmp(a, "-q") == 0) {
            opt->quiet = 1;
        } else if (strcmp(a, "--immediate-mode") == 0) {
            opt->capture.immediate = 1;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--no-promiscuous-mode") == 0) {
            opt->capture.promisc = 0;
        } else if ((strcmp(a, "-i") == 0 || strcmp(a, "--interface") == 0) && has_arg) {
            opt->capture.device = argv[++i];
        } else if (strcmp(a, "-f") == 0 && has_arg) {
            opt->capture.filter = argv[++i];
        } else if (strcmp(a, "-d") == 0 && has_arg) {
            opt->db_path = argv[++i];
        } else if (strcmp(a, "-w") == 0 && has_arg) {
            opt->dump_path = argv[++i];
        } else if ((strcmp(a, "-Z") == 0 || strcmp(a, "--relinquish-privileges") == 0) && has_arg) {
            opt->user = argv[++i];
        } else if (strcmp(a, "-c") == 0 && has_arg) {
            if (parse_u64(argv[++i], 1, UINT64_MAX, &opt->count) < 0) {
                fprintf(stderr, "smtptrace live: -c wants a packet count of 1 or more, not '%s'\n", argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-B") == 0 && has_arg) {
            /* 2047 MiB: libpcap takes the size as an int of bytes. */
            if (parse_u64(argv[++i], 1, 2047, &v) < 0) {
                fprintf(stderr, "smtptrace live: -B wants a buffer size in MiB, 1 to 2047, not '%s'\n",
                        argv[i]);
                return EXIT_USAGE;
            }
            opt->capture.buffer_mib = (unsigned)v;
        } else if (strcmp(a, "--duration") == 0 && has_arg) {
            if (parse_duration(argv[++i], &opt->duration_usec) < 0) {
                fprintf(stderr, "smtptrace live: --duration wants seconds (more than 0), not '%s'\n",
                        argv[i]);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--port") == 0 && has_arg) {
            if (pipeline_parse_ports(&opt->config, argv[++i], errbuf, sizeof errbuf) < 0) {
                fprintf(stderr, "smtptrace live: %s\n", errbuf);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "smtptrace live: unknown option '%s' or missing value (smtptrace live --help)\n",
                    a);
            return EXIT_USAGE;
        } else {
            fprintf(stderr, "smtptrace live: unexpected argument '%s' (a capture filter goes after -f)\n", a);
            return EXIT_USAGE;
        }
    }
    if (!opt->list && !opt->capture.device) {
        fprintf(stderr, "smtptrace live: no interface given: -i IFACE (smtptrace live -D lists them)\n");
        return EXIT_USAGE;
    }
    return 0;
}

/*
 * -Z USER, as tcpdump's droproot(): the capture socket is already open, so
 * everything after (database, -w file, packet parsing) runs unprivileged.
 * Not root: allowed only when USER is who we already are.
 */
static int drop_privileges(const char *user, char *errbuf, size_t errlen)
{
    struct passwd *pw;

    errno = 0;
    pw = getpwnam(user);
    if (!pw) {
        snprintf(errbuf, errlen, "-Z %s: no such user%s%s", user, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        return -1;
    }
    if (getuid() != 0 && geteuid() != 0) {
        if (pw->pw_uid == getuid() && pw->pw_uid == geteuid())
            return 0;
        snprintf(errbuf, errlen, "-Z %s: cannot change to another user without root privileges", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0) {
        snprintf(errbuf, errlen, "-Z %s: cannot set supplementary groups: %s", user, strerror(errno));
        return -1;
    }
    if (setgid(pw->pw_gid) != 0) {
        snprintf(errbuf, errlen, "-Z %s: cannot set group id %ld: %s", user, (long)pw->pw_gid,
                 strerror(errno));
        return -1;
    }
    if (setuid(pw->pw_uid) != 0) {
        snprintf(errbuf, errlen, "-Z %s: cannot set user id %ld: %s", user, (long)pw->pw_uid,
                 strerror(errno));
        return -1;
    }
    /* A process that could take root back has not really dropped it. */
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(errbuf, errlen, "-Z %s: root privileges could be regained; refusing to go on", user);
        return -1;
    }
    return 0;
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* What the capture loop leaves behind for the summary. */
struct live_run {
    uint64_t frames, bytes;
    int64_t first_ts, last_ts;
    uint64_t open_at_stop;
    int status;
};

/*
 * Periodic work: terminal output (flush_now at the end of each batch of
 * frames), database commit at least once a second and on a quiet interface
 * (so readers see finished sessions), -w flush with the commit.
 */
static int housekeeping(struct live_source *src, struct output_sinks *sinks, int64_t now, int64_t *last_flush,
                        int64_t *last_commit, int flush_now, int commit_now, int *status)
{
    char errbuf[512];

    if (flush_now || now - *last_flush >= FLUSH_INTERVAL_USEC) {
        *last_flush = now;
        if (fflush(stdout) != 0 || sinks->text->write_failed) {
            fprintf(stderr, "smtptrace: cannot write output\n");
            *status = EXIT_UNREADABLE;
            return -1;
        }
    }
    if (commit_now || now - *last_commit >= COMMIT_INTERVAL_USEC) {
        *last_commit = now;
        /* A database that stopped taking writes (disk full, read-only) ends the capture, as it does read. */
        if (sinks->store && (store_commit(sinks->store) < 0 || store_error(sinks->store))) {
            fprintf(stderr, "smtptrace: %s\n",
                    store_error(sinks->store) ? store_error(sinks->store) : "cannot commit the database");
            sinks->store_failed = 1;
            *status = EXIT_UNREADABLE;
            return -1;
        }
        if (live_source_dump_flush(src, errbuf, sizeof errbuf) < 0) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            *status = EXIT_UNREADABLE;
            return -1;
        }
    }
    return 0;
}

static void capture_loop(struct live_source *src, struct pipeline *pl, struct output_sinks *sinks,
                         const struct live_options *opt, struct live_run *run)
{
    char errbuf[512];
    struct pcap_frame frame;
    int dlt = live_source_datalink(src);
    int64_t start = mono_usec(), last_flush = start, last_commit = start, now;
    int ready;

    while (!stop_requested) {
        enum live_next_status st = live_source_next(src, &frame, errbuf, sizeof errbuf);

        if (st == LIVE_BREAK)
            break;
        if (st == LIVE_ERROR) {
            fprintf(stderr, "smtptrace: %s; sessions so far are kept\n", errbuf);
            run->status = EXIT_DAMAGED; /* the input ended early, as a truncated file does for read */
            break;
        }
        if (st == LIVE_FRAME) {
            run->frames++;
            if (run->frames == 1)
                run->first_ts = frame.ts_usec;
            run->last_ts = frame.ts_usec;
            run->bytes += frame.caplen;
            if (pipeline_frame(pl, dlt, frame.data, frame.caplen, run->frames, frame.ts_usec) < 0) {
                fprintf(stderr, "smtptrace: %s: frame %" PRIu64 ": out of memory\n", opt->capture.device,
                        run->frames);
                run->status = EXIT_NO_MEMORY;
                break;
            }
            now = mono_usec();
            if (housekeeping(src, sinks, now, &last_flush, &last_commit, 0, 0, &run->status) < 0)
                break;
            if (opt->count && run->frames >= opt->count)
                break;
            if (opt->duration_usec && now - start >= opt->duration_usec)
                break;
            continue;
        }
        /* LIVE_EMPTY: the batch is over; show it, then wait for more. */
        now = mono_usec();
        if (housekeeping(src, sinks, now, &last_flush, &last_commit, 1, 0, &run->status) < 0)
            break;
        if (opt->duration_usec && now - start >= opt->duration_usec)
            break;
        ready = live_source_wait(src, errbuf, sizeof errbuf);
        if (ready < 0) {
            fprintf(stderr, "smtptrace: %s; sessions so far are kept\n", errbuf);
            run->status = EXIT_DAMAGED;
            break;
        }
        /* A quiet interface (or a signal): idle conversations end now, not at the next frame, and
         * what is pending is committed. */
        if (ready == 0)
            pipeline_tick(pl, realtime_usec());
        if (ready == 0 &&
            housekeeping(src, sinks, mono_usec(), &last_flush, &last_commit, 1, 1, &run->status) < 0)
            break;
    }
    run->open_at_stop = pipeline_stats(pl)->sessions_opened - pipeline_stats(pl)->sessions_closed;
}

static void print_stats(struct live_source *src, const struct live_run *run, const struct pipeline *pl,
                        const struct live_options *opt)
{
    char errbuf[512];
    struct live_stats ls;
    uint64_t opened = pipeline_stats(pl)->sessions_opened;

    /* tcpdump's closing lines, so scripts that read them keep working. */
    fprintf(stderr, "%" PRIu64 " packet%s captured\n", run->frames, plural(run->frames));
    if (live_source_stats(src, &ls, errbuf, sizeof errbuf) == 0) {
        fprintf(stderr, "%" PRIu64 " packet%s received by filter\n", ls.received, plural(ls.received));
        fprintf(stderr, "%" PRIu64 " packet%s dropped by kernel\n", ls.dropped, plural(ls.dropped));
        fprintf(stderr, "%" PRIu64 " packet%s dropped by interface\n", ls.if_dropped, plural(ls.if_dropped));
    } else {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
    }
    fprintf(stderr,
            "smtptrace: %s: %" PRIu64 " SMTP session%s, %" PRIu64 " ended during the capture, %" PRIu64
            " still open at the stop (kept as capture_end)\n",
            opt->capture.device, opened, plural(opened), opened - run->open_at_stop, run->open_at_stop);
}

static int run_capture(struct live_options *opt)
{
    char errbuf[512], source[128];
    struct live_source *src;
    struct pipeline *pl = NULL;
    struct text_output to;
    struct output_sinks sinks;
    struct sigaction sa, old_int, old_term;
    struct live_run run;
    int64_t capture_id = 0, existing_id = 0;
    const char *damage;
    uint64_t damage_frame;

    memset(&run, 0, sizeof run);
    run.status = EXIT_ALL_READ;
    memset(&sinks, 0, sizeof sinks);
    src = live_source_open(&opt->capture, stderr, errbuf, sizeof errbuf);
    if (!src) {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
        return EXIT_UNREADABLE;
    }
    if (opt->user && drop_privileges(opt->user, errbuf, sizeof errbuf) < 0) {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
        live_source_close(src, errbuf, sizeof errbuf);
        return EXIT_UNREADABLE;
    }
    if (!decode_link_supported(live_source_datalink(src)))
        fprintf(stderr, "smtptrace: %s: link type %s is not decoded; its frames are counted and skipped\n",
                opt->capture.device, live_source_datalink_name(src));

    text_output_init(&to, stdout, opt->netmon, !opt->netmon);
    sinks.text = &to;
    /* The same pipeline as read: nDPI classification whenever conversations are taken by content too. */
    if (opt->config.detect) {
        opt->config.classifier = classifier_new(errbuf, sizeof errbuf);
        if (!opt->config.classifier) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            live_source_close(src, errbuf, sizeof errbuf);
            return EXIT_UNREADABLE;
        }
    }
    pl = pipeline_new(&opt->config, output_sinks_sink(), &sinks);
    if (!pl) {
        fprintf(stderr, "smtptrace: out of memory\n");
        classifier_free(opt->config.classifier);
        live_source_close(src, errbuf, sizeof errbuf);
        return EXIT_NO_MEMORY;
    }
    /* Both outputs are opened before the capture row exists, so a failure leaves no half-made capture. */
    if (opt->db_path) {
        sinks.store = store_open(opt->db_path, errbuf, sizeof errbuf);
        if (!sinks.store)
            goto setup_failed;
        /* SQLite's writes off the capture thread: a slow disk then costs no kernel drops. */
        store_start_writer(sinks.store);
        sinks.store_sink = store_session_sink();
    }
    if (opt->dump_path && live_source_dump_open(src, opt->dump_path, errbuf, sizeof errbuf) < 0)
        goto setup_failed;
    if (sinks.store) {
        snprintf(source, sizeof source, "live:%s", opt->capture.device);
        /* No digest: a live capture is never the same input twice. */
        if (store_capture_begin(sinks.store, source, "live", live_source_datalink_name(src), "", 0,
                                &capture_id, &existing_id, errbuf, sizeof errbuf) != 0)
            goto setup_failed;
    }

    /* No SA_RESTART: the signal must interrupt poll() at once, not after the timeout. */
    signal_source = src;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    fprintf(stderr, "smtptrace: listening on %s, link-type %s (%s), snapshot length %d bytes\n",
            opt->capture.device, live_source_datalink_name(src), live_source_datalink_description(src),
            live_source_snaplen(src));
    fflush(stderr);

    capture_loop(src, pl, &sinks, opt, &run);

    /* A second Ctrl-C during the wrap-up kills us, as the default would. */
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    signal_source = NULL;

    pipeline_finish(pl);
    damage = pipeline_first_damage(pl, &damage_frame);
    if (damage[0] && !opt->quiet) {
        const struct decode_stats *ds = pipeline_decode_stats(pl);
        fprintf(stderr,
                "smtptrace: %s: frame %" PRIu64 ": %s (%" PRIu64 " truncated, %" PRIu64
                " invalid frames skipped)\n",
                opt->capture.device, damage_frame, damage, (uint64_t)ds->by_status[DECODE_TRUNCATED],
                (uint64_t)ds->by_status[DECODE_INVALID]);
    }
    print_stats(src, &run, pl, opt);
    pipeline_free(pl);
    classifier_free(opt->config.classifier);
    if (live_source_close(src, errbuf, sizeof errbuf) < 0) {
        fprintf(stderr, "smtptrace: %s\n", errbuf);
        run.status = EXIT_UNREADABLE;
    }
    if (sinks.store) {
        /* After a reported write error the capture row is left incomplete; say nothing twice. */
        if (!sinks.store_failed && (store_error(sinks.store) ||
                                    store_capture_end(sinks.store, capture_id, run.first_ts, run.last_ts,
                                                      run.frames, run.bytes, errbuf, sizeof errbuf) < 0)) {
            fprintf(stderr, "smtptrace: %s\n", store_error(sinks.store) ? store_error(sinks.store) : errbuf);
            sinks.store_failed = 1;
        }
        if (store_close(sinks.store) < 0 && !sinks.store_failed) {
            fprintf(stderr, "smtptrace: %s: cannot commit the database\n", opt->db_path);
            sinks.store_failed = 1;
        }
        if (sinks.store_failed)
            run.status = EXIT_UNREADABLE;
    }
    text_output_totals(&to);
    if (fflush(stdout) != 0 || to.write_failed) {
        fprintf(stderr, "smtptrace: cannot write output\n");
        return EXIT_UNREADABLE;
    }
    return run.status;

setup_failed:
    fprintf(stderr, "smtptrace: %s\n", errbuf);
    pipeline_free(pl);
    classifier_free(opt->config.classifier);
    if (sinks.store)
        store_close(sinks.store);
    live_source_close(src, errbuf, sizeof errbuf);
    return EXIT_UNREADABLE;
}

int cmd_live(int argc, char **argv)
{
    struct live_options opt;
    char errbuf[512];
    int rc;

    memset(&opt, 0, sizeof opt);
    pipeline_config_default(&opt.config);
    opt.capture.promisc = 1; /* tcpdump's default; -p turns it off */
    opt.capture.snaplen = LIVE_DEFAULT_SNAPLEN;
    opt.capture.timeout_ms = LIVE_DEFAULT_TIMEOUT_MS;
    opt.db_path = "smtptrace.db";
    rc = parse_args(argc, argv, &opt);
    if (rc < 0)
        return EXIT_ALL_READ;
    if (rc > 0)
        return rc;
    if (opt.list) {
        if (live_source_list_devices(stdout, errbuf, sizeof errbuf) < 0) {
            fprintf(stderr, "smtptrace: %s\n", errbuf);
            return EXIT_UNREADABLE;
        }
        return fflush(stdout) == 0 ? EXIT_ALL_READ : EXIT_UNREADABLE;
    }
    return run_capture(&opt);
}
