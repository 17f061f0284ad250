/* html.c - escaping, base64 and the report's SVG charts (html.h). */
#include "html.h"

#include <math.h>
#include <string.h>

void html_text_n(FILE *f, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            /* control bytes are not valid in HTML text; shop data can hold them */
            if (c >= 0x20 || c == '\t' || c == '\n') fputc(c, f);
        }
    }
}

void html_text(FILE *f, const char *s) {
    if (s) html_text_n(f, s, strlen(s));
}

void html_base64(FILE *f, const uint8_t *d, size_t len) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        fputc(a[v >> 18], f), fputc(a[(v >> 12) & 63], f), fputc(a[(v >> 6) & 63], f), fputc(a[v & 63], f);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)d[i] << 16;
        fputc(a[v >> 18], f), fputc(a[(v >> 12) & 63], f), fputs("==", f);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
        fputc(a[v >> 18], f), fputc(a[(v >> 12) & 63], f), fputc(a[(v >> 6) & 63], f), fputc('=', f);
    }
}

const char *html_colour(unsigned i) {
    static const char *const c[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    return c[i % (sizeof c / sizeof *c)];
}

#define SB_W 760.0
#define SB_LABEL 220.0 /* room for the row labels */
#define SB_ROW 26.0
#define SB_TOP 34.0

void svg_stacked_bars(FILE *f, const char *const *row_label, const uint64_t *row_count, size_t n_rows,
                      const char *const *series, size_t n_series, const double *share) {
    double h = SB_TOP + SB_ROW * (double)n_rows + 10, bw = SB_W - SB_LABEL - 50;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n",
            SB_W, h, SB_W, h);
    /* the legend: a swatch and the name per series */
    double x = SB_LABEL;
    for (size_t s = 0; s < n_series; s++) {
        fprintf(f, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, html_colour((unsigned)s));
        fprintf(f, "<text x=\"%.1f\" y=\"18\">", x + 16);
        html_text(f, series[s]);
        fprintf(f, "</text>\n");
        x += 30 + 7.0 * (double)strlen(series[s]);
    }
    for (size_t r = 0; r < n_rows; r++) {
        double y = SB_TOP + SB_ROW * (double)r;
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", SB_LABEL - 8, y + 15);
        html_text(f, row_label[r]);
        fprintf(f, " (%llu)</text>\n", (unsigned long long)row_count[r]);
        double at = SB_LABEL;
        for (size_t s = 0; s < n_series; s++) {
            double v = share[r * n_series + s], w = bw * (isfinite(v) && v > 0 ? v : 0);
            if (w <= 0) continue;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"%s\"><title>", at, y + 2, w,
                    SB_ROW - 6, html_colour((unsigned)s));
            html_text(f, row_label[r]);
            fprintf(f, ": ");
            html_text(f, series[s]);
            fprintf(f, " %.1f%%</title></rect>\n", 100 * v);
            if (w > 34)
                fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"white\">%.0f%%</text>\n", at + w / 2,
                        y + 15, 100 * v);
            at += w;
        }
    }
    fprintf(f, "</svg>\n");
}

#define HG_W 640.0
#define HG_H 300.0
#define HG_L 56.0
#define HG_B 48.0
#define HG_T 24.0

void svg_histogram(FILE *f, const char *const *label, const double *value, size_t n, int decimals,
                   const char *x_caption, const char *y_caption) {
    double vmax = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(value[i])) vmax = fmax(vmax, value[i]);
    if (vmax <= 0) vmax = 1;
    double pw = HG_W - HG_L - 10, ph = HG_H - HG_T - HG_B, slot = n ? pw / (double)n : pw;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n",
            HG_W, HG_H, HG_W, HG_H);
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>\n", HG_L, HG_W - 10,
            HG_T + ph, HG_T + ph);
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(value[i]) && value[i] > 0 ? value[i] : 0, bh = ph * v / vmax, x = HG_L + slot * (double)i;
        /* an empty bin still draws a hairline, so the chart shows that it is empty */
        if (bh < 1) bh = 1;
        fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n", x + slot * 0.1,
                HG_T + ph - bh, slot * 0.8, bh, html_colour(0));
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%.*f</text>\n", x + slot / 2, HG_T + ph - bh - 4,
                decimals, value[i]);
        fprintf(f, "<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">", x + slot / 2, HG_T + ph + 16);
        html_text(f, label[i]);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", HG_L + pw / 2, HG_H - 8);
    html_text(f, x_caption);
    fprintf(f, "</text>\n<text x=\"14\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.0f)\">",
            HG_T + ph / 2, HG_T + ph / 2);
    html_text(f, y_caption);
    fprintf(f, "</text>\n</svg>\n");
}
