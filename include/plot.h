/* plot.h - pictures of a search run: the progress of the Pareto front and the
 * hypervolume per generation, as standalone SVG files.
 *
 * A run directory holds OUT/gen_000.json, OUT/gen_001.json, ... (any prefix
 * of them when the run was interrupted). Each file has "generation", "front"
 * (entries with "id", "params", "val_loss", sorted by params), "children"
 * (entries with "id", "params" and, when evaluated, "val_loss"; "diverged":
 * true marks a child without a usable loss) and "hypervolume".
 *
 * The loader keeps only what the pictures need. Every point of the run sits
 * in one array (run->pts); a generation refers to its front and its children
 * by offset and count into it, so freeing a run is two frees.
 *
 * Library code: failures come back as -1 with err naming the file and the
 * problem; nothing here prints. */
#ifndef LEMONADE_PLOT_H
#define LEMONADE_PLOT_H

#include "error.h"

#include <stddef.h>

#define PLOT_ID_LEN 64      /* longest network id kept, with the NUL */
#define PLOT_MAX_GENS 1000  /* generations a run may have (gen_000..gen_999) */

typedef struct {
    char id[PLOT_ID_LEN];
    double params;          /* parameter count, > 0 */
    double val_loss;        /* NAN for a child that was not evaluated */
} plot_point_t;

typedef struct {
    int front_off, n_front;     /* run->pts[front_off ..], sorted by params */
    int child_off, n_children;  /* run->pts[child_off ..], in file order */
    double hypervolume;
} plot_gen_t;

typedef struct {
    plot_gen_t *gens;       /* (n_gens), gens[g] is generation g */
    int n_gens;
    plot_point_t *pts;      /* (n_pts) */
    int n_pts, cap_pts;
} plot_run_t;

/* Load gen_000.json, gen_001.json, ... from run_dir, stopping at the first
 * one that does not exist. A missing directory, a missing gen_000.json, a
 * file that is not valid JSON or lacks a field is an error naming the file.
 * On success free the run with plot_run_free. */
int plot_load_run(plot_run_t *run, const char *run_dir, err_t *err);
void plot_run_free(plot_run_t *run);

/* The default selection of generations for a run whose last generation is
 * `last`: about five, evenly spread, always 0 and `last`, ascending and
 * without repeats. Writes at most 5 into out and returns how many. */
int plot_default_gens(int last, int *out);

/* Axis ticks on a log scale between lo and hi (both > 0, lo < hi): every
 * m*10^k (m = 1..9) inside the range. Ticks at powers of ten are major
 * (labelled); when fewer than two powers of ten fall inside, 2*10^k,
 * 3*10^k and 5*10^k are major too; when that still makes fewer than two
 * major ticks, all are. Returns the number written (at most max),
 * ascending. */
typedef struct { double v; int major; } plot_tick_t;
int plot_log_ticks(double lo, double hi, plot_tick_t *ticks, int max);

/* Ticks at a "nice" step (1, 2 or 5 times a power of ten) between lo and hi,
 * about `target` of them. Stores the step in *step. Returns the number
 * written (at most max), ascending. */
int plot_linear_ticks(double lo, double hi, int target, double *ticks, int max, double *step);

/* A count as a short label: 500, 20k, 100k, 1M, 1.5M. */
void plot_format_count(double v, char *buf, size_t size);

/* The staircase of a minimisation front sorted by x ascending: from each
 * point right to the next point's x, then down (or up) to its y; the last
 * point's horizontal extends to x_right. Writes 2n vertices into sx, sy:
 *   (x0,y0) (x1,y0) (x1,y1) (x2,y1) ... (x[n-1],y[n-1]) (x_right,y[n-1]).
 * Returns 2n. */
int plot_front_steps(const double *x, const double *y, int n, double x_right, double *sx, double *sy);

/* Write the front picture of the generations gens[0..n_gens) (each present
 * in run, ascending) to path: each generation's front as a step line in
 * its own colour inside <g class="front" data-generation="G">, a legend,
 * the last selected generation's points labelled by id, and every evaluated
 * child of generations 0..last selected as a faint dot. Written atomically
 * (path.tmp, fsync, rename). */
int plot_write_front_svg(const plot_run_t *run, const int *gens, int n_gens, const char *path, err_t *err);

/* Write the hypervolume of every generation of run to path, atomically. */
int plot_write_hv_svg(const plot_run_t *run, const char *path, err_t *err);

/* Everything in one call, for the search after each generation and for
 * `lemonade plot`: load run_dir, write the front picture of gens[0..n_gens)
 * (NULL / 0: the default selection; any order, repeats ignored) to
 * front_svg_path and the hypervolume picture to hv_svg_path. A NULL path
 * means run_dir/front.svg and run_dir/hypervolume.svg. A requested
 * generation the run does not have is an error. */
int plot_run(const char *run_dir, const int *gens, int n_gens, const char *front_svg_path,
             const char *hv_svg_path, err_t *err);

#endif
