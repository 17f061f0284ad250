/* fuzz_tsv.c - libFuzzer harness for the tsv reader of tools/data/table.c and the interaction
   log over it (see table_harness.h). */
#define TABLE_FMT TABLE_TSV
#include "table_harness.h"
