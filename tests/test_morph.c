/* test_morph.c - the four operators: valid children, exact parameter
 * changes, bit-equal inheritance, an untouched parent, function
 * preservation on real images, and every "cannot apply" case. */
#include "dataset.h"
#include "morph.h"
#include "net.h"
#include "pool.h"
#include "tensor.h"
#include "test.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

static dataset_t ds;
static int ds_loaded;

static const dataset_t *fixture(void)
{
    err_t err;
    if (!ds_loaded && dataset_load(&ds, "data/fixture", 1000, 0, 0, &err) == 0) ds_loaded = 1;
    return ds_loaded ? &ds : NULL;
}

/* A parent trained for one epoch on 1,000 fixture images, with non-zero
 * skip scales so that skip paths carry signal. */
static void trained_parent(net_t *net, int F, const char *arch, pool_t *pool)
{
    err_t err;
    net_from_arch(net, F, arch, &err);
    rng_t r;
    rng_seed(&r, 11, 0, 0);
    net_init_weights(net, &r);
    for (int i = 0; i < net->n_nodes; i++)
        if (net->nodes[i].kind == NODE_ADD)
            for (int c = 0; c < F; c++) net->params[net->nodes[i].p_off + c] = 0.3f;
    trainer_t *t = trainer_create(net, 64, pool, NULL, hyper_default(), &err);
    epoch_stats_t st;
    train_epoch(t, &fixture()->train, &r, &st, NULL, NULL);
    trainer_destroy(t);
}

static float max_logit_diff(net_t *a, net_t *b, pool_t *pool, int n)
{
    err_t err;
    trainer_t *ta = trainer_create(a, n, pool, NULL, hyper_default(), &err);
    trainer_t *tb = trainer_create(b, n, pool, NULL, hyper_default(), &err);
    const float *x = fixture()->val.x;
    const float *la = trainer_forward(ta, x, NULL, n, 0, NULL);
    const float *lb = trainer_forward(tb, x, NULL, n, 0, NULL);
    float d = 0;
    for (int i = 0; i < n * N_CLASSES; i++) d = fmaxf(d, fabsf(la[i] - lb[i]));
    trainer_destroy(ta);
    trainer_destroy(tb);
    return d;
}

static const node_t *find_uid(const net_t *net, int uid)
{
    for (int i = 0; i < net->n_nodes; i++) if (net->nodes[i].uid == uid) return &net->nodes[i];
    return NULL;
}

/* Child vs parent: shared nodes bit-equal, and the parameter difference
 * equals the sizes of the nodes only one of them has. */
static void check_inheritance(const net_t *parent, const net_t *child, long long expect_delta, const char *op)
{
    err_t err;
    CHECK(net_validate(child, &err) == 0, "%s: invalid child: %s", op, err.msg);
    long long delta = net_param_count(child).total - net_param_count(parent).total;
    CHECK(delta == expect_delta, "%s: params changed by %lld, expected %lld", op, delta, expect_delta);
    for (int i = 0; i < child->n_nodes; i++) {
        const node_t *c = &child->nodes[i], *p = find_uid(parent, c->uid);
        if (!p) continue;
        CHECK(memcmp(child->params + c->p_off, parent->params + p->p_off,
                     node_param_size(child, c) * sizeof(float)) == 0, "%s: node uid %d weights differ", op, c->uid);
        CHECK(memcmp(child->state + c->s_off, parent->state + p->s_off,
                     node_state_size(child, c) * sizeof(float)) == 0, "%s: node uid %d BN stats differ", op, c->uid);
    }
    size_t dense = (size_t)IMG_PIXELS * child->filters * N_CLASSES + N_CLASSES;
    CHECK(memcmp(child->params + child->dense_off, parent->params + parent->dense_off, dense * sizeof(float)) == 0,
          "%s: dense layer differs", op);
}

