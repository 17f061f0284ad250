/* fuzz_bundle_deep.c - fuzz_bundle with every checksum recomputed after mutation, so that the
   fuzzer gets past them to the reader's structural and value checks (see fuzz_bundle.c). */
#define FUZZ_FIX_CHECKSUMS 1
#include "fuzz_bundle.c"
