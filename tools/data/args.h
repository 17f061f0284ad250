/*
 * args.h - the option parsing that prepare, featurize and graph share: "--name value" or
 * "--name=value", and flags without a value.
 */
#ifndef MDSREC_DATA_ARGS_H
#define MDSREC_DATA_ARGS_H

/* If argv[*i] is "--name=V" returns V; if it is "--name" returns argv[*i + 1] and advances
   *i (a missing value is reported with cli_error and *missing set to 1). NULL when argv[*i]
   is another option. */
const char *arg_value(int argc, char **argv, int *i, const char *name, int *missing);

/* 1 if argv[i] is exactly "--name". */
int arg_flag(char **argv, int i, const char *name);

#endif
