/* kde.c - see kde.h. */
#include "kde.h"

#include <math.h>
#include <stdlib.h>

double kde_density(const double *x, int n, double *density)
{
    for (int i = 0; i < n; i++) density[i] = 0.0;
    if (n < 2) return 0.0;
    double mean = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    double var = ss / (n - 1);
    if (!(var > 0.0)) return 0.0;
    double factor = pow(0.75 * n, -0.2);
    double h = factor * sqrt(var);
    double norm = 1.0 / (n * h * sqrt(2.0 * M_PI));
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < n; j++) {
            double z = (x[i] - x[j]) / h;
            s += exp(-0.5 * z * z);
        }
        density[i] = s * norm;
    }
    return h;
}

void kde_accept_probs(const double *density, int n, double *prob)
{
    int flat = 1;
    for (int i = 0; i < n; i++) if (density[i] != 0.0) flat = 0;
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        prob[i] = flat ? 1.0 : 1.0 / (density[i] + 1e-7);
        total += prob[i];
    }
    for (int i = 0; i < n; i++) prob[i] /= total;
}

void sample_without_replacement(const double *prob, int n, int k, rng_t *rng, int *picked, int *order)
{
    for (int i = 0; i < n; i++) picked[i] = 0;
    if (k > n) k = n;
    for (int d = 0; d < k; d++) {
        double left = 0.0;
        for (int i = 0; i < n; i++) if (!picked[i]) left += prob[i];
        double u = rng_uniform(rng) * left, acc = 0.0;
        int choice = -1;
        for (int i = 0; i < n; i++) {
            if (picked[i]) continue;
            choice = i;            /* the last unpicked one absorbs rounding */
            acc += prob[i];
            if (u < acc) break;
        }
        picked[choice] = 1;
        if (order) order[d] = choice;
    }
}
