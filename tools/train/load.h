/*
 * load.h - what eval and export share: a trained model (checkpoint file, or a training
 * output directory holding model.ckpt) with its dataset and bound inputs.
 */
#ifndef MDSREC_TRAIN_LOAD_H
#define MDSREC_TRAIN_LOAD_H

#include "data/prepared.h"
#include "train/checkpoint.h"
#include "train/tmodel.h"

typedef struct {
    train_state *st;   /* owned */
    float *params;     /* owned */
    dataset ds;
    tm_inputs in;
} loaded_model;

/* Reads `path` (a .ckpt, or a directory with model.ckpt) and its dataset (data_override if not
   NULL, else the path the checkpoint names). 0, or -1 after cli_error. */
int load_model(const char *path, const char *data_override, loaded_model *m);
void loaded_model_free(loaded_model *m);

#endif
