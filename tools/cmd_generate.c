/* cmd_generate.c - `mdsrec generate`: a synthetic store's log, catalogue and item vectors
   with planted structure, at any size (data/genlog.h; docs/SCALE.md). */
#include <stdio.h>

#include "cli.h"
#include "options.h"
#include "data/genlog.h"
#include "data/prepared.h"

const char cmd_generate_summary[] = "write a synthetic store log + catalogue + item vectors (tests, scale runs)";

int cmd_generate(int argc, char **argv) {
    genlog_params p;
    genlog_defaults(&p);
    const char *out = NULL;
    float zipf = (float)p.zipf, stay = (float)p.stay, drift = (float)p.drift, follow = (float)p.follow,
          noise = (float)p.noise;
    const opt rows[] = {
        {"--out", OPT_STRING, &out, "DIR", .help = "output directory (created if absent)", .flags = OPT_REQUIRED},
        {"--visitors", OPT_U32, &p.visitors, "N", .help = "visitors", .min = 1, .max = UINT32_MAX - 1,
         .flags = OPT_REQUIRED},
        {"--items", OPT_U32, &p.items, "M", .help = "items in the catalogue", .min = 2, .max = UINT32_MAX - 1,
         .flags = OPT_REQUIRED},
        {"--events", OPT_U64, &p.events, "E", .help = "interactions (at least 3 per visitor)", .min = 3,
         .max = INFINITY, .flags = OPT_REQUIRED},
        {"--categories", OPT_U32, &p.categories, "C", .help = "categories", .def = "items / 20"},
        {"--width", OPT_U32, &p.width, "W", .help = "item vector width", .min = 1, .max = 65536},
        {"--seed", OPT_U64, &p.seed, "S", .help = "random seed (same seed, same bytes)"},
        {"--zipf", OPT_FLOAT, &zipf, "X", .help = "popularity exponent", .min = 0, .max = 4},
        {"--stay", OPT_FLOAT, &stay, "P", .help = "next event in the same category", .min = 0, .max = 1},
        {"--drift", OPT_FLOAT, &drift, "P", .help = "next event in a neighbouring category", .min = 0, .max = 1},
        {"--follow", OPT_FLOAT, &follow, "P", .help = "next event is the previous item's partner", .min = 0, .max = 1},
        {"--noise", OPT_FLOAT, &noise, "X", .help = "item vector noise relative to its category centroid", .min = 0,
         .max = 100},
    };
    const opt_cmd cmd = {
        "generate",
        .usage = "--out DIR --visitors N --items M --events E [options]",
        .about = "Writes DIR/interactions.tsv, catalog.tsv, vec.npy, vec_keys.txt and dataset.json: a store with\n"
                 "a popularity long tail, sessions that drift between related categories, item-to-item\n"
                 "transitions and item vectors that carry the category. Streams: memory grows with the\n"
                 "items, not the events. Then: mdsrec prepare --dataset DIR/dataset.json --out PREP.",
        .opts = rows,
        .n_opts = OPT_COUNT(rows),
    };
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    p.zipf = zipf, p.stay = stay, p.drift = drift, p.follow = follow, p.noise = noise;
    const char *why = genlog_check(&p);
    if (why) return opt_usage_error(&cmd, "%s", why);
    if (ensure_dir(out) != 0) return CLI_EXIT_FAIL;
    double t0 = cli_now();
    if (genlog_write(&p, out) != 0) return CLI_EXIT_FAIL;
    fprintf(stderr, "mdsrec generate: %s: %u visitors, %u items, %llu events in %.1f s\n", out, p.visitors, p.items,
            (unsigned long long)p.events, cli_now() - t0);
    return CLI_EXIT_OK;
}
