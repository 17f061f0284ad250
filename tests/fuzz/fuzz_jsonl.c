/* fuzz_jsonl.c - libFuzzer harness for the jsonl reader of tools/data/table.c and the interaction
   log over it (see table_harness.h). */
#define TABLE_FMT TABLE_JSONL
#include "table_harness.h"
