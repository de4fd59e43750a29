/* cli_args.c - see cli_args.h. */
#include "cli_args.h"
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_number(const opt_t *o, const char *s, err_t *err)
{
    char *end;
    errno = 0;
    if (!*s) return err_set(err, "--%s: empty value", o->name);
    if (o->type == OPT_DOUBLE) {
        double v = strtod(s, &end);
        if (*end || end == s || !isfinite(v))
            return err_set(err, "--%s: '%s' is not a number", o->name, s);
        if (errno == ERANGE || v < o->min || v > o->max)
            return err_set(err, "--%s: %s is out of range (%g..%g)", o->name, s, o->min, o->max);
        *(double *)o->value = v;
        return 0;
    }
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return err_set(err, "--%s: '%s' is not a whole number", o->name, s);
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return err_set(err, "--%s: '%s' is not a whole number", o->name, s);
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || (double)v < o->min || (double)v > o->max)
        return err_set(err, "--%s: %s is out of range (%.0f..%.0f)", o->name, s, o->min, o->max);
    if (o->type == OPT_INT) *(int *)o->value = (int)v;
    else *(long long *)o->value = v;
    return 0;
}

int cli_parse(int argc, char **argv, int from, opt_t *opts, const char **pos, int max_pos,
              int *n_pos, err_t *err)
{
    int np = 0;
    for (int i = from; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++) {
                if (!pos || np >= max_pos) return err_set(err, "unexpected argument '%s'", argv[i]);
                pos[np++] = argv[i];
            }
            break;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (a[0] == '-' && a[1] != '\0')
                return err_set(err, "unknown option '%s'", a);
            if (!pos || np >= max_pos) return err_set(err, "unexpected argument '%s'", a);
            pos[np++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        opt_t *o = NULL;
        for (opt_t *q = opts; q->name; q++)
            if (strlen(q->name) == len && strncmp(q->name, name, len) == 0) { o = q; break; }
        if (!o) return err_set(err, "unknown option '--%.*s'", (int)len, name);
        if (o->seen) return err_set(err, "--%s given twice", o->name);
        o->seen = 1;
        if (o->type == OPT_FLAG) {
            if (eq) return err_set(err, "--%s takes no value", o->name);
            *(int *)o->value = 1;
            continue;
        }
        const char *val = eq ? eq + 1 : NULL;
        if (!val) {
            if (i + 1 >= argc) return err_set(err, "--%s needs a value", o->name);
            val = argv[++i];
        }
        if (o->type == OPT_STRING) {
            if (!*val) return err_set(err, "--%s: empty value", o->name);
            *(const char **)o->value = val;
        } else if (parse_number(o, val, err)) {
            return -1;
        }
    }
    if (n_pos) *n_pos = np;
    return 0;
}

const opt_t *cli_opt(const opt_t *opts, const char *name)
{
    for (const opt_t *q = opts; q->name; q++)
        if (strcmp(q->name, name) == 0) return q;
    return NULL;
}

int cli_parse_int_list(const char *s, int *out, int max_n, int *n, int min, int max,
                       const char *what, err_t *err)
{
    int k = 0;
    const char *p = s;
    if (!*p) return err_set(err, "%s: empty list", what);
    while (*p) {
        const char *e = p;
        while (*e && *e != ',') e++;
        if (e == p) return err_set(err, "%s: empty item in '%s'", what, s);
        long long v = 0;
        for (const char *q = p; q < e; q++) {
            if (*q < '0' || *q > '9') return err_set(err, "%s: '%.*s' is not a whole number", what, (int)(e - p), p);
            v = v * 10 + (*q - '0');
            if (v > max) return err_set(err, "%s: %.*s is out of range (%d..%d)", what, (int)(e - p), p, min, max);
        }
        if (v < min) return err_set(err, "%s: %lld is out of range (%d..%d)", what, v, min, max);
        if (k >= max_n) return err_set(err, "%s: more than %d items", what, max_n);
        out[k++] = (int)v;
        p = *e ? e + 1 : e;
        if (*e && !*p) return err_set(err, "%s: trailing comma in '%s'", what, s);
    }
    *n = k;
    return 0;
}

int usage_error(const char *cmd, const err_t *err)
{
    fprintf(stderr, "lemonade%s%s: %s (see 'lemonade%s%s --help')\n", cmd ? " " : "", cmd ? cmd : "",
            err->msg, cmd ? " " : "", cmd ? cmd : "");
    return EXIT_USAGE;
}

int run_error(const char *cmd, const err_t *err)
{
    fprintf(stderr, "lemonade%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", err->msg);
    return 1;
}
