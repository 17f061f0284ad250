/* cmd_inspect.c - `mdsrec inspect`: validates a bundle and prints its header, config and
   section table. Exit 1 with the loader's message on an invalid bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/bundle.h"
#include "src/checksum.h"
#include "cli.h"
#include "export/catalog_gz.h"
#include "mdsrec.h"
#include "options.h"

const char cmd_inspect_summary[] = "validate a bundle and print its config and sections";

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static const char *dtype_name(uint32_t t) {
    const char *n = mdsrec_dtype_name((int)t);
    return n ? n : "?";
}

/* The core's name of the pooling mode, and what it does. */
static void print_pool(uint32_t p) {
    static const char *const what[] = {"u = h_n", "centre h_n", "centre mean of h", "learned centre"};
    const char *n = mdsrec_pool_name((int)p);
    if (n && p < sizeof what / sizeof what[0]) printf("%s (%s)", n, what[p]);
    else if (n) printf("%s", n);
    else printf("?");
}

static const char *kind_name(uint32_t k) {
    static const char *const names[] = {"id", "image", "text", "feature"};
    return k <= MDSREC_CHANNEL_FEATURE ? names[k] : "?";
}

static void print_view(const char *path, const uint8_t *buf, size_t len, const bundle_view *v) {
    const mdsrec_config *c = &v->cfg;
    printf("%s: mdsrec bundle, %zu bytes\n", path, len);
    printf("\nheader\n");
    printf("  version     %u\n  byte order  0x%08x (little-endian)\n  sections    %u\n", le32(buf + 8),
           le32(buf + 12), le32(buf + 20));
    printf("  table       at %llu, checksum %016llx OK\n  header      checksum %016llx OK\n",
           (unsigned long long)le64(buf + 32), (unsigned long long)le64(buf + 40), (unsigned long long)le64(buf + 56));
    printf("\nconfig\n");
    printf("  items       %u\n  dim         %u\n  channels    %u\n  max_len     %u\n", c->n_items, c->dim,
           c->n_channels, c->max_len);
    printf("  blocks      %u%s\n  heads       %u\n  ffn_dim     %u\n  item dtype  %s\n", c->n_blocks,
           bundle_blocks_vary(c) ? " (at most; each channel's below)" : "", c->n_heads, c->ffn_dim,
           dtype_name(c->item_dtype));
    if (c->item_dtype == MDSREC_PQ)
        printf("  pq          %u codes a row (%u columns each), 256 centroids a sub-space\n", c->pq_m, c->dim / c->pq_m);
    printf("  item layout %s\n", c->item_layout == MDSREC_LAYOUT_PANEL16 ? "panels of 16 rows" : "rows");
    printf("  weights     %s\n", mdsrec_weight_dtype_name((int)c->weight_dtype));
    printf("  pool        ");
    print_pool(c->pool_mode);
    printf("\n  layernorm   post-LN, eps %g\n", (double)c->ln_eps);
    if (v->catalog) printf("  catalog     JSON, %zu bytes\n", v->catalog_len);
    else if (v->catalog_gz) printf("  catalog     gzip, %zu bytes (inflated below)\n", v->catalog_gz_len);
    else printf("  catalog     no\n");
    if (v->coclick_beta > 0)
        printf("  co-click    beta %g, decay %g, the last %u clicks through channel %u's lists\n", (double)v->coclick_beta,
               (double)v->coclick_decay, v->coclick_max_hist, v->coclick_channel);
    if (v->repeat_weight != 0) printf("  repeat      %g per click of a history item\n", (double)v->repeat_weight);
    printf("\nchannels\n");
    for (uint32_t i = 0; i < c->n_channels; i++) {
        const bundle_channel *ch = &v->ch[i];
        printf("  %u  %-24s %-8s ", i, c->channels[i].name, kind_name(c->channels[i].kind));
        if (bundle_blocks_vary(c)) printf("blocks: %u  ", c->channels[i].n_blocks);
        printf("neighbours: ");
        unsigned long long total = (unsigned long long)bundle_nb_total(ch, c->n_items);
        if (ch->nb_kind == SEC_NEIGHBOURS)
            printf("csr (NEIGHBOURS), %llu, longest row %u, f32 weights", total, bundle_nb_max_row(ch, c->n_items));
        else if (ch->nb_kind == SEC_NEIGHBOURS_K)
            printf("compact (NEIGHBOURS_K), %llu, k %u, 8-bit weights in [%g, %g]", total, ch->nb_k,
                   (double)ch->nb_w_min, (double)ch->nb_w_max);
        else
            printf("none");
        printf("\n");
    }
    uint32_t count = le32(buf + 20);
    printf("\nsections (%u)\n  %-4s %-12s %-8s %12s %14s  %-18s %s\n", count, "#", "kind", "channel", "offset",
           "size", "checksum", "ok");
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = buf + BUNDLE_HEADER_SIZE + (size_t)i * BUNDLE_ENTRY_SIZE;
        uint32_t kind = le32(e), channel = le32(e + 4);
        uint64_t off = le64(e + 8), size = le64(e + 16), sum = le64(e + 24);
        char chan[16];
        if (channel == BUNDLE_NO_CHANNEL) snprintf(chan, sizeof chan, "-");
        else snprintf(chan, sizeof chan, "%u", channel);
        char kname[24];
        if (kind >= 1 && kind <= SEC_KIND_MAX) snprintf(kname, sizeof kname, "%s", bundle_section_name(kind));
        else snprintf(kname, sizeof kname, "kind %u (skipped)", kind);
        /* the loader has checked every entry already; recomputed here to show it */
        int ok = checksum64(buf + off, (size_t)size) == sum;
        printf("  %-4u %-12s %-8s %12llu %14llu  %016llx %s\n", i, kname, chan, (unsigned long long)off,
               (unsigned long long)size, (unsigned long long)sum, ok ? "OK" : "BAD");
    }
}

int cmd_inspect(int argc, char **argv) {
    const char *file[1];
    opt_list files = {file, 0, 1};
    const opt_cmd cmd = {
        "inspect",
        .about = "Validates the bundle as the core's loader does, then prints its header, config,\n"
                 "channels and section table. Exit 1 with the loader's message if it is invalid.",
        .pos_name = "FILE",
        .pos = &files,
        .pos_min = 1,
    };
    int rc = opt_parse(&cmd, argc, argv);
    if (rc != OPT_PROCEED) return rc;
    const char *path = file[0];
    size_t len;
    uint8_t *buf = cli_read_file(path, &len);
    if (!buf) return CLI_EXIT_FAIL;
    bundle_view v;
    mdsrec_error err = {0};
    mdsrec_status st = bundle_read(buf, len, &v, &err);
    if (st) {
        cli_error("%s: invalid bundle (%s): %s", path, mdsrec_status_string(st), err.message);
        free(buf);
        return CLI_EXIT_FAIL;
    }
    print_view(path, buf, len, &v);
    /* the core checks a CATALOG_GZ's frame only: inflate it here, so a damaged one fails */
    int bad = 0;
    if (v.catalog_gz) {
        char *json = NULL;
        size_t jl = 0;
        bad = catalog_of_view(&v, path, &json, &jl);
        if (!bad) printf("\ncatalog\n  inflates to %zu bytes of JSON\n", jl);
        free(json);
    }
    free(buf);
    return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
