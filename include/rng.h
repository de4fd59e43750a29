/* rng.h - deterministic pseudo-random numbers (xoshiro256**, seeded by
 * splitmix64). State is always passed explicitly: there is no global RNG.
 *
 * Independent streams are derived from (seed, a, b) - e.g. (run seed,
 * generation, child index) - so that a child's random choices do not depend
 * on how many numbers other children drew or on thread timing. */
#ifndef LEMONADE_RNG_H
#define LEMONADE_RNG_H

#include <stdint.h>
#include <stddef.h>

typedef struct { uint64_t s[4]; } rng_t;

/* Seed a stream from a 64-bit seed and two stream labels. */
void rng_seed(rng_t *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t rng_next(rng_t *r);
/* Uniform integer in [0, n), unbiased (n > 0). */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(rng_t *r);
/* Fisher-Yates shuffle of idx[0..n). */
void rng_shuffle(rng_t *r, int *idx, size_t n);

#endif
