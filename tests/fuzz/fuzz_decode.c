/* fuzz_decode.c: libFuzzer target: one frame of arbitrary bytes through every supported link-type decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int dlts[] = {1, 113, 276, 0, 108, 12, 14, 101, 228, 229};
    struct decode_stats stats;
    struct tcp_segment seg;
    char reason[96];
    uint8_t *frame;
    size_t i;

    if (size == 0)
        return 0;
    frame = malloc(size - 1 ? size - 1 : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, size - 1);
    memset(&stats, 0, sizeof stats);
    i = data[0] % (sizeof dlts / sizeof dlts[0]);
    if (decode_packet(dlts[i], frame, size - 1, &seg, &stats, reason, sizeof reason) == DECODE_OK) {
        /* The payload must lie inside the frame. */
        if (seg.payload_len > 0 && (seg.payload < frame || seg.payload + seg.payload_len > frame + size - 1))
            abort();
    }
    free(frame);
    return 0;
}
