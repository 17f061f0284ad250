/* options.c - the table-driven option parser of the subcommands (see options.h). */
#include "options.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "data/table.h"
#include "mdsrec.h"

const opt_enum opt_dtype_enum = {mdsrec_dtype_name, mdsrec_dtype_from_name};
const opt_enum opt_pool_enum = {mdsrec_pool_name, mdsrec_pool_from_name};
const char *const opt_nb_format_names[] = {"csr", "compact", "bits", NULL};
const char *const opt_weight_dtype_names[] = {"f32", "f16", "q8", NULL}; /* by mdsrec_weight_dtype */

/* table.h's own names, in the shape of an opt_enum */
static const char *table_format_at(int v) {
    return v >= TABLE_AUTO && v <= TABLE_JSONL ? table_format_name((table_format)v) : NULL;
}
static int table_format_of(const char *s) {
    table_format f;
    return table_format_parse(s, &f) == 0 ? (int)f : -1;
}
const opt_enum opt_table_format_enum = {table_format_at, table_format_of};

/* Choice lists longer than this are cut short in help (none is near it). */
#define MAX_CHOICES 64

static const char *choice_name(const opt *o, int v) {
    if (v < 0 || v >= MAX_CHOICES) return NULL;
    if (o->names) {
        for (int i = 0; i < v; i++)
            if (!o->names[i]) return NULL;
        return o->names[v];
    }
    return o->lookup ? o->lookup->name(v) : NULL;
}

static int choice_value(const opt *o, const char *s) {
    if (o->names) {
        for (int i = 0; o->names[i]; i++)
            if (!strcmp(o->names[i], s)) return i;
        return -1;
    }
    return o->lookup ? o->lookup->value(s) : -1;
}

/* Appends to buf[cap] at *len, never past the end (the text is cut instead). */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

/* The names of a choice, joined by sep. */
static void choice_list(const opt *o, const char *sep, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    for (int v = 0; v < MAX_CHOICES; v++) {
        const char *n = choice_name(o, v);
        if (!n) break;
        put(buf, cap, &len, "%s%s", v ? sep : "", n);
    }
}

/* The value's placeholder: the row's, else one from the type. */
static const char *placeholder(const opt *o, char *buf, size_t cap) {
    if (o->arg) return o->arg;
    switch (o->type) {
    case OPT_FLAG: return "";
    case OPT_U32:
    case OPT_U64: return "N";
    case OPT_FLOAT: return "X";
    case OPT_CHOICE: choice_list(o, "|", buf, cap); return buf;
    default: return "VALUE";
    }
}

/* What a value of row o must be, for "expected <this>, got '...'". */
static void expectation(const opt *o, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    int ranged = o->min < o->max;
    if (o->type == OPT_U32 || o->type == OPT_U64) {
        double top = o->type == OPT_U32 ? (double)UINT32_MAX : (double)UINT64_MAX;
        if (!ranged) {
            if (o->type == OPT_U32) put(buf, cap, &len, "an integer in 0..%u", UINT32_MAX);
            else put(buf, cap, &len, "a non-negative integer");
        } else if (o->max >= top) {
            put(buf, cap, &len, "an integer >= %.0f", o->min);
        } else {
            put(buf, cap, &len, "an integer in %.0f..%.0f", o->min, o->max);
        }
    } else if (o->type == OPT_FLOAT) {
        if (!ranged) put(buf, cap, &len, "a number");
        else if (isinf(o->max)) put(buf, cap, &len, "a number %s %g", o->flags & OPT_MIN_OPEN ? ">" : ">=", o->min);
        else
            put(buf, cap, &len, "a number in %c%g, %g%c", o->flags & OPT_MIN_OPEN ? '(' : '[', o->min, o->max,
                o->flags & OPT_MAX_OPEN ? ')' : ']');
    } else if (o->type == OPT_CHOICE) {
        char list[512];
        choice_list(o, ", ", list, sizeof list);
        put(buf, cap, &len, "one of %s", list);
    } else {
        put(buf, cap, &len, "a value");
    }
}

static int in_range(const opt *o, double v) {
    if (!(o->min < o->max)) return 1;
    if (o->flags & OPT_MIN_OPEN ? !(v > o->min) : !(v >= o->min)) return 0;
    if (o->flags & OPT_MAX_OPEN ? !(v < o->max) : !(v <= o->max)) return 0;
    return 1;
}

/* The row named name[0..len) (its name or one of its space-separated aliases), or NULL. */
static const opt *find(const opt_cmd *cmd, const char *name, size_t len) {
    for (size_t r = 0; r < cmd->n_opts; r++) {
        const opt *o = &cmd->opts[r];
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
        for (const char *a = o->alias; a && *a;) {
            size_t l = strcspn(a, " ");
            if (l == len && !strncmp(a, name, len)) return o;
            a += l;
            a += strspn(a, " ");
        }
    }
    return NULL;
}

