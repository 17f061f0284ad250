/*
 * tmodel.h - the trainable model: which channels it has, where each parameter lives in one
 * flat float vector, and the item side of every channel (MODEL.md 2):
 *
 *   X^c = [E^c] + [F^c W^c^T + b^c]       (an id embedding, a feature projection, or both)
 *   H^c = mean(X, A X, ..., A^K X)         (when the channel has a relation graph A)
 *
 * The encoder side (POS, ENCODER, POOL) is laid out exactly as the bundle's sections, one
 * block per channel, so encoder_weights_map() maps it directly; the gate is GATE's layout.
 *
 * Parameter vector, per channel c in order: E (N, d) | W (d, width) | b (d) | POS (L, d) |
 * ENCODER | POOL; then Wg (|C|, |C| d), bg (|C|). Absent parts take no room. With
 * shared_encoder, channels after the first have no POS | ENCODER | POOL of their own: their
 * offsets point at channel 0's, so gradients from every channel add up in one place.
 */
#ifndef MDSREC_TRAIN_TMODEL_H
#define MDSREC_TRAIN_TMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "data/prepared.h"
#include "graph/csr.h"
#include "src/model.h"

typedef enum { TM_MDSREC = 0, TM_SASREC = 1, TM_SASRECF = 2, TM_POP = 3, TM_ITEMKNN = 4 } tm_kind;

/* "mdsrec", ..., or NULL for an unknown kind; tm_kind_parse returns -1 for an unknown name. */
const char *tm_kind_name(uint32_t kind);
int tm_kind_parse(const char *name);

typedef struct {
    int has_emb;                           /* learned E[i] */
    uint32_t n_feat;                       /* features projected, concatenated in this order */
    char feat[DS_MAX_FEATURES][25];
    uint32_t feat_width;                   /* their total width */
    char graph[64];                        /* graph file under the graph directory, "" for none */
    size_t o_emb, o_w, o_b, o_pos, o_enc, o_pool; /* offsets in the parameter vector */
} tm_channel;

typedef struct {
    uint32_t kind;        /* tm_kind */
    mdsrec_config cfg;    /* the bundle's config (item_dtype f32) */
    uint32_t prop_k;      /* K rounds of propagation */
    uint32_t shared_encoder; /* 1: every channel uses channel 0's POS, ENCODER and POOL (an ablation) */
    tm_channel ch[MDSREC_MAX_CHANNELS];
    size_t o_gate;
    size_t n_params;
} tm_spec;

/* Fills the offsets and n_params from cfg and the channels' sources. */
void tm_layout(tm_spec *s);

/* Initial values (a seed gives the same vector on every machine): embeddings, projections and
   linear weights N(0, 0.02) (as SASRec/BERT), biases 0, LayerNorm gains 1, pool token N(0,0.02). */
void tm_init(const tm_spec *s, float *params, uint64_t seed);

/* The encoder weights of channel c mapped over a parameter (or gradient) vector. */
void tm_encoder(const tm_spec *s, const float *params, uint32_t c, encoder_weights *w);

/* Every channel's linear weights (blocks and pooling) packed for the scalar kernels
   (linear_pack, src/kernels.h), once for many sequences: a step's forward packs once for its
   windows, the validation once per batch of visitors. The forward gives the same bits with
   or without them. */
typedef struct {
    float *buf;     /* 64-byte aligned */
    size_t floats;
    size_t off[MDSREC_MAX_CHANNELS]; /* each channel's first float in buf */
} tm_packed;
/* Allocates pk for s. 0, or -1 (memory). */
int tm_packed_alloc(const tm_spec *s, tm_packed *pk);
/* Packs params' linear weights into pk. */
void tm_pack(const tm_spec *s, const float *params, tm_packed *pk);
/* tm_encoder, with the packed copies of pk (NULL: none) set in w. */
void tm_encoder_packed(const tm_spec *s, const float *params, const tm_packed *pk, uint32_t c, encoder_weights *w);
void tm_packed_free(tm_packed *pk);

/* The item side's inputs bound to a dataset: each channel's concatenated features and graph. */
typedef struct {
    const float *feat[MDSREC_MAX_CHANNELS];   /* N x feat_width, or NULL */
    float *feat_owned[MDSREC_MAX_CHANNELS];   /* a concatenation this struct allocated */
    csr graph[MDSREC_MAX_CHANNELS];    /* n_rows 0: none */
    /* A mostly-zero feature matrix (attribute and tag lists: a few ones in hundreds of columns)
       also as rows of (column, value), n_rows 0 when dense; the projection then costs its
       non-zeros, not N x width, a step. wt: feat_width x d scratch (W transposed, or dW^T). */
    csr feat_sparse[MDSREC_MAX_CHANNELS];
    float *wt[MDSREC_MAX_CHANNELS];
    /* Embedding dropout in training (step_fusion.emb_drop): emb_keep[i] 0 leaves item i's learned
       embedding out of every channel that also has features (its row is then its features
       alone, as a new item's is) and gives it no gradient. NULL (evaluation, export): all kept. */
    const uint8_t *emb_keep;
} tm_inputs;

/* Binds s's channel sources to ds (features by name) and reads graphs from graph_dir (or builds
   a content-only graph when the file is absent or content_only is set: see graph_content.h).
   0, or -1 after cli_error. */
int tm_inputs_bind(const tm_spec *s, const dataset *ds, const char *graph_dir, int content_only,
                   uint32_t knn_k, tm_inputs *in);
void tm_inputs_free(tm_inputs *in);

/* Drops the sparse forms: every projection runs dense (the tests compare the two). */
void tm_inputs_densify(tm_inputs *in);

/* H (|C|, N, d): every channel's item matrix. scratch: 3 N d floats. */
void tm_items_forward(const tm_spec *s, const tm_inputs *in, const float *params, float *H, float *scratch);

/* From dH (|C|, N, d) adds the item side's gradients to grads (dH is used as scratch and
   destroyed). scratch: 3 N d floats. */
void tm_items_backward(const tm_spec *s, const tm_inputs *in, float *dH, float *grads, float *scratch);

/* Gate parameters inside a vector. */
static inline const float *tm_gate_w(const tm_spec *s, const float *p) { return p + s->o_gate; }
static inline const float *tm_gate_b(const tm_spec *s, const float *p) {
    return p + s->o_gate + (size_t)s->cfg.n_channels * s->cfg.n_channels * s->cfg.dim;
}

#endif
