/* tests/main.c - run the registered unit tests; see test.h. */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_TESTS 512

static struct { const char *name; test_fn fn; } tests[MAX_TESTS];
static int n_tests, cur_failures;
static char tmpdir[256];

void test_register(const char *name, test_fn fn)
{
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].fn = fn;
        n_tests++;
    }
}

int test_fail(const char *file, int line, const char *fmt, ...)
{
    if (cur_failures < 20) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "    %s:%d: ", file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    cur_failures++;
    return 0;
}

const char *test_tmpdir(void) { return tmpdir; }

static int by_name(const void *a, const void *b)
{
    return strcmp(((const char *const *)a)[0], ((const char *const *)b)[0]);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    /* TEST_TMP lets a sanitizer build run beside the normal one. */
    const char *base = getenv("TEST_TMP") && *getenv("TEST_TMP") ? getenv("TEST_TMP") : "tests/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/unit", base);
    mkdir(base, 0755);
    mkdir(tmpdir, 0755);
    qsort(tests, (size_t)n_tests, sizeof tests[0], by_name);
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        cur_failures = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (cur_failures) {
            printf("FAIL %s (%d failed checks)\n", tests[i].name, cur_failures);
            failed++;
        } else {
            printf("ok   %s  (%.2f s)\n", tests[i].name, s);
            passed++;
        }
        fflush(stdout);
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