TEST(morph_operators_preserve_and_inherit)
{
    if (!CHECK(fixture() != NULL, "fixture missing")) return;
    err_t err;
    pool_t *pool = pool_create(2, &err);
    const int F = 6;
    net_t parent;
    trained_parent(&parent, F, "conv,bn,relu,conv,bn,relu", pool);
    float *p_params = malloc(parent.n_params * sizeof(float)), *p_state = malloc(parent.n_state * sizeof(float));
    memcpy(p_params, parent.params, parent.n_params * sizeof(float));
    memcpy(p_state, parent.state, parent.n_state * sizeof(float));
    morph_calib_t calib = {fixture()->train.x, 256, pool};
    const long long conv = 9LL * F * F + F;
    const long long expect[OP_COUNT] = {conv + 2 * F + 2 * F, conv, F, 0};
    for (int op = 0; op < OP_COUNT; op++)
        for (int seed = 0; seed < 4; seed++) {
            rng_t r;
            rng_seed(&r, 5, (uint64_t)op, (uint64_t)seed);
            net_t child;
            int rc = morph_apply(&child, &parent, (morph_op_t)op, &r, &calib, &err);
            if (!CHECK(rc == 0, "%s: %s", morph_name(op), err.msg)) continue;
            long long delta = expect[op];
            if (op == OP_REMOVE_LAYER) {  /* minus whatever the parent lost */
                for (int i = 0; i < parent.n_nodes; i++)
                    if (!find_uid(&child, parent.nodes[i].uid))
                        delta -= (long long)(node_param_size(&parent, &parent.nodes[i]) +
                                             node_state_size(&parent, &parent.nodes[i]));
                CHECK(child.n_nodes == parent.n_nodes - 1, "remove_layer removed %d nodes",
                      parent.n_nodes - child.n_nodes);
            }
            check_inheritance(&parent, &child, delta, morph_name(op));
            if (op != OP_REMOVE_LAYER) {
                float d = max_logit_diff(&parent, &child, pool, 64);
                CHECK(d < 1e-4f, "%s: logits differ from the parent's by %g at birth", morph_name(op), d);
            }
            net_free(&child);
        }
    CHECK(memcmp(p_params, parent.params, parent.n_params * sizeof(float)) == 0, "parent weights modified");
    CHECK(memcmp(p_state, parent.state, parent.n_state * sizeof(float)) == 0, "parent BN stats modified");
    free(p_params);
    free(p_state);
    net_free(&parent);
    pool_destroy(pool);
}

/* add_skip on a network that already has a skip, and removing the skip's
 * source ReLU takes the add with it. */
TEST(morph_skip_source_removal)
{
    if (!CHECK(fixture() != NULL, "fixture missing")) return;
    err_t err;
    pool_t *pool = pool_create(1, &err);
    net_t parent;
    trained_parent(&parent, 3, "conv,relu,conv,relu,add(2),conv,relu", pool);
    morph_calib_t calib = {fixture()->train.x, 64, pool};
    int saw_cascade = 0;
    for (int seed = 0; seed < 60; seed++) {
        rng_t r;
        rng_seed(&r, 9, 3, (uint64_t)seed);
        net_t child;
        if (!CHECK(morph_apply(&child, &parent, OP_REMOVE_LAYER, &r, &calib, &err) == 0, "%s", err.msg)) continue;
        CHECK(net_validate(&child, &err) == 0, "invalid: %s", err.msg);
        if (!find_uid(&child, parent.nodes[2].uid)) {   /* the skip's source relu went */
            CHECK(!find_uid(&child, parent.nodes[5].uid), "add survived losing its skip source");
            CHECK(child.n_nodes == parent.n_nodes - 2, "expected the relu and the add removed");
            saw_cascade = 1;
        }
        net_free(&child);
        rng_seed(&r, 9, 4, (uint64_t)seed);
        if (!CHECK(morph_apply(&child, &parent, OP_ADD_SKIP, &r, &calib, &err) == 0, "%s", err.msg)) continue;
        float d = max_logit_diff(&parent, &child, pool, 32);
        CHECK(d < 1e-4f, "add_skip on a skip network: logits differ by %g", d);
        net_free(&child);
    }
    CHECK(saw_cascade, "never removed the skip source in 60 draws");
    net_free(&parent);
    pool_destroy(pool);
}

