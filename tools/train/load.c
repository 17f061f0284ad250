/* load.c - a checkpoint with its dataset and bound inputs (load.h). */
#include "train/load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "train/loop.h"

int load_model(const char *path, const char *data_override, loaded_model *m) {
    memset(m, 0, sizeof *m);
    char file[1200];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(file, sizeof file, "%s/model.ckpt", path);
    else
        snprintf(file, sizeof file, "%s", path);
    m->st = malloc(sizeof *m->st);
    if (!m->st) return -1;
    if (ckpt_read(file, m->st, &m->params, NULL)) {
        free(m->st);
        m->st = NULL;
        return -1;
    }
    if (data_override) {
        snprintf(m->st->data, sizeof m->st->data, "%s", data_override);
    } else if (stat(m->st->data, &sb) != 0) {
        /* Older checkpoints hold the path as given to train, relative to where it ran. */
        cli_error("%s: the dataset it was trained on, %s, is not here (%s): give its place with --data PATH", file,
                  m->st->data, strerror(errno));
        free(m->params);
        free(m->st);
        memset(m, 0, sizeof *m);
        return -1;
    }
    if (train_open_data(m->st, &m->ds, &m->in)) {
        free(m->params);
        free(m->st);
        memset(m, 0, sizeof *m);
        return -1;
    }
    return 0;
}

void loaded_model_free(loaded_model *m) {
    tm_inputs_free(&m->in);
    dataset_free(&m->ds);
    free(m->params);
    free(m->st);
    memset(m, 0, sizeof *m);
}
