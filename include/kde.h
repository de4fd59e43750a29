/* kde.h - the cheap-objective sampler of LEMONADE: a 1-D Gaussian kernel
 * density estimate over the children's parameter counts, and acceptance
 * probabilities inversely proportional to it, so that children in sparse
 * regions of the front are trained first. */
#ifndef LEMONADE_KDE_H
#define LEMONADE_KDE_H

#include "rng.h"

/* Density of the KDE of samples x[0..n) at each x[i], exactly as
 * scipy.stats.gaussian_kde(x, bw_method='silverman')(x): bandwidth =
 * (3n/4)^(-1/5) * std(x, ddof=1). Returns the bandwidth; 0 (and density 0
 * everywhere) when the variance is zero or n < 2. */
double kde_density(const double *x, int n, double *density);

/* Acceptance probabilities: w_i = 1/(density_i + 1e-7), normalised to sum
 * to 1. With zero variance every child is equally likely. */
void kde_accept_probs(const double *density, int n, double *prob);

/* Draw k of n items without replacement: one at a time with probability
 * prop to prob, renormalising over the remaining ones after each draw.
 * picked[i] is set to 1 for the chosen ones; order[] (may be NULL)
 * receives them in draw order. */
void sample_without_replacement(const double *prob, int n, int k, rng_t *rng, int *picked, int *order);

#endif
