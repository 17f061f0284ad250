/* cmd_synth.c - `mdsrec synth`: a valid bundle of seeded random weights, of any size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/catalog_gz.h"
#include "options.h"
#include "synth.h"

const char cmd_synth_summary[] = "write a bundle of seeded random weights (tests, benchmarks)";

/* --channels: checked on a scratch copy, applied after parsing. */
static const char *channels_check(const char *v) {
    synth_options t;
    const char *why = NULL;
    synth_defaults(&t, 1);
    return synth_parse_channels(&t, v, &why) ? "a comma list of 1..8 distinct names of 1..24 bytes" : NULL;
}

static const char *const layout_names[] = {"rows", "panels", NULL};      /* by mdsrec_layout */
static const char *const catalog_names[] = {"json", "gzip", NULL};

/* --catalog-format gzip: the built bundle's CATALOG swapped for its CATALOG_GZ (synth.c stays
   free of zlib: test_candidates compiles it with the core alone). 0, or -1 after cli_error. */
static int regzip_catalog(const char *path, uint8_t **buf, size_t *len) {
    bundle_view v;
    mdsrec_error err = {0};
    uint8_t *gz = NULL, *nb = NULL;
    size_t gz_len = 0, nl = 0;
    if (bundle_read(*buf, *len, &v, &err) || !v.catalog) {
        cli_error("%s: %s", path, err.message[0] ? err.message : "no catalog to compress");
        return -1;
    }
    if (catalog_gzip(v.catalog, v.catalog_len, &gz, &gz_len)) return -1;
    mdsrec_status st = bundle_replace_catalog(*buf, *len, (const char *)gz, gz_len, 1, &nb, &nl, &err);
    free(gz);
    if (st) {
        cli_error("%s: %s", path, err.message);
        return -1;
    }
    free(*buf);
    *buf = nb, *len = nl;
    return 0;
}

