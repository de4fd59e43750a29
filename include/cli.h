/* cli.h - the subcommands, one source file each (src/cli_*.c). Each takes
 * the full argv with argv[first] being its first own argument, prints to
 * the user and returns the process exit status:
 *   0 success, 1 failure (bad data, I/O, ...), 2 bad command line,
 *   130 / 143 stopped by SIGINT / SIGTERM. */
#ifndef LEMONADE_CLI_H
#define LEMONADE_CLI_H

#include "error.h"

#define EXIT_USAGE 2

int cmd_train(int argc, char **argv, int first);
int cmd_summary(int argc, char **argv, int first);
int cmd_search(int argc, char **argv, int first);
int cmd_bench(int argc, char **argv, int first);
int cmd_plot(int argc, char **argv, int first);

/* Print "lemonade[ cmd]: msg (see 'lemonade[ cmd] --help')" to stderr and
 * return EXIT_USAGE. */
int usage_error(const char *cmd, const err_t *err);
/* Print "lemonade[ cmd]: msg" to stderr and return 1. */
int run_error(const char *cmd, const err_t *err);

#endif
