/* json_driver.c: test driver: runs captures through the pipeline into the JSON-lines sink (until read --format jsonl is wired). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/classify.h"
#include "capture/pcap_source.h"
#include "cli/json_output.h"
#include "cli/pipeline.h"

/* usage: json_driver [--events] FILE... ; exit 0, 2 on an unreadable input, 70 on a sink failure. */
int main(int argc, char **argv)
{
    struct pipeline_config config;
    struct json_output *jo;
    uint64_t base = 0;
    int i, with_events = 0, status = 0;
    char errbuf[512];

    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--events") == 0)
            with_events = 1;
    pipeline_config_default(&config);
    config.classifier = classifier_new(errbuf, sizeof errbuf);
    jo = json_output_new(stdout, with_events);
    if (!jo)
        return 70;
    for (i = 1; i < argc; i++) {
        struct pcap_source *src;
        struct pipeline *pl;
        struct pcap_frame frame;
        uint64_t n = 0;
        int dlt;

        if (strcmp(argv[i], "--events") == 0)
            continue;
        src = pcap_source_open(argv[i], NULL, errbuf, sizeof errbuf);
        if (!src) {
            fprintf(stderr, "json_driver: %s\n", errbuf);
            status = 2;
            continue;
        }
        dlt = pcap_source_datalink(src);
        config.session_id_base = base;
        pl = pipeline_new(&config, json_output_sink(), jo);
        if (!pl)
            return 70;
        while (pcap_source_next(src, &frame, errbuf, sizeof errbuf) == PCAP_SOURCE_FRAME)
            if (pipeline_frame(pl, dlt, frame.data, frame.caplen, ++n, frame.ts_usec) < 0)
                return 70;
        pipeline_finish(pl);
        base += pipeline_stats(pl)->sessions_opened;
        pipeline_free(pl);
        pcap_source_close(src);
    }
    classifier_free(config.classifier);
    if (json_output_failed(jo))
        status = 70;
    json_output_free(jo);
    return status;
}
