/*
 * image.h - the image featurizer: a handcrafted descriptor of IMAGE_DESC_WIDTH floats.
 *
 * Three blocks, each L2-normalised, concatenated and L2-normalised again:
 *   colour    96  HSV histogram, 8 hue x 3 saturation x 4 value bins, as fractions of the
 *                 pixels, square-rooted (Hellinger) so that large flat areas do not swamp it;
 *   layout    48  the mean CIE Lab colour of each cell of a 4x4 grid (L/100, a/128, b/128);
 *   gradient 144  a HOG-like histogram on the image resized to 64x64 grey: 4x4 cells of
 *                 16x16 pixels, 9 unsigned orientation bins, magnitude-weighted with linear
 *                 interpolation between bins, normalised L2-Hys (clip at 0.2, renormalise).
 * Decoding is stb_image (JPEG baseline and progressive, PNG), converted to 8-bit RGB.
 */
#ifndef MDSREC_FEATURES_IMAGE_H
#define MDSREC_FEATURES_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_DESC_WIDTH 288

/* Describes a w x h 8-bit RGB image (rgb[3 * (y * w + x) + c]). w, h >= 1. */
void image_describe_rgb(const uint8_t *rgb, int w, int h, float *out);

/* Decodes path and describes it. 0, or -1 with a reason in err (decoder message). */
int image_describe_file(const char *path, float *out, char *err, size_t errlen);

#endif
