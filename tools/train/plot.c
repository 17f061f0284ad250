/* plot.c - SVG training curve (plot.h). */
#include "plot.h"

#include <math.h>

#include "cli.h"

#define PW 640.0
#define PH 360.0
#define ML 64.0
#define MR 72.0
#define MT 36.0
#define MB 44.0

static double px(double e, double emax) { return ML + (PW - ML - MR) * (emax > 1 ? (e - 1) / (emax - 1) : 0.5); }
static double py(double v, double lo, double hi) {
    return PH - MB - (PH - MT - MB) * (hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

static void polyline(FILE *f, const train_state *st, int which, double lo, double hi, double emax, const char *color) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (uint32_t i = 0; i < st->n_hist; i++) {
        double v = which ? st->hist[i].ndcg10 : st->hist[i].loss;
        fprintf(f, "%.1f,%.1f ", px(st->hist[i].epoch, emax), py(v, lo, hi));
    }
    fprintf(f, "\"/>\n");
}

int plot_write(const char *path, const train_state *st, const char *title) {
    cli_out o;
    if (cli_out_open(&o, path)) return -1;
    plot_svg(o.f, st, title);
    return cli_out_commit(&o);
}

void plot_svg(FILE *f, const train_state *st, const char *title) {
    double lmin = INFINITY, lmax = -INFINITY, nmax = 0, emax = 1;
    for (uint32_t i = 0; i < st->n_hist; i++) {
        lmin = fmin(lmin, st->hist[i].loss);
        lmax = fmax(lmax, st->hist[i].loss);
        nmax = fmax(nmax, st->hist[i].ndcg10);
        emax = fmax(emax, st->hist[i].epoch);
    }
    if (!st->n_hist) lmin = 0, lmax = 1;
    if (nmax <= 0) nmax = 1e-3;
    double pad = (lmax - lmin) * 0.05 + 1e-9;
    lmin -= pad;
    lmax += pad;
    nmax *= 1.1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", PW, PH, PW, PH);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">", PW / 2);
    for (const char *c = title; *c; c++) {
        if (*c == '<') fputs("&lt;", f);
        else if (*c == '>') fputs("&gt;", f);
        else if (*c == '&') fputs("&amp;", f);
        else fputc(*c, f);
    }
    fprintf(f, "</text>\n");
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n", ML, MT,
            PW - ML - MR, PH - MT - MB);
    for (int t = 0; t <= 4; t++) {
        double y = MT + (PH - MT - MB) * t / 4.0;
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", ML, PW - MR, y, y);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1f77b4\">%.3f</text>\n", ML - 6, y + 4,
                lmax - (lmax - lmin) * t / 4.0);
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#d62728\">%.4f</text>\n", PW - MR + 6, y + 4, nmax - nmax * t / 4.0);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">epoch (1 .. %.0f)</text>\n", PW / 2, PH - 12, emax);
    fprintf(f, "<text x=\"14\" y=\"%.0f\" fill=\"#1f77b4\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">"
               "training loss</text>\n", PH / 2, PH / 2);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#d62728\" transform=\"rotate(90 %.0f %.0f)\" text-anchor=\"middle\">"
               "valid NDCG@10</text>\n", PW - 14, PH / 2, PW - 14, PH / 2);
    polyline(f, st, 0, lmin, lmax, emax, "#1f77b4");
    polyline(f, st, 1, 0, nmax, emax, "#d62728");
    if (st->best_epoch)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#d62728\"><title>best epoch %u: NDCG@10 %.4f</title></circle>\n",
                px(st->best_epoch, emax), py(st->best_ndcg, 0, nmax), st->best_epoch, st->best_ndcg);
    fprintf(f, "</svg>\n");
}
