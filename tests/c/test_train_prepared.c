/*
 * test_train_prepared.c - a prepared dataset directory (docs/DATASET.md) through train and
 * export: items.txt, sequences.tsv, two feature matrices (features/NAME.f32 + .json),
 * graph/image.adj.csr and the knn lists for image and behaviour (the other's graph is built from
 * content), catalog.jsonl. mdsrec trains with three channels; the bundle opens in the core
 * with the channels, keys, neighbour lists and catalog in place, and recommends. The neighbour
 * lists are compact by default; --neighbours-format csr and --neighbours K write the others.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "test_ckpt_helpers.h"
#include "train/defaults.h"
#include "mdsrec.h"
#include "export/catalog_gz.h"

#define N 40
#define USERS 200

static uint64_t rng = 99;
static uint32_t rnd(uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

static void write_csr(const char *path, const uint32_t *row, const uint32_t *col, const float *w) {
    FILE *f = fopen(path, "wb");
    uint32_t hdr[4] = {0x52534344u, N, row[N], 0};
    fwrite(hdr, 4, 4, f);
    fwrite(row, 4, N + 1, f);
    fwrite(col, 4, row[N], f);
    fwrite(w, 4, row[N], f);
    fclose(f);
}

/* The file at path in a 64-aligned buffer (NULL if it cannot be read). */
static void *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    rewind(f);
    void *buf = aligned_alloc(64, ((size_t)l + 63) / 64 * 64);
    if (buf && fread(buf, 1, (size_t)l, f) != (size_t)l) free(buf), buf = NULL;
    fclose(f);
    *len = (size_t)l;
    return buf;
}

/* The section kind of channel ch's neighbour list: 10, 13, or 0 for none. */
static uint32_t nb_kind(const uint8_t *b, uint32_t ch) {
    uint32_t count, kind, c;
    memcpy(&count, b + 20, 4);
    for (uint32_t i = 0; i < count; i++) {
        memcpy(&kind, b + 64 + 32 * i, 4), memcpy(&c, b + 64 + 32 * i + 4, 4);
        if (c == ch && (kind == 10 || kind == 13)) return kind;
    }
    return 0;
}

/* Runs a shell command with its output (stdout and stderr) kept in out[]; the exit status. */
static char out[1 << 16];
static int run_out(const char *cmd) {
    char full[8400];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Replaces the first `from` in the file at path by `to` (same length). */
static int patch_file(const char *path, const char *from, const char *to) {
    size_t len;
    char *b = slurp(path, &len);
    char *at = b ? strstr(b, from) : NULL;
    if (at) memcpy(at, to, strlen(to));
    FILE *f = at ? fopen(path, "wb") : NULL;
    if (f) fwrite(b, 1, len, f), fclose(f);
    free(b);
    return f ? 0 : -1;
}

/* Issue 18 items 4 and 7. A resumed run takes the --epochs and --patience given now, lower
   or higher, and says so; its ETA is worded as an estimate. The checkpoint names its
   dataset by an absolute path, so export works from another directory; when that path is
   gone the message names it and suggests --data. */
/* 1 when the file dir/name holds needle. */
static int file_has(const char *dir, const char *name, const char *needle) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = slurp(path, NULL);
    int has = t && strstr(t, needle) != NULL;
    free(t);
    return has;
}

/* The has_emb field of channel k's line in a checkpoint ("channel K NAME KIND HAS_EMB ..."),
   or -1 when the line is missing. */
static int ckpt_has_emb(const char *dir, const char *name, unsigned k) {
    char p[1200], want[32];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *t = slurp(p, NULL);
    snprintf(want, sizeof want, "\nchannel %u ", k);
    const char *at = t ? strstr(t, want) : NULL;
    unsigned kind;
    int emb = -1;
    if (at && sscanf(at + strlen(want), "%*s %u %d", &kind, &emb) != 2) emb = -1;
    free(t);
    return emb;
}

