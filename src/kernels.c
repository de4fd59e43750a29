/* kernels.c - choose a kernel table at run time. */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

/* Whether this CPU can run the AVX-512 table (F, VL, BW, DQ as compiled). */
static int have_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

const kernels_t *kernels_by_name(const char *name)
{
    if (strcmp(name, "reference") == 0) return &kernels_ref;
    if (strcmp(name, "avx512") == 0 && have_avx512()) return &kernels_avx512;
    return NULL;
}

int kernels_available(const kernels_t **out, int max)
{
    int n = 0;
    if (n < max) out[n++] = &kernels_ref;
    if (n < max && have_avx512()) out[n++] = &kernels_avx512;
    return n;
}

const kernels_t *kernels_best(void)
{
    const char *force = getenv("LEMONADE_KERNELS");
    if (force && *force) {
        const kernels_t *k = kernels_by_name(force);
        if (k) return k;
    }
    if (have_avx512()) return &kernels_avx512;
    return &kernels_ref;
}
