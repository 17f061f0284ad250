/* scorers.c - the scorers evaluate() ranks with (scorers.h). */
#include "scorers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "graph/knn.h"
#include "parallel.h"
#include "src/model.h"


/* ---------------------------------------------------------------- bundle through the core */

typedef struct {
    bundle_scorer *b;
    const uint32_t *const *hist;
    const uint32_t *len;
    size_t count;
    float *scores;
} bundle_job;

static void bundle_worker(void *p, int tid, int nt) {
    bundle_job *j = p;
    size_t lo, hi, N = mdsrec_model_config(j->b->model)->n_items;
    parallel_range(j->count, tid, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        if (mdsrec_score_all(j->b->model, j->b->state[tid], j->hist[i], j->len[i], j->scores + i * N) != MDSREC_OK)
            for (size_t k = 0; k < N; k++) j->scores[i * N + k] = NAN; /* ranks last */
}

static void bundle_score(void *p, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    bundle_scorer *b = p;
    bundle_job j = {b, hist, len, count, scores};
    parallel_run(b->threads, bundle_worker, &j);
}

int bundle_scorer_init(bundle_scorer *b, const mdsrec_model *model, int threads, eval_scorer *out) {
    memset(b, 0, sizeof *b);
    threads = parallel_clamp(threads);
    b->model = model;
    b->threads = threads;
    for (int t = 0; t < threads; t++)
        if (mdsrec_state_new(model, &b->state[t]) != MDSREC_OK) {
            bundle_scorer_free(b);
            return -1;
        }
    /* mdsrec_score_all adds the bundle's repeat term (REPEAT) to the history's items */
    *out = (eval_scorer){b, bundle_score, EVAL_BATCH, model->view.repeat_weight};
    return 0;
}

void bundle_scorer_free(bundle_scorer *b) {
    for (int t = 0; t < PARALLEL_MAX_THREADS; t++) mdsrec_state_free(b->state[t]);
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- pop */

static void pop_score(void *p, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    pop_scorer *s = p;
    (void)hist;
    (void)len;
    for (size_t i = 0; i < count; i++) memcpy(scores + i * s->n, s->count, s->n * sizeof(float));
}

int pop_scorer_init(pop_scorer *p, const dataset *ds, eval_scorer *out) {
    p->n = ds->n_items;
    p->count = malloc(ds->n_items * sizeof(float));
    uint32_t *c = malloc(ds->n_items * sizeof(uint32_t));
    if (!p->count || !c) {
        free(c);
        pop_scorer_free(p);
        return -1;
    }
    dataset_train_counts(ds, c);
    for (uint32_t i = 0; i < ds->n_items; i++) p->count[i] = (float)c[i];
    free(c);
    *out = (eval_scorer){p, pop_score, EVAL_BATCH, 0};
    return 0;
}

int pop_scorer_init_from(pop_scorer *p, const dataset *ds, const dataset *src, eval_scorer *out) {
    memset(p, 0, sizeof *p);
    keymap km;
    keymap_init(&km);
    uint32_t *c = malloc((src->n_items + 1) * sizeof(uint32_t));
    p->n = ds->n_items;
    p->count = calloc(ds->n_items ? ds->n_items : 1, sizeof(float));
    int rc = -1;
    if (!c || !p->count) goto done;
    for (uint32_t i = 0; i < src->n_items; i++)
        if (keymap_add(&km, src->item_keys[i], NULL) == UINT32_MAX) goto done;
    dataset_train_counts(src, c);
    for (uint32_t i = 0; i < ds->n_items; i++) {
        uint32_t j = keymap_find(&km, ds->item_keys[i]);
        p->count[i] = j == UINT32_MAX ? 0.0f : (float)c[j]; /* an item src never saw: no click */
    }
    *out = (eval_scorer){p, pop_score, EVAL_BATCH, 0};
    rc = 0;
done:
    if (rc) {
        cli_error("out of memory");
        pop_scorer_free(p);
    }
    free(c);
    keymap_free(&km);
    return rc;
}

void pop_scorer_free(pop_scorer *p) {
    free(p->count);
    p->count = NULL;
}

/* ---------------------------------------------------------------- itemknn */

static void knn_score(void *p, const uint32_t *const *hist, const uint32_t *len, size_t count, float *scores) {
    knn_scorer *k = p;
    size_t N = k->sim.n_rows;
    memset(scores, 0, count * N * sizeof(float));
    for (size_t i = 0; i < count; i++) {
        float *s = scores + i * N;
        uint32_t t0 = len[i] > k->max_len ? len[i] - k->max_len : 0;
        for (uint32_t t = t0; t < len[i]; t++) {
            uint32_t h = hist[i][t];
            for (uint32_t e = k->sim.row_ptr[h]; e < k->sim.row_ptr[h + 1]; e++) s[k->sim.col[e]] += k->sim.w[e];
        }
    }
}

int knn_scorer_init(knn_scorer *k, const dataset *ds, uint32_t k_nb, uint32_t max_len, eval_scorer *out) {
    memset(k, 0, sizeof *k);
    size_t N = ds->n_items;
    k->max_len = max_len;
    /* inverted index: item -> users whose training part holds it (once per occurrence) */
    uint32_t *cnt = calloc(N + 1, sizeof(uint32_t)), *start = calloc(N + 1, sizeof(uint32_t));
    float *acc = calloc(N, sizeof(float));
    uint32_t *touched = malloc(N * sizeof(uint32_t)), *top = malloc((k_nb + 1) * sizeof(uint32_t));
    uint32_t *users = NULL;
    int rc = -1;
    if (!cnt || !start || !acc || !touched || !top) goto out;
    for (uint32_t u = 0; u < ds->n_users; u++)
        for (uint32_t t = 0; t < ds_train_len(ds, u); t++) cnt[ds_seq(ds, u)[t]]++;
    for (size_t i = 0; i < N; i++) start[i + 1] = start[i] + cnt[i];
    users = malloc((start[N] + 1) * sizeof(uint32_t));
    if (!users) goto out;
    {
        uint32_t *fill = calloc(N, sizeof(uint32_t));
        if (!fill) goto out;
        for (uint32_t u = 0; u < ds->n_users; u++)
            for (uint32_t t = 0; t < ds_train_len(ds, u); t++) {
                uint32_t i = ds_seq(ds, u)[t];
                users[start[i] + fill[i]++] = u;
            }
        free(fill);
    }
    k->sim.n_rows = (uint32_t)N;
    k->sim.row_ptr = calloc(N + 1, sizeof(uint32_t));
    k->sim.col = malloc((N * k_nb + 1) * sizeof(uint32_t));
    k->sim.w = malloc((N * k_nb + 1) * sizeof(float));
    if (!k->sim.row_ptr || !k->sim.col || !k->sim.w) goto out;
    for (size_t i = 0; i < N; i++) {
        size_t nt = 0;
        for (uint32_t e = start[i]; e < start[i + 1]; e++) {
            uint32_t u = users[e];
            if (e > start[i] && users[e - 1] == u) continue; /* each visitor once */
            const uint32_t *s = ds_seq(ds, u);
            for (uint32_t t = 0; t < ds_train_len(ds, u); t++) {
                uint32_t j = s[t];
                if (j == i) continue;
                if (acc[j] == 0.0f) touched[nt++] = j;
                acc[j] += 1.0f;
            }
        }
        /* top k by cosine, ties by lower index */
        uint32_t m = 0;
        for (size_t q = 0; q < nt; q++) {
            uint32_t j = touched[q];
            acc[j] = acc[j] / sqrtf((float)cnt[i] * (float)cnt[j]);
        }
        for (size_t q = 0; q < nt; q++) {
            uint32_t j = touched[q];
            float sj = acc[j];
            if (m == k_nb && !(sj > acc[top[m - 1]] || (sj == acc[top[m - 1]] && j < top[m - 1]))) continue;
            uint32_t p = m < k_nb ? m++ : k_nb - 1;
            while (p > 0 && (acc[top[p - 1]] < sj || (acc[top[p - 1]] == sj && top[p - 1] > j))) {
                top[p] = top[p - 1];
                p--;
            }
            top[p] = j;
        }
        uint32_t o = k->sim.row_ptr[i];
        for (uint32_t q = 0; q < m; q++) {
            k->sim.col[o + q] = top[q];
            k->sim.w[o + q] = acc[top[q]];
        }
        k->sim.row_ptr[i + 1] = o + m;
        for (size_t q = 0; q < nt; q++) acc[touched[q]] = 0.0f;
    }
    k->sim.nnz = k->sim.row_ptr[N];
    *out = (eval_scorer){k, knn_score, EVAL_BATCH, 0};
    rc = 0;
out:
    free(cnt);
    free(start);
    free(acc);
    free(touched);
    free(top);
    free(users);
    if (rc) knn_scorer_free(k);
    return rc;
}

void knn_scorer_free(knn_scorer *k) { csr_free(&k->sim); }

/* ---------------------------------------------------------------- contentknn */

int content_knn_scorer_init(knn_scorer *k, dataset *ds, uint32_t k_nb, uint32_t max_len, eval_scorer *out) {
    memset(k, 0, sizeof *k);
    k->max_len = max_len;
    if (!ds->n_features && dataset_load_features(ds)) return -1;
    if (!ds->n_features) {
        cli_error("contentknn: %s has no feature matrix", ds->path ? ds->path : "the dataset");
        return -1;
    }
    size_t N = ds->n_items, W = 0;
    for (uint32_t f = 0; f < ds->n_features; f++) W += ds->feat[f].width;
    float *x = malloc((N * W + 1) * sizeof(float));
    if (!x) {
        cli_error("contentknn: out of memory");
        return -1;
    }
    for (size_t i = 0; i < N; i++) {
        float *r = x + i * W;
        size_t o = 0;
        for (uint32_t f = 0; f < ds->n_features; f++) {
            memcpy(r + o, ds->feat[f].x + i * ds->feat[f].width, ds->feat[f].width * sizeof(float));
            o += ds->feat[f].width;
        }
        double n2 = 0;
        for (size_t j = 0; j < W; j++) n2 += (double)r[j] * r[j];
        float inv = n2 > 0 ? (float)(1.0 / sqrt(n2)) : 0.0f;
        for (size_t j = 0; j < W; j++) r[j] *= inv;
    }
    knn_params kp = {k_nb, 0.0f, 0, "contentknn"};
    int rc = knn_build(x, (uint32_t)N, (uint32_t)W, NULL, &kp, &k->sim);
    free(x);
    if (rc) return -1;
    *out = (eval_scorer){k, knn_score, EVAL_BATCH, 0};
    return 0;
}
