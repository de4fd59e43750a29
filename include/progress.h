/* progress.h - what the search shows on stderr while it runs (CLI layer).
 *
 * On a terminal: one updating line (generation, child, epoch, batch,
 * images/s and ETAs for the child, the generation and the run). Otherwise
 * (a log file, CI): one plain line per epoch. After each generation a
 * compact table of the front with its hypervolume. --quiet shows nothing
 * but errors. At the end the final front goes to stdout. */
#ifndef LEMONADE_PROGRESS_H
#define LEMONADE_PROGRESS_H

#include <stdio.h>
#include "search.h"

typedef struct {
    FILE *err, *out;
    int tty, quiet;
    int gens, batch, jobs;
    double t_start, t_gen_start;
    int gen, child_index, child_count;
    double gen_seconds_sum;      /* finished generations after the first */
    int gens_timed;
    int line_open;
} progress_t;

void progress_init(progress_t *p, const search_opts_t *o, int quiet);
/* Fill ev with callbacks writing to p. */
void progress_events(progress_t *p, search_events_t *ev);

#endif
