/* pareto.h - the Pareto front of (parameter count, validation loss), both
 * minimised, and its hypervolume. */
#ifndef LEMONADE_PARETO_H
#define LEMONADE_PARETO_H

/* Reference point of the hypervolume in (log10 params, val_loss) space:
 * a million parameters and the loss of a uniform guess over 10 classes. */
#define HV_REF_LOG10_PARAMS 6.0
#define HV_REF_LOSS 2.302585

/* keep[i] = 1 when no other point is no worse in both objectives and
 * strictly better in one. Exact duplicates keep each other. Points with a
 * NaN loss are never kept. Returns the number kept. */
int pareto_front(const double *params, const double *loss, int n, int *keep);

/* Area dominated by the points (any set; dominated ones add nothing) in
 * (log10 params, loss) space, bounded by the reference point. */
double hypervolume(const double *params, const double *loss, int n);

#endif
