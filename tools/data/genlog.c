/* genlog.c - the synthetic store of genlog.h, streamed to disk. */
#include "data/genlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/prepared.h"
#include "src/rng.h"

#define POOL_MAX 256
#define DEPT_SIZE 10 /* ring-neighbour categories sharing a department word */

void genlog_defaults(genlog_params *p) {
    memset(p, 0, sizeof *p);
    p->width = 32;
    p->seed = 1;
    p->zipf = 1.0;
    p->stay = 0.55;
    p->drift = 0.2;
    p->follow = 0.2;
    p->noise = 1.0;
}

const char *genlog_check(const genlog_params *p) {
    if (p->items < 2) return "--items must be at least 2";
    if (p->visitors < 1) return "--visitors must be at least 1";
    if (p->events < 3ull * p->visitors) return "--events must be at least 3 x --visitors";
    if (p->categories > p->items) return "--categories may not exceed --items";
    if (p->stay < 0 || p->drift < 0 || p->follow < 0 || p->stay + p->drift + p->follow > 1 + 1e-9)
        return "--stay, --drift and --follow must be >= 0 with a sum <= 1";
    return NULL;
}

static double unif(uint64_t *s) { return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }
static uint32_t below(uint64_t *s, uint32_t n) { return (uint32_t)(((splitmix64(s) >> 32) * n) >> 32); }
static double gauss(uint64_t *s) {
    double u = unif(s), v = unif(s);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* The catalogue's structure: categories, popularity, partners. */
typedef struct {
    uint32_t n, nc;
    uint32_t *cat;      /* item -> category */
    uint32_t *partner;  /* item -> the item that often follows it */
    uint32_t *cat_off;  /* category c's items are cat_items[cat_off[c]..cat_off[c+1]) */
    uint32_t *cat_items;
    double *cum;        /* cumulative weight along cat_items, restarting at each category */
    double *cat_cum;    /* cumulative category mass */
} store;

static void store_free(store *s) {
    free(s->cat), free(s->partner), free(s->cat_off), free(s->cat_items), free(s->cum), free(s->cat_cum);
}

/* First index in a[lo..hi) with a[k] > x (the last one when none: rounding). */
static uint32_t upper(const double *a, uint32_t lo, uint32_t hi, double x) {
    uint32_t end = hi;
    while (lo < hi) {
        uint32_t m = lo + (hi - lo) / 2;
        if (a[m] > x) hi = m;
        else lo = m + 1;
    }
    return lo < end ? lo : end - 1;
}

static uint32_t draw_in_cat(const store *s, uint32_t c, uint64_t *r) {
    uint32_t a = s->cat_off[c], b = s->cat_off[c + 1];
    return s->cat_items[upper(s->cum, a, b, unif(r) * s->cum[b - 1])];
}

static uint32_t draw_cat(const store *s, uint64_t *r) {
    return upper(s->cat_cum, 0, s->nc, unif(r) * s->cat_cum[s->nc - 1]);
}

static int store_build(store *s, const genlog_params *p, uint64_t *r) {
    memset(s, 0, sizeof *s);
    uint32_t n = p->items, nc = p->categories;
    if (!nc) nc = n / 20 < 2 ? 2 : n / 20;
    s->n = n, s->nc = nc;
    s->cat = malloc(n * sizeof *s->cat);
    s->partner = malloc(n * sizeof *s->partner);
    s->cat_off = calloc(nc + 1, sizeof *s->cat_off);
    s->cat_items = malloc(n * sizeof *s->cat_items);
    s->cum = malloc(n * sizeof *s->cum);
    s->cat_cum = malloc(nc * sizeof *s->cat_cum);
    uint32_t *rank = malloc(n * sizeof *rank);
    if (!s->cat || !s->partner || !s->cat_off || !s->cat_items || !s->cum || !s->cat_cum || !rank) {
        free(rank);
        return -1;
    }
    /* every category gets one item, the rest fall uniformly */
    for (uint32_t i = 0; i < n; i++) s->cat[i] = i < nc ? i : below(r, nc);
    for (uint32_t i = 0; i < n; i++) rank[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = below(r, i + 1), t = rank[i];
        rank[i] = rank[j], rank[j] = t;
    }
    for (uint32_t i = 0; i < n; i++) s->cat_off[s->cat[i] + 1]++;
    for (uint32_t c = 0; c < nc; c++) s->cat_off[c + 1] += s->cat_off[c];
    uint32_t *fill = malloc(nc * sizeof *fill);
    if (!fill) {
        free(rank);
        return -1;
    }
    memcpy(fill, s->cat_off, nc * sizeof *fill);
    for (uint32_t i = 0; i < n; i++) s->cat_items[fill[s->cat[i]]++] = i;
    free(fill);
    double acc = 0;
    for (uint32_t c = 0; c < nc; c++) {
        double in = 0;
        for (uint32_t k = s->cat_off[c]; k < s->cat_off[c + 1]; k++) {
            in += pow((double)rank[s->cat_items[k]] + 1.0, -p->zipf);
            s->cum[k] = in;
        }
        acc += in;
        s->cat_cum[c] = acc;
    }
    free(rank);
    /* partner: a uniform other item of the same category (itself in a category of one) */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = s->cat[i], a = s->cat_off[c], m = s->cat_off[c + 1] - a;
        uint32_t j = s->cat_items[a + below(r, m)];
        if (j == i && m > 1) j = s->cat_items[a + (j == s->cat_items[a] ? 1 : 0)];
        s->partner[i] = j;
    }
    return 0;
}

