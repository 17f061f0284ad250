/* image.c - colour histogram + colour layout + gradient histogram (see image.h). */
#include "features/image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#define HUE_BINS 8
#define SAT_BINS 3
#define VAL_BINS 4
#define COLOUR_W (HUE_BINS * SAT_BINS * VAL_BINS) /* 96 */
#define GRID 4
#define LAYOUT_W (GRID * GRID * 3) /* 48 */
#define PI_F 3.14159265358979f
#define HOG_SIZE 64
#define HOG_CELLS 4
#define HOG_BINS 9
#define HOG_W (HOG_CELLS * HOG_CELLS * HOG_BINS) /* 144 */

_Static_assert(COLOUR_W + LAYOUT_W + HOG_W == IMAGE_DESC_WIDTH, "descriptor width");

static void l2(float *v, int n) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)v[i] * v[i];
    if (ss <= 0) return;
    float inv = (float)(1.0 / sqrt(ss));
    for (int i = 0; i < n; i++) v[i] *= inv;
}

/* ------------------------------------------------------------------ colour histogram */

static void colour_hist(const uint8_t *rgb, size_t npix, float *out) {
    memset(out, 0, COLOUR_W * sizeof *out);
    for (size_t i = 0; i < npix; i++) {
        int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
        int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        int d = mx - mn;
        float h = 0; /* degrees */
        if (d) {
            if (mx == r) {
                h = 60.0f * (float)(g - b) / (float)d;
            } else if (mx == g) {
                h = 60.0f * (2.0f + (float)(b - r) / (float)d);
            } else {
                h = 60.0f * (4.0f + (float)(r - g) / (float)d);
            }
            if (h < 0) h += 360.0f;
        }
        float s = mx ? (float)d / (float)mx : 0, v = (float)mx / 255.0f;
        int hb = (int)(h / 360.0f * HUE_BINS), sb = (int)(s * SAT_BINS), vb = (int)(v * VAL_BINS);
        if (hb >= HUE_BINS) hb = HUE_BINS - 1;
        if (sb >= SAT_BINS) sb = SAT_BINS - 1;
        if (vb >= VAL_BINS) vb = VAL_BINS - 1;
        out[(hb * SAT_BINS + sb) * VAL_BINS + vb] += 1.0f;
    }
    for (int i = 0; i < COLOUR_W; i++) out[i] = sqrtf(out[i] / (float)npix);
    l2(out, COLOUR_W);
}

/* ------------------------------------------------------------------ colour layout */

static float lab_f(float t) { return t > 0.008856f ? cbrtf(t) : 7.787f * t + 16.0f / 116.0f; }

static void colour_layout(const uint8_t *rgb, int w, int h, float *out) {
    /* The table is filled on every call: it is 256 entries, and this keeps the function
       free of shared state that threads would race on. */
    float lin[256];
    for (int i = 0; i < 256; i++) {
        float c = (float)i / 255.0f;
        lin[i] = c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
    }
    for (int gy = 0; gy < GRID; gy++)
        for (int gx = 0; gx < GRID; gx++) {
            int x0 = gx * w / GRID, x1 = (gx + 1) * w / GRID, y0 = gy * h / GRID, y1 = (gy + 1) * h / GRID;
            if (x1 <= x0) x1 = x0 + 1;
            if (y1 <= y0) y1 = y0 + 1;
            if (x1 > w) x0 = w - 1, x1 = w;
            if (y1 > h) y0 = h - 1, y1 = h;
            double sr = 0, sg = 0, sb = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                    const uint8_t *p = rgb + 3 * ((size_t)y * w + x);
                    sr += lin[p[0]], sg += lin[p[1]], sb += lin[p[2]];
                }
            double n = (double)(x1 - x0) * (y1 - y0);
            float r = (float)(sr / n), g = (float)(sg / n), b = (float)(sb / n);
            /* linear sRGB -> XYZ (D65) -> Lab */
            float X = (0.4124f * r + 0.3576f * g + 0.1805f * b) / 0.95047f;
            float Y = 0.2126f * r + 0.7152f * g + 0.0722f * b;
            float Z = (0.0193f * r + 0.1192f * g + 0.9505f * b) / 1.08883f;
            float fx = lab_f(X), fy = lab_f(Y), fz = lab_f(Z);
            float *o = out + 3 * (gy * GRID + gx);
            o[0] = (116.0f * fy - 16.0f) / 100.0f;
            o[1] = 500.0f * (fx - fy) / 128.0f;
            o[2] = 200.0f * (fy - fz) / 128.0f;
        }
    l2(out, LAYOUT_W);
}

/* ------------------------------------------------------------------ gradient histogram */

static void gradient_hist(const uint8_t *rgb, int w, int h, float *out) {
    static const int S = HOG_SIZE;
    float g[HOG_SIZE * HOG_SIZE];
    /* Box-filter resize to S x S: each target pixel averages the source pixels in its span. */
    for (int ty = 0; ty < S; ty++) {
        int y0 = ty * h / S, y1 = (ty + 1) * h / S;
        if (y1 <= y0) y1 = y0 + 1;
        for (int tx = 0; tx < S; tx++) {
            int x0 = tx * w / S, x1 = (tx + 1) * w / S;
            if (x1 <= x0) x1 = x0 + 1;
            double s = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                    const uint8_t *p = rgb + 3 * ((size_t)y * w + x);
                    s += 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
                }
            g[ty * S + tx] = (float)(s / ((double)(x1 - x0) * (y1 - y0)) / 255.0);
        }
    }
    memset(out, 0, HOG_W * sizeof *out);
    const int cell = S / HOG_CELLS;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            /* central differences, clamped at the border */
            float gx = g[y * S + (x + 1 < S ? x + 1 : x)] - g[y * S + (x > 0 ? x - 1 : x)];
            float gy = g[(y + 1 < S ? y + 1 : y) * S + x] - g[(y > 0 ? y - 1 : y) * S + x];
            float mag = sqrtf(gx * gx + gy * gy);
            if (mag <= 0) continue;
            float ang = atan2f(gy, gx);
            if (ang < 0) ang += PI_F; /* unsigned orientation in [0, pi) */
            float pos = ang / PI_F * HOG_BINS - 0.5f;
            int b0 = (int)floorf(pos);
            float frac = pos - (float)b0;
            int b1 = b0 + 1;
            b0 = (b0 + HOG_BINS) % HOG_BINS;
            b1 = b1 % HOG_BINS;
            float *o = out + ((y / cell) * HOG_CELLS + x / cell) * HOG_BINS;
            o[b0] += mag * (1 - frac);
            o[b1] += mag * frac;
        }
    l2(out, HOG_W);
    for (int i = 0; i < HOG_W; i++)
        if (out[i] > 0.2f) out[i] = 0.2f;
    l2(out, HOG_W);
}

void image_describe_rgb(const uint8_t *rgb, int w, int h, float *out) {
    colour_hist(rgb, (size_t)w * h, out);
    colour_layout(rgb, w, h, out + COLOUR_W);
    gradient_hist(rgb, w, h, out + COLOUR_W + LAYOUT_W);
    l2(out, IMAGE_DESC_WIDTH);
}

int image_describe_file(const char *path, float *out, char *err, size_t errlen) {
    int w, h, c;
    uint8_t *rgb = stbi_load(path, &w, &h, &c, 3);
    if (!rgb) {
        const char *why = stbi_failure_reason();
        snprintf(err, errlen, "%s", why ? why : "cannot decode");
        return -1;
    }
    image_describe_rgb(rgb, w, h, out);
    stbi_image_free(rgb);
    return 0;
}
