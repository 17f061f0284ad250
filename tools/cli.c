/* cli.c - shared helpers of the mdsrec subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

const char *cli_command = "";

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mdsrec%s%s: ", cli_command[0] ? " " : "", cli_command);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

uint8_t *cli_gunzip(const char *path, const uint8_t *in, size_t n_in, size_t *len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        cli_error("%s: cannot start gzip decompression", path);
        return NULL;
    }
    size_t cap = n_in * 4 + 64, out = 0;
    uint8_t *buf = NULL;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)0;
    size_t fed = 0;
    int zr = Z_OK;
    for (;;) {
        if (!buf || out + 1 >= cap) {
            if (buf) cap *= 2;
            size_t acap = (cap + 63) / 64 * 64;
            uint8_t *nb = aligned_alloc(64, acap);
            if (!nb) {
                cli_error("%s: out of memory for %zu bytes of decompressed data", path, cap);
                free(buf);
                inflateEnd(&z);
                return NULL;
            }
            if (buf) memcpy(nb, buf, out);
            free(buf);
            buf = nb;
            cap = acap;
        }
        if (z.avail_in == 0 && fed < n_in) { /* zlib counts in uInt: feed at most 1 GiB at a time */
            size_t chunk = n_in - fed < (1u << 30) ? n_in - fed : (1u << 30);
            z.next_in = (Bytef *)in + fed;
            z.avail_in = (uInt)chunk;
            fed += chunk;
        }
        size_t room = cap - 1 - out < (1u << 30) ? cap - 1 - out : (1u << 30);
        z.next_out = buf + out;
        z.avail_out = (uInt)room;
        zr = inflate(&z, Z_NO_FLUSH);
        out += room - z.avail_out;
        if (zr == Z_STREAM_END) {
            if (z.avail_in == 0 && fed == n_in) break;
            inflateReset(&z); /* another gzip member follows (concatenated files) */
            continue;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0 && fed == n_in) {
            cli_error("%s: gzip data ends early (truncated file?)", path);
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            cli_error("%s: not valid gzip data (%s)", path, z.msg ? z.msg : "inflate failed");
            break;
        }
    }
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return NULL;
    }
    buf[out] = 0;
    *len = out;
    return buf;
}

uint8_t *cli_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_error("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && !S_ISREG(sb.st_mode)) {
        cli_error("%s: is %s, expected a file", path, S_ISDIR(sb.st_mode) ? "a directory" : "not a regular file");
        fclose(f);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        cli_error("%s: cannot seek: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    if (size < 0) {
        cli_error("%s: cannot tell its size: %s", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    rewind(f);
    size_t n = (size_t)size;
    size_t cap = (n + 1 + 63) / 64 * 64;
    uint8_t *buf = aligned_alloc(64, cap);
    if (!buf) {
        cli_error("%s: out of memory for %zu bytes", path, n);
        fclose(f);
        return NULL;
    }
    if (n && fread(buf, 1, n, f) != n) {
        cli_error("%s: read error: %s", path, ferror(f) ? strerror(errno) : "file shrank");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    if (n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) { /* gzip: read what it holds */
        uint8_t *plain = cli_gunzip(path, buf, n, len);
        free(buf);
        return plain;
    }
    return buf;
}

int cli_out_open(cli_out *o, const char *path) {
    memset(o, 0, sizeof *o);
    size_t n = strlen(path) + 32;
    o->path = strdup(path);
    o->tmp = malloc(n);
    if (!o->path || !o->tmp) {
        cli_error("%s: out of memory", path);
        free(o->path);
        free(o->tmp);
        return -1;
    }
    snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        cli_error("%s: cannot create: %s", o->tmp, strerror(errno));
        free(o->path);
        free(o->tmp);
        return -1;
    }
    return 0;
}

int cli_out_commit(cli_out *o) {
    int bad = ferror(o->f) != 0;
    if (fflush(o->f) != 0) bad = 1;
    if (!bad && fsync(fileno(o->f)) != 0) bad = 1;
    int err = errno;
    if (fclose(o->f) != 0) bad = 1;
    o->f = NULL;
    if (bad) {
        cli_error("%s: write failed: %s", o->path, strerror(err));
        remove(o->tmp);
    } else if (rename(o->tmp, o->path) != 0) {
        cli_error("%s: cannot rename %s over it: %s", o->path, o->tmp, strerror(errno));
        remove(o->tmp);
        bad = 1;
    }
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    return bad ? -1 : 0;
}

void cli_out_abort(cli_out *o) {
    if (o->f) fclose(o->f);
    if (o->tmp) remove(o->tmp);
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

int cli_write_file(const char *path, const void *data, size_t len) {
    cli_out o;
    if (cli_out_open(&o, path) != 0) return -1;
    if (len && fwrite(data, 1, len, o.f) != len) {
        cli_error("%s: write failed: %s", path, strerror(errno));
        cli_out_abort(&o);
        return -1;
    }
    return cli_out_commit(&o);
}

int cli_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_u32(const char *s, uint32_t *out) {
    uint64_t v;
    if (cli_parse_u64(s, &v) != 0 || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_float(const char *s, float *out) {
    if (!s || !*s) return -1;
    errno = 0;
    char *end;
    float v = strtof(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

const char *cli_list_next(const char **p, size_t *len) {
    const char *item = *p;
    if (!*item) return NULL;
    *len = strcspn(item, ",");
    *p = item + *len + (item[*len] == ',');
    return item;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_draw(cli_progress *p, uint64_t done, int final) {
    double el = cli_now() - p->t0;
    if (p->total) {
        double frac = (double)done / (double)p->total;
        if (frac > 1) frac = 1;
        int w = 30, fill = (int)(frac * w);
        char bar[31];
        for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
        bar[w] = 0;
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, "\r%-20s [%s] %5.1f%% %6.1fs eta %5.1fs", p->label, bar, frac * 100, el, final ? 0.0 : eta);
    } else {
        fprintf(stderr, "\r%-20s %llu %6.1fs", p->label, (unsigned long long)done, el);
    }
    if (final) fputc('\n', stderr);
    fflush(stderr);
}

void cli_progress_start(cli_progress *p, const char *label, uint64_t total) {
    p->label = label;
    p->total = total;
    p->t0 = p->last_draw = cli_now();
    p->tty = isatty(2);
}

void cli_progress_update(cli_progress *p, uint64_t done) {
    if (!p->tty) return;
    double now = cli_now();
    if (now - p->last_draw < 0.1) return;
    p->last_draw = now;
    progress_draw(p, done, 0);
}

void cli_progress_end(cli_progress *p) {
    if (!p->tty) return;
    progress_draw(p, p->total, 1);
}
