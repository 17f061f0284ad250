/*
 * bundle_stream.h - validating a bundle while its bytes arrive (issue 20: cold start).
 *
 * The caller owns a buffer of the bundle's whole length and fills it front to back; after each
 * piece it calls bundle_stream_feed with the count of bytes present. The header and section
 * table are checked as soon as they are in; each section's checksum is checked as its last
 * byte arrives (sections lie in increasing offset order), so the checksums are done when the
 * download is, and bundle_read_ex with the verified flags only has the value checks left.
 */
#ifndef MDSREC_BUNDLE_STREAM_H
#define MDSREC_BUNDLE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

typedef struct {
    const uint8_t *buf;
    size_t len;         /* the whole bundle: what its header's file_size must say */
    size_t avail;       /* bytes present so far */
    uint32_t count;     /* section-table entries, once the table has been checked */
    uint32_t next;      /* first entry whose checksum is not checked yet */
    uint32_t head_last; /* 1 + the last head section's entry (bundle_is_head_kind) */
    int table_ok;
    uint8_t verified[BUNDLE_MAX_SECTIONS];
} bundle_stream;

/* Starts a stream over buf[0..len) (16-byte aligned, len the bundle's length), nothing present. */
void bundle_stream_init(bundle_stream *s, const void *buf, size_t len);

/* buf[0..avail) is now present (avail never decreases, at most len). Checks what it can:
   the header and table (the errors of bundle_read), then every section that has fully
   arrived (MDSREC_ECHECKSUM naming the section). Returns MDSREC_OK or that error. */
mdsrec_status bundle_stream_feed(bundle_stream *s, size_t avail, mdsrec_error *err);

/* 1 once the table and every head section are verified (a HEAD read may run). */
int bundle_stream_head_ready(const bundle_stream *s);
/* 1 once every byte has arrived and every section is verified (an ALL read may run). */
int bundle_stream_complete(const bundle_stream *s);

#endif
