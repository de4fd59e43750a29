/* pareto.c - see pareto.h. */
#include "pareto.h"

#include <math.h>
#include <stdlib.h>

int pareto_front(const double *params, const double *loss, int n, int *keep)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        keep[i] = !isnan(loss[i]);
        for (int j = 0; j < n && keep[i]; j++) {
            if (j == i || isnan(loss[j])) continue;
            int no_worse = params[j] <= params[i] && loss[j] <= loss[i];
            int better = params[j] < params[i] || loss[j] < loss[i];
            if (no_worse && better) keep[i] = 0;
        }
        kept += keep[i];
    }
    return kept;
}

typedef struct { double x, y; } pt_t;

static int by_x(const void *a, const void *b)
{
    const pt_t *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

double hypervolume(const double *params, const double *loss, int n)
{
    pt_t *p = malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    int m = 0;
    for (int i = 0; i < n; i++) {
        double x = log10(params[i]);
        if (isnan(loss[i]) || x >= HV_REF_LOG10_PARAMS || loss[i] >= HV_REF_LOSS) continue;
        p[m++] = (pt_t){x, loss[i]};
    }
    qsort(p, (size_t)m, sizeof *p, by_x);
    /* Sweep left to right: each point dominates, until the next x, the
     * strip below the reference loss and above the best loss so far. */
    double area = 0.0, best = HV_REF_LOSS;
    for (int i = 0; i < m; i++) {
        if (p[i].y < best) best = p[i].y;
        double next = i + 1 < m ? p[i + 1].x : HV_REF_LOG10_PARAMS;
        area += (next - p[i].x) * (HV_REF_LOSS - best);
    }
    free(p);
    return area;
}
