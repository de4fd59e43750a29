/* test.h - a minimal unit-test harness.
 *
 *   TEST(name) { CHECK(cond, "fmt", ...); CHECK_NEAR(a, b, tol); }
 *
 * Tests register themselves at start-up; tests/main.c runs them (all, or
 * those whose name contains argv[1]) and prints "N passed, N failed". A test
 * fails if any CHECK inside it fails; it keeps running so that one run shows
 * every broken check. */
#ifndef LEMONADE_TEST_H
#define LEMONADE_TEST_H

#include <math.h>
#include <stdio.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
/* Records a failed check; returns 0 so CHECK can be used in conditions. */
int test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Directory for scratch files of this test run (created by main). */
const char *test_tmpdir(void);

#define TEST(name)                                                          \
    static void name(void);                                                 \
    __attribute__((constructor)) static void register_##name(void)          \
    { test_register(#name, name); }                                         \
    static void name(void)

#define CHECK(cond, ...) ((cond) ? 1 : test_fail(__FILE__, __LINE__, __VA_ARGS__))

#define CHECK_NEAR(a, b, tol)                                                     \
    do {                                                                          \
        double a_ = (a), b_ = (b);                                                \
        if (!(fabs(a_ - b_) <= (tol)))                                            \
            test_fail(__FILE__, __LINE__, "%s = %.9g, expected %s = %.9g (tol %g)", \
                      #a, a_, #b, b_, (double)(tol));                             \
    } while (0)

#endif