/* ------------------------------------------------------------------ buffered text output */

typedef struct {
    FILE *f;
    char buf[1 << 16];
    size_t n;
    int err;
} tbuf;

static void tb_flush(tbuf *t) {
    if (t->n && fwrite(t->buf, 1, t->n, t->f) != t->n) t->err = 1;
    t->n = 0;
}
static void tb_str(tbuf *t, const char *s) {
    size_t l = strlen(s);
    if (t->n + l > sizeof t->buf) tb_flush(t);
    memcpy(t->buf + t->n, s, l);
    t->n += l;
}
static void tb_u64(tbuf *t, uint64_t v) {
    char d[24];
    int k = 0;
    do d[k++] = (char)('0' + v % 10), v /= 10;
    while (v);
    if (t->n + (size_t)k > sizeof t->buf) tb_flush(t);
    while (k) t->buf[t->n++] = d[--k];
}
static void tb_ch(tbuf *t, char c) {
    if (t->n + 1 > sizeof t->buf) tb_flush(t);
    t->buf[t->n++] = c;
}

/* ------------------------------------------------------------------ the files */

typedef struct {
    uint32_t user, left, cat, prev; /* prev: UINT32_MAX before the first event */
} visitor;

static int write_log(FILE *f, const genlog_params *p, const store *s, uint64_t *r) {
    static tbuf t;
    t.f = f, t.n = 0, t.err = 0;
    tb_str(&t, "user_id\titem_id\ttimestamp\n");
    visitor pool[POOL_MAX];
    uint32_t open = 0, next_user = 0;
    uint64_t unassigned = p->events, clock = 1600000000ull;
    uint32_t pool_max = p->visitors < POOL_MAX ? p->visitors : POOL_MAX;
    double jump = 1.0 - p->stay - p->drift - p->follow;
    cli_progress bar;
    cli_progress_start(&bar, "events", p->events);
    for (uint64_t e = 0; e < p->events; e++) {
        if ((e & 0xFFFF) == 0) cli_progress_update(&bar, e);
        /* open visitors until the pool is full; each gets its length now: 3 + an exponential
           with the mean that spends the unassigned events over the visitors still to come */
        while (open < pool_max && next_user < p->visitors) {
            uint32_t rest = p->visitors - next_user;
            uint64_t spare = unassigned - 3ull * rest, len = 3;
            if (rest == 1) len += spare;
            else if (spare) {
                double mean = (double)spare / rest;
                uint64_t x = (uint64_t)(-log(1.0 - unif(r)) * mean);
                len += x < spare ? x : spare;
            }
            unassigned -= len;
            pool[open++] = (visitor){next_user++, (uint32_t)(len < UINT32_MAX ? len : UINT32_MAX), 0, UINT32_MAX};
        }
        visitor *v = &pool[below(r, open)];
        uint32_t item;
        if (v->prev == UINT32_MAX) {
            v->cat = draw_cat(s, r);
            item = draw_in_cat(s, v->cat, r);
        } else {
            double u = unif(r);
            if (u < p->follow) {
                item = s->partner[v->prev];
            } else {
                u -= p->follow;
                if (u < p->drift) {
                    uint32_t step = 1 + below(r, 2);
                    v->cat = below(r, 2) ? (v->cat + step) % s->nc : (v->cat + s->nc - step % s->nc) % s->nc;
                } else if (u >= p->drift + p->stay && jump > 0) {
                    v->cat = draw_cat(s, r);
                }
                item = draw_in_cat(s, v->cat, r);
            }
        }
        v->cat = s->cat[item];
        v->prev = item;
        tb_ch(&t, 'u'), tb_u64(&t, v->user), tb_str(&t, "\ti"), tb_u64(&t, item), tb_ch(&t, '\t');
        tb_u64(&t, clock), tb_ch(&t, '\n');
        clock += 1 + below(r, 3);
        if (--v->left == 0) *v = pool[--open];
    }
    cli_progress_end(&bar);
    tb_flush(&t);
    return t.err ? -1 : 0;
}