static void test_resume_and_paths(const char *bin, const char *dir, const char *tmp) {
    char cmd[8192], p[1200];
    const char *small = "--model sasrec --dim 8 --max-len 8 --blocks 1 --heads 2 --batch 32 --threads 1 --seed 3";
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cap %s --epochs 2 --patience 50 --quiet", bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    /* as if the run had been started with --epochs 9 and stopped after epoch 2 */
    snprintf(p, sizeof p, "%s/cap/state.ckpt", dir);
    CHECK(patch_file(p, "\nepochs 2\n", "\nepochs 9\n") == 0);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cap %s --epochs 3 --resume", bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    CHECK_MSG(strstr(out, "--epochs 3 replaces the run's 9") && strstr(out, "epoch   3/3") && !strstr(out, "epoch   4/"),
              "a lower --epochs on --resume: %s", out);
    CHECK_MSG(strstr(out, "of 3 (valid") && strstr(out, "ETA ~") && !strstr(out, "ETA <="), "%s", out);
    /* --patience given on resume wins too: 0 epochs left without a gain ends the run at once */
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cap %s --epochs 5 --patience 1 --resume", bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    CHECK_MSG(strstr(out, "--patience 1 replaces the run's 50"), "%s", out);
    /* without --epochs a resumed run keeps its own cap (3), not the default 200 */
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cap %s --resume --quiet", bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0 && !strstr(out, "replaces"), "%s", out);

    /* --time-budget: no epoch starts once the budget is spent; the run still ends with its
       best epoch evaluated (train.json's test metrics), and --resume goes on from there */
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/budget %s --epochs 40 --patience 40 --time-budget 0.001", bin,
             dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    CHECK_MSG(strstr(out, "time budget of 0 s spent after 1 epoch;") && strstr(out, "best epoch 1 of 1"), "%s", out);
    snprintf(p, sizeof p, "%s/budget/train.json", dir);
    char *tj = slurp(p, NULL);
    CHECK(tj && strstr(tj, "\"test\"") && strstr(tj, "\"masked\""));
    free(tj);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/budget %s --epochs 40 --patience 40 --time-budget 0.001 --resume",
             bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0 && strstr(out, "best epoch") && strstr(out, "of 2 (valid"), "resume after a budget: %s", out);

    /* train from the scratch directory with a relative --data; export from elsewhere */
    snprintf(cmd, sizeof cmd, "rm -rf %s/moved %s/moved2 && cp -r %s %s/moved && cd %s && %s train --data moved --out %s/rel "
             "%s --epochs 1 --quiet", tmp, tmp, dir, tmp, tmp, bin, tmp, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "cd / && %s export --model %s/rel --out %s/rel.mdsb --no-compare", bin, tmp, tmp);
    CHECK_MSG(run_out(cmd) == 0, "export from another directory: %s", out);
    snprintf(cmd, sizeof cmd, "mv %s/moved %s/moved2 && cd / && %s export --model %s/rel --out %s/rel2.mdsb", tmp, tmp,
             bin, tmp, tmp);
    CHECK_MSG(run_out(cmd) == 1 && strstr(out, "/moved, is not here") && strstr(out, "--data PATH") &&
                  strstr(out, "rel/model.ckpt"),
              "a dataset that moved: %s", out);
    snprintf(cmd, sizeof cmd, "cd / && %s export --model %s/rel --out %s/rel2.mdsb --data %s/moved2 --no-compare", bin,
             tmp, tmp, tmp);
    CHECK_MSG(run_out(cmd) == 0, "--data after a move: %s", out);
}

/* --channel-blocks: mdsrec's modality channels with fewer blocks than the id channel. The
   checkpoint keeps each channel's count (and --resume and eval read it back); export writes a
   format v3 bundle whose scores through the core match the trainer's (export's own comparison);
   the option is refused for the models without modality channels. */
static void test_channel_blocks(const char *bin, const char *dir) {
    char cmd[8192], p[1200];
    const char *small = "--dim 8 --max-len 8 --blocks 2 --heads 2 --batch 32 --threads 1 --seed 5";
    snprintf(cmd, sizeof cmd, "rm -rf %s/cb && %s train --data %s --out %s/cb --model mdsrec %s --channel-blocks 0 "
             "--epochs 1 --quiet", dir, bin, dir, dir, small);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    CHECK(file_has(dir, "cb/state.ckpt", "\nchannel_blocks 0 2\n") && file_has(dir, "cb/state.ckpt", "\nchannel_blocks 1 0\n") &&
          file_has(dir, "cb/state.ckpt", "\nchannel_blocks 2 0\n"));
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cb --epochs 2 --resume --quiet && %s eval --model %s/cb", bin, dir,
             dir, bin, dir);
    CHECK_MSG(run_out(cmd) == 0 && strstr(out, "NDCG@10"), "resume and eval: %s", out);
    snprintf(cmd, sizeof cmd, "%s export --model %s/cb --out %s/cb.mdsb && %s inspect %s/cb.mdsb", bin, dir, dir, bin, dir);
    CHECK_MSG(run_out(cmd) == 0 && strstr(out, "version     3") && strstr(out, "blocks: 0"), "export: %s", out);
    size_t len;
    snprintf(p, sizeof p, "%s/cb.mdsb", dir);
    void *buf = read_all(p, &len);
    mdsrec_model *m = NULL;
    mdsrec_error err;
    CHECK(buf && mdsrec_open(buf, len, &m, &err) == MDSREC_OK);
    if (m) {
        const mdsrec_config *c = mdsrec_model_config(m);
        CHECK(c->n_blocks == 2 && c->channels[0].n_blocks == 2 && c->channels[1].n_blocks == 0 &&
              c->channels[2].n_blocks == 0);
        mdsrec_close(m);
    }
    free(buf);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cb2 --model sasrec --channel-blocks 0", bin, dir, dir);
    CHECK_MSG(run_out(cmd) == 2 && strstr(out, "--channel-blocks is for mdsrec"), "%s", out);
}

