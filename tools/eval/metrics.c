/* metrics.c - ranks with ties against, HR, NDCG, MRR (metrics.h). */
#include "metrics.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

const uint32_t metrics_k[METRICS_NK] = {5, 10, 20};

uint32_t metrics_rank(const float *scores, size_t n, uint32_t target) {
    float t = scores[target];
    if (isnan(t)) return (uint32_t)n;
    size_t above = 0;
    for (size_t i = 0; i < n; i++) above += scores[i] >= t; /* NaN >= t is false */
    /* `above` counted the target itself once: rank = 1 + higher + other ties = above */
    return (uint32_t)above;
}

void metrics_add(metrics *m, uint32_t rank) {
    for (int j = 0; j < METRICS_NK; j++)
        if (rank <= metrics_k[j]) {
            m->hr[j] += 1.0;
            m->ndcg[j] += 1.0 / log2((double)rank + 1.0);
        }
    m->mrr += 1.0 / (double)rank;
    m->count++;
}

void metrics_merge(metrics *a, const metrics *b) {
    for (int j = 0; j < METRICS_NK; j++) {
        a->hr[j] += b->hr[j];
        a->ndcg[j] += b->ndcg[j];
    }
    a->mrr += b->mrr;
    a->count += b->count;
}

metrics metrics_mean(const metrics *s) {
    metrics m = *s;
    double c = s->count ? (double)s->count : 1.0;
    for (int j = 0; j < METRICS_NK; j++) {
        m.hr[j] /= c;
        m.ndcg[j] /= c;
    }
    m.mrr /= c;
    return m;
}

void metrics_print_header(FILE *f, const char *title) {
    fprintf(f, "%-18s %8s %8s %8s %8s %8s %8s %8s\n", title, "HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10",
            "NDCG@20", "MRR");
}

void metrics_print_row(FILE *f, const char *label, const metrics *m) {
    fprintf(f, "%-18s %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f %8.4f\n", label, m->hr[0], m->hr[1], m->hr[2],
            m->ndcg[0], m->ndcg[1], m->ndcg[2], m->mrr);
}

cJSON *metrics_to_json(const metrics *m) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; k < METRICS_NK && o; k++) {
        char key[16];
        snprintf(key, sizeof key, "HR@%u", metrics_k[k]);
        cJSON_AddNumberToObject(o, key, m->hr[k]);
        snprintf(key, sizeof key, "NDCG@%u", metrics_k[k]);
        cJSON_AddNumberToObject(o, key, m->ndcg[k]);
    }
    if (o) {
        cJSON_AddNumberToObject(o, "MRR", m->mrr);
        cJSON_AddNumberToObject(o, "users", (double)m->count);
    }
    return o;
}
