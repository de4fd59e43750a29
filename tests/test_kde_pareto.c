/* test_kde_pareto.c - the KDE sampler against SciPy reference values
 * (tests/kde_reference.py made them), sampling frequencies, Pareto fronts
 * on hand-made cases, and the hypervolume. */
#include "kde.h"
#include "pareto.h"
#include "test.h"

#include <math.h>
#include <string.h>

/* params */
static const double params_x[] = {31410.0, 31426.0, 62842.0, 64010.0, 125610.0, 126250.0, 502410.0, 539850.0, 576778.0, 40702.0};
static const double params_density[] = {1.716090855569428e-06, 1.7161320641198179e-06, 1.7650102260358086e-06, 1.7655653936480338e-06, 1.6707293135034055e-06, 1.6685768061005601e-06, 7.8361332853843594e-07, 7.8386315959475319e-07, 7.5171836294787079e-07, 1.7372839415302917e-06};
static const double params_prob[] = {0.075583148838222119, 0.075581433835189518, 0.073600596674477783, 0.073578694109360937, 0.07751939519691825, 0.077613742850607861, 0.15534607843374934, 0.15530216861077673, 0.16116344488000611, 0.074711296570691269};
static const double params_bw = 154082.34456982766;
/* two */
static const double two_x[] = {100000.0, 200000.0};
static const double two_density[] = {4.0029704037330248e-06, 4.0029704037330248e-06};
static const double two_prob[] = {0.5, 0.5};
static const double two_bw = 65202.875719449439;
/* log */
static const double log_x[] = {4.497067936398505, 4.497289106169357, 4.798249998378468, 4.80624782719579, 5.099024215610893, 5.101231386790699, 5.701058275039645, 5.732273105708592, 5.761008686765434, 4.609615749953064};
static const double log_density[] = {0.55191939526323397, 0.55209235034871529, 0.66047228040640793, 0.65966729445320493, 0.5484140278762587, 0.54731235088312835, 0.40727628437444202, 0.3992678510508133, 0.39039411299137594, 0.6240217080413395};
static const double log_prob[] = {0.093261976135756389, 0.093232759773452328, 0.077933770318185797, 0.078028872169382021, 0.093858090409575587, 0.094047015946819496, 0.12638371575400514, 0.12891869397638592, 0.13184904151546811, 0.082486064000969181};
static const double log_bw = 0.33981970908415454;

static void check_case(const double *x, int n, const double *want_d, const double *want_p, double want_bw)
{
    double d[16], p[16];
    double bw = kde_density(x, n, d);
    CHECK(fabs(bw - want_bw) <= 1e-12 * want_bw, "bandwidth %.17g vs scipy %.17g", bw, want_bw);
    kde_accept_probs(d, n, p);
    for (int i = 0; i < n; i++) {
        CHECK(fabs(d[i] - want_d[i]) <= 1e-12 * want_d[i], "density[%d] %.17g vs scipy %.17g", i, d[i], want_d[i]);
        CHECK(fabs(p[i] - want_p[i]) <= 1e-12, "prob[%d] %.17g vs scipy %.17g", i, p[i], want_p[i]);
    }
}

TEST(kde_matches_scipy)
{
    check_case(params_x, 10, params_density, params_prob, params_bw);
    check_case(two_x, 2, two_density, two_prob, two_bw);
    check_case(log_x, 10, log_density, log_prob, log_bw);
}

TEST(kde_zero_variance_uniform)
{
    double x[4] = {5000, 5000, 5000, 5000}, d[4], p[4];
    CHECK(kde_density(x, 4, d) == 0.0, "bandwidth of constant data");
    kde_accept_probs(d, 4, p);
    for (int i = 0; i < 4; i++) CHECK_NEAR(p[i], 0.25, 1e-15);
    double one = 7, d1, p1;
    kde_density(&one, 1, &d1);
    kde_accept_probs(&d1, 1, &p1);
    CHECK_NEAR(p1, 1.0, 0);
}

/* Sequential draws without replacement: for probs (0.5, 0.3, 0.2) and one
 * draw, frequencies match the probs; for two draws, item i is left out
 * with probability sum over first picks j != i of p_j * p_k/(1-p_j), k the
 * remaining one: P(leave out 0) = 0.3*0.2/0.7 + 0.2*0.3/0.8 = 0.16071. */
TEST(sampling_without_replacement_frequencies)
{
    const double p[3] = {0.5, 0.3, 0.2};
    int picked[3], order[3], first[3] = {0}, left_out[3] = {0};
    const int T = 200000;
    rng_t r;
    rng_seed(&r, 123, 0, 0);
    for (int t = 0; t < T; t++) {
        sample_without_replacement(p, 3, 2, &r, picked, order);
        first[order[0]]++;
        CHECK(picked[0] + picked[1] + picked[2] == 2, "drew %d", picked[0] + picked[1] + picked[2]);
        for (int i = 0; i < 3; i++) if (!picked[i]) left_out[i]++;
    }
    for (int i = 0; i < 3; i++) CHECK_NEAR((double)first[i] / T, p[i], 0.005);
    double want[3] = {0.3 * 0.2 / 0.7 + 0.2 * 0.3 / 0.8, 0.5 * 0.2 / 0.5 + 0.2 * 0.5 / 0.8,
                      0.5 * 0.3 / 0.5 + 0.3 * 0.5 / 0.7};
    for (int i = 0; i < 3; i++) CHECK_NEAR((double)left_out[i] / T, want[i], 0.005);
    sample_without_replacement(p, 3, 5, &r, picked, NULL);   /* k > n takes all */
    CHECK(picked[0] && picked[1] && picked[2], "k > n");
}

TEST(pareto_hand_made_cases)
{
    /* (params, loss): B dominates C (fewer params, lower loss); D and E are
     * exact duplicates and keep each other; F ties A on params with a higher
     * loss (dominated); G has a NaN loss (diverged). */
    const double params[] = {100, 200, 300, 400, 400, 100, 50};
    const double loss[] = {0.9, 0.5, 0.6, 0.4, 0.4, 0.95, NAN};
    int keep[7];
    int n = pareto_front(params, loss, 7, keep);
    const int want[7] = {1, 1, 0, 1, 1, 0, 0};
    CHECK(n == 4, "kept %d", n);
    for (int i = 0; i < 7; i++) CHECK(keep[i] == want[i], "point %d keep %d, expected %d", i, keep[i], want[i]);
    /* a single point and an empty set */
    CHECK(pareto_front(params, loss, 1, keep) == 1 && keep[0], "single point");
    CHECK(pareto_front(params, loss, 0, keep) == 0, "empty");
}

TEST(hypervolume_hand_computed)
{
    /* Two points at 10^4 (loss 1.0) and 10^5 (loss 0.5), reference (6, 2.302585):
     * area = (5-4)*(2.302585-1.0) + (6-5)*(2.302585-0.5). */
    double params[] = {1e4, 1e5, 2e5}, loss[] = {1.0, 0.5, 0.8};   /* the third is dominated */
    CHECK_NEAR(hypervolume(params, loss, 3), 1.302585 + 1.802585, 1e-12);
    double out_p[] = {2e6}, out_l[] = {0.1};                       /* beyond the reference */
    CHECK_NEAR(hypervolume(out_p, out_l, 1), 0.0, 0);
    CHECK_NEAR(hypervolume(params, loss, 0), 0.0, 0);
}
