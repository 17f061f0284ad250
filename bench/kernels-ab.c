/* kernels-ab.c - the relaxed and simd128 kernel sets side by side, for bench/kernels-ab.mjs
   (which builds this with clang-19 against build/wasm-relaxed's objects and times it in
   Chromium): score_i8, score_f32_panel and score_f32 over N rows x 3 channels x 64 in blocks of
   1024 rows (as model.c scores), linear() on the encoder's 50 tokens x 64 -> 256 and gelu() on 50 x 256. No top-k,
   no forward, no shim: what the instructions alone buy. */
#include <stdint.h>
#include <stdlib.h>
#include "src/kernels.h"

static int8_t *m8[3]; static float *m32[3], *sc[3], q[192], out[1024]; static int8_t q8[192]; static float qs[3] = {0.01f,0.02f,0.03f};
static size_t N;
int setup(int n) {
  N = (size_t)n;
  for (int c = 0; c < 3; c++) {
    m8[c] = malloc(N * 64); m32[c] = malloc(N * 64 * 4); sc[c] = malloc(N * 4);
    for (size_t i = 0; i < N * 64; i++) { m8[c][i] = (int8_t)((i * 2654435761u >> 13) % 255 - 127); m32[c][i] = (float)m8[c][i] / 127.0f; }
    for (size_t i = 0; i < N; i++) sc[c][i] = 0.01f;
  }
  for (int i = 0; i < 192; i++) { q8[i] = (int8_t)(i * 37 % 255 - 127); q[i] = q8[i] / 127.0f; }
  return 0;
}
/* kind: 0 i8, 1 f32 panel, 2 f32 rows; set: 0 simd128, 1 relaxed */
float run(int set, int kind, int reps) {
  const mdsrec_kernels *k = set ? kernels_relaxed() : kernels_simd128();
  float acc = 0;
  for (int r = 0; r < reps; r++)
    for (size_t row0 = 0; row0 < N; row0 += 1024) {
      if (kind == 0) k->score_i8(out, (const int8_t *const *)m8, (const float *const *)sc, q8, qs, 3, 64, row0, 1024);
      else if (kind == 1) k->score_f32_panel(out, (const float *const *)m32, q, 3, 64, row0, 1024);
      else k->score_f32(out, (const float *const *)m32, q, 3, 64, row0, 1024);
      acc += out[5];
    }
  return acc;
}
float lin(int set, int reps) { /* the encoder's linear: 50 tokens x 64 -> 256 */
  static float x[50 * 64], w[256 * 64], o[50 * 256];
  const mdsrec_kernels *k = set ? kernels_relaxed() : kernels_simd128();
  for (int i = 0; i < 50 * 64; i++) x[i] = (float)(i % 13) * 0.1f;
  for (int i = 0; i < 256 * 64; i++) w[i] = (float)(i % 7) * 0.1f;
  float acc = 0;
  for (int r = 0; r < reps; r++) { k->linear(o, x, w, 0, 50, 64, 256); acc += o[3]; }
  return acc;
}
float gel(int set, int reps) { /* GELU over the FFN's 50 tokens x 256 */
  static float x[50 * 256], o[50 * 256];
  const mdsrec_kernels *k = set ? kernels_relaxed() : kernels_simd128();
  for (int i = 0; i < 50 * 256; i++) x[i] = (float)(i % 97) * 0.08f - 4.0f;
  float acc = 0;
  for (int r = 0; r < reps; r++) { k->gelu(o, x, 50 * 256); acc += o[3]; }
  return acc;
}
