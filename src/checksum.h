/* checksum.h - checksum64, the bundle's section checksum (algorithm in models/FORMAT.md). */
#ifndef MDSREC_CHECKSUM_H
#define MDSREC_CHECKSUM_H
#include <stddef.h>
#include <stdint.h>

/* The checksum of data[0..len). data may be NULL when len is 0. Any alignment. */
uint64_t checksum64(const void *data, size_t len);

#endif
