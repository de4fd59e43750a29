/* kernels.c - choose a kernel table at run time. */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

const kernels_t *kernels_by_name(const char *name)
{
    if (strcmp(name, "reference") == 0) return &kernels_ref;
    return NULL;
}

int kernels_available(const kernels_t **out, int max)
{
    int n = 0;
    if (n < max) out[n++] = &kernels_ref;
    return n;
}

const kernels_t *kernels_best(void)
{
    const char *force = getenv("LEMONADE_KERNELS");
    if (force && *force) {
        const kernels_t *k = kernels_by_name(force);
        if (k) return k;
    }
    return &kernels_ref;
}
