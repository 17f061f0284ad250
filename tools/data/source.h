/*
 * source.h - the dataset description (where the sources of a prepared directory are): where a store's interactions, catalog, images and
 * precomputed feature matrices are and how to read them. It comes from a JSON file
 * (docs/IMPORT.md has the format and an example) or from command-line flags, which fill
 * the same structure (a flag overrides the file).
 *
 * Relative paths in the JSON file are relative to the directory of the JSON file.
 * Unknown members are an error, so a misspelt field is not silently ignored.
 */
#ifndef MDSREC_DATA_SOURCE_H
#define MDSREC_DATA_SOURCE_H

#include <stdint.h>

#include "data/prepared.h" /* DS_MAX_FEATURES */
#include "data/table.h"

#define DS_MAX_TEXT 32
#define DS_MAX_DISPLAY 16

typedef struct {
    char *path;
    table_format format;
    int sequences; /* "format": "sequences" */
    char *user, *item, *time;
} ds_interactions;

typedef struct {
    char *path;
    table_format format;
    char *key;
    char *text[DS_MAX_TEXT];
    uint32_t n_text;
    char *display_name[DS_MAX_DISPLAY], *display_col[DS_MAX_DISPLAY]; /* e.g. "title" <- "movie_title" */
    uint32_t n_display;
} ds_catalog;

typedef struct {
    char *dir;
    char *map;     /* TSV "key<TAB>file": may be NULL */
    int map_header; /* the map's first line is a header */
    char *pattern;  /* file name from the key (or the map's file column): "{}" is replaced; default "{}" with a map, "{}.jpg" without */
} ds_images;

/* One feature matrix to import (prepare, featurize matrix): where it is, not its values
   (those are a feature_matrix, prepared.h). */
typedef struct {
    char *name, *path, *keys;
    char *format; /* "npy", "f32", "csv"; NULL: from the extension */
    uint32_t width; /* f32: the row width */
    int allow_unknown; /* skip keys that are not items instead of failing */
} ds_feature;

typedef struct {
    ds_interactions inter;
    ds_catalog catalog;
    ds_images images;
    ds_feature features[DS_MAX_FEATURES];
    uint32_t n_features;
    uint32_t kcore;
    int dedup;
} dataset_desc;

void dataset_desc_init(dataset_desc *d);
void dataset_desc_free(dataset_desc *d);

/* Reads a JSON description into d (which dataset_desc_init prepared). 0, or -1 after cli_error
   naming the file and the field. */
int dataset_desc_load_json(dataset_desc *d, const char *path);

/* Replaces *slot with a copy of value (for flags). -1 when out of memory. */
int ds_set(char **slot, const char *value);

/* Splits "a,b,c" into d->catalog.text. -1 after cli_error when there are too many. */
int ds_set_text_fields(dataset_desc *d, const char *list);
/* Splits "title=movie_title,image=poster" into the display fields (a bare "title" means
   the column of the same name). -1 after cli_error. */
int ds_set_display_fields(dataset_desc *d, const char *list);

#endif