/* Issue 19 item 9: `train --model pop --out` writes a run that export turns into a bundle whose
   recommendations, for any history, are the popularity order (the bundle's own order for an
   empty history) without the history's items; itemknn refuses --out (exit 2, nothing made). */
static void test_pop_run(const char *bin, const char *dir) {
    char cmd[8192], p[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s/pop %s/knn && %s train --data %s --model pop --out %s/pop && %s export --model %s/pop "
             "--out %s/pop.mdsb", dir, dir, bin, dir, dir, bin, dir, dir);
    CHECK_MSG(run_out(cmd) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "%s train --data %s --model itemknn --out %s/knn", bin, dir, dir);
    CHECK_MSG(run_out(cmd) == 2 && strstr(out, "itemknn is evaluated only"), "%s", out);
    snprintf(p, sizeof p, "%s/knn", dir);
    struct stat sb;
    CHECK(stat(p, &sb) != 0);
    snprintf(p, sizeof p, "%s/pop.mdsb", dir);
    size_t len;
    void *buf = read_all(p, &len);
    mdsrec_model *m = NULL;
    mdsrec_error err;
    CHECK(buf && mdsrec_open(buf, len, &m, &err) == MDSREC_OK);
    if (!m) {
        free(buf);
        return;
    }
    mdsrec_state *st;
    CHECK(mdsrec_state_new(m, &st) == MDSREC_OK);
    uint32_t order[N], hists[3][3] = {{3, 4, 5}, {17, 0, 9}, {39, 38, 2}};
    mdsrec_query q = {NULL, 0, N, 0, NULL, 0, NULL, 0};
    mdsrec_result r;
    CHECK(mdsrec_recommend(m, st, &q, &r) == MDSREC_OK && r.count == N);
    memcpy(order, r.items, sizeof order);
    for (int h = 0; h < 3; h++) {
        mdsrec_query qh = {hists[h], 3, N, 0, NULL, 0, NULL, 0};
        CHECK(mdsrec_recommend(m, st, &qh, &r) == MDSREC_OK && r.count == N - 3);
        uint32_t k = 0;
        for (uint32_t i = 0; i < N && k < r.count; i++) {
            if (order[i] == hists[h][0] || order[i] == hists[h][1] || order[i] == hists[h][2]) continue;
            CHECK_MSG(r.items[k] == order[i], "history %d, rank %u: item %u, popularity order %u", h, k, r.items[k],
                      order[i]);
            k++;
        }
    }
    mdsrec_state_free(st);
    mdsrec_close(m);
    free(buf);
}

