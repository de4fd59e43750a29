/* main.c - entry point: dispatch to a subcommand; no subcommand runs the
 * search. */
#include "cli.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("lemonade %s\n", LEMONADE_VERSION);
        return 0;
    }
    static const struct { const char *name; int (*fn)(int, char **, int); } cmds[] = {
        {"train", cmd_train}, {"summary", cmd_summary}, {"search", cmd_search},
        {"plot", cmd_plot},   {"bench", cmd_bench},
    };
    if (argc >= 2)
        for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
            if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc, argv, 2);
    return cmd_search(argc, argv, 1);
}
