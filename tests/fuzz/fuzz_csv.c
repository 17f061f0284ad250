/* fuzz_csv.c - libFuzzer harness for the csv reader of tools/data/table.c and the interaction
   log over it (see table_harness.h). */
#define TABLE_FMT TABLE_CSV
#include "table_harness.h"
