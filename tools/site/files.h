/*
 * files.h - the file system side of `mdsrec site`: directories, whole-file copies and the
 * atomic swap of a finished site directory into place.
 */
#ifndef MDSREC_SITE_FILES_H
#define MDSREC_SITE_FILES_H

/* Creates dir and its missing parents (mode 0755). 0, or -1 after cli_error naming it. */
int site_mkdirs(const char *dir);

/* Copies the regular file src to dst (created or truncated). 0, or -1 after cli_error naming
   the file that failed and why. */
int site_copy_file(const char *src, const char *dst);

/* Removes path and, if it is a directory, everything under it (symbolic links are removed,
   never followed). 0, or -1 (errno set) on the first failure. A missing path is 0. */
int site_remove_tree(const char *path);

/* Moves the finished directory tmp to out. When out exists it is replaced only if it is a
   directory holding the file `marker` (a site this command wrote before): out is renamed
   aside, tmp renamed to out, then the old one removed. Anything else at out is refused and
   left alone. 0, or -1 after cli_error; on failure tmp is left for the caller to remove. */
int site_commit_dir(const char *tmp, const char *out, const char *marker);

#endif
