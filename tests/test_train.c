/* test_train.c - end-to-end training on the fixture. */
#include "dataset.h"
#include "net.h"
#include "pool.h"
#include "test.h"
#include "train.h"

#include <string.h>

TEST(train_fixture_loss_decreases)
{
    dataset_t ds;
    err_t err;
    if (!CHECK(dataset_load(&ds, "data/fixture", 0, 0, 0, &err) == 0, "%s", err.msg)) return;
    net_t net;
    net_initial(&net, 8, &err);
    rng_t r;
    rng_seed(&r, 7, 0, 0);
    net_init_weights(&net, &r);
    pool_t *pool = pool_create(2, &err);
    trainer_t *t = trainer_create(&net, 64, pool, NULL, hyper_default(), &err);
    epoch_stats_t before, st[3], after;
    evaluate(t, &ds.val, &before);
    for (int e = 0; e < 3; e++) train_epoch(t, &ds.train, &r, &st[e], NULL, NULL);
    evaluate(t, &ds.val, &after);
    CHECK(st[1].loss < st[0].loss && st[2].loss < st[1].loss, "train loss %.4f %.4f %.4f",
          st[0].loss, st[1].loss, st[2].loss);
    CHECK(after.loss < before.loss, "val loss %.4f -> %.4f", before.loss, after.loss);
    CHECK(st[2].acc > 0.75, "train accuracy after 3 epochs %.3f", st[2].acc);
    trainer_destroy(t);
    pool_destroy(pool);
    net_free(&net);
    dataset_free(&ds);
}

/* Same seed, 1 vs 2 threads: bit-identical weights and statistics after
 * several steps (batch 60 leaves a partial chunk). */
TEST(train_threads_bit_identical)
{
    dataset_t ds;
    err_t err;
    if (!CHECK(dataset_load(&ds, "data/fixture", 600, 10, 0, &err) == 0, "%s", err.msg)) return;
    net_t nets[2];
    for (int k = 0; k < 2; k++) {
        net_from_arch(&nets[k], 5, "conv,bn,relu,conv,relu,add(3),bn", &err);
        rng_t r;
        rng_seed(&r, 3, 0, 0);
        net_init_weights(&nets[k], &r);
        for (int i = 1; i < nets[k].n_nodes; i++)  /* a live skip path */
            if (nets[k].nodes[i].kind == NODE_ADD)
                for (int c = 0; c < 5; c++) nets[k].params[nets[k].nodes[i].p_off + c] = 0.5f;
        pool_t *pool = pool_create(k + 1, &err);
        trainer_t *t = trainer_create(&nets[k], 60, pool, NULL, hyper_default(), &err);
        epoch_stats_t st;
        train_epoch(t, &ds.train, &r, &st, NULL, NULL);
        trainer_destroy(t);
        pool_destroy(pool);
    }
    CHECK(memcmp(nets[0].params, nets[1].params, nets[0].n_params * sizeof(float)) == 0,
          "params differ between 1 and 2 threads");
    CHECK(memcmp(nets[0].state, nets[1].state, nets[0].n_state * sizeof(float)) == 0,
          "BN statistics differ between 1 and 2 threads");
    net_free(&nets[0]);
    net_free(&nets[1]);
    dataset_free(&ds);
}

/* Every kernel table, vector-friendly channel counts (16: whole vectors,
 * fused BN+ReLU, a skip add), 1, 2 and 3 threads (3 splits the chunks
 * unevenly), batch 60 (a partial chunk): bit-identical after two steps. */
TEST(train_threads_bit_identical_every_table)
{
    dataset_t ds;
    err_t err;
    if (!CHECK(dataset_load(&ds, "data/fixture", 120, 10, 0, &err) == 0, "%s", err.msg)) return;
    const kernels_t *ks[8];
    int nk = kernels_available(ks, 8);
    for (int ki = 0; ki < nk; ki++) {
        net_t nets[3];
        for (int k = 0; k < 3; k++) {
            net_from_arch(&nets[k], 16, "conv,bn,relu,conv,bn,relu,add(3),conv,relu", &err);
            rng_t r;
            rng_seed(&r, 9, 0, 0);
            net_init_weights(&nets[k], &r);
            for (int i = 1; i < nets[k].n_nodes; i++)
                if (nets[k].nodes[i].kind == NODE_ADD)
                    for (int c = 0; c < 16; c++) nets[k].params[nets[k].nodes[i].p_off + c] = 0.5f;
            pool_t *pool = pool_create(k + 1, &err);
            trainer_t *t = trainer_create(&nets[k], 60, pool, ks[ki], hyper_default(), &err);
            epoch_stats_t st;
            train_epoch(t, &ds.train, &r, &st, NULL, NULL);
            trainer_destroy(t);
            pool_destroy(pool);
        }
        for (int k = 1; k < 3; k++) {
            CHECK(memcmp(nets[0].params, nets[k].params, nets[0].n_params * sizeof(float)) == 0,
                  "[%s] params differ between 1 and %d threads", ks[ki]->name, k + 1);
            CHECK(memcmp(nets[0].state, nets[k].state, nets[0].n_state * sizeof(float)) == 0,
                  "[%s] BN statistics differ between 1 and %d threads", ks[ki]->name, k + 1);
        }
        for (int k = 0; k < 3; k++) net_free(&nets[k]);
    }
    dataset_free(&ds);
}
