/* error.h - how library code reports failure.
 *
 * Library functions never print or exit. They return a status (0 success,
 * non-zero failure) or NULL, and fill an err_t with one line that names the
 * file or value concerned and the problem. Only the CLI layer prints it. */
#ifndef LEMONADE_ERROR_H
#define LEMONADE_ERROR_H

typedef struct { char msg[1024]; } err_t;

/* printf-style; always returns -1 so callers can `return err_set(...)`. */
int err_set(err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