int main(void) {
    const char *bin = getenv("MDSREC_BIN"), *tmp = getenv("MDSREC_TMP");
    if (!bin || !tmp) return 1;
    char dir[512], p[1200], cmd[8192];
    snprintf(dir, sizeof dir, "%s/train_prepared", tmp);
    mkdir(dir, 0777);
    snprintf(p, sizeof p, "%s/features", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/graph", dir);
    mkdir(p, 0777);

    FILE *f;
    snprintf(p, sizeof p, "%s/items.txt", dir);
    f = fopen(p, "w");
    for (int i = 0; i < N; i++) fprintf(f, "sku-%03d\n", i);
    fclose(f);
    snprintf(p, sizeof p, "%s/catalog.jsonl", dir);
    f = fopen(p, "w");
    for (int i = 0; i < N; i++) fprintf(f, "{\"title\":\"Item %d\",\"price\":%d}\n", i, 10 + i);
    fclose(f);
    /* sequences: i -> i+1 mod N, so features that encode i's neighbourhood help */
    snprintf(p, sizeof p, "%s/sequences.tsv", dir);
    f = fopen(p, "w");
    for (int u = 0; u < USERS; u++) {
        uint32_t len = 5 + rnd(6), it = rnd(N);
        fprintf(f, "user%d\t", u);
        for (uint32_t t = 0; t < len; t++, it = (it + 1) % N) fprintf(f, t ? " %u" : "%u", it);
        fprintf(f, "\n");
    }
    fclose(f);
    /* features: image (width 4) and text (width 3), unit rows; item 7 lacks text (zeros) */
    const char *names[2] = {"image", "text"};
    uint32_t widths[2] = {4, 3};
    for (int m = 0; m < 2; m++) {
        float x[N * 4];
        for (int i = 0; i < N; i++) {
            double n2 = 0;
            for (uint32_t j = 0; j < widths[m]; j++) {
                x[i * widths[m] + j] = (float)rnd(1000) / 1000.0f + 0.01f;
                n2 += x[i * widths[m] + j] * x[i * widths[m] + j];
            }
            for (uint32_t j = 0; j < widths[m]; j++) x[i * widths[m] + j] /= (float)sqrt(n2);
            if (m == 1 && i == 7)
                for (uint32_t j = 0; j < widths[m]; j++) x[i * widths[m] + j] = 0;
        }
        snprintf(p, sizeof p, "%s/features/%s.f32", dir, names[m]);
        f = fopen(p, "wb");
        fwrite(x, 4, N * widths[m], f);
        fclose(f);
        snprintf(p, sizeof p, "%s/features/%s.json", dir, names[m]);
        f = fopen(p, "w");
        fprintf(f, "{\"name\":\"%s\",\"kind\":\"%s\",\"width\":%u,\"rows\":%d,\"missing\":[%s],\"source\":\"test\"}\n",
                names[m], names[m], widths[m], N, m ? "7" : "");
        fclose(f);
    }
    /* graph/image.adj.csr: a ring i <-> i+-1, weight 1/2 (symmetric, normalised); knn lists */
    uint32_t row[N + 1], col[2 * N];
    float w[2 * N];
    for (int i = 0; i < N; i++) {
        row[i] = 2 * i;
        col[2 * i] = (i + 1) % N;
        col[2 * i + 1] = (i + N - 1) % N;
        w[2 * i] = 0.5f;
        w[2 * i + 1] = 0.5f;
    }
    row[N] = 2 * N;
    snprintf(p, sizeof p, "%s/graph/image.adj.csr", dir);
    write_csr(p, row, col, w);
    for (int i = 0; i < N; i++) w[2 * i + 1] = 0.25f; /* strongest first */
    snprintf(p, sizeof p, "%s/graph/image.knn.csr", dir);
    write_csr(p, row, col, w);
    snprintf(p, sizeof p, "%s/graph/behaviour.knn.csr", dir);
    write_csr(p, row, col, w);
    snprintf(p, sizeof p, "%s/graph/behaviour.adj.csr", dir);
    write_csr(p, row, col, w);

    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/run --model mdsrec --dim 8 --max-len 8 --blocks 1 --heads 2 --epochs 3 "
             "--batch 32 --quiet --threads 2 > %s/train.txt 2>&1", bin, dir, dir, dir);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s export --model %s/run --out %s/m.mdsb --dtype f16 > %s/export.txt 2>&1", bin, dir, dir, dir);
    CHECK(system(cmd) == 0);
    /* the fusion training settings are recorded in the checkpoint: mdsrec's defaults, then
       explicit ones, and a resumed run with channel dropout ends where a straight one does */
    snprintf(p, sizeof p, "%s/run/model.ckpt", dir);
    char *hdr = slurp(p, NULL);
    /* (since session 10: a learned global gate, and the id channel with the projected features) */
    CHECK(hdr && strstr(hdr, "\naux_w 2\n") && strstr(hdr, "\nchannel_drop 0\n") && strstr(hdr, "\ngate_fixed 2\n") &&
          strstr(hdr, " behaviour.adj.csr image text\n"));
    free(hdr);
    /* (--modality-first 2: the resumed run crosses into the epoch where the id channel joins) */
    const char *fu = "--model mdsrec --aux-loss 0.5 --channel-drop 0.3 --gate learned --emb-drop 0.2 --modality-first 2 "
                     "--dim 8 --max-len 8 "
                     "--blocks 1 --heads 2 --batch 32 --quiet --threads 1 --seed 4 --patience 9";
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/fu1 %s --epochs 3 >/dev/null 2>&1 && "
             "%s train --data %s --out %s/fu2 %s --epochs 2 >/dev/null 2>&1 && "
             "%s train --data %s --out %s/fu2 %s --epochs 3 --resume >/dev/null 2>&1",
             bin, dir, dir, fu, bin, dir, dir, fu, bin, dir, dir, fu);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/fu2/state.ckpt", dir);
    hdr = slurp(p, NULL);
    CHECK(hdr && strstr(hdr, "\naux_w 0.5\n") && strstr(hdr, "\nchannel_drop 0.3") && strstr(hdr, "\ngate_fixed 0\n") &&
          strstr(hdr, "\nemb_drop 0.2") && strstr(hdr, "\nmodality_first 2\n"));
    free(hdr);
    char p2[1200];
    snprintf(p2, sizeof p2, "%s/fu1/state.ckpt", dir);
    CHECK_MSG(same_params(p, p2), "a resumed run with the fusion options differs from a straight one");
    /* the default warm-up in short runs: at most half of --epochs, and ended early by a time
       budget that affords about one epoch (the id channel joins after it) */
    const char *md = "--model mdsrec --dim 8 --max-len 8 --blocks 1 --heads 2 --batch 32 --threads 1 --seed 4";
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/mf4 %s --epochs 4 --quiet >/dev/null 2>&1", bin, dir, dir, md);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/mf4/state.ckpt", dir);
    hdr = slurp(p, NULL);
    CHECK_MSG(hdr && strstr(hdr, "\nmodality_first 2\n"), "--epochs 4: the default warm-up is not 2 epochs");
    /* the default patience from the validation's size: 200 visitors, the most (40) */
    CHECK_MSG(hdr && strstr(hdr, "\npatience 40\n"), "the default patience of 200 validation visitors is not 40");
    free(hdr);
    CHECK_MSG(file_has(dir, "fu2/state.ckpt", "\npatience 9\n"), "--patience 9 was not kept");
    CHECK(train_auto_patience(943) == 33 && train_auto_patience(2928) == 18 && train_auto_patience(10000) == 10 &&
          train_auto_patience(22363) == 10 && train_auto_patience(0) == 10 && train_auto_patience(1) == 40 &&
          train_auto_patience(400) == 40 && train_auto_patience(1000) == 32);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/mfb %s --epochs 40 --time-budget 0.001 2>&1", bin, dir, dir, md);
    FILE *pf = popen(cmd, "r");
    char said[16384] = "";
    size_t got = pf ? fread(said, 1, sizeof said - 1, pf) : 0;
    said[got] = 0;
    CHECK(pf && pclose(pf) == 0);
    CHECK_MSG(strstr(said, "the id channel joins after epoch 1 (--modality-first)"), "%s", said);
    CHECK_MSG(strstr(said, "patience 40 epochs: a validation of 200 visitors is noisy"), "%s", said);
    snprintf(p, sizeof p, "%s/mfb/state.ckpt", dir);
    hdr = slurp(p, NULL);
    CHECK_MSG(hdr && strstr(hdr, "\nmodality_first 1\n"), "the budget did not end the warm-up");
    free(hdr);
    snprintf(cmd, sizeof cmd,
             "%s export --model %s/run --out %s/m1.mdsb --dtype i8 --no-compare --neighbours 1 --neighbours-format csr "
             "> %s/export1.txt 2>&1", bin, dir, dir, dir);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s export --model %s/run --out %s/bad.mdsb --neighbours-format sparse >/dev/null 2>&1", bin,
             dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    snprintf(cmd, sizeof cmd, "%s export --model %s/run --out %s/bad.mdsb --neighbours 0 >/dev/null 2>&1", bin, dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    /* the ablations run too */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/abl --model mdsrec --no-id --no-behaviour --centre token --dim 8 --max-len 8 "
             "--blocks 0 --heads 2 --epochs 1 --windows last --quiet --threads 1 >/dev/null 2>&1 && "
             "%s train --data %s --out %s/abl2 --model sasrecf --channels text --dim 8 --max-len 8 --blocks 1 --heads 2 "
             "--epochs 1 --quiet --threads 1 >/dev/null 2>&1 && "
             "%s train --data %s --out %s/abl3 --model mdsrec --no-graph --centre mean --dim 8 --max-len 8 --blocks 1 "
             "--heads 2 --epochs 1 --quiet --threads 1 >/dev/null 2>&1 && "
             "%s train --data %s --out %s/abl4 --model sasrec --windows all --dim 8 --max-len 3 --blocks 2 "
             "--heads 1 --epochs 1 --quiet --threads 2 >/dev/null 2>&1",
             bin, dir, dir, bin, dir, dir, bin, dir, dir, bin, dir, dir);
    CHECK(system(cmd) == 0);
    /* --id-features: the id channel adds both projected features (as sasrecf's), the two
       modality channels stay; the bundle exports and recommends like any other. Only mdsrec
       takes it. (--no-channel-ids: the modality channels without their own ids, checked below) */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/idf --model mdsrec --id-features --no-channel-ids --dim 8 --max-len 8 --blocks 1 --heads 2 "
             "--epochs 2 --quiet --threads 1 >/dev/null 2>&1 && "
             "%s export --model %s/idf --out %s/idf.mdsb --dtype f32 >/dev/null 2>&1 && "
             "%s recommend %s/idf.mdsb --history sku-003,sku-004 -k 3 >/dev/null 2>&1",
             bin, dir, dir, bin, dir, dir, bin, dir);
    CHECK(system(cmd) == 0);
    snprintf(p, sizeof p, "%s/idf/model.ckpt", dir);
    hdr = slurp(p, NULL);
    /* (and, the data having a behaviour graph, the ids are smoothed over it by default) */
    CHECK(hdr && strstr(hdr, "\nchannel 0 id 0 1 7 behaviour.adj.csr image text\n") && strstr(hdr, "\nchannel 1 image ") &&
          strstr(hdr, "\nchannel 2 text "));
    free(hdr);
    /* mdsrec's default (--channel-ids): each modality channel adds a learned item embedding
       to its projected features before propagation; the checkpoint says so per channel, and
       the export's check of the bundle against the trainer passes (the core serves E_m folded
       into H_m) */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/cid --model mdsrec --dim 8 --max-len 8 --blocks 1 --heads 2 "
             "--epochs 2 --quiet --threads 1 >/dev/null 2>&1 && "
             "%s export --model %s/cid --out %s/cid.mdsb --dtype f32 >/dev/null 2>&1 && "
             "%s recommend %s/cid.mdsb --history sku-003,sku-004 -k 3 >/dev/null 2>&1",
             bin, dir, dir, bin, dir, dir, bin, dir);
    CHECK(system(cmd) == 0);
    CHECK(ckpt_has_emb(dir, "cid/model.ckpt", 1) == 1 && ckpt_has_emb(dir, "cid/model.ckpt", 2) == 1);
    CHECK(ckpt_has_emb(dir, "idf/model.ckpt", 1) == 0 && ckpt_has_emb(dir, "idf/model.ckpt", 0) == 1);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cid2 --model sasrecf --channel-ids >/dev/null 2>&1", bin, dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/cid2 --model sasrec --no-channel-ids >/dev/null 2>&1", bin, dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    /* --id-graph none: the ids as they are */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/idn --model sasrec --id-graph none --dim 8 --max-len 8 --blocks 1 --heads 2 "
             "--epochs 1 --quiet --threads 1 >/dev/null 2>&1", bin, dir, dir);
    CHECK(system(cmd) == 0);
    CHECK(file_has(dir, "idn/model.ckpt", "\nchannel 0 id 0 1 0 -\n"));
    /* --id-graph smooths the id embeddings over the behaviour graph, and --gate global learns
       one weight per channel: both are in the checkpoint, and the export's check of the
       bundle against the trainer (on by default) passes, so the core serves what was trained */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/idg --model mdsrec --id-graph behaviour --gate global --dim 8 --max-len 8 --blocks 1 "
             "--heads 2 --epochs 2 --quiet --threads 1 >/dev/null 2>&1 && "
             "%s export --model %s/idg --out %s/idg.mdsb --dtype f32 >/dev/null 2>&1 && "
             "%s recommend %s/idg.mdsb --history sku-003,sku-004 -k 3 >/dev/null 2>&1",
             bin, dir, dir, bin, dir, dir, bin, dir);
    CHECK(system(cmd) == 0);
    CHECK(file_has(dir, "idg/model.ckpt", " behaviour.adj.csr image text\n") &&
          file_has(dir, "idg/model.ckpt", "\ngate_fixed 2\n"));
    CHECK(file_has(dir, "idg/train.json", "\"gate\":\t\"global\""));
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/idg2 --id-graph behaviour --no-graph >/dev/null 2>&1", bin, dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    snprintf(cmd, sizeof cmd, "%s train --data %s --model pop --id-graph behaviour >/dev/null 2>&1", bin, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);
    /* a graph directory without the behaviour graph: a clear error naming the file */
    snprintf(cmd, sizeof cmd,
             "%s train --data %s --out %s/idg3 --model sasrec --id-graph behaviour --graph-dir %s --epochs 1 --quiet "
             "> %s/idg3.txt 2>&1", bin, dir, dir, tmp, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 1);
    CHECK(file_has(dir, "idg3.txt", "behaviour.adj.csr: not found"));
    /* the windows: every training target unless --windows last asks for the last window only */
    snprintf(p, sizeof p, "%s/idf/state.ckpt", dir);
    hdr = slurp(p, NULL);
    CHECK(hdr && strstr(hdr, "\nwindows_all 1\n"));
    free(hdr);
    snprintf(p, sizeof p, "%s/abl/state.ckpt", dir);
    hdr = slurp(p, NULL);
    CHECK(hdr && strstr(hdr, "\nwindows_all 0\n"));
    free(hdr);
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/idf2 --model sasrec --id-features >/dev/null 2>&1", bin, dir, dir);
    CHECK(WEXITSTATUS(system(cmd)) == 2);

    /* --valid-users: validation (each epoch's and the reported valid and test) on a fixed
       sample of that many visitors; by default every visitor of a log this small */
    snprintf(cmd, sizeof cmd, "%s train --data %s --out %s/vu --model sasrec --dim 8 --max-len 8 --blocks 1 --epochs 1 "
             "--valid-users 7 --threads 1 > %s/vu.txt 2>&1", bin, dir, dir, dir);
    CHECK(system(cmd) == 0);
    CHECK(file_has(dir, "vu/state.ckpt", "\nvalid_users 7\n"));
    CHECK(file_has(dir, "vu.txt", "validating on a fixed sample of 7 of the 200 visitors"));
    snprintf(p, sizeof p, "%s/vu/train.json", dir);
    char *tj = slurp(p, NULL);
    size_t sampled = 0;
    for (const char *q = tj; q && (q = strstr(q, "\"users\":\t")); q++) sampled += atoi(q + 9) == 7;
    CHECK(sampled == 6); /* valid and test, top level and both protocols */
    free(tj);
    CHECK(file_has(dir, "idf/state.ckpt", "\nvalid_users 50000\n"));
    CHECK(file_has(dir, "idf/train.json", "\"users\":\t200"));

    /* --neighbours 1 --neighbours-format csr: NEIGHBOURS, the strongest neighbour only */
    size_t len;
    snprintf(p, sizeof p, "%s/m1.mdsb", dir);
    void *buf = read_all(p, &len);
    CHECK(buf != NULL);
    mdsrec_model *m = NULL;
    mdsrec_error err;
    if (buf) {
        CHECK(nb_kind(buf, 0) == 10 && nb_kind(buf, 1) == 10 && nb_kind(buf, 2) == 0);
        CHECK(mdsrec_open(buf, len, &m, &err) == MDSREC_OK);
        uint32_t it[4], cnt;
        float wt[4];
        CHECK(mdsrec_similar(m, 5, 1, 4, it, wt, &cnt) == MDSREC_OK && cnt == 1 && it[0] == 6 && wt[0] == 0.5f);
        mdsrec_close(m);
        free(buf);
    }

    test_resume_and_paths(bin, dir, tmp);
    test_pop_run(bin, dir);
    test_channel_blocks(bin, dir);

    snprintf(p, sizeof p, "%s/m.mdsb", dir);
    buf = read_all(p, &len);
    CHECK(buf != NULL);
    if (!buf) return check_done("test_train_prepared");
    CHECK(nb_kind(buf, 0) == 13 && nb_kind(buf, 1) == 13 && nb_kind(buf, 2) == 0);
    CHECK(mdsrec_open(buf, (size_t)len, &m, &err) == MDSREC_OK);
    if (m) {
        const mdsrec_config *c = mdsrec_model_config(m);
        CHECK(c->n_items == N && c->n_channels == 3 && c->item_dtype == MDSREC_F16 && c->pool_mode == MDSREC_POOL_LAST);
        CHECK(!strcmp(c->channels[0].name, "id") && c->channels[0].kind == MDSREC_CHANNEL_ID);
        CHECK(!strcmp(c->channels[1].name, "image") && c->channels[1].kind == MDSREC_CHANNEL_IMAGE);
        CHECK(!strcmp(c->channels[2].name, "text") && c->channels[2].kind == MDSREC_CHANNEL_TEXT);
        CHECK(mdsrec_find_key(m, "sku-013", 7) == 13);
        size_t cl;
        char *cat = NULL; /* export writes CATALOG_GZ unless --catalog-format json */
        CHECK(!mdsrec_catalog(m, &cl) && mdsrec_catalog_gzip(m, &cl) && cl > 18);
        CHECK(catalog_of_model(m, p, &cat, &cl) == 0);
        CHECK(cat && cl > 2 && cat[0] == '[' && strstr(cat, "\"Item 39\""));
        /* --catalog-format json: the same JSON as a CATALOG section */
        snprintf(cmd, sizeof cmd, "%s export --model %s/run --out %s/mj.mdsb --dtype f16 --catalog-format json --no-compare "
                 "> %s/export-json.txt 2>&1", bin, dir, dir, dir);
        CHECK(system(cmd) == 0);
        snprintf(cmd, sizeof cmd, "%s/export-json.txt", dir);
        char *said = slurp(cmd, NULL);
        CHECK(said && strstr(said, "catalog (JSON: "));
        free(said);
        snprintf(cmd, sizeof cmd, "%s/export.txt", dir);
        said = slurp(cmd, NULL);
        CHECK(said && strstr(said, "catalog (gzip: ") && strstr(said, ", JSON "));
        free(said);
        snprintf(cmd, sizeof cmd, "%s/mj.mdsb", dir);
        size_t jl;
        uint8_t *jb = read_all(cmd, &jl);
        mdsrec_model *mj = NULL;
        CHECK(jb && mdsrec_open(jb, jl, &mj, &err) == MDSREC_OK);
        size_t pl = 0;
        const char *plain = mj ? mdsrec_catalog(mj, &pl) : NULL;
        CHECK(plain && pl == cl && cat && !memcmp(plain, cat, cl) && !mdsrec_catalog_gzip(mj, &pl));
        mdsrec_close(mj);
        free(jb);
        free(cat);
        uint32_t it[4], cnt;
        float wt[4];
        CHECK(mdsrec_similar(m, 5, 1, 4, it, wt, &cnt) == MDSREC_OK && cnt == 2 && it[0] == 6 && it[1] == 4);
        CHECK(wt[0] == 0.5f && wt[1] == 0.25f); /* the range's ends: exact in 8 bits */
        CHECK(mdsrec_similar(m, 5, 0, 4, it, wt, &cnt) == MDSREC_OK && cnt == 2);
        CHECK(mdsrec_similar(m, 5, 2, 4, it, wt, &cnt) == MDSREC_ENOTFOUND); /* no text.knn.csr */
        mdsrec_state *st;
        CHECK(mdsrec_state_new(m, &st) == MDSREC_OK);
        uint32_t hist[3] = {3, 4, 5};
        mdsrec_query q = {hist, 3, 5, 0, NULL, 0, NULL, 0};
        mdsrec_result r;
        CHECK(mdsrec_recommend(m, st, &q, &r) == MDSREC_OK && r.count == 5);
        /* mdsrec's default fusion (--gate global) learns one weight per channel, the same for
           every visitor: they sum to 1 and a second history gets the same ones */
        float g0[3], gsum = 0;
        for (int k = 0; k < 3; k++) g0[k] = r.gates[k], gsum += r.gates[k];
        CHECK_MSG(fabsf(gsum - 1) < 1e-5f && g0[0] != g0[1], "gates %g %g %g", g0[0], g0[1], g0[2]);
        uint32_t hist2[2] = {9, 1};
        mdsrec_query q2 = {hist2, 2, 5, 0, NULL, 0, NULL, 0};
        CHECK(mdsrec_recommend(m, st, &q2, &r) == MDSREC_OK);
        for (int k = 0; k < 3; k++) CHECK_MSG(fabsf(r.gates[k] - g0[k]) < 1e-6f, "gate %d: %g, then %g", k, g0[k], r.gates[k]);
        mdsrec_state_free(st);
        mdsrec_close(m);
    }
    free(buf);
    return check_done("test_train_prepared");
}