/* Edit distance of two short strings (for "did you mean"); capped at 9. */
static int distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40) return 9;
    int d[41][41];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb] > 9 ? 9 : d[la][lb];
}

static void unknown(const opt_cmd *cmd, const char *a, size_t len) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < 60 ? len : 60), a);
    const char *near = NULL;
    int best = 3; /* suggest only a near miss: a typo, not another option */
    for (size_t r = 0; r < cmd->n_opts; r++) {
        int d = distance(name, cmd->opts[r].name);
        if (d < best) best = d, near = cmd->opts[r].name;
    }
    if (near)
        cli_error("unknown option '%s' (did you mean %s? see mdsrec %s --help)", name, near, cmd->name);
    else
        cli_error("unknown option '%s' (see mdsrec %s --help)", name, cmd->name);
}

/* Stores the text v into row o's destination: 0, or -1 after a message. */
static int store(const opt *o, const char *v) {
    char want[600];
    const char *why = NULL;
    switch (o->type) {
    case OPT_U32: {
        uint32_t x;
        if (cli_parse_u32(v, &x) == 0 && in_range(o, (double)x)) {
            *(uint32_t *)o->dest = x;
            return 0;
        }
        break;
    }
    case OPT_U64: {
        uint64_t x;
        if (cli_parse_u64(v, &x) == 0 && in_range(o, (double)x)) {
            *(uint64_t *)o->dest = x;
            return 0;
        }
        break;
    }
    case OPT_FLOAT: {
        float x;
        if (cli_parse_float(v, &x) == 0 && in_range(o, (double)x)) {
            *(float *)o->dest = x;
            return 0;
        }
        break;
    }
    case OPT_CHOICE: {
        int x = choice_value(o, v);
        if (x >= 0) {
            *(int *)o->dest = x;
            return 0;
        }
        break;
    }
    case OPT_STRING:
    case OPT_LIST:
        if (o->check && (why = o->check(v))) break;
        if (o->type == OPT_STRING) {
            *(const char **)o->dest = v;
            return 0;
        }
        opt_list *l = o->dest;
        if (l->n >= l->max) {
            cli_error("%s: at most %u given", o->name, l->max);
            return -1;
        }
        l->v[l->n++] = v;
        return 0;
    case OPT_FLAG: break;
    }
    if (why) snprintf(want, sizeof want, "%s", why);
    else expectation(o, want, sizeof want);
    cli_error("%s: expected %s, got '%.200s'", o->name, want, v);
    return -1;
}

/* Does argv[i] ask for help? Options and their values are stepped over as opt_parse reads
   them, so "--out -h" is not a request for help. */
static int wants_help(const opt_cmd *cmd, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) return 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (a[0] != '-' || strchr(a, '=')) continue;
        const opt *o = find(cmd, a, strlen(a));
        if (o && o->type != OPT_FLAG && i + 1 < argc && strncmp(argv[i + 1], "--", 2)) i++;
    }
    return 0;
}

int opt_parse(const opt_cmd *cmd, int argc, char **argv) {
    if (cmd->n_opts > OPT_MAX_ROWS) {
        cli_error("internal: %s declares %zu options, more than %d", cmd->name, cmd->n_opts, OPT_MAX_ROWS);
        return CLI_EXIT_USAGE;
    }
    if (wants_help(cmd, argc, argv)) {
        opt_help(cmd, stdout);
        return CLI_EXIT_OK;
    }
    unsigned char seen[OPT_MAX_ROWS] = {0};
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (only_pos || a[0] != '-' || a[1] == 0) { /* "-" alone is an argument (stdin) */
            if (!cmd->pos_name || !cmd->pos) {
                cli_error("unexpected argument '%.200s' (see mdsrec %s --help)", a, cmd->name);
                return CLI_EXIT_USAGE;
            }
            if (cmd->pos->n >= cmd->pos->max) {
                cli_error("unexpected argument '%.200s': at most %u %s (see mdsrec %s --help)", a, cmd->pos->max,
                          cmd->pos_name, cmd->name);
                return CLI_EXIT_USAGE;
            }
            cmd->pos->v[cmd->pos->n++] = a;
            continue;
        }
        const char *eq = strchr(a, '='); /* "-k=3" too: no name holds a "=" */
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const opt *o = find(cmd, a, nlen);
        if (!o) {
            unknown(cmd, a, nlen);
            return CLI_EXIT_USAGE;
        }
        seen[o - cmd->opts] = 1;
        if (o->given) *o->given = 1;
        if (o->type == OPT_FLAG) {
            if (eq) {
                cli_error("%s: takes no value, got '%.200s'", o->name, a);
                return CLI_EXIT_USAGE;
            }
            *(int *)o->dest = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2)) {
                char ph[512];
                cli_error("%s: missing value (expected %s)", o->name, placeholder(o, ph, sizeof ph));
                return CLI_EXIT_USAGE;
            }
            v = argv[++i];
        }
        if (store(o, v) != 0) return CLI_EXIT_USAGE;
    }
    for (size_t r = 0; r < cmd->n_opts; r++) {
        const opt *o = &cmd->opts[r];
        if ((o->flags & OPT_REQUIRED) && !seen[r]) {
            char ph[512];
            cli_error("%s %s is required (see mdsrec %s --help)", o->name, placeholder(o, ph, sizeof ph), cmd->name);
            return CLI_EXIT_USAGE;
        }
    }
    if (cmd->pos_name && cmd->pos && cmd->pos->n < cmd->pos_min) {
        cli_error("%s is required (see mdsrec %s --help)", cmd->pos_name, cmd->name);
        return CLI_EXIT_USAGE;
    }
    return OPT_PROCEED;
}

