/* test_cluster.c - the messages between MPI ranks: every kind round-trips
 * bit-exact, and truncated, corrupted, extended or mislabelled messages
 * are rejected with an error. No MPI needed. */
#include "cluster.h"
#include "net.h"
#include "rng.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int random_member(member_t *m, const char *id, uint64_t seed)
{
    err_t err;
    memset(m, 0, sizeof *m);
    if (!CHECK(net_from_arch(&m->net, 6, "conv,bn,relu,conv,relu,add(3),bn", &err) == 0, "%s", err.msg)) return -1;
    snprintf(m->id, sizeof m->id, "%s", id);
    rng_t r;
    rng_seed(&r, seed, 0, 0);
    for (size_t i = 0; i < m->net.n_params; i++) m->net.params[i] = (float)(rng_uniform(&r) - 0.5);
    for (size_t i = 0; i < m->net.n_state; i++) m->net.state[i] = (float)(rng_uniform(&r) + 0.1);
    return 0;
}

static int same_weights(const net_t *a, const net_t *b)
{
    return a->n_params == b->n_params && a->n_state == b->n_state &&
           memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0 &&
           memcmp(a->state, b->state, a->n_state * sizeof(float)) == 0;
}

/* Every way of damaging buf must make decode fail with a message. */
typedef int (*decode_fn)(const uint8_t *buf, size_t len, void *ctx, err_t *err);

static void expect_rejects(const char *what, const uint8_t *buf, size_t len, decode_fn decode, void *ctx)
{
    err_t err;
    uint8_t *b = malloc(len + 16);
    memcpy(b, buf, len);
    /* every truncation (all of the short ones, then a stride) */
    int bad = 0;
    for (size_t n = 0; n < len; n += n < 64 ? 1 : 1 + len / 97) {
        err.msg[0] = '\0';
        if (decode(b, n, ctx, &err) == 0 || !err.msg[0]) bad++;
    }
    CHECK(bad == 0, "%s: %d truncations accepted", what, bad);
    /* a flipped bit anywhere */
    bad = 0;
    for (size_t i = 0; i < len; i += 1 + len / 61) {
        b[i] ^= 0x10;
        if (decode(b, len, ctx, &err) == 0) bad++;
        b[i] ^= 0x10;
    }
    CHECK(bad == 0, "%s: %d corruptions accepted", what, bad);
    /* trailing bytes */
    memset(b + len, 0, 16);
    err.msg[0] = '\0';
    CHECK(decode(b, len + 8, ctx, &err) != 0 && strstr(err.msg, "trailing"), "%s: trailing data: '%s'", what, err.msg);
    err.msg[0] = '\0';
    CHECK(decode(b, len - 1, ctx, &err) != 0 && strstr(err.msg, "truncated"), "%s: truncated: '%s'", what, err.msg);
    free(b);
}

static int dec_setup(const uint8_t *buf, size_t len, void *ctx, err_t *err)
{
    (void)ctx;
    cluster_setup_t s;
    return cluster_setup_decode(buf, len, &s, err);
}

static int dec_task(const uint8_t *buf, size_t len, void *ctx, err_t *err)
{
    (void)ctx;
    cluster_task_t t;
    member_t m;
    int rc = cluster_task_decode(buf, len, &t, &m, err);
    if (rc == 0) net_free(&m.net);
    return rc;
}

static int dec_result(const uint8_t *buf, size_t len, void *ctx, err_t *err)
{
    cluster_result_t r;
    return cluster_result_decode(buf, len, &r, ctx, err);
}

TEST(cluster_setup_roundtrip)
{
    err_t err;
    cluster_setup_t s = {.batch = 64, .train_limit = 300, .val_limit = 0, .lr = 1e-3 / 3, .seed = 0xfedcba9876543210ULL};
    snprintf(s.data_dir, sizeof s.data_dir, "/some/where/fashion-mnist");
    snprintf(s.kernels, sizeof s.kernels, "avx512");
    uint8_t *buf;
    size_t len;
    if (!CHECK(cluster_setup_encode(&s, &buf, &len, &err) == 0, "%s", err.msg)) return;
    cluster_setup_t back;
    memset(&back, 0xff, sizeof back);
    CHECK(cluster_setup_decode(buf, len, &back, &err) == 0, "%s", err.msg);
    CHECK(back.batch == 64 && back.train_limit == 300 && back.val_limit == 0 && back.seed == s.seed,
          "ints differ");
    CHECK(memcmp(&back.lr, &s.lr, sizeof s.lr) == 0, "lr %.17g != %.17g", back.lr, s.lr);
    CHECK(strcmp(back.data_dir, s.data_dir) == 0, "data_dir '%s'", back.data_dir);
    CHECK(strcmp(back.kernels, "avx512") == 0, "kernels '%s'", back.kernels);
    expect_rejects("setup", buf, len, dec_setup, NULL);
    /* another kind of message is not a setup */
    member_t tmp;
    cluster_result_t r;
    CHECK(cluster_result_decode(buf, len, &r, &tmp, &err) != 0 && strstr(err.msg, "expected a result"), "'%s'",
          err.msg);
    free(buf);
}

