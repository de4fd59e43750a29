/* test_plot.c - the pictures: axis arithmetic, step lines, the run loader on
 * tests/data/sample_run and on broken runs this test writes itself, and the
 * SVG files plot_run writes. */
#include "plot.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAMPLE "tests/data/sample_run"

TEST(plot_log_ticks_decades)
{
    plot_tick_t t[64];
    int n = plot_log_ticks(2e4, 3e6, t, 64);
    /* 2..9e4, 1..9e5, 1..3e6 */
    CHECK(n == 8 + 9 + 3, "n = %d", n);
    CHECK_NEAR(t[0].v, 2e4, 1e-6);
    CHECK_NEAR(t[n - 1].v, 3e6, 1e-6);
    int n_major = 0;
    for (int i = 0; i < n; i++)
        if (t[i].major) {
            n_major++;
            CHECK(t[i].v == 1e5 || t[i].v == 1e6, "major tick at %g", t[i].v);
        }
    CHECK(n_major == 2, "%d major ticks", n_major);
    for (int i = 1; i < n; i++) CHECK(t[i].v > t[i - 1].v, "not ascending at %d", i);
}

TEST(plot_log_ticks_narrow_range)
{
    /* Less than two decades: 2, 3 and 5 times a power of ten get labels. */
    plot_tick_t t[64];
    int n = plot_log_ticks(2.9e4, 2.2e5, t, 64);
    double want[] = {3e4, 5e4, 1e5, 2e5};
    int k = 0;
    for (int i = 0; i < n; i++)
        if (t[i].major) {
            CHECK(k < 4 && fabs(t[i].v - want[k]) < 1e-6, "major tick %d at %g", k, t[i].v);
            k++;
        }
    CHECK(k == 4, "%d major ticks, expected 4", k);
    CHECK(plot_log_ticks(5, 1, t, 64) == 0, "empty range gives ticks");
    CHECK(plot_log_ticks(1e3, 1e6, t, 3) == 3, "max not respected");
}

TEST(plot_linear_ticks_nice_steps)
{
    double t[64], step;
    int n = plot_linear_ticks(0.3, 0.47, 6, t, 64, &step);
    CHECK_NEAR(step, 0.02, 1e-12);
    CHECK(n == 9, "n = %d", n);
    CHECK_NEAR(t[0], 0.30, 1e-12);
    CHECK_NEAR(t[n - 1], 0.46, 1e-12);
    n = plot_linear_ticks(0, 20, 10, t, 64, &step);
    CHECK_NEAR(step, 2, 1e-12);
    CHECK(n == 11, "n = %d", n);
    n = plot_linear_ticks(2.86, 2.94, 6, t, 64, &step);
    CHECK_NEAR(step, 0.01, 1e-12);
    CHECK_NEAR(t[0], 2.86, 1e-9);
}