TEST(morph_cannot_apply)
{
    err_t err;
    net_t parent, child;
    rng_t r;
    rng_seed(&r, 1, 0, 0);
    net_from_arch(&parent, 4, "conv", &err);
    CHECK(morph_apply(&child, &parent, OP_INSERT_BLOCK, &r, NULL, &err) == 1 && strstr(err.msg, "no ReLU"),
          "insert_block without a relu: %s", err.msg);
    CHECK(morph_apply(&child, &parent, OP_ADD_SKIP, &r, NULL, &err) == 1 && strstr(err.msg, "two ReLUs"),
          "add_skip without relus: %s", err.msg);
    CHECK(morph_apply(&child, &parent, OP_REMOVE_LAYER, &r, NULL, &err) == 1 && strstr(err.msg, "first conv"),
          "remove_layer on a lone conv: %s", err.msg);
    net_free(&parent);
    net_from_arch(&parent, 4, "conv,bn,relu", &err);
    CHECK(morph_apply(&child, &parent, OP_ADD_SKIP, &r, NULL, &err) == 1 && strstr(err.msg, "has 1"),
          "add_skip with one relu: %s", err.msg);
    net_free(&parent);
    /* a network at the node limit */
    char *arch = malloc(8 * NET_MAX_NODES);
    strcpy(arch, "conv");
    for (int i = 2; i < NET_MAX_NODES; i++) strcat(arch, ",relu");
    CHECK(net_from_arch(&parent, 1, arch, &err) == 0, "%s", err.msg);
    CHECK(morph_apply(&child, &parent, OP_ADD_CONV, &r, NULL, &err) == 1 && strstr(err.msg, "maximum"),
          "add_conv at the limit: %s", err.msg);
    CHECK(morph_apply(&child, &parent, OP_INSERT_BLOCK, &r, NULL, &err) == 1, "insert_block at the limit");
    free(arch);
    net_free(&parent);
}

/* Choices are uniform: add_skip's 6 pairs of 4 ReLUs, remove_layer's 6
 * candidate layers, over 6,000 seeded draws each. */
TEST(morph_choices_uniform)
{
    err_t err;
    net_t parent, child;
    net_from_arch(&parent, 1, "conv,relu,relu,relu,relu,bn,conv", &err);
    int skip[8][8] = {{0}}, removed[16] = {0};
    rng_t r;
    rng_seed(&r, 77, 0, 0);
    for (int i = 0; i < 6000; i++) {
        if (morph_apply(&child, &parent, OP_ADD_SKIP, &r, NULL, &err) == 0) {
            for (int k = 0; k < child.n_nodes; k++)
                if (child.nodes[k].kind == NODE_ADD) skip[child.nodes[k].in[1]][child.nodes[k].in[0]]++;
            net_free(&child);
        }
        if (morph_apply(&child, &parent, OP_REMOVE_LAYER, &r, NULL, &err) == 0) {
            for (int k = 1; k < parent.n_nodes; k++)
                if (!find_uid(&child, parent.nodes[k].uid)) removed[k]++;
            net_free(&child);
        }
    }
    int pairs = 0;
    for (int a = 2; a <= 5; a++)
        for (int b = a + 1; b <= 5; b++) {
            pairs++;
            CHECK(abs(skip[a][b] - 1000) < 120, "skip %d->%d drawn %d times of 6000", a, b, skip[a][b]);
        }
    CHECK(pairs == 6, "pairs");
    CHECK(removed[1] == 0, "the first conv was removed");
    for (int k = 2; k <= 7; k++) CHECK(abs(removed[k] - 1000) < 120, "layer %d removed %d times of 6000", k, removed[k]);
    net_free(&parent);
}
