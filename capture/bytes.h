/* bytes.h: the one checked accessor family for reading packet memory (tcpdump extract.h style). */
#ifndef SMTPTRACE_BYTES_H
#define SMTPTRACE_BYTES_H

#include <stddef.h>
#include <stdint.h>

/*
 * A read window [p, end) over captured bytes. Every read of packet memory
 * goes through these helpers; nothing dereferences packet pointers directly
 * and nothing casts them to structs. Big-endian fields are decoded byte by
 * byte so alignment never matters.
 */
struct byte_window {
    const uint8_t *p;
    const uint8_t *end;
};

/* Overflow-safe: compares lengths, never forms p + n past end. */
static inline int bw_has(const struct byte_window *w, size_t n)
{
    return w->p <= w->end && (size_t)(w->end - w->p) >= n;
}

static inline size_t bw_left(const struct byte_window *w)
{
    return w->p <= w->end ? (size_t)(w->end - w->p) : 0;
}

/* The at_* helpers read at an offset; callers must have checked bw_has(w, off + width). */
static inline uint8_t bw_u8_at(const struct byte_window *w, size_t off)
{
    return w->p[off];
}

static inline uint16_t bw_be16_at(const struct byte_window *w, size_t off)
{
    return (uint16_t)((unsigned)w->p[off] << 8 | w->p[off + 1]);
}

static inline uint16_t bw_le16_at(const struct byte_window *w, size_t off)
{
    return (uint16_t)((unsigned)w->p[off + 1] << 8 | w->p[off]);
}

static inline uint32_t bw_be32_at(const struct byte_window *w, size_t off)
{
    return (uint32_t)w->p[off] << 24 | (uint32_t)w->p[off + 1] << 16 |
           (uint32_t)w->p[off + 2] << 8 | (uint32_t)w->p[off + 3];
}

static inline uint32_t bw_le32_at(const struct byte_window *w, size_t off)
{
    return (uint32_t)w->p[off + 3] << 24 | (uint32_t)w->p[off + 2] << 16 |
           (uint32_t)w->p[off + 1] << 8 | (uint32_t)w->p[off];
}

/* Advances by n if n bytes are there; returns 0 on success, -1 and no change otherwise. */
static inline int bw_skip(struct byte_window *w, size_t n)
{
    if (!bw_has(w, n))
        return -1;
    w->p += n;
    return 0;
}

#endif
