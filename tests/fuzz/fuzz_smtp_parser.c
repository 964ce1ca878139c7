/* fuzz_smtp_parser.c: libFuzzer target: arbitrary bytes, both directions, arbitrary splits, through parser and session. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input layout: a sequence of records [ctl][len][bytes...]: ctl bit 0 picks the
 * direction, bit 1 a gap instead of bytes; len (one byte) is the chunk size.
 * Each chunk is copied into an exact-size heap buffer so reads past it are caught.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct session_endpoints ep;
    struct session *s;
    size_t pos = 0;
    uint64_t frame = 1;

    memset(&ep, 0, sizeof ep);
    memcpy(ep.client_ip, "192.0.2.1", 10);
    memcpy(ep.server_ip, "192.0.2.2", 10);
    ep.client_port = 1025;
    ep.server_port = 25;
    s = session_new(NULL, NULL, NULL, &ep, size > 0 && (data[0] & 4), 1, 1, 0);
    if (!s)
        return 0;
    while (pos + 2 <= size) {
        uint8_t ctl = data[pos], len = data[pos + 1];
        size_t n;
        pos += 2;
        n = len < size - pos ? len : size - pos;
        if (ctl & 2) {
            session_gap(s, ctl & 1, (uint64_t)len * 7 + 1, frame, (int64_t)frame);
        } else if (n > 0) {
            uint8_t *chunk = malloc(n);
            if (!chunk)
                break;
            memcpy(chunk, data + pos, n);
            session_data(s, ctl & 1, chunk, n, frame, (int64_t)frame);
            free(chunk);
            pos += n;
        }
        frame++;
    }
    session_end(s, SESSION_END_CAPTURE_END, frame, (int64_t)frame);
    session_free(s);
    return 0;
}
