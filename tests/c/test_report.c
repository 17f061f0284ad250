/*
 * test_report.c - `mdsrec report` on a tiny model trained here: a prepared directory made at
 * test time (40 items in three categories, image and text features, graphs from `mdsrec
 * graph`, a catalogue with a small PNG, an oversized one and a `<script>` title), three
 * epochs of mdsrec, then the page: every section and chart present, the accuracy table's
 * numbers equal to `mdsrec eval --json` (the run and the pop baseline, both protocols), shop
 * text escaped, images embedded as data: URIs and nothing fetched; --bundle; the errors (exit
 * 1 naming the file, exit 2 for usage) leave an existing page untouched; a run without
 * train.json, and a popularity run (no epochs).
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "check.h"
#include "test_data_helpers.h"

#define N 40
#define USERS 200

static uint64_t rng = 7;
static uint32_t rnd(uint32_t n) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng >> 33) % n);
}

/* A 1x1 PNG. */
static const uint8_t PNG[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
                              0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
                              0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
                              0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d,
                              0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static const char *const CATS[3] = {"Shoes", "Bags", "Hats & Caps"};
#define EVIL "<script>alert(\\\"x\\\")</script> & 'Co'"          /* as written in JSON */
#define EVIL_HTML "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f) fwrite(data, 1, len, f), fclose(f);
}

/* The prepared directory. */
static void make_data(const char *dir) {
    char p[1200];
    snprintf(p, sizeof p, "%s/features", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/img", dir);
    mkdir(p, 0777);
    snprintf(p, sizeof p, "%s/img/p.png", dir);
    write_file(p, PNG, sizeof PNG);
    /* a PNG over --max-image-kb 1: shown as a tile */
    uint8_t big[3000] = {0};
    memcpy(big, PNG, sizeof PNG);
    snprintf(p, sizeof p, "%s/img/big.png", dir);
    write_file(p, big, sizeof big);
    snprintf(p, sizeof p, "%s/items.txt", dir);
    FILE *f = fopen(p, "w");
    for (int i = 0; i < N; i++) fprintf(f, "sku-%03d\n", i);
    fclose(f);
    snprintf(p, sizeof p, "%s/catalog.jsonl", dir);
    f = fopen(p, "w");
    for (int i = 0; i < N; i++) {
        const char *img = i % 4 == 0 ? ",\"image\":\"img/p.png\"" : i % 4 == 1 ? ",\"image\":\"img/big.png\""
                          : i % 4 == 2 ? ",\"image\":\"https://example.com/x.png\"" : "";
        if (i == 1 || i == 2) /* the best sellers: the evil title is on the page */
            fprintf(f, "{\"title\":\"" EVIL " %d\",\"category\":\"%s\"%s}\n", i, CATS[i % 3], img);
        else
            fprintf(f, "{\"title\":\"Item %d\",\"category\":\"%s\"%s}\n", i, CATS[i % 3], img);
    }
    fclose(f);
    /* sequences: i -> i+1 mod N from a random start, items 1 and 2 bought most */
    snprintf(p, sizeof p, "%s/sequences.tsv", dir);
    f = fopen(p, "w");
    for (int u = 0; u < USERS; u++) {
        uint32_t len = 5 + rnd(6), it = rnd(N);
        fprintf(f, "user%d\t%d", u, 1 + u % 2);
        for (uint32_t t = 0; t < len; t++, it = (it + 1) % N) fprintf(f, " %u", it);
        fprintf(f, "\n");
    }
    fclose(f);
    const char *names[2] = {"image", "text"};
    uint32_t widths[2] = {4, 3};
    for (int m = 0; m < 2; m++) {
        float x[N * 4];
        for (int i = 0; i < N; i++) {
            double n2 = 0;
            for (uint32_t j = 0; j < widths[m]; j++) {
                x[i * widths[m] + j] = (float)rnd(1000) / 1000.0f - 0.5f;
                n2 += x[i * widths[m] + j] * x[i * widths[m] + j];
            }
            for (uint32_t j = 0; j < widths[m]; j++) x[i * widths[m] + j] /= (float)sqrt(n2);
        }
        snprintf(p, sizeof p, "%s/features/%s.f32", dir, names[m]);
        write_file(p, x, sizeof(float) * N * widths[m]);
        snprintf(p, sizeof p, "%s/features/%s.json", dir, names[m]);
        f = fopen(p, "w");
        fprintf(f, "{\"name\":\"%s\",\"kind\":\"%s\",\"width\":%u,\"rows\":%d,\"missing\":[],\"source\":\"test\"}\n",
                names[m], names[m], widths[m], N);
        fclose(f);
    }
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* The accuracy row of (protocol, model) holds the seven numbers of `eval --json`'s test
   metrics of that protocol, at four decimals, in the table's order. */
static void check_row(const char *html, const char *protocol, const char *model, const cJSON *ev) {
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                                             cJSON_GetObjectItem(ev, "runs"), 0), "protocols"), protocol), "test");
    CHECK_MSG(t != NULL, "eval --json: no protocols.%s.test", protocol);
    if (!t) return;
    static const char *const keys[7] = {"HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR"};
    char want[512] = "", cell[40];
    for (int k = 0; k < 7; k++) {
        snprintf(cell, sizeof cell, "<td>%.4f</td>", cJSON_GetObjectItem(t, keys[k])->valuedouble);
        strcat(want, cell);
    }
    char key[128];
    snprintf(key, sizeof key, "data-protocol=\"%s\" data-model=\"%s\"", protocol, model);
    const char *row = strstr(html, key), *end = row ? strstr(row, "</tr>") : NULL;
    const char *at = row ? strstr(row, want) : NULL;
    CHECK_MSG(row && at && at < end, "accuracy row %s/%s: want %s in %.400s", protocol, model, want, row ? row : "(none)");
}

