/* cmd_synth.c - `mdsrec synth`: a valid bundle of seeded random weights, of any size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "synth.h"

const char cmd_synth_summary[] = "write a bundle of seeded random weights (tests, benchmarks)";

static void usage(FILE *to) {
    fprintf(to,
            "usage: mdsrec synth -o FILE --items N [options]\n"
            "\n"
            "Writes a valid bundle (.mdsb) with seeded random weights, neighbour lists and popularity.\n"
            "\n"
            "  -o FILE               output bundle (written atomically)\n"
            "  --items N             number of items, 1..16777216\n"
            "  --dim D               hidden size (64)\n"
            "  --channels LIST       channel names, comma-separated (id,image,text)\n"
            "  --dtype T             item matrices: fp32, fp16 or int8 (fp32)\n"
            "  --layout L            fp32 item rows: panels (16 rows column by column, one streaming\n"
            "                        pass when scoring) or rows (row-major) (panels)\n"
            "  --seed S              random seed (1)\n"
            "  --blocks B            attention blocks per channel (2)\n"
            "  --heads H             attention heads, dividing D (2)\n"
            "  --max-len L           longest history read (50)\n"
            "  --neighbours K        neighbours per item and channel, 0 for none (10)\n"
            "  --neighbours-format F compact (NEIGHBOURS_K: 4 bytes a neighbour, 8-bit weights) or\n"
            "                        csr (NEIGHBOURS: row pointers, 4-byte index, f32 weight) (compact)\n"
            "  --pool MODE           last, mean, token or none (last)\n"
            "  --catalog             also write catalog JSON (title, price, image, url)\n");
}

static int parse_dtype(const char *s, uint32_t *out) {
    if (!strcmp(s, "fp32") || !strcmp(s, "f32")) *out = MDSREC_F32;
    else if (!strcmp(s, "fp16") || !strcmp(s, "f16")) *out = MDSREC_F16;
    else if (!strcmp(s, "int8") || !strcmp(s, "i8")) *out = MDSREC_I8;
    else return -1;
    return 0;
}

static int parse_layout(const char *s, uint32_t *out) {
    if (!strcmp(s, "panels")) *out = MDSREC_LAYOUT_PANEL16;
    else if (!strcmp(s, "rows")) *out = MDSREC_LAYOUT_ROWS;
    else return -1;
    return 0;
}

static int parse_pool(const char *s, uint32_t *out) {
    if (!strcmp(s, "none")) *out = MDSREC_POOL_NONE;
    else if (!strcmp(s, "last")) *out = MDSREC_POOL_LAST;
    else if (!strcmp(s, "mean")) *out = MDSREC_POOL_MEAN;
    else if (!strcmp(s, "token")) *out = MDSREC_POOL_TOKEN;
    else return -1;
    return 0;
}

static int parse_nb_format(const char *s, int *compact) {
    if (!strcmp(s, "compact")) *compact = 1;
    else if (!strcmp(s, "csr")) *compact = 0;
    else return -1;
    return 0;
}

/* Parses argv into o and *path; 0, or CLI_EXIT_USAGE after a message (-1 for --help). */
static int parse_args(int argc, char **argv, synth_options *o, const char **path) {
    int have_items = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return -1;
        if (!strcmp(a, "--catalog")) {
            o->catalog = 1;
            continue;
        }
        if (i + 1 >= argc) {
            cli_error("%s: missing value (or unknown option)", a);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        int bad = 0;
        const char *why = NULL;
        if (!strcmp(a, "-o")) *path = v;
        else if (!strcmp(a, "--items")) bad = cli_parse_u32(v, &o->n_items), have_items = 1;
        else if (!strcmp(a, "--dim")) bad = cli_parse_u32(v, &o->dim);
        else if (!strcmp(a, "--channels")) bad = synth_parse_channels(o, v, &why);
        else if (!strcmp(a, "--dtype")) bad = parse_dtype(v, &o->dtype);
        else if (!strcmp(a, "--layout")) bad = parse_layout(v, &o->layout), o->layout_set = 1;
        else if (!strcmp(a, "--seed")) bad = cli_parse_u64(v, &o->seed);
        else if (!strcmp(a, "--blocks")) bad = cli_parse_u32(v, &o->n_blocks);
        else if (!strcmp(a, "--heads")) bad = cli_parse_u32(v, &o->n_heads);
        else if (!strcmp(a, "--max-len")) bad = cli_parse_u32(v, &o->max_len);
        else if (!strcmp(a, "--neighbours")) bad = cli_parse_u32(v, &o->neighbours);
        else if (!strcmp(a, "--neighbours-format")) bad = parse_nb_format(v, &o->nb_compact);
        else if (!strcmp(a, "--pool")) bad = parse_pool(v, &o->pool_mode);
        else {
            cli_error("unknown option %s", a);
            return CLI_EXIT_USAGE;
        }
        if (bad) {
            cli_error("%s: bad value '%s'%s%s", a, v, why ? ": " : "", why ? why : "");
            return CLI_EXIT_USAGE;
        }
    }
    if (!*path || !have_items) {
        cli_error("-o FILE and --items N are required");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cmd_synth(int argc, char **argv) {
    synth_options o;
    synth_defaults(&o, 0);
    const char *path = NULL;
    int rc = parse_args(argc, argv, &o, &path);
    if (rc == -1) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc) {
        usage(stderr);
        return rc;
    }
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
    rc = cli_write_file(path, buf, len) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    free(buf);
    if (!rc)
        fprintf(stderr, "mdsrec synth: %s: %u items, %u channels, %zu bytes in %.2f s\n", path, o.n_items,
                o.n_channels, len, cli_now() - t0);
    return rc;
}