/* A pronounceable word for (a, b): the same pair gives the same word. */
static void word(char *out, uint64_t a, uint64_t b) {
    static const char *cons = "bcdfghklmnprstvz", *vow = "aeiou";
    uint64_t h = a * 0x9E3779B97F4A7C15ull + b + 1;
    uint32_t syl = 2 + (uint32_t)(splitmix64(&h) % 2);
    int k = 0;
    for (uint32_t i = 0; i < syl; i++) {
        uint64_t x = splitmix64(&h);
        out[k++] = cons[x % 16], out[k++] = vow[(x >> 8) % 5];
    }
    out[k] = 0;
}

static int write_catalog(FILE *f, const genlog_params *p, const store *s) {
    static tbuf t;
    static const char *adj[] = {"classic", "compact", "deluxe", "eco", "essential", "light", "mini", "pro",
                                "smart", "soft", "sport", "travel", "ultra", "urban", "vintage", "wide"};
    t.f = f, t.n = 0, t.err = 0;
    tb_str(&t, "item_id\ttitle\tcategory\tprice\n");
    char w1[8], w2[8], dept[8];
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t c = s->cat[i];
        uint64_t h = p->seed ^ ((uint64_t)i << 20);
        uint64_t x = splitmix64(&h);
        word(w1, p->seed, 2ull * c), word(w2, p->seed, 2ull * c + 1), word(dept, p->seed + 7, c / DEPT_SIZE);
        tb_ch(&t, 'i'), tb_u64(&t, i), tb_ch(&t, '\t');
        tb_str(&t, adj[x % 16]), tb_ch(&t, ' '), tb_str(&t, w1), tb_ch(&t, ' '), tb_str(&t, w2), tb_str(&t, " m");
        tb_u64(&t, (x >> 8) % 1000), tb_ch(&t, '\t');
        tb_str(&t, dept), tb_ch(&t, '/'), tb_str(&t, w1), tb_ch(&t, '\t');
        tb_u64(&t, 1 + (x >> 20) % 200), tb_str(&t, ".99\n");
    }
    tb_flush(&t);
    return t.err ? -1 : 0;
}

static int write_keys(FILE *f, uint32_t n) {
    static tbuf t;
    t.f = f, t.n = 0, t.err = 0;
    for (uint32_t i = 0; i < n; i++) tb_ch(&t, 'i'), tb_u64(&t, i), tb_ch(&t, '\n');
    tb_flush(&t);
    return t.err ? -1 : 0;
}

/* Category centroids: a Gaussian per category plus half of each ring neighbour's. */
static float *centroids(const genlog_params *p, uint32_t nc) {
    uint32_t w = p->width;
    double *g = malloc((size_t)nc * w * sizeof *g);
    float *c = malloc((size_t)nc * w * sizeof *c);
    if (!g || !c) {
        free(g), free(c);
        return NULL;
    }
    uint64_t r = p->seed * 0x2545F4914F6CDD1Dull + 3;
    for (size_t k = 0; k < (size_t)nc * w; k++) g[k] = gauss(&r);
    for (uint32_t a = 0; a < nc; a++) {
        const double *x = g + (size_t)a * w, *l = g + (size_t)((a + nc - 1) % nc) * w, *h = g + (size_t)((a + 1) % nc) * w;
        double nn = 0;
        for (uint32_t j = 0; j < w; j++) nn += (x[j] + 0.5 * l[j] + 0.5 * h[j]) * (x[j] + 0.5 * l[j] + 0.5 * h[j]);
        nn = nn > 0 ? 1 / sqrt(nn) : 0;
        for (uint32_t j = 0; j < w; j++) c[(size_t)a * w + j] = (float)((x[j] + 0.5 * l[j] + 0.5 * h[j]) * nn);
    }
    free(g);
    return c;
}