TEST(plot_format_count_labels)
{
    struct { double v; const char *s; } c[] = {
        {500, "500"}, {1e3, "1k"}, {2e4, "20k"}, {1e5, "100k"}, {1e6, "1M"}, {1.5e6, "1.5M"}, {3e9, "3G"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        plot_format_count(c[i].v, buf, sizeof buf);
        CHECK(strcmp(buf, c[i].s) == 0, "%g -> '%s', expected '%s'", c[i].v, buf, c[i].s);
    }
}

TEST(plot_front_steps_staircase)
{
    /* A known front: right to the next x, then down to its y; the last
     * horizontal runs to the right edge. */
    double x[] = {1, 2, 4}, y[] = {3, 2, 1}, sx[6], sy[6];
    double wx[] = {1, 2, 2, 4, 4, 10}, wy[] = {3, 3, 2, 2, 1, 1};
    int n = plot_front_steps(x, y, 3, 10, sx, sy);
    CHECK(n == 6, "n = %d", n);
    for (int i = 0; i < 6; i++) {
        CHECK_NEAR(sx[i], wx[i], 0);
        CHECK_NEAR(sy[i], wy[i], 0);
    }
    n = plot_front_steps(x, y, 1, 7, sx, sy);
    CHECK(n == 2 && sx[0] == 1 && sy[0] == 3 && sx[1] == 7 && sy[1] == 3, "one point: %d", n);
}

TEST(plot_default_gens_spread)
{
    int g[5], n;
    n = plot_default_gens(20, g);
    CHECK(n == 5 && g[0] == 0 && g[1] == 5 && g[2] == 10 && g[3] == 15 && g[4] == 20, "last 20: n %d", n);
    n = plot_default_gens(3, g);
    CHECK(n == 4 && g[0] == 0 && g[1] == 1 && g[2] == 2 && g[3] == 3, "last 3: n %d", n);
    n = plot_default_gens(0, g);
    CHECK(n == 1 && g[0] == 0, "last 0: n %d", n);
    n = plot_default_gens(7, g);
    CHECK(n == 5 && g[0] == 0 && g[4] == 7, "last 7: n %d", n);
    for (int i = 1; i < n; i++) CHECK(g[i] > g[i - 1], "not ascending");
}

TEST(plot_load_sample_run)
{
    plot_run_t run;
    err_t err = {""};
    if (!CHECK(plot_load_run(&run, SAMPLE, &err) == 0, "load: %s", err.msg)) return;
    CHECK(run.n_gens == 4, "n_gens = %d", run.n_gens);
    const plot_gen_t *G = &run.gens[3];
    CHECK(G->n_front == 8, "gen 3 front has %d", G->n_front);
    CHECK(strcmp(run.pts[G->front_off].id, "g3_c3") == 0, "first %s", run.pts[G->front_off].id);
    CHECK(strcmp(run.pts[G->front_off + 7].id, "g3_c4") == 0, "last %s", run.pts[G->front_off + 7].id);
    for (int j = 1; j < G->n_front; j++)
        CHECK(run.pts[G->front_off + j].params >= run.pts[G->front_off + j - 1].params, "front not sorted");
    CHECK_NEAR(G->hypervolume, 2.9508, 1e-9);
    CHECK(G->n_children == 7, "gen 3 children %d", G->n_children);
    CHECK(isnan(run.pts[G->child_off + 2].val_loss), "rejected child has a loss");
    CHECK_NEAR(run.pts[G->child_off + 0].val_loss, 0.331, 1e-12);
    const plot_gen_t *G1 = &run.gens[1];
    CHECK(strcmp(run.pts[G1->child_off + 3].id, "g1_c3") == 0 && isnan(run.pts[G1->child_off + 3].val_loss),
          "diverged child has a loss");
    plot_run_free(&run);
}

/* A run directory under the test's scratch dir with gen_000 copied from the
 * sample and gen_001 holding `text`. */
static void broken_run(const char *name, const char *text, char *dir, size_t size)
{
    snprintf(dir, size, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/gen_000.json", dir);
    FILE *in = fopen(SAMPLE "/gen_000.json", "rb"), *out = fopen(path, "wb");
    char buf[4096];
    size_t k;
    while (in && out && (k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, out);
    if (in) fclose(in);
    if (out) fclose(out);
    snprintf(path, sizeof path, "%s/gen_001.json", dir);
    out = fopen(path, "wb");
    if (out) {
        fputs(text, out);
        fclose(out);
    }
}

static void expect_load_error(const char *name, const char *text, const char *want)
{
    char dir[256];
    broken_run(name, text, dir, sizeof dir);
    plot_run_t run;
    err_t err = {""};
    if (!CHECK(plot_load_run(&run, dir, &err) != 0, "%s: loaded", name)) { plot_run_free(&run); return; }
    CHECK(strstr(err.msg, "gen_001.json") != NULL, "%s: message does not name the file: %s", name, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: '%s' does not say '%s'", name, err.msg, want);
}

TEST(plot_load_errors)
{
    plot_run_t run;
    err_t err = {""};
    CHECK(plot_load_run(&run, "tests/tmp/unit/no-such-run", &err) != 0 && strstr(err.msg, "no such directory"),
          "missing dir: %s", err.msg);
    char empty[256];
    snprintf(empty, sizeof empty, "%s/empty_run", test_tmpdir());
    mkdir(empty, 0755);
    CHECK(plot_load_run(&run, empty, &err) != 0 && strstr(err.msg, "no gen_000.json"), "empty dir: %s", err.msg);
    expect_load_error("corrupt", "{\"generation\": 1, \"front\": [", "invalid JSON");
    expect_load_error("no_front", "{\"generation\": 1, \"children\": [], \"hypervolume\": 1}", "'front'");
    expect_load_error("no_hv", "{\"generation\": 1, \"front\": [{\"id\":\"a\",\"params\":10,\"val_loss\":1}], "
                      "\"children\": []}", "'hypervolume'");
    expect_load_error("no_params", "{\"generation\": 1, \"front\": [{\"id\":\"a\",\"val_loss\":1}], "
                      "\"children\": [], \"hypervolume\": 1}", "front[0] (a): missing 'params'");
    expect_load_error("no_loss", "{\"generation\": 1, \"front\": [{\"id\":\"a\",\"params\":10}], "
                      "\"children\": [], \"hypervolume\": 1}", "missing 'val_loss'");
    expect_load_error("wrong_gen", "{\"generation\": 7, \"front\": [{\"id\":\"a\",\"params\":10,\"val_loss\":1}], "
                      "\"children\": [], \"hypervolume\": 1}", "says generation 7, expected 1");
    expect_load_error("not_object", "[1, 2]", "not a JSON object");
}

/* The whole file, malloc'ed, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static int count_str(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

TEST(plot_run_writes_svgs)
{
    char front[256], hv[256], tmp[300];
    snprintf(front, sizeof front, "%s/front.svg", test_tmpdir());
    snprintf(hv, sizeof hv, "%s/hv.svg", test_tmpdir());
    err_t err = {""};
    int gens[] = {3, 1, 3};
    if (!CHECK(plot_run(SAMPLE, gens, 3, front, hv, &err) == 0, "plot_run: %s", err.msg)) return;
    char *s = slurp(front);
    if (!CHECK(s != NULL, "no %s", front)) return;
    CHECK(strncmp(s, "<?xml", 5) == 0, "no XML declaration");
    CHECK(strstr(s, "xmlns=\"http://www.w3.org/2000/svg\"") != NULL, "no xmlns");
    CHECK(count_str(s, "class=\"front\"") == 2, "%d front series", count_str(s, "class=\"front\""));
    CHECK(strstr(s, "data-generation=\"1\"") && strstr(s, "data-generation=\"3\""), "generations missing");
    CHECK(strstr(s, ">g3_c4</text>") != NULL, "newest front not labelled");
    CHECK(strstr(s, ">g2_c3</text>") == NULL, "an older front is labelled");
    CHECK(strstr(s, "<script") == NULL && strstr(s, "href") == NULL, "external content");
    free(s);
    s = slurp(hv);
    if (CHECK(s != NULL, "no %s", hv)) {
        CHECK(count_str(s, "<circle") == 4, "%d hypervolume points", count_str(s, "<circle"));
        free(s);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", front);
    CHECK(access(tmp, F_OK) != 0, "%s left behind", tmp);

    /* Default selection: all four generations of a four-generation run. */
    CHECK(plot_run(SAMPLE, NULL, 0, front, hv, &err) == 0, "default: %s", err.msg);
    s = slurp(front);
    if (s) {
        CHECK(count_str(s, "class=\"front\"") == 4, "default: %d series", count_str(s, "class=\"front\""));
        free(s);
    }

    int bad[] = {1, 9};
    CHECK(plot_run(SAMPLE, bad, 2, front, hv, &err) != 0 && strstr(err.msg, "no generation 9"),
          "missing generation: %s", err.msg);
}

TEST(plot_svg_escapes_ids)
{
    char dir[256], front[300], hv[300];
    broken_run("escape", "{\"generation\": 1, \"front\": [{\"id\":\"a<&>\\\"b\",\"params\":40000,"
               "\"val_loss\":0.3}], \"children\": [], \"hypervolume\": 3}", dir, sizeof dir);
    snprintf(front, sizeof front, "%s/front.svg", dir);
    snprintf(hv, sizeof hv, "%s/hv.svg", dir);
    err_t err = {""};
    if (!CHECK(plot_run(dir, NULL, 0, front, hv, &err) == 0, "plot_run: %s", err.msg)) return;
    char *s = slurp(front);
    if (!CHECK(s != NULL, "no svg")) return;
    CHECK(strstr(s, ">a&lt;&amp;&gt;&quot;b</text>") != NULL, "id not escaped");
    free(s);
}

TEST(plot_front_outlier_marked_at_top)
{
    /* A tiny network near chance level is on the front; the axis keeps to
     * the rest and marks it with a triangle at the top edge. */
    char dir[256], front[300], hv[300];
    broken_run("outlier", "{\"generation\": 1, \"front\": [{\"id\":\"tiny\",\"params\":3000,\"val_loss\":2.2},"
               "{\"id\":\"a\",\"params\":31000,\"val_loss\":0.45},{\"id\":\"b\",\"params\":60000,\"val_loss\":0.40},"
               "{\"id\":\"c\",\"params\":120000,\"val_loss\":0.37}], \"children\": [], \"hypervolume\": 3}",
               dir, sizeof dir);
    snprintf(front, sizeof front, "%s/front.svg", dir);
    snprintf(hv, sizeof hv, "%s/hv.svg", dir);
    err_t err = {""};
    if (!CHECK(plot_run(dir, NULL, 0, front, hv, &err) == 0, "plot_run: %s", err.msg)) return;
    char *s = slurp(front);
    if (!CHECK(s != NULL, "no svg")) return;
    CHECK(count_str(s, "class=\"above\" data-generation=\"1\"") == 1, "%d markers",
          count_str(s, "class=\"above\""));
    CHECK(strstr(s, "1 front point above") != NULL, "no note in the legend");
    CHECK(strstr(s, ">tiny</text>") != NULL, "outlier not labelled");
    CHECK(strstr(s, ">2.2") == NULL, "the y axis runs up to the outlier");
    free(s);
}

TEST(plot_log_ticks_very_narrow_range)
{
    /* No power of ten and at most one of 2, 3, 5 inside: label them all. */
    plot_tick_t t[16];
    int n = plot_log_ticks(3.5e4, 6.5e4, t, 16);
    CHECK(n == 3, "n = %d", n);
    for (int i = 0; i < n; i++) CHECK(t[i].major, "tick %g not labelled", t[i].v);
}
