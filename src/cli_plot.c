/* cli_plot.c - `lemonade plot OUT`: redraw the front and hypervolume
 * pictures of a run from its gen_NNN.json files. */
#include "cli.h"
#include "cli_args.h"
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plot_help[] =
    "usage: lemonade plot OUT [options]\n"
    "\n"
    "Draw the pictures of the search run in directory OUT from its\n"
    "gen_NNN.json files; works for a finished run and for an interrupted one\n"
    "(whatever generations exist). Writes two standalone SVG files:\n"
    "  OUT/front.svg        the Pareto front of the selected generations as\n"
    "                       step lines (parameters on a log scale against\n"
    "                       validation loss), the newest one labelled by id,\n"
    "                       and every evaluated child as a faint dot\n"
    "  OUT/hypervolume.svg  the hypervolume of every generation\n"
    "\n"
    "options:\n"
    "  --gens LIST          generations to draw, e.g. 1,2,5,10,20 (default:\n"
    "                       about five evenly spread, with 0 and the last)\n"
    "  -o, --output FILE    write the front picture to FILE instead\n"
    "  --hv-output FILE     write the hypervolume picture to FILE instead\n"
    "\n"
    "examples:\n"
    "  lemonade plot runs/fmnist\n"
    "  lemonade plot runs/fmnist --gens 0,5,10,20 -o front-0-20.svg\n"
    "  rsvg-convert runs/fmnist/front.svg -o front.png\n";

int cmd_plot(int argc, char **argv, int first)
{
    const char *gens_s = NULL, *output = NULL, *hv_output = NULL;
    int help = 0;
    opt_t opts[] = {
        {"gens", OPT_STRING, &gens_s, 0, 0, 0},
        {"output", OPT_STRING, &output, 0, 0, 0},
        {"hv-output", OPT_STRING, &hv_output, 0, 0, 0},
        {"help", OPT_FLAG, &help, 0, 0, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    /* cli_parse knows only long options: spell -o as --output, up to "--". */
    char **args = malloc((size_t)(argc + 1) * sizeof *args);
    err_t err;
    if (!args) {
        err_set(&err, "out of memory");
        return run_error("plot", &err);
    }
    static char long_output[] = "--output";
    int dashdash = 0;
    for (int i = 0; i < argc; i++) {
        if (i >= first && strcmp(argv[i], "--") == 0) dashdash = 1;
        args[i] = i >= first && !dashdash && strcmp(argv[i], "-o") == 0 ? long_output : argv[i];
    }
    args[argc] = NULL;
    const char *pos[1];
    int n_pos = 0;
    int rc = cli_parse(argc, args, first, opts, pos, 1, &n_pos, &err);
    free(args);
    if (rc) return usage_error("plot", &err);
    if (help) { fputs(plot_help, stdout); return 0; }
    if (n_pos != 1) {
        err_set(&err, "which run? give its directory, e.g. 'lemonade plot runs/fmnist'");
        return usage_error("plot", &err);
    }
    int gens[PLOT_MAX_GENS], n_gens = 0;
    if (gens_s && cli_parse_int_list(gens_s, gens, PLOT_MAX_GENS, &n_gens, 0, PLOT_MAX_GENS - 1, "--gens", &err))
        return usage_error("plot", &err);

    const char *dir = pos[0];
    if (plot_run(dir, gens_s ? gens : NULL, n_gens, output, hv_output, &err)) return run_error("plot", &err);
    if (output) printf("%s\n", output);
    else printf("%s/front.svg\n", dir);
    if (hv_output) printf("%s\n", hv_output);
    else printf("%s/hypervolume.svg\n", dir);
    return 0;
}