int opt_usage_error(const opt_cmd *cmd, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s (see mdsrec %s --help)", msg, cmd->name);
    return CLI_EXIT_USAGE;
}

/* The default as help shows it, or "" for none. */
static void default_text(const opt *o, char *buf, size_t cap) {
    buf[0] = 0;
    if (o->def) {
        snprintf(buf, cap, "%s", o->def);
        return;
    }
    switch (o->type) {
    case OPT_STRING: {
        const char *s = *(const char *const *)o->dest;
        if (s) snprintf(buf, cap, "%s", s);
        break;
    }
    case OPT_U32: snprintf(buf, cap, "%u", *(const uint32_t *)o->dest); break;
    case OPT_U64: snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)o->dest); break;
    case OPT_FLOAT: snprintf(buf, cap, "%g", (double)*(const float *)o->dest); break;
    case OPT_CHOICE: {
        const char *n = choice_name(o, *(const int *)o->dest);
        if (n) snprintf(buf, cap, "%s", n);
        break;
    }
    default: break;
    }
}

#define HELP_COL 26 /* where the help lines start */

void opt_help(const opt_cmd *cmd, FILE *to) {
    char ph[512];
    fprintf(to, "usage: mdsrec %s", cmd->name);
    if (cmd->usage) {
        fprintf(to, " %s", cmd->usage);
    } else {
        int optional = 0;
        for (size_t r = 0; r < cmd->n_opts; r++) {
            const opt *o = &cmd->opts[r];
            if (!(o->flags & OPT_REQUIRED)) {
                optional = 1;
                continue;
            }
            const char *p = placeholder(o, ph, sizeof ph);
            fprintf(to, " %s%s%s", o->name, *p ? " " : "", p);
        }
        if (cmd->pos_name && cmd->pos) {
            const char *dots = cmd->pos->max > 1 ? "..." : "";
            if (cmd->pos_min) fprintf(to, " %s%s", cmd->pos_name, dots);
            else fprintf(to, " [%s%s]", cmd->pos_name, dots);
        }
        if (optional) fprintf(to, " [options]");
    }
    fprintf(to, "\n");
    if (cmd->about) fprintf(to, "\n%s%s", cmd->about, cmd->about[strlen(cmd->about) - 1] == '\n' ? "" : "\n");
    if (cmd->n_opts) fprintf(to, "\noptions:\n");
    for (size_t r = 0; r < cmd->n_opts; r++) {
        const opt *o = &cmd->opts[r];
        const char *p = placeholder(o, ph, sizeof ph);
        int w = fprintf(to, "  %s%s%s", o->name, *p ? " " : "", p);
        if (w >= HELP_COL - 1) {
            fprintf(to, "\n");
            w = 0;
        }
        fprintf(to, "%*s", HELP_COL - w, "");
        for (const char *h = o->help ? o->help : ""; *h; h++) {
            fputc(*h, to);
            if (*h == '\n') fprintf(to, "%*s", HELP_COL, "");
        }
        char def[256];
        default_text(o, def, sizeof def);
        if (o->flags & OPT_REQUIRED) fprintf(to, " (required)");
        else if (def[0]) fprintf(to, " (default: %s)", def);
        if (o->alias) fprintf(to, " (also %s)", o->alias);
        fprintf(to, "\n");
    }
    if (cmd->epilog) fprintf(to, "\n%s%s", cmd->epilog, cmd->epilog[strlen(cmd->epilog) - 1] == '\n' ? "" : "\n");
    fprintf(to, "\nexit codes: 0 success, 1 bad input or failure (the message names the file and line\n"
                "or field), 2 usage error\n");
}