TEST(cluster_task_roundtrip)
{
    err_t err;
    member_t m, back;
    if (random_member(&m, "g7_c12", 3)) return;
    cluster_task_t t = {.slot = 5, .gen = 7, .index = 12, .epochs = 3}, bt;
    uint8_t *buf;
    size_t len;
    if (!CHECK(cluster_task_encode(&t, &m, &buf, &len, &err) == 0, "%s", err.msg)) return;
    if (CHECK(cluster_task_decode(buf, len, &bt, &back, &err) == 0, "%s", err.msg)) {
        CHECK(bt.slot == 5 && bt.gen == 7 && bt.index == 12 && bt.epochs == 3, "task fields differ");
        CHECK(strcmp(bt.id, "g7_c12") == 0 && strcmp(back.id, "g7_c12") == 0, "id '%s' '%s'", bt.id, back.id);
        CHECK(back.net.n_nodes == m.net.n_nodes && back.net.next_uid == m.net.next_uid &&
              back.net.filters == m.net.filters, "structure differs");
        for (int i = 0; i < m.net.n_nodes; i++)
            CHECK(back.net.nodes[i].kind == m.net.nodes[i].kind && back.net.nodes[i].uid == m.net.nodes[i].uid &&
                  back.net.nodes[i].in[0] == m.net.nodes[i].in[0] && back.net.nodes[i].in[1] == m.net.nodes[i].in[1],
                  "node %d differs", i);
        CHECK(same_weights(&m.net, &back.net), "weights differ");
        net_free(&back.net);
    }
    expect_rejects("task", buf, len, dec_task, NULL);
    free(buf);
    net_free(&m.net);
}

TEST(cluster_result_roundtrip)
{
    err_t err;
    member_t trained, got;
    if (random_member(&trained, "g2_c0", 4) || random_member(&got, "g2_c0", 5)) return;
    trained.trained = 1;
    trained.epochs = 4;
    trained.best_epoch = 3;
    trained.val_loss = 0.1 + 0.2;
    trained.val_acc = 2.0 / 3;
    trained.seconds = 12.345678901234567;
    trained.img_per_s = 1e6 / 7;
    cluster_result_t r = {.slot = 9, .status = SEARCH_OK}, br;
    uint8_t *buf;
    size_t len;
    if (!CHECK(cluster_result_encode(&r, &trained, &buf, &len, &err) == 0, "%s", err.msg)) return;
    cluster_result_t peek;
    CHECK(cluster_result_peek(buf, len, &peek, &err) == 0 && peek.slot == 9 && peek.status == SEARCH_OK, "peek");
    /* damaged copies must leave the member as it was */
    member_t before;
    if (random_member(&before, "g2_c0", 5)) return;
    expect_rejects("result", buf, len, dec_result, &got);
    CHECK(same_weights(&got.net, &before.net) && !got.trained, "a rejected result changed the member");
    if (CHECK(cluster_result_decode(buf, len, &br, &got, &err) == 0, "%s", err.msg)) {
        CHECK(br.slot == 9 && br.status == SEARCH_OK, "slot/status");
        CHECK(got.trained == 1 && got.epochs == 4 && got.best_epoch == 3 && got.diverged == 0, "ints differ");
        CHECK(memcmp(&got.val_loss, &trained.val_loss, 8) == 0 && memcmp(&got.val_acc, &trained.val_acc, 8) == 0 &&
              memcmp(&got.seconds, &trained.seconds, 8) == 0 && memcmp(&got.img_per_s, &trained.img_per_s, 8) == 0,
              "doubles not bit-exact");
        CHECK(same_weights(&got.net, &trained.net), "weights differ");
        CHECK(strcmp(got.id, "g2_c0") == 0, "id '%s'", got.id);
    }
    free(buf);
    /* a diverged network: NaN survives */
    trained.diverged = 1;
    trained.val_loss = NAN;
    trained.val_acc = 0;
    if (CHECK(cluster_result_encode(&r, &trained, &buf, &len, &err) == 0, "%s", err.msg)) {
        CHECK(cluster_result_decode(buf, len, &br, &got, &err) == 0 && got.diverged && isnan(got.val_loss),
              "diverged lost: %s", err.msg);
        free(buf);
    }
    /* a failure carries its message and no weights */
    cluster_result_t f = {.slot = 2, .status = SEARCH_FAILED};
    snprintf(f.error, sizeof f.error, "g2_c0: out of memory");
    if (CHECK(cluster_result_encode(&f, &trained, &buf, &len, &err) == 0, "%s", err.msg)) {
        CHECK(cluster_result_decode(buf, len, &br, &got, &err) == 0 && br.status == SEARCH_FAILED &&
              strcmp(br.error, "g2_c0: out of memory") == 0, "failure lost: '%s'", br.error);
        free(buf);
    }
    /* weights of another architecture are rejected */
    member_t other;
    memset(&other, 0, sizeof other);
    if (CHECK(net_from_arch(&other.net, 3, "conv,bn,relu", &err) == 0, "%s", err.msg)) {
        trained.diverged = 0;
        if (CHECK(cluster_result_encode(&r, &trained, &buf, &len, &err) == 0, "%s", err.msg)) {
            CHECK(cluster_result_decode(buf, len, &br, &other, &err) != 0, "wrong architecture accepted");
            free(buf);
        }
        net_free(&other.net);
    }
    net_free(&before.net);
    net_free(&trained.net);
    net_free(&got.net);
}
