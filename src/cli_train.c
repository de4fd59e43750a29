/* cli_train.c - `lemonade train`: train one network and report per epoch. */
#include "cli.h"
#include "cli_args.h"
#include "dataset.h"
#include "model_io.h"
#include "net.h"
#include "pool.h"
#include "train.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char train_help[] =
    "usage: lemonade train [options]\n"
    "\n"
    "Train one network on Fashion-MNIST and print loss and accuracy per epoch,\n"
    "then on the test set. Without --arch the network is the search's initial\n"
    "one: Conv(F,3x3,same)-BN-ReLU-Flatten-Dense(10)-Softmax.\n"
    "\n"
    "options:\n"
    "  --filters F       conv filters (default 16)\n"
    "  --arch LIST       layers between input and flatten, e.g. conv,bn,relu,conv,relu\n"
    "                    (conv, bn, relu, add(I) = skip from layer I; first must be conv)\n"
    "  --epochs N        epochs (default 5); 0 with --model only evaluates it,\n"
    "                    printing val_loss and test_loss at full precision\n"
    "  --batch N         batch size (default 64)\n"
    "  --lr X            Adam learning rate (default 0.001)\n"
    "  --seed N          seed for initialisation and shuffling (default 1)\n"
    "  --data DIR        Fashion-MNIST directory (default: $LEMONADE_DATA,\n"
    "                    data/fashion-mnist, /usr/share/datasets/fashion-mnist)\n"
    "  --train-limit N   use only the first N training images\n"
    "  --val-limit N     use only the first N validation images\n"
    "  --threads N       threads (default: all cores)\n"
    "  --model FILE      start from a saved model (MODEL.json) instead of new weights\n"
    "  --save FILE       save the trained model to FILE (must end in .json)\n"
    "\n"
    "example:\n"
    "  lemonade train --filters 16 --epochs 1\n";

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_train(int argc, char **argv, int first)
{
    int filters = 16, epochs = 5, batch = 64, threads = 0, train_limit = 0, val_limit = 0, help = 0;
    long long seed = 1;
    double lr = 1e-3;
    const char *arch = NULL, *data = NULL, *model = NULL, *save = NULL;
    opt_t opts[] = {
        {"filters", OPT_INT, &filters, 1, NET_MAX_FILTERS, 0},
        {"arch", OPT_STRING, &arch, 0, 0, 0},
        {"epochs", OPT_INT, &epochs, 0, 100000, 0},
        {"batch", OPT_INT, &batch, 1, 65536, 0},
        {"lr", OPT_DOUBLE, &lr, 1e-12, 1e3, 0},
        {"seed", OPT_LONG, &seed, 0, 9.2e18, 0},
        {"data", OPT_STRING, &data, 0, 0, 0},
        {"train-limit", OPT_INT, &train_limit, 1, 1e9, 0},
        {"val-limit", OPT_INT, &val_limit, 1, 1e9, 0},
        {"threads", OPT_INT, &threads, 1, 1024, 0},
        {"model", OPT_STRING, &model, 0, 0, 0},
        {"save", OPT_STRING, &save, 0, 0, 0},
        {"help", OPT_FLAG, &help, 0, 0, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    err_t err;
    if (cli_parse(argc, argv, first, opts, NULL, 0, NULL, &err)) return usage_error("train", &err);
    if (help) { fputs(train_help, stdout); return 0; }

    if (model && (arch || cli_opt(opts, "filters")->seen)) {
        err_set(&err, "--model cannot be combined with --arch or --filters");
        return usage_error("train", &err);
    }
    net_t net;
    if (model) {
        if (model_load(&net, NULL, 0, model, &err)) return run_error("train", &err);
        filters = net.filters;
    } else if (net_from_arch(&net, filters, arch ? arch : "conv,bn,relu", &err)) {
        return usage_error("train", &err);
    }

    char dir[4096];
    dataset_t ds;
    if (dataset_find_dir(data, dir, sizeof dir, &err) ||
        dataset_load(&ds, dir, train_limit, val_limit, 1, &err)) {
        net_free(&net);
        return run_error("train", &err);
    }
    fprintf(stderr, "data: %s (train %d, val %d, test %d images)\n", dir, ds.train.n, ds.val.n, ds.test.n);

    rng_t rng;
    rng_seed(&rng, (uint64_t)seed, 0, 0);
    if (!model) net_init_weights(&net, &rng);
    pool_t *pool = pool_create(threads ? threads : cpu_count(), &err);
    hyper_t hp = hyper_default();
    hp.lr = (float)lr;
    trainer_t *tr = pool ? trainer_create(&net, batch, pool, NULL, hp, &err) : NULL;
    if (!tr) {
        pool_destroy(pool);
        net_free(&net);
        dataset_free(&ds);
        return run_error("train", &err);
    }
    param_count_t pc = net_param_count(&net);
    fprintf(stderr, "model: F=%d, %lld params, %d threads\n", filters, pc.total, pool_threads(pool));

    int rc = 0;
    for (int e = 1; e <= epochs; e++) {
        double t0 = seconds_now();
        epoch_stats_t tr_st, va_st;
        if (train_epoch(tr, &ds.train, &rng, &tr_st, NULL, NULL) < 0) {
            err_set(&err, "out of memory");
            rc = run_error("train", &err);
            break;
        }
        double dt = seconds_now() - t0;
        evaluate(tr, &ds.val, &va_st);
        printf("epoch %d/%d  loss %.4f acc %.4f  val_loss %.4f val_acc %.4f  %.1f s  %.0f img/s\n", e, epochs,
               tr_st.loss, tr_st.acc, va_st.loss, va_st.acc, dt, tr_st.images / dt);
        fflush(stdout);
    }
    if (rc == 0 && epochs == 0) {
        epoch_stats_t va;
        evaluate(tr, &ds.val, &va);
        printf("val_loss %.17g val_acc %.17g\n", va.loss, va.acc);
    }
    if (rc == 0) {
        epoch_stats_t te;
        evaluate(tr, &ds.test, &te);
        printf(epochs ? "test_loss %.4f test_acc %.4f\n" : "test_loss %.17g test_acc %.17g\n", te.loss, te.acc);
        if (save && model_save(&net, "trained", save, &err)) rc = run_error("train", &err);
        else if (save) fprintf(stderr, "saved %s\n", save);
    }
    trainer_destroy(tr);
    pool_destroy(pool);
    net_free(&net);
    dataset_free(&ds);
    return rc;
}
