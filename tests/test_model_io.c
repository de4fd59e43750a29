/* test_model_io.c - model files: round trip with bit-identical logits, and
 * every kind of corruption giving an error that names the file. */
#include "model_io.h"
#include "net.h"
#include "pool.h"
#include "tensor.h"
#include "test.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

static void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", test_tmpdir(), name);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static size_t read_bytes(const char *path, unsigned char *b, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = fread(b, 1, cap, f);
    fclose(f);
    return n;
}

static void expect_load_error(const char *path, const char *want, const char *names)
{
    net_t net;
    err_t err = {{0}};
    CHECK(model_load(&net, NULL, 0, path, &err) != 0, "%s loaded, expected '%s'", path, want);
    CHECK(strstr(err.msg, want) != NULL, "error '%s' lacks '%s'", err.msg, want);
    CHECK(strstr(err.msg, names) != NULL, "error '%s' does not name %s", err.msg, names);
}

TEST(model_roundtrip_bit_identical)
{
    err_t err;
    net_t net, back;
    CHECK(net_from_arch(&net, 5, "conv,bn,relu,conv,relu,add(3),bn", &err) == 0, "%s", err.msg);
    rng_t r;
    rng_seed(&r, 2, 0, 0);
    for (size_t i = 0; i < net.n_params; i++) net.params[i] = (float)(rng_uniform(&r) - 0.5);
    for (size_t i = 0; i < net.n_state; i++) net.state[i] = (float)(rng_uniform(&r) + 0.1);
    char path[512];
    tmp_path(path, sizeof path, "rt.json");
    CHECK(model_save(&net, "g1_c2", path, &err) == 0, "%s", err.msg);
    char id[64];
    if (!CHECK(model_load(&back, id, sizeof id, path, &err) == 0, "%s", err.msg)) return;
    CHECK(strcmp(id, "g1_c2") == 0, "id '%s'", id);
    CHECK(back.n_nodes == net.n_nodes && back.next_uid == net.next_uid, "structure differs");
    for (int i = 0; i < net.n_nodes; i++)
        CHECK(back.nodes[i].kind == net.nodes[i].kind && back.nodes[i].uid == net.nodes[i].uid &&
              back.nodes[i].in[0] == net.nodes[i].in[0] && back.nodes[i].in[1] == net.nodes[i].in[1],
              "node %d differs", i);
    CHECK(memcmp(back.params, net.params, net.n_params * 4) == 0, "params differ");
    CHECK(memcmp(back.state, net.state, net.n_state * 4) == 0, "state differs");
    float x[3 * 784];
    for (int i = 0; i < 3 * 784; i++) x[i] = (float)rng_uniform(&r);
    pool_t *pool = pool_create(1, &err);
    trainer_t *ta = trainer_create(&net, 3, pool, NULL, hyper_default(), &err);
    trainer_t *tb = trainer_create(&back, 3, pool, NULL, hyper_default(), &err);
    float la[30];
    memcpy(la, trainer_forward(ta, x, NULL, 3, 0, NULL), sizeof la);
    CHECK(memcmp(la, trainer_forward(tb, x, NULL, 3, 0, NULL), sizeof la) == 0, "logits differ after reload");
    trainer_destroy(ta);
    trainer_destroy(tb);
    pool_destroy(pool);
    net_free(&back);
    net_free(&net);
}

TEST(model_corruptions)
{
    err_t err;
    net_t net, other;
    net_from_arch(&net, 3, "conv,bn,relu", &err);
    net_from_arch(&other, 4, "conv,relu", &err);
    char path[512], bin[512], p2[512], bin2[512];
    tmp_path(path, sizeof path, "c.json");
    tmp_path(bin, sizeof bin, "c.bin");
    tmp_path(p2, sizeof p2, "other.json");
    tmp_path(bin2, sizeof bin2, "other.bin");
    model_save(&net, "a", path, &err);
    model_save(&other, "b", p2, &err);
    static unsigned char good[1 << 20], buf[1 << 20];
    size_t n = read_bytes(bin, good, sizeof good);

    write_bytes(bin, good, n - 10);
    expect_load_error(path, "truncated", "c.bin");
    memcpy(buf, good, n);
    buf[n / 2] ^= 0x40;
    write_bytes(bin, buf, n);
    expect_load_error(path, "CRC-32 mismatch", "c.bin");
    memcpy(buf, good, n);
    buf[0] = 'X';
    write_bytes(bin, buf, n);
    expect_load_error(path, "bad magic", "c.bin");
    write_bytes(bin, good, 12);
    expect_load_error(path, "truncated weights file", "c.bin");
    unsigned char ob[1 << 20];
    size_t on = read_bytes(bin2, ob, sizeof ob);
    write_bytes(bin, ob, on);                      /* weights of another model */
    expect_load_error(path, "architecture needs", "c.bin");
    remove(bin);
    expect_load_error(path, "cannot open", "c.bin");
    write_bytes(bin, good, n);

    char jp[512];
    tmp_path(jp, sizeof jp, "j.json");
    write_bytes(jp, "{\"format\": \"lemonade-model\", \"version\": 1", 40);
    expect_load_error(jp, "not valid JSON", "j.json");
    const char *no_nodes = "{\"format\":\"lemonade-model\",\"version\":1,\"filters\":3,\"next_uid\":4}";
    write_bytes(jp, no_nodes, strlen(no_nodes));
    expect_load_error(jp, "\"nodes\" must be an array", "j.json");
    const char *bad_in = "{\"format\":\"lemonade-model\",\"version\":1,\"filters\":3,\"next_uid\":4,\"nodes\":["
                         "{\"name\":\"input\",\"type\":\"input\",\"uid\":0,\"inputs\":[]},"
                         "{\"name\":\"c\",\"type\":\"conv\",\"uid\":1,\"inputs\":[\"zzz\"]}],\"weights\":\"c.bin\"}";
    write_bytes(jp, bad_in, strlen(bad_in));
    expect_load_error(jp, "not an earlier node", "j.json");
    const char *bad_graph = "{\"format\":\"lemonade-model\",\"version\":1,\"filters\":3,\"next_uid\":4,\"nodes\":["
                            "{\"name\":\"input\",\"type\":\"input\",\"uid\":0,\"inputs\":[]},"
                            "{\"name\":\"r\",\"type\":\"relu\",\"uid\":1,\"inputs\":[\"input\"]}],\"weights\":\"c.bin\"}";
    write_bytes(jp, bad_graph, strlen(bad_graph));
    expect_load_error(jp, "first layer must be a conv", "j.json");
    const char *not_model = "{\"hello\": 1}";
    write_bytes(jp, not_model, strlen(not_model));
    expect_load_error(jp, "not a lemonade model", "j.json");
    net_free(&net);
    net_free(&other);
}