int cmd_synth(int argc, char **argv) {
    synth_options o;
    synth_defaults(&o, 0);
    const char *path = NULL, *channels = NULL, *channel_blocks = NULL;
    int catalog_gz = 0;
    int dtype = (int)o.dtype, weights = (int)o.weights, layout = MDSREC_LAYOUT_PANEL16, pool = (int)o.pool_mode, compact = o.nb_compact;
    const opt rows[] = {
        {"--out", OPT_STRING, &path, "FILE", .help = "output bundle (written atomically)", .flags = OPT_REQUIRED,
         .alias = "-o"},
        {"--items", OPT_U32, &o.n_items, "N", .help = "number of items", .min = 1, .max = MDSREC_MAX_ITEMS,
         .flags = OPT_REQUIRED},
        {"--dim", OPT_U32, &o.dim, "D", .help = "hidden size", .min = 1, .max = MDSREC_MAX_DIM},
        {"--channels", OPT_STRING, &channels, "LIST", .help = "channel names, comma-separated", .def = "id,image,text",
         .check = channels_check},
        {"--dtype", OPT_CHOICE, &dtype, .help = "the item matrices' type", .lookup = &opt_dtype_enum},
        {"--pq-m", OPT_U32, &o.pq_m, "M", .help = "--dtype pq: codes (bytes) per item and channel, dividing D",
         .min = 1, .max = MDSREC_MAX_DIM, .def = "D/4"},
        {"--weights", OPT_CHOICE, &weights, .help = "the encoder, pooling, position and gate weights' type",
         .names = opt_weight_dtype_names},
        {"--layout", OPT_CHOICE, &layout, .given = &o.layout_set,
         .help = "f32 item rows: panels (16 rows column by column, one streaming\n"
                 "pass when scoring) or rows (row-major)",
         .names = layout_names, .def = "panels for f32, else rows"},
        {"--seed", OPT_U64, &o.seed, "S", .help = "random seed"},
        {"--blocks", OPT_U32, &o.n_blocks, "B", .help = "attention blocks per channel", .min = 0,
         .max = MDSREC_MAX_BLOCKS},
        {"--channel-blocks", OPT_STRING, &channel_blocks, "LIST",
         .help = "each channel's blocks, comma-separated, each at most --blocks\n(a format v3 bundle when they differ)",
         .def = "--blocks for every channel"},
        {"--heads", OPT_U32, &o.n_heads, "H", .help = "attention heads, dividing D", .min = 1, .max = UINT32_MAX},
        {"--max-len", OPT_U32, &o.max_len, "L", .help = "longest history read", .min = 1, .max = MDSREC_MAX_LEN},
        {"--neighbours", OPT_U32, &o.neighbours, "K", .help = "neighbours per item and channel, 0 for none"},
        {"--neighbours-format", OPT_CHOICE, &compact,
         .help = "compact (NEIGHBOURS_K: 4 bytes a neighbour, 8-bit weights),\n"
                 "csr (NEIGHBOURS: row pointers, 4-byte index, f32 weight) or bits\n"
                 "(NEIGHBOURS_B: log2 N index bits + --neighbour-weight-bits)",
         .names = opt_nb_format_names},
        {"--neighbour-weight-bits", OPT_U32, &o.nb_weight_bits, "W",
         .help = "--neighbours-format bits: bits per weight, 0 for ranks only", .min = 0, .max = 8},
        {"--centre", OPT_CHOICE, &pool, .help = "interest centre (pooling mode)", .lookup = &opt_pool_enum,
         .alias = "--pool --center"},
        {"--coclick", OPT_FLOAT, &o.coclick_beta, "BETA",
         .help = "also write a co-click term (COCLICK) of this beta over channel 0's\n"
                 "neighbour lists, decay 0.3", .min = 0, .max = 1e6},
        {"--repeat", OPT_FLOAT, &o.repeat_weight, "W",
         .help = "also write a repeat term (REPEAT) of this weight", .min = -1e6, .max = 1e6},
        {"--catalog", OPT_FLAG, &o.catalog, .help = "also write catalog JSON (title, price, image, url)"},
        {"--catalog-format", OPT_CHOICE, &catalog_gz,
         .help = "--catalog as json (CATALOG) or gzip (CATALOG_GZ, as `mdsrec export` writes)",
         .names = catalog_names, .def = "json"},
    };
    const opt_cmd cmd = {"synth", .about = "Writes a valid bundle (.mdsb) with seeded random weights, neighbour lists and popularity.",
                         .opts = rows, .n_opts = OPT_COUNT(rows)};
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    const char *why = NULL;
    if (channels) synth_parse_channels(&o, channels, &why); /* checked by its row */
    o.dtype = (uint32_t)dtype, o.weights = (uint32_t)weights, o.layout = (uint32_t)layout, o.pool_mode = (uint32_t)pool, o.nb_compact = compact;
    /* the rules across options, each with its own message */
    if (o.dim % o.n_heads) return opt_usage_error(&cmd, "--heads %u does not divide --dim %u", o.n_heads, o.dim);
    if (channel_blocks) {
        const char *p = channel_blocks;
        uint32_t n = 0;
        for (;;) {
            char *end;
            unsigned long b = strtoul(p, &end, 10);
            if (end == p || b > o.n_blocks || n == o.n_channels || (*end && *end != ','))
                return opt_usage_error(&cmd, "--channel-blocks expects %u counts of 0..%u (--blocks), one per channel, "
                                             "found \"%s\"", o.n_channels, o.n_blocks, channel_blocks);
            o.channel_blocks[n++] = (uint32_t)b;
            if (!*end) break;
            p = end + 1;
        }
        if (n != o.n_channels)
            return opt_usage_error(&cmd, "--channel-blocks expects %u counts, one per channel, found %u", o.n_channels, n);
        o.channel_blocks_set = 1;
    }
    if (o.layout_set && o.layout == MDSREC_LAYOUT_PANEL16 && o.dtype != MDSREC_F32)
        return opt_usage_error(&cmd, "--layout panels needs --dtype f32");
    if (o.pq_m && o.dtype != MDSREC_PQ) return opt_usage_error(&cmd, "--pq-m needs --dtype pq");
    if (o.pq_m && o.dim % o.pq_m) return opt_usage_error(&cmd, "--pq-m %u does not divide --dim %u", o.pq_m, o.dim);
    double t0 = cli_now();
    mdsrec_error err = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    mdsrec_status st = synth_bundle(&o, &buf, &len, &err);
    if (st == MDSREC_EARG) {
        cli_error("%s", err.message);
        return CLI_EXIT_USAGE;
    }
    if (st) {
        cli_error("%s: %s", path, err.message);
        return CLI_EXIT_FAIL;
    }
    if (catalog_gz && o.catalog && regzip_catalog(path, &buf, &len)) {
        free(buf);
        return CLI_EXIT_FAIL;
    }
    rc = cli_write_file(path, buf, len) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    free(buf);
    if (!rc)
        fprintf(stderr, "mdsrec synth: %s: %u items, %u channels, %zu bytes in %.2f s\n", path, o.n_items,
                o.n_channels, len, cli_now() - t0);
    return rc;
}
