/* fuzz_atomic.c - libFuzzer harness for the atomic reader of tools/data/table.c and the interaction
   log over it (see table_harness.h). */
#define TABLE_FMT TABLE_ATOMIC
#include "table_harness.h"
