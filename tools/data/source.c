/* source.c - the dataset description: JSON file or flags (see source.h, docs/IMPORT.md). */
#include "data/source.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/prepared.h"

void dataset_desc_init(dataset_desc *d) { memset(d, 0, sizeof *d); }

void dataset_desc_free(dataset_desc *d) {
    free(d->inter.path);
    free(d->inter.user);
    free(d->inter.item);
    free(d->inter.time);
    free(d->catalog.path);
    free(d->catalog.key);
    for (uint32_t i = 0; i < d->catalog.n_text; i++) free(d->catalog.text[i]);
    for (uint32_t i = 0; i < d->catalog.n_display; i++) {
        free(d->catalog.display_name[i]);
        free(d->catalog.display_col[i]);
    }
    free(d->images.dir);
    free(d->images.map);
    free(d->images.pattern);
    for (uint32_t i = 0; i < d->n_features; i++) {
        free(d->features[i].name);
        free(d->features[i].path);
        free(d->features[i].keys);
        free(d->features[i].format);
    }
    memset(d, 0, sizeof *d);
}

int ds_set(char **slot, const char *value) {
    char *c = value ? strdup(value) : NULL;
    if (value && !c) return -1;
    free(*slot);
    *slot = c;
    return 0;
}

int ds_set_text_fields(dataset_desc *d, const char *list) {
    for (uint32_t i = 0; i < d->catalog.n_text; i++) free(d->catalog.text[i]);
    d->catalog.n_text = 0;
    size_t l;
    for (const char *p = list, *item; (item = cli_list_next(&p, &l));) {
        if (!l) continue;
        if (d->catalog.n_text == DS_MAX_TEXT) {
            cli_error("--text-fields: at most %d fields", DS_MAX_TEXT);
            return -1;
        }
        d->catalog.text[d->catalog.n_text++] = strndup(item, l);
    }
    return 0;
}

int ds_set_display_fields(dataset_desc *d, const char *list) {
    size_t l;
    for (const char *p = list, *entry; (entry = cli_list_next(&p, &l));) {
        if (!l) continue;
        if (d->catalog.n_display == DS_MAX_DISPLAY) {
            cli_error("--display: at most %d fields", DS_MAX_DISPLAY);
            return -1;
        }
        char *item = strndup(entry, l);
        char *eq = strchr(item, '=');
        uint32_t k = d->catalog.n_display++;
        if (eq) {
            *eq = 0;
            d->catalog.display_name[k] = strdup(item);
            d->catalog.display_col[k] = strdup(eq + 1);
        } else {
            d->catalog.display_name[k] = strdup(item);
            d->catalog.display_col[k] = strdup(item);
        }
        free(item);
    }
    return 0;
}

/* ------------------------------------------------------------------ JSON */

typedef struct {
    const char *file;
    char *base; /* directory of the JSON file, with a trailing '/' or empty */
} ctx;

static int bad(const ctx *c, const char *field, const char *expected) {
    cli_error("%s: field \"%s\": expected %s", c->file, field, expected);
    return -1;
}

/* Checks that obj holds only the members in allowed[] (NULL-terminated). */
static int only(const ctx *c, const cJSON *obj, const char *where, const char *const *allowed) {
    const cJSON *m;
    cJSON_ArrayForEach(m, obj) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= !strcmp(*a, m->string);
        if (!ok) {
            cli_error("%s: field \"%s%s%s\": unknown field", c->file, where, *where ? "." : "", m->string);
            return -1;
        }
    }
    return 0;
}

static int get_str(const ctx *c, const cJSON *obj, const char *where, const char *name, char **out, int is_path) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) return 0;
    char field[128];
    snprintf(field, sizeof field, "%s.%s", where, name);
    if (!cJSON_IsString(v) || !v->valuestring[0]) return bad(c, field, "a non-empty string");
    free(*out);
    if (is_path && v->valuestring[0] != '/') {
        *out = path_join(c->base, v->valuestring);
        if (!c->base[0]) {
            free(*out);
            *out = strdup(v->valuestring);
        }
    } else {
        *out = strdup(v->valuestring);
    }
    return *out ? 0 : -1;
}

static int get_u32(const ctx *c, const cJSON *obj, const char *where, const char *name, uint32_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) return 0;
    char field[128];
    snprintf(field, sizeof field, "%s.%s", where, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4e9 || v->valuedouble != (double)(uint32_t)v->valuedouble)
        return bad(c, field, "a non-negative integer");
    *out = (uint32_t)v->valuedouble;
    return 0;
}

static int get_bool(const ctx *c, const cJSON *obj, const char *where, const char *name, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v) return 0;
    char field[128];
    snprintf(field, sizeof field, "%s.%s", where, name);
    if (!cJSON_IsBool(v)) return bad(c, field, "true or false");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int get_format(const ctx *c, const cJSON *obj, const char *where, table_format *fmt, int *sequences) {
    char *s = NULL;
    if (get_str(c, obj, where, "format", &s, 0) != 0) return -1;
    if (!s) return 0;
    int rc = 0;
    char field[128];
    snprintf(field, sizeof field, "%s.format", where);
    if (sequences && !strcmp(s, "sequences")) {
        *sequences = 1;
    } else if (table_format_parse(s, fmt) != 0) {
        rc = bad(c, field, sequences ? "\"auto\", \"atomic\", \"tsv\", \"csv\", \"jsonl\" or \"sequences\""
                                     : "\"auto\", \"atomic\", \"tsv\", \"csv\" or \"jsonl\"");
    }
    free(s);
    return rc;
}

