/*
 * bundle_stream.c - checks a bundle's header, table and section checksums as its bytes arrive
 * (bundle_stream.h). The table is read by bundle_read_ex itself, so there is one validator of
 * the format; this file only decides when each part can be checked.
 */
#include "bundle_stream.h"

#include <string.h>

#include "bundle_internal.h"
#include "checksum.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

void bundle_stream_init(bundle_stream *s, const void *buf, size_t len) {
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->len = len;
}

static mdsrec_status check_table(bundle_stream *s, mdsrec_error *err) {
    if (s->avail < BUNDLE_HEADER_SIZE && s->avail < s->len) return MDSREC_OK; /* not yet */
    /* a count out of range is bundle_read_ex's error to report: wait for no more bytes than
       the format allows, or the whole buffer */
    uint64_t count = s->avail >= 24 ? rd32(s->buf + 20) : 0;
    uint64_t end = BUNDLE_HEADER_SIZE + (count <= BUNDLE_MAX_SECTIONS ? count : 0) * BUNDLE_ENTRY_SIZE;
    if (s->avail < end && s->avail < s->len) return MDSREC_OK;
    bundle_view unused;
    mdsrec_status st = bundle_read_ex(s->buf, s->len, NULL, BUNDLE_READ_TABLE, &unused, err);
    if (st) return st;
    s->count = (uint32_t)count;
    s->table_ok = 1;
    for (uint32_t i = 0; i < s->count; i++)
        if (bundle_is_head_kind(rd32(s->buf + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE))) s->head_last = i + 1;
    return MDSREC_OK;
}

mdsrec_status bundle_stream_feed(bundle_stream *s, size_t avail, mdsrec_error *err) {
    if (err) err->code = 0, err->message[0] = 0;
    if (avail < s->avail || avail > s->len) return bnd_fail(err, MDSREC_EARG, "bundle_stream_feed: avail out of order");
    s->avail = avail;
    if (!s->table_ok) {
        mdsrec_status st = check_table(s, err);
        if (st || !s->table_ok) return st;
    }
    /* the table proved every payload in bounds and in increasing offset order */
    while (s->next < s->count) {
        const uint8_t *e = s->buf + BUNDLE_HEADER_SIZE + (size_t)s->next * BUNDLE_ENTRY_SIZE;
        uint64_t off = rd64(e + 8), size = rd64(e + 16);
        if (off + size > s->avail) break;
        if (checksum64(s->buf + off, (size_t)size) != rd64(e + 24)) {
            uint32_t kind = rd32(e), ch = rd32(e + 4);
            const char *name = kind >= 1 && kind <= SEC_KIND_MAX ? bnd_section_names[kind] : "of an unknown kind";
            if (ch == BUNDLE_NO_CHANNEL) return bnd_fail(err, MDSREC_ECHECKSUM, "section %s: payload checksum mismatch", name);
            return bnd_fail(err, MDSREC_ECHECKSUM, "section %s (channel %u): payload checksum mismatch", name, ch);
        }
        s->verified[s->next++] = 1;
    }
    return MDSREC_OK;
}

int bundle_stream_head_ready(const bundle_stream *s) { return s->table_ok && s->next >= s->head_last; }

int bundle_stream_complete(const bundle_stream *s) { return s->table_ok && s->avail == s->len && s->next == s->count; }
