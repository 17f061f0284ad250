/*
 * test_train_planted.c - the trainer end to end through the `mdsrec` binary, on a synthetic
 * dataset with a planted next-item rule: item i is always followed by next[i], a random
 * permutation made of ONE cycle over all N items (so no history holds its own target and
 * nothing short-cut the rule). Popularity is flat, so `pop` cannot find it.
 *
 * Checks: sasrec and mdsrec (id channel, centralized pooling) reach test HR@10 > 0.95, and so
 * does mdsrec with its shipped defaults and a channel of pure-noise features; pop
 * stays far below; a run with one thread and a seed is reproducible bit for bit, and a run
 * resumed from state.ckpt ends where an uninterrupted one does; the exported f32 bundle
 * evaluated through the core (mdsrec_score_all) matches the checkpoint's own evaluation; the
 * co-click term is chosen (beta > 0) for an under-trained model, recorded, applied by eval and
 * by the core, and left out with --coclick off; the repeat term chosen with it is recorded,
 * carried by the bundle (REPEAT) and left out with --repeat off.
 * Small enough to train in a few seconds on 2 cores.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "train/defaults.h"
#include "test_ckpt_helpers.h"

#define N_ITEMS 60
#define N_USERS 300

static const char *bin, *tmp;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0) fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static uint64_t rng = 2024;
static uint32_t rnd(uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

/* results.runs[run].SPLIT.KEY from an `mdsrec eval --json` file */
static double json_metric(const char *path, int run_i, const char *split, const char *key) {
    char *t = slurp(path, NULL);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    cJSON *r = j ? cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), run_i) : NULL;
    cJSON *v = r ? cJSON_GetObjectItem(cJSON_GetObjectItem(r, split), key) : NULL;
    double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(j);
    return x;
}

/* `mdsrec eval` of the run DIR/NAME into DIR/NAME.json; its test HR@10 (printed with NDCG@10
   under LABEL), -1 when the eval fails */
static double eval_hr10(const char *dir, const char *name, const char *label) {
    char js[1200];
    snprintf(js, sizeof js, "%s/%s.json", dir, name);
    if (run("%s eval --model %s/%s --json %s >/dev/null", bin, dir, name, js) != 0) return -1;
    double hr = json_metric(js, 0, "test", "HR@10");
    printf("  %s: test HR@10 %.4f NDCG@10 %.4f\n", label, hr, json_metric(js, 0, "test", "NDCG@10"));
    return hr;
}

