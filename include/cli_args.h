/* cli_args.h - strict command-line option parsing for every subcommand.
 *
 * Options are described by a table; `--name VALUE` and `--name=VALUE` are
 * both accepted. Values are checked completely: a number must be all digits
 * (no trailing garbage), in range, and not overflow. Errors come back as one
 * line naming the option and the problem; the caller prints it with a hint
 * to --help and exits with status 2. */
#ifndef LEMONADE_CLI_ARGS_H
#define LEMONADE_CLI_ARGS_H

#include "error.h"

typedef enum { OPT_INT, OPT_LONG, OPT_DOUBLE, OPT_STRING, OPT_FLAG } opt_type_t;

typedef struct {
    const char *name;   /* without the leading "--" */
    opt_type_t type;
    void *value;        /* int*, long long*, double*, const char**, int* (flag) */
    double min, max;    /* inclusive range for numbers */
    int seen;           /* set by the parser */
} opt_t;

/* Parse argv[from..argc) against opts (terminated by a NULL name).
 * Positional arguments are stored in pos[] (up to max_pos, count in *n_pos);
 * pos may be NULL when none are allowed. Returns 0 or -1 with err set. */
int cli_parse(int argc, char **argv, int from, opt_t *opts, const char **pos, int max_pos,
              int *n_pos, err_t *err);

/* The entry for `name` in opts (NULL if none); for checking `seen`. */
const opt_t *cli_opt(const opt_t *opts, const char *name);

/* Parse a comma-separated list of ints in [min,max]; at most max_n. */
int cli_parse_int_list(const char *s, int *out, int max_n, int *n, int min, int max,
                       const char *what, err_t *err);

#endif