static cJSON *read_json(const char *path) {
    char *t = (char *)td_read(path, NULL);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

int main(void) {
    const char *dir = td_dir("report/data"), *tmp = td_dir("report/out");
    char d[1024], o[1024], p[2600], run[1200], html_path[1200];
    snprintf(d, sizeof d, "%s", dir);
    snprintf(o, sizeof o, "%s", tmp);
    make_data(d);
    CHECK_MSG(td_run("graph --dir '%s' --k 5 --threads 2", d) == 0, "%s", td_err);
    snprintf(run, sizeof run, "%s/run", o);
    CHECK_MSG(td_run("train --data '%s' --out '%s' --model mdsrec --dim 8 --max-len 8 --blocks 1 --heads 2 --epochs 3 "
                     "--batch 32 --quiet --threads 2",
                     d, run) == 0,
              "%s", td_err);
    snprintf(html_path, sizeof html_path, "%s/report.html", o);
    CHECK_MSG(td_run("report --model '%s' --out '%s' --visitors 50 --max-image-kb 1 --threads 2", run, html_path) == 0,
              "%s", td_err);
    char *html = (char *)td_read(html_path, NULL);
    CHECK(html != NULL);
    if (!html) return check_done("test_report");

    /* every section, and a chart in each that has one */
    static const char *const ids[] = {"id=\"training\"", "id=\"accuracy\"", "id=\"channels\"", "id=\"neighbours\"",
                                      "id=\"coverage\"", "id=\"new-items\"", "No items added"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) CHECK_MSG(strstr(html, ids[i]), "no %s", ids[i]);
    CHECK_MSG(count(html, "<svg") == 3, "%d charts", count(html, "<svg"));
    CHECK(strstr(html, "<polyline") && strstr(html, "best epoch"));
    /* the terms the run chose after training are said in words, and only those */
    {
        char ck[1300];
        snprintf(ck, sizeof ck, "%s/model.ckpt", run);
        char *hdr = (char *)td_read(ck, NULL);
        int cc = hdr && strstr(hdr, "\ncoclick "), rp = hdr && strstr(hdr, "\nrepeat ");
        CHECK_MSG(!!strstr(html, "id=\"terms\"") == (cc || rp), "terms paragraph: co-click %d, repeat %d", cc, rp);
        CHECK(!!strstr(html, "(co-click term, weight ") == cc && !!strstr(html, "(repeat term): your visitors") == rp);
        free(hdr);
    }
    /* the channels by their merchandising names, and the categories (escaped) as bars */
    CHECK(strstr(html, ">look<") && strstr(html, ">description<") && strstr(html, ">bought together<"));
    CHECK(strstr(html, ">Shoes (") && strstr(html, ">Bags (") && strstr(html, ">Hats &amp; Caps ("));
    CHECK(strstr(html, "all recommendations ("));
    CHECK(strstr(html, "at least one of the 50 sampled visitors"));
    /* shop text escaped: the title appears only escaped, and the page has no script at all */
    CHECK_MSG(strstr(html, EVIL_HTML " 1") && strstr(html, EVIL_HTML " 2"), "escaped title missing");
    CHECK(!strstr(html, "<script") && !strstr(html, "<SCRIPT") && !strstr(html, "alert(\""));
    /* images: the small PNG embedded once, the big one and the URL as tiles; nothing to fetch */
    CHECK(count(html, "data:image/png;base64,iVBORw0KGgo") >= 1);
    CHECK(!strstr(html, "example.com") && !strstr(html, " src=") && !strstr(html, " href=") && !strstr(html, "url(http"));
    CHECK(strstr(html, "class=\"pic ph\""));
    /* coverage: the deciles' recommendations add up to the sample's slots */
    const char *ct = strstr(html, "id=\"coverage-table\"");
    CHECK(ct != NULL);
    uint64_t slots = 0, items = 0;
    for (const char *r = ct; r && (r = strstr(r, "<tr><td>"));) {
        unsigned dec;
        unsigned long long a, b, c;
        if (sscanf(r, "<tr><td>%u</td><td>%llu</td><td>%llu</td><td>%llu</td>", &dec, &a, &b, &c) == 4)
        {
            items += a, slots += c;
            CHECK(b <= a);
        }
        r += 8;
    }
    CHECK_MSG(items == N && slots == 50 * 10, "deciles: %llu items, %llu recommendations", (unsigned long long)items,
              (unsigned long long)slots);

    /* the accuracy table equals `mdsrec eval --json` for the run and for pop */
    snprintf(p, sizeof p, "%s/eval.json", o);
    CHECK_MSG(td_run("eval --model '%s' --split test --json '%s' --threads 2", run, p) == 0, "%s", td_err);
    cJSON *ev = read_json(p);
    snprintf(p, sizeof p, "%s/pop.json", o);
    CHECK_MSG(td_run("eval --baseline pop --data '%s' --split test --json '%s' --threads 2", d, p) == 0, "%s", td_err);
    cJSON *pop = read_json(p);
    CHECK(ev && pop);
    if (ev && pop) {
        check_row(html, "unmasked", "run", ev);
        check_row(html, "masked", "run", ev);
        check_row(html, "unmasked", "pop", pop);
        check_row(html, "masked", "pop", pop);
    }
    cJSON_Delete(pop);
    free(html);

    /* --bundle (f16, compact neighbours), and a catalogue without the category field */
    snprintf(p, sizeof p, "%s/m.mdsb", o);
    CHECK_MSG(td_run("export --model '%s' --out '%s' --dtype f16 --no-compare", run, p) == 0, "%s", td_err);
    char html2[1300];
    snprintf(html2, sizeof html2, "%s/report2.html", o);
    CHECK_MSG(td_run("report --model '%s' --data '%s' --bundle '%s' --out '%s' --category-field dept --threads 1", run, d,
                     p, html2) == 0,
              "%s", td_err);
    html = (char *)td_read(html2, NULL);
    CHECK(html && strstr(html, "has no \"dept\" field") && !strstr(html, ">Shoes (") && count(html, "<svg") == 3);
    free(html);

    /* errors: exit 1 naming the file, exit 2 for usage; the existing page is left as it was */
    int temps;
    uint64_t before = td_fingerprint(o, &temps);
    CHECK(td_run("report --model '%s/nope' --out '%s'", o, html_path) == 1 &&
          strstr(td_err, "/nope: no such run (expected"));
    CHECK(td_run("report --model '%s' --data '%s/nodata' --out '%s'", run, o, html_path) == 1 &&
          strstr(td_err, "/nodata: no such directory (expected a prepared"));
    CHECK(td_run("report --model '%s' --bundle '%s/no.mdsb' --out '%s'", run, o, html_path) == 1 &&
          strstr(td_err, "no.mdsb"));
    snprintf(p, sizeof p, "%s/other.mdsb", td_tmp());
    CHECK(td_run("synth --out '%s' --items 10 --dim 8", p) == 0);
    CHECK_MSG(td_run("report --model '%s' --bundle '%s' --out '%s'", run, p, html_path) == 1 &&
                  strstr(td_err, "other.mdsb: 10 items, expected the 40"),
              "%s", td_err);
    remove(p);
    CHECK(td_run("report --model '%s' --out", run) == 2 && strstr(td_err, "--out: missing value"));
    CHECK(td_run("report --out '%s'", html_path) == 2 && strstr(td_err, "--model RUN is required"));
    CHECK(td_fingerprint(o, &temps) == before && temps == 0);
    const char *empty = td_dir("report/empty-run");
    CHECK_MSG(td_run("report --model '%s' --out '%s/r.html'", empty, empty) == 1 &&
                  strstr(td_err, "empty-run/model.ckpt: missing (expected the run's trained model"),
              "%s", td_err);
    /* a broken catalogue and a broken train.json are named with the line or field */
    snprintf(p, sizeof p, "%s/catalog.jsonl", d);
    size_t len;
    char *cat = (char *)td_read(p, &len);
    char *l3 = cat ? strchr(strchr(cat, '\n') + 1, '\n') + 1 : NULL;
    if (l3) l3[0] = '[';
    if (cat) write_file(p, cat, len);
    CHECK_MSG(td_run("report --model '%s' --out '%s'", run, html_path) == 1 && strstr(td_err, "catalog.jsonl: line 3"),
              "%s", td_err);
    if (l3) l3[0] = '{';
    if (cat) write_file(p, cat, len);
    free(cat);
    snprintf(p, sizeof p, "%s/train.json", run);
    write_file(p, "{\"epochs\": 3}\n", 14);
    CHECK_MSG(td_run("report --model '%s' --out '%s'", run, html_path) == 1 && strstr(td_err, "train.json: no \"epochs\""),
              "%s", td_err);
    /* without train.json: the checkpoint's history and the model scored now */
    remove(p);
    CHECK_MSG(td_run("report --model '%s' --out '%s' --threads 2", run, html_path) == 0, "%s", td_err);
    html = (char *)td_read(html_path, NULL);
    CHECK(html && strstr(html, "train.json is missing") && strstr(html, "the checkpoint scored now"));
    /* scored now with the terms the run chose, as `mdsrec eval` scores it */
    if (html && ev) {
        check_row(html, "unmasked", "run", ev);
        check_row(html, "masked", "run", ev);
    }
    cJSON_Delete(ev);
    free(html);
    /* a popularity run (counted, not trained): no curve to draw, the rest of the page */
    char pop_run[1300];
    snprintf(pop_run, sizeof pop_run, "%s/pop", o);
    CHECK_MSG(td_run("train --data '%s' --model pop --out '%s'", d, pop_run) == 0, "%s", td_err);
    CHECK_MSG(td_run("report --model '%s' --out '%s' --threads 2", pop_run, html_path) == 0, "%s", td_err);
    html = (char *)td_read(html_path, NULL);
    CHECK(html && strstr(html, "no training epochs (a pop model") && count(html, "<svg") == 2 &&
          strstr(html, "id=\"coverage-table\""));
    free(html);
    return check_done("test_report");
}