int main(void) {
    bin = getenv("MDSREC_BIN");
    tmp = getenv("MDSREC_TMP");
    if (!bin || !tmp) {
        fprintf(stderr, "MDSREC_BIN and MDSREC_TMP must be set (ctest sets them)\n");
        return 1;
    }
    char dir[1024], data[1100];
    snprintf(dir, sizeof dir, "%s/train_planted", tmp);
    mkdir(dir, 0777);
    snprintf(data, sizeof data, "%s/planted.txt", dir);

    /* one cycle through every item in a random order */
    uint32_t order[N_ITEMS], next[N_ITEMS];
    for (uint32_t i = 0; i < N_ITEMS; i++) order[i] = i;
    for (uint32_t i = N_ITEMS - 1; i > 0; i--) {
        uint32_t j = rnd(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t i = 0; i < N_ITEMS; i++) next[order[i]] = order[(i + 1) % N_ITEMS];
    FILE *f = fopen(data, "w");
    CHECK(f != NULL);
    if (!f) return check_done("test_train_planted");
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t len = 6 + rnd(9), it = rnd(N_ITEMS);
        fprintf(f, "%u", u + 1);
        for (uint32_t t = 0; t < len; t++, it = next[it]) fprintf(f, " %u", it + 1); /* ids from 1 */
        fprintf(f, "\n");
    }
    fclose(f);

    const char *common = "--dim 16 --max-len 12 --blocks 1 --heads 2 --dropout 0.1 --batch 32 --lr 5e-3 --quiet";
    /* sasrec */
    CHECK(run("%s train --data %s --out %s/sasrec --model sasrec %s --epochs 40 --patience 40 --threads 2 >/dev/null",
              bin, data, dir, common) == 0);
    char js[1200];
    double hr_sas = eval_hr10(dir, "sasrec", "sasrec");
    CHECK_MSG(hr_sas > 0.95, "sasrec HR@10 %.4f", hr_sas);

    /* mdsrec (no features here: the id channel with interest-centralized pooling) */
    CHECK(run("%s train --data %s --out %s/mdsrec --model mdsrec %s --epochs 40 --patience 40 --threads 2 >/dev/null",
              bin, data, dir, common) == 0);
    double hr_mds = eval_hr10(dir, "mdsrec", "mdsrec");
    CHECK_MSG(hr_mds > 0.95, "mdsrec HR@10 %.4f", hr_mds);

    /* --ranks: every visitor's rank of the target, the same ranks the metrics average */
    CHECK(run("%s eval --model %s/sasrec --ranks --json %s/ranks.json >/dev/null", bin, dir, dir) == 0);
    int usage_rc = run("%s eval --model %s/sasrec --ranks >/dev/null 2>&1", bin, dir); /* needs --json */
    CHECK(WIFEXITED(usage_rc) && WEXITSTATUS(usage_rc) == 2);
    {
        char rp[1200];
        snprintf(rp, sizeof rp, "%s/ranks.json", dir);
        char *t = slurp(rp, NULL);
        cJSON *j = t ? cJSON_Parse(t) : NULL;
        cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0), "ranks"), "test");
        int n = cJSON_GetArraySize(a), hits = 0, in_range = 1;
        for (int u = 0; u < n; u++) {
            double r = cJSON_GetArrayItem(a, u)->valuedouble;
            in_range &= r >= 1 && r <= N_ITEMS;
            hits += r <= 10;
        }
        CHECK_MSG(n == N_USERS && in_range, "ranks: %d of %d visitors, in range %d", n, N_USERS, in_range);
        CHECK(n > 0 && fabs((double)hits / n - json_metric(rp, 0, "test", "HR@10")) < 1e-9);
        /* both protocols: the top-level numbers are the unmasked ones; the masked ranks are never
           worse, visitor by visitor, and give the masked HR@10 */
        cJSON *pr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "runs"), 0), "protocols");
        cJSON *um = cJSON_GetObjectItem(cJSON_GetObjectItem(pr, "unmasked"), "test");
        cJSON *mk = cJSON_GetObjectItem(cJSON_GetObjectItem(pr, "masked"), "test");
        cJSON *am = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pr, "masked"), "ranks"), "test");
        CHECK(um && mk && cJSON_GetArraySize(am) == n);
        if (um && mk && cJSON_GetArraySize(am) == n) {
            CHECK(cJSON_GetObjectItem(um, "HR@10")->valuedouble == json_metric(rp, 0, "test", "HR@10"));
            int worse = 0, mhits = 0;
            for (int u = 0; u < n; u++) {
                double r = cJSON_GetArrayItem(am, u)->valuedouble;
                worse += r > cJSON_GetArrayItem(a, u)->valuedouble;
                mhits += r <= 10;
            }
            CHECK_MSG(worse == 0, "%d visitors rank worse with the history masked", worse);
            CHECK(fabs((double)mhits / n - cJSON_GetObjectItem(mk, "HR@10")->valuedouble) < 1e-9);
        }
        cJSON_Delete(j);
        free(t);
    }

    /* the shipped defaults on prepared data: `mdsrec graph` writes the behaviour graph, so the
       ids are smoothed over it (--id-graph behaviour), and the rule is still learned */
    CHECK(run("%s prepare --inter %s --inter-format sequences --out %s/prep >/dev/null 2>&1 && "
              "%s graph --dir %s/prep >/dev/null 2>&1", bin, data, dir, bin, dir) == 0);
    CHECK(run("%s train --data %s/prep --out %s/sasrec-g --model sasrec %s --epochs 40 --patience 40 --threads 2 >/dev/null",
              bin, dir, dir, common) == 0);
    {
        char ck[1200];
        snprintf(ck, sizeof ck, "%s/sasrec-g/model.ckpt", dir);
        char *hdr = slurp(ck, NULL);
        CHECK_MSG(hdr && strstr(hdr, "\nchannel 0 id 0 1 0 behaviour.adj.csr\n"), "the id graph is not the default");
        free(hdr);
    }
    double hr_g = eval_hr10(dir, "sasrec-g", "sasrec, ids over the behaviour graph");
    CHECK_MSG(hr_g > 0.95, "sasrec with the id graph: HR@10 %.4f", hr_g);

    /* the co-click term (docs/TRAINING.md): the behaviour graph holds the planted rule, so a
       model trained one epoch only, far from it, gains from the term; train picks a beta > 0 on
       validation and records it; eval applies it (its numbers are train.json's), `--coclick
       off` leaves it out, the bundle carries it (COCLICK) and the core ranks as the trainer;
       `train --coclick off` records none */
    {
        CHECK(run("%s train --data %s/prep --out %s/cc --model sasrec %s --epochs 1 --threads 2 >/dev/null", bin, dir,
                  dir, common) == 0);
        char ck[1200], tj[1200], js[1200], off[1200], bj[1200];
        snprintf(ck, sizeof ck, "%s/cc/model.ckpt", dir);
        char *hdr = slurp(ck, NULL);
        float beta = 0, decay = -1, repeat = 0;
        const char *line = hdr ? strstr(hdr, "\ncoclick ") : NULL;
        CHECK_MSG(line && sscanf(line, "\ncoclick %f %f", &beta, &decay) == 2 && beta > 0 && decay == 0.3f,
                  "no co-click term chosen: %.200s", line ? line : "(none)");
        /* no visitor here clicks an item twice: the repeat term, where chosen, is negative */
        line = hdr ? strstr(hdr, "\nrepeat ") : NULL;
        CHECK(!line || (sscanf(line, "\nrepeat %f", &repeat) == 1 && repeat < 0));
        free(hdr);
        snprintf(tj, sizeof tj, "%s/cc/train.json", dir);
        char *t = slurp(tj, NULL);
        cJSON *j = t ? cJSON_Parse(t) : NULL;
        free(t);
        cJSON *cc = cJSON_GetObjectItem(j, "coclick");
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(cc, "beta")) &&
              (float)cJSON_GetObjectItem(cc, "beta")->valuedouble == beta);
        cJSON *rj = cJSON_GetObjectItem(j, "repeat");
        CHECK(repeat == 0 ? rj == NULL : cJSON_IsNumber(rj) && (float)rj->valuedouble == repeat);
        double train_ndcg = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "test"), "NDCG@10")->valuedouble;
        cJSON_Delete(j);
        snprintf(js, sizeof js, "%s/cc-eval.json", dir);
        snprintf(off, sizeof off, "%s/cc-off.json", dir);
        CHECK(run("%s eval --model %s/cc --json %s >/dev/null && %s eval --model %s/cc --coclick off --json %s >/dev/null",
                  bin, dir, js, bin, dir, off) == 0);
        double with = json_metric(js, 0, "test", "NDCG@10"), without = json_metric(off, 0, "test", "NDCG@10");
        printf("  sasrec, one epoch: test NDCG@10 %.4f, with the co-click term (beta %g) %.4f\n", without,
               (double)beta, with);
        CHECK_MSG(fabs(with - train_ndcg) < 1e-9, "eval %.6f, train.json %.6f", with, train_ndcg);
        CHECK_MSG(with > without + 0.05, "the term: %.4f against %.4f without", with, without);
        /* the bundle: COCLICK, and the core's ranking as the trainer's (8-bit list weights) */
        snprintf(bj, sizeof bj, "%s/cc-bundle.json", dir);
        CHECK(run("%s export --model %s/cc --out %s/cc.mdsb --no-compare > %s/cc-export.txt && "
                  "%s inspect %s/cc.mdsb | grep -q COCLICK && %s eval --bundle %s/cc.mdsb --data %s/prep --json %s "
                  ">/dev/null", bin, dir, dir, dir, bin, dir, bin, dir, dir, bj) == 0);
        double core = json_metric(bj, 0, "test", "NDCG@10");
        CHECK_MSG(fabs(core - with) <= 0.02, "through the core %.4f, the trainer %.4f", core, with);
        if (repeat != 0)
            CHECK(run("%s inspect %s/cc.mdsb > %s/cc-inspect.txt && grep -q ' REPEAT ' %s/cc-inspect.txt && "
                      "grep -q '^  repeat      -' %s/cc-inspect.txt", bin, dir, dir, dir, dir) == 0);
        CHECK(run("%s train --data %s/prep --out %s/cc-off --model sasrec %s --epochs 1 --threads 2 --coclick off "
                  "--repeat off >/dev/null", bin, dir, dir, common) == 0);
        snprintf(ck, sizeof ck, "%s/cc-off/model.ckpt", dir);
        hdr = slurp(ck, NULL);
        CHECK_MSG(hdr && !strstr(hdr, "\ncoclick ") && !strstr(hdr, "\nrepeat "), "--coclick off --repeat off wrote a term");
        free(hdr);
    }

    /* mdsrec's shipped defaults with a modality: a feature of pure noise (16 gaussian-ish
       numbers per item) as a channel of its own, and in the id channel. The global gate, the
       features in the id channel and the channel's own item embeddings must still let the
       rule through. */
    {
        char p[1200];
        snprintf(p, sizeof p, "%s/noise.f32", dir);
        FILE *nf = fopen(p, "wb");
        snprintf(p, sizeof p, "%s/noise-keys.txt", dir);
        FILE *kf = fopen(p, "w");
        CHECK(nf && kf);
        for (uint32_t i = 0; nf && kf && i < N_ITEMS; i++) {
            fprintf(kf, "%u\n", i + 1);
            for (int j = 0; j < 16; j++) {
                float x = (float)((int)rnd(2001) - 1000) / 1000.0f;
                fwrite(&x, sizeof x, 1, nf);
            }
        }
        if (nf) fclose(nf);
        if (kf) fclose(kf);
    }
    CHECK(run("%s featurize matrix --dir %s/prep --name noise --path %s/noise.f32 --format f32 --width 16 --keys "
              "%s/noise-keys.txt >/dev/null 2>&1 && %s graph --dir %s/prep >/dev/null 2>&1",
              bin, dir, dir, dir, bin, dir) == 0);
    CHECK(run("%s train --data %s/prep --out %s/mdsrec-f --model mdsrec %s --epochs 40 --patience 40 --threads 2 >/dev/null",
              bin, dir, dir, common) == 0);
    {
        char ck[1200];
        snprintf(ck, sizeof ck, "%s/mdsrec-f/model.ckpt", dir);
        char *hdr = slurp(ck, NULL);
        /* "channel K NAME KIND HAS_EMB FEAT_WIDTH ...": the id channel with its embedding and
           the 16 feature columns, the noise channel with its own item embedding too */
        const char *c1 = hdr ? strstr(hdr, "\nchannel 1 noise ") : NULL;
        unsigned kind = 0, emb = 0, width = 0;
        CHECK_MSG(hdr && strstr(hdr, "\nchannel 0 id 0 1 16 ") && c1 &&
                      sscanf(c1, "\nchannel 1 noise %u %u %u", &kind, &emb, &width) == 3 && emb == 1 && width == 16,
                  "not the shipped mdsrec: %.300s", hdr ? hdr : "(no checkpoint)");
        /* and it trained the noise channel alone first (the shipped --modality-first) */
        char mf[64];
        snprintf(mf, sizeof mf, "\nmodality_first %u\n", (unsigned)TRAIN_MODALITY_FIRST_DEFAULT);
        CHECK_MSG(TRAIN_MODALITY_FIRST_DEFAULT == 0 || (hdr && strstr(hdr, mf)), "no '%s' in the checkpoint", mf + 1);
        free(hdr);
    }
    double hr_f = eval_hr10(dir, "mdsrec-f", "mdsrec, shipped defaults with a noise channel");
    CHECK_MSG(hr_f > 0.95, "mdsrec with a noise channel: HR@10 %.4f", hr_f);

    /* pop cannot know the rule */
    CHECK(run("%s eval --baseline pop --data %s --json %s/pop.json >/dev/null", bin, data, dir) == 0);
    snprintf(js, sizeof js, "%s/pop.json", dir);
    double hr_pop = json_metric(js, 0, "test", "HR@10");
    printf("  pop test HR@10 %.4f\n", hr_pop);
    CHECK_MSG(hr_pop >= 0 && hr_pop < 0.5, "pop HR@10 %.4f", hr_pop);

    /* the f32 bundle through the core ranks as the checkpoint does */
    CHECK(run("%s export --model %s/sasrec --out %s/sasrec.mdsb --no-compare >/dev/null", bin, dir, dir) == 0);
    CHECK(run("%s eval --bundle %s/sasrec.mdsb --data %s --json %s/bundle.json >/dev/null", bin, dir, data, dir) == 0);
    snprintf(js, sizeof js, "%s/bundle.json", dir);
    char js2[1200];
    snprintf(js2, sizeof js2, "%s/sasrec.json", dir);
    const char *keys[] = {"HR@5", "HR@10", "NDCG@10", "MRR"};
    for (int k = 0; k < 4; k++)
        for (int s = 0; s < 2; s++) {
            const char *sp = s ? "test" : "valid";
            double a = json_metric(js, 0, sp, keys[k]), b = json_metric(js2, 0, sp, keys[k]);
            CHECK_MSG(a >= 0 && fabs(a - b) <= 2e-3, "%s %s: bundle %.5f, checkpoint %.5f", sp, keys[k], a, b);
        }
    /* and so does the i8 bundle, within quantization error */
    CHECK(run("%s export --model %s/mdsrec --out %s/mdsrec8.mdsb --dtype i8 >/dev/null", bin, dir, dir) == 0);

    /* one thread + a seed: the same bits twice; a resumed run ends where a straight one does */
    const char *small = "--model mdsrec --dim 8 --max-len 12 --blocks 1 --heads 2 --dropout 0.3 --batch 64 --quiet --threads 1";
    CHECK(run("%s train --data %s --out %s/det1 %s --epochs 4 --patience 9 --seed 5 >/dev/null", bin, data, dir, small) == 0);
    CHECK(run("%s train --data %s --out %s/det2 %s --epochs 4 --patience 9 --seed 5 >/dev/null", bin, data, dir, small) == 0);
    CHECK(run("%s train --data %s --out %s/det3 %s --epochs 2 --patience 9 --seed 5 >/dev/null", bin, data, dir, small) == 0);
    CHECK(run("%s train --data %s --out %s/det3 %s --epochs 4 --patience 9 --seed 5 --resume >/dev/null 2>&1", bin, data,
              dir, small) == 0);
    char a[1200], b[1200], c[1200];
    snprintf(a, sizeof a, "%s/det1/state.ckpt", dir);
    snprintf(b, sizeof b, "%s/det2/state.ckpt", dir);
    snprintf(c, sizeof c, "%s/det3/state.ckpt", dir);
    CHECK_MSG(same_params(a, b), "two runs with one thread and one seed differ");
    CHECK_MSG(same_params(a, c), "a resumed run differs from a straight one");
    /* a different seed is a different run */
    CHECK(run("%s train --data %s --out %s/det4 %s --epochs 1 --patience 9 --seed 6 >/dev/null", bin, data, dir, small) == 0);
    snprintf(c, sizeof c, "%s/det4/state.ckpt", dir);
    CHECK(!same_params(a, c));

    /* the plot and the log exist */
    snprintf(a, sizeof a, "%s/sasrec/train.svg", dir);
    char *svg = slurp(a, NULL);
    CHECK(svg && strstr(svg, "<svg") && strstr(svg, "polyline"));
    free(svg);
    return check_done("test_train_planted");
}