static int load_inter(const ctx *c, dataset_desc *d, const cJSON *o) {
    static const char *const allowed[] = {"path", "format", "user", "item", "time", NULL};
    if (!cJSON_IsObject(o)) return bad(c, "interactions", "an object");
    if (only(c, o, "interactions", allowed)) return -1;
    if (get_str(c, o, "interactions", "path", &d->inter.path, 1) || get_format(c, o, "interactions", &d->inter.format, &d->inter.sequences) ||
        get_str(c, o, "interactions", "user", &d->inter.user, 0) || get_str(c, o, "interactions", "item", &d->inter.item, 0) ||
        get_str(c, o, "interactions", "time", &d->inter.time, 0))
        return -1;
    if (!d->inter.path) return bad(c, "interactions.path", "the path of the interaction file");
    return 0;
}

static int load_catalog(const ctx *c, dataset_desc *d, const cJSON *o) {
    static const char *const allowed[] = {"path", "format", "key", "text", "display", NULL};
    if (!cJSON_IsObject(o)) return bad(c, "catalog", "an object");
    if (only(c, o, "catalog", allowed)) return -1;
    if (get_str(c, o, "catalog", "path", &d->catalog.path, 1) || get_format(c, o, "catalog", &d->catalog.format, NULL) ||
        get_str(c, o, "catalog", "key", &d->catalog.key, 0))
        return -1;
    if (!d->catalog.path) return bad(c, "catalog.path", "the path of the catalog file");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "text");
    if (t) {
        if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) > DS_MAX_TEXT) return bad(c, "catalog.text", "an array of column names (at most 32)");
        const cJSON *e;
        cJSON_ArrayForEach(e, t) {
            if (!cJSON_IsString(e)) return bad(c, "catalog.text", "an array of column names");
            d->catalog.text[d->catalog.n_text++] = strdup(e->valuestring);
        }
    }
    const cJSON *disp = cJSON_GetObjectItemCaseSensitive(o, "display");
    if (disp) {
        if (!cJSON_IsObject(disp) || cJSON_GetArraySize(disp) > DS_MAX_DISPLAY)
            return bad(c, "catalog.display", "an object mapping display names to columns (at most 16)");
        const cJSON *e;
        cJSON_ArrayForEach(e, disp) {
            if (!cJSON_IsString(e)) return bad(c, "catalog.display", "column names as strings");
            uint32_t k = d->catalog.n_display++;
            d->catalog.display_name[k] = strdup(e->string);
            d->catalog.display_col[k] = strdup(e->valuestring);
        }
    }
    return 0;
}

static int load_images(const ctx *c, dataset_desc *d, const cJSON *o) {
    static const char *const allowed[] = {"dir", "map", "map_header", "pattern", NULL};
    if (!cJSON_IsObject(o)) return bad(c, "images", "an object");
    if (only(c, o, "images", allowed)) return -1;
    if (get_str(c, o, "images", "dir", &d->images.dir, 1) || get_str(c, o, "images", "map", &d->images.map, 1) ||
        get_bool(c, o, "images", "map_header", &d->images.map_header) || get_str(c, o, "images", "pattern", &d->images.pattern, 0))
        return -1;
    if (!d->images.dir) return bad(c, "images.dir", "the image directory");
    return 0;
}

static int load_features(const ctx *c, dataset_desc *d, const cJSON *a) {
    static const char *const allowed[] = {"name", "path", "format", "keys", "width", "allow_unknown", NULL};
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > DS_MAX_FEATURES) return bad(c, "features", "an array of objects (at most 16)");
    const cJSON *o;
    int k = 0;
    cJSON_ArrayForEach(o, a) {
        char where[32];
        snprintf(where, sizeof where, "features[%d]", k++);
        if (!cJSON_IsObject(o)) return bad(c, where, "an object");
        if (only(c, o, where, allowed)) return -1;
        ds_feature *f = &d->features[d->n_features++];
        if (get_str(c, o, where, "name", &f->name, 0) || get_str(c, o, where, "path", &f->path, 1) ||
            get_str(c, o, where, "format", &f->format, 0) || get_str(c, o, where, "keys", &f->keys, 1) ||
            get_u32(c, o, where, "width", &f->width) || get_bool(c, o, where, "allow_unknown", &f->allow_unknown))
            return -1;
        char field[64];
        snprintf(field, sizeof field, "%s.name", where);
        if (!f->name || !valid_channel_name(f->name)) return bad(c, field, "a name of letters, digits, _ and - (not \"behaviour\")");
        snprintf(field, sizeof field, "%s.path", where);
        if (!f->path) return bad(c, field, "the path of the matrix");
    }
    return 0;
}

int dataset_desc_load_json(dataset_desc *d, const char *path) {
    static const char *const allowed[] = {"interactions", "catalog", "images", "features", "filters", NULL};
    static const char *const filters[] = {"kcore", "dedup_consecutive", NULL};
    cJSON *root = read_json_file(path);
    if (!root) return -1;
    ctx c = {.file = path};
    const char *slash = strrchr(path, '/');
    c.base = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("");
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        cli_error("%s: expected a JSON object", path);
        goto done;
    }
    if (only(&c, root, "", allowed)) goto done;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "interactions")) && load_inter(&c, d, v)) goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "catalog")) && load_catalog(&c, d, v)) goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "images")) && load_images(&c, d, v)) goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "features")) && load_features(&c, d, v)) goto done;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "filters"))) {
        if (!cJSON_IsObject(v)) {
            bad(&c, "filters", "an object");
            goto done;
        }
        if (only(&c, v, "filters", filters) || get_u32(&c, v, "filters", "kcore", &d->kcore) ||
            get_bool(&c, v, "filters", "dedup_consecutive", &d->dedup))
            goto done;
    }
    rc = 0;
done:
    free(c.base);
    cJSON_Delete(root);
    return rc;
}