static int write_npy(FILE *f, const genlog_params *p, const store *s) {
    char hdr[128];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }", s->n, p->width);
    int total = (10 + len + 1 + 63) / 64 * 64; /* magic, version, u16 length, dict, '\n' */
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)((total - 10) & 0xFF), (uint8_t)((total - 10) >> 8)};
    if (fwrite(pre, 1, 10, f) != 10 || fwrite(hdr, 1, (size_t)len, f) != (size_t)len) return -1;
    for (int k = 10 + len; k < total - 1; k++) fputc(' ', f);
    fputc('\n', f);
    float *cen = centroids(p, s->nc), *row = malloc(p->width * sizeof *row);
    int rc = cen && row ? 0 : -1;
    double sigma = p->noise / sqrt((double)p->width);
    for (uint32_t i = 0; i < s->n && rc == 0; i++) {
        uint64_t r = (p->seed << 32) ^ (0xD1B54A32D192ED03ull * (i + 1)); /* per item: rows in any order */
        const float *c = cen + (size_t)s->cat[i] * p->width;
        double nn = 0;
        for (uint32_t j = 0; j < p->width; j++) {
            double v = c[j] + sigma * gauss(&r);
            row[j] = (float)v;
            nn += v * v;
        }
        float sc = nn > 0 ? (float)(1 / sqrt(nn)) : 0;
        for (uint32_t j = 0; j < p->width; j++) row[j] *= sc;
        if (fwrite(row, sizeof *row, p->width, f) != p->width) rc = -1;
    }
    free(cen), free(row);
    return rc;
}

static int write_desc(FILE *f) {
    return fputs("{\n"
                 "  \"interactions\": {\"path\": \"interactions.tsv\", \"format\": \"tsv\", \"user\": \"user_id\",\n"
                 "                   \"item\": \"item_id\", \"time\": \"timestamp\"},\n"
                 "  \"catalog\": {\"path\": \"catalog.tsv\", \"format\": \"tsv\", \"key\": \"item_id\",\n"
                 "              \"text\": [\"title\", \"category\"],\n"
                 "              \"display\": {\"title\": \"title\", \"category\": \"category\", \"price\": \"price\"}},\n"
                 "  \"features\": [{\"name\": \"vec\", \"path\": \"vec.npy\", \"keys\": \"vec_keys.txt\", \"allow_unknown\": true}]\n"
                 "}\n",
                 f) < 0
               ? -1
               : 0;
}

enum { F_LOG, F_CAT, F_NPY, F_KEYS, F_DESC, F_N };

int genlog_write(const genlog_params *p, const char *dir) {
    static const char *names[F_N] = {"interactions.tsv", "catalog.tsv", "vec.npy", "vec_keys.txt", "dataset.json"};
    cli_out out[F_N];
    memset(out, 0, sizeof out);
    store s;
    uint64_t r = p->seed;
    int rc = -1, opened = 0;
    if (store_build(&s, p, &r) != 0) {
        cli_error("out of memory for %u items", p->items);
        goto done;
    }
    for (; opened < F_N; opened++) {
        char *path = path_join(dir, names[opened]);
        int o = path ? cli_out_open(&out[opened], path) : -1;
        free(path);
        if (o != 0) goto done;
    }
    const char *bad = NULL;
    if (write_catalog(out[F_CAT].f, p, &s)) bad = names[F_CAT];
    else if (write_keys(out[F_KEYS].f, s.n)) bad = names[F_KEYS];
    else if (write_npy(out[F_NPY].f, p, &s)) bad = names[F_NPY];
    else if (write_desc(out[F_DESC].f)) bad = names[F_DESC];
    else if (write_log(out[F_LOG].f, p, &s, &r)) bad = names[F_LOG];
    if (bad) {
        cli_error("%s/%s: write failed (disk full?)", dir, bad);
        goto done;
    }
    int k = 0;
    for (rc = 0; k < F_N; k++)
        if (cli_out_commit(&out[k]) != 0) {
            rc = -1;
            break;
        }
    for (int j = 0; rc != 0 && j < k; j++) { /* all or none */
        char *path = path_join(dir, names[j]);
        if (path) remove(path);
        free(path);
    }
done:
    for (int k = 0; k < opened; k++) cli_out_abort(&out[k]); /* a no-op for a committed file */
    store_free(&s);
    return rc;
}
