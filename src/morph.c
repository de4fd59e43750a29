/* morph.c - network morphisms; see morph.h. */
#include "morph.h"
#include "kernels.h"
#include "tensor.h"
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[OP_COUNT] = {"insert_block", "add_conv", "add_skip", "remove_layer"};

const char *morph_name(morph_op_t op) { return op >= 0 && op < OP_COUNT ? op_names[op] : "?"; }

int morph_by_name(const char *name)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (strcmp(name, op_names[i]) == 0) return i;
    return -1;
}

void morph_inherit(net_t *child, const net_t *parent)
{
    for (int i = 0; i < child->n_nodes; i++) {
        node_t *c = &child->nodes[i];
        for (int j = 0; j < parent->n_nodes; j++) {
            const node_t *p = &parent->nodes[j];
            if (p->uid != c->uid) continue;
            size_t np = node_param_size(child, c), ns = node_state_size(child, c);
            if (np == node_param_size(parent, p) && p->kind == c->kind) {
                memcpy(child->params + c->p_off, parent->params + p->p_off, np * sizeof(float));
                memcpy(child->state + c->s_off, parent->state + p->s_off, ns * sizeof(float));
            }
            break;
        }
    }
    size_t dense = (size_t)IMG_PIXELS * child->filters * N_CLASSES + N_CLASSES;
    memcpy(child->params + child->dense_off, parent->params + parent->dense_off, dense * sizeof(float));
}

/* Copy of the parent's node list with room for `extra` more nodes. */
static node_t *copy_nodes(const net_t *parent, int extra)
{
    node_t *n = malloc(sizeof *n * (size_t)(parent->n_nodes + extra));
    if (n) memcpy(n, parent->nodes, sizeof *n * (size_t)parent->n_nodes);
    return n;
}

/* Insert `k` new nodes at position `at` (they take indices at..at+k-1),
 * shifting later nodes and fixing every input index that pointed at or past
 * `at`. The new nodes' fields are left to the caller. */
static void open_gap(node_t *nodes, int n, int at, int k)
{
    memmove(nodes + at + k, nodes + at, sizeof *nodes * (size_t)(n - at));
    for (int i = at + k; i < n + k; i++)
        for (int s = 0; s < 2; s++)
            if (nodes[i].in[s] >= at) nodes[i].in[s] += k;
    /* The layer that followed the gap now consumes the last new node. */
    if (at < n) nodes[at + k].in[0] = at + k - 1;
}

static int place_of_kind(const net_t *net, node_kind_t kind, int from, rng_t *rng, int *count)
{
    int c = 0;
    for (int i = from; i < net->n_nodes; i++) c += net->nodes[i].kind == kind;
    *count = c;
    if (!c) return -1;
    int pick = (int)rng_below(rng, (uint64_t)c);
    for (int i = from; i < net->n_nodes; i++)
        if (net->nodes[i].kind == kind && pick-- == 0) return i;
    return -1;
}

static void set_identity_conv(net_t *net, int i)
{
    const int F = net->filters;
    float *w = net->params + net->nodes[i].p_off;
    memset(w, 0, node_param_size(net, &net->nodes[i]) * sizeof(float));
    for (int c = 0; c < F; c++) w[(size_t)(4 * F + c) * F + c] = 1.0f;  /* centre tap (1,1), c -> c */
}

/* Finish a child: lay out its arrays, inherit, validate. */
static int assemble_child(net_t *child, const net_t *parent, node_t *nodes, int n, int next_uid, err_t *err)
{
    memset(child, 0, sizeof *child);
    if (net_assemble(child, parent->filters, nodes, n, next_uid, err)) {
        net_free(child);
        return -1;
    }
    morph_inherit(child, parent);
    return 0;
}

static int insert_block(net_t *child, const net_t *parent, rng_t *rng, const morph_calib_t *calib, err_t *err)
{
    int count, r = place_of_kind(parent, NODE_RELU, 1, rng, &count);
    if (r < 0) return err_set(err, "insert_block: the network has no ReLU to insert after"), 1;
    if (parent->n_nodes + 3 > NET_MAX_NODES)
        return err_set(err, "insert_block: the network already has the maximum of %d nodes", NET_MAX_NODES), 1;
    const int F = parent->filters, u = parent->next_uid;
    node_t *nodes = copy_nodes(parent, 3);
    if (!nodes) return err_set(err, "out of memory");
    open_gap(nodes, parent->n_nodes, r + 1, 3);
    nodes[r + 1] = (node_t){.kind = NODE_CONV, .in = {r, -1}, .channels = F, .uid = u};
    nodes[r + 2] = (node_t){.kind = NODE_BN, .in = {r + 1, -1}, .channels = F, .uid = u + 1};
    nodes[r + 3] = (node_t){.kind = NODE_RELU, .in = {r + 2, -1}, .channels = F, .uid = u + 2};
    if (assemble_child(child, parent, nodes, parent->n_nodes + 3, u + 3, err)) return -1;
    set_identity_conv(child, r + 1);

    /* The new BN sees the ReLU's output (the identity conv passes it on).
     * Measure its per-channel mean and variance on the calibration images
     * with the parent in inference mode, and set gamma = sqrt(var + eps),
     * beta = mean and the moving statistics to (mean, var): then
     * gamma * (x - mean) / sqrt(var + eps) + beta = x. */
    const node_t *bn = &child->nodes[r + 2];
    float *gamma = child->params + bn->p_off, *beta = gamma + F;
    float *rmean = child->state + bn->s_off, *rvar = rmean + F;
    double *s = calloc((size_t)F * 4, sizeof(double));  /* sums, sums of squares, one batch's of each */
    if (!s) { net_free(child); return err_set(err, "out of memory"); }
    long rows = 0;
    if (calib && calib->n > 0) {
        const int B = 64;
        trainer_t *t = trainer_create((net_t *)parent, B, calib->pool, NULL, hyper_default(), err);
        if (!t) { free(s); net_free(child); return -1; }
        for (int b = 0; b < calib->n; b += B) {
            int n = calib->n - b < B ? calib->n - b : B;
            trainer_forward(t, calib->x + (size_t)b * IMG_PIXELS, NULL, n, 0, NULL);
            /* the same per-channel sums a training-mode BN takes */
            kernels_ref.bn_stats(s + 2 * F, s + 3 * F, trainer_activation(t, r), n * IMG_PIXELS, F);
            for (int c = 0; c < 2 * F; c++) s[c] += s[2 * F + c];
            rows += (long)n * IMG_PIXELS;
        }
        trainer_destroy(t);
    }
    const float eps = hyper_default().bn_eps;
    for (int c = 0; c < F; c++) {
        double mean = rows ? s[c] / rows : 0.0, var = rows ? s[F + c] / rows - mean * mean : 1.0;
        if (var < 0) var = 0;
        rmean[c] = (float)mean;
        rvar[c] = (float)var;
        gamma[c] = sqrtf((float)var + eps);
        beta[c] = (float)mean;
    }
    free(s);
    return 0;
}

static int add_conv(net_t *child, const net_t *parent, rng_t *rng, err_t *err)
{
    int count, c = place_of_kind(parent, NODE_CONV, 1, rng, &count);
    if (c < 0) return err_set(err, "add_conv: the network has no conv"), 1;
    if (parent->n_nodes + 1 > NET_MAX_NODES)
        return err_set(err, "add_conv: the network already has the maximum of %d nodes", NET_MAX_NODES), 1;
    node_t *nodes = copy_nodes(parent, 1);
    if (!nodes) return err_set(err, "out of memory");
    open_gap(nodes, parent->n_nodes, c + 1, 1);
    nodes[c + 1] = (node_t){.kind = NODE_CONV, .in = {c, -1}, .channels = parent->filters, .uid = parent->next_uid};
    if (assemble_child(child, parent, nodes, parent->n_nodes + 1, parent->next_uid + 1, err)) return -1;
    set_identity_conv(child, c + 1);
    return 0;
}

static int add_skip(net_t *child, const net_t *parent, rng_t *rng, err_t *err)
{
    int relu[NET_MAX_NODES], nr = 0;
    for (int i = 1; i < parent->n_nodes; i++)
        if (parent->nodes[i].kind == NODE_RELU) relu[nr++] = i;
    if (nr < 2)
        return err_set(err, "add_skip: needs two ReLUs, the network has %d", nr), 1;
    if (parent->n_nodes + 1 > NET_MAX_NODES)
        return err_set(err, "add_skip: the network already has the maximum of %d nodes", NET_MAX_NODES), 1;
    /* Uniform over the nr*(nr-1)/2 ordered pairs (earlier, later). */
    long pick = (long)rng_below(rng, (uint64_t)nr * (nr - 1) / 2);
    int a = 0, b = 1;
    for (a = 0; a < nr - 1; a++) {
        if (pick < nr - 1 - a) { b = a + 1 + (int)pick; break; }
        pick -= nr - 1 - a;
    }
    int src = relu[a], dst = relu[b];
    node_t *nodes = copy_nodes(parent, 1);
    if (!nodes) return err_set(err, "out of memory");
    open_gap(nodes, parent->n_nodes, dst + 1, 1);
    nodes[dst + 1] = (node_t){.kind = NODE_ADD, .in = {dst, src}, .channels = parent->filters,
                              .uid = parent->next_uid};
    /* The new scale block is zero from net_assemble: the add starts as
     * the identity on its main input. */
    return assemble_child(child, parent, nodes, parent->n_nodes + 1, parent->next_uid + 1, err);
}

static int remove_layer(net_t *child, const net_t *parent, rng_t *rng, err_t *err)
{
    const int n = parent->n_nodes;
    if (n <= 2) return err_set(err, "remove_layer: only the first conv is left, which cannot be removed"), 1;
    int x = 2 + (int)rng_below(rng, (uint64_t)(n - 2));
    uint8_t gone[NET_MAX_NODES] = {0};
    gone[x] = 1;
    for (int i = x + 1; i < n; i++)
        if (parent->nodes[i].kind == NODE_ADD && parent->nodes[i].in[1] == x) gone[i] = 1;
    int map[NET_MAX_NODES], k = 0;
    node_t *nodes = malloc(sizeof *nodes * (size_t)n);
    if (!nodes) return err_set(err, "out of memory");
    for (int i = 0; i < n; i++) {
        if (gone[i]) { map[i] = -1; continue; }
        map[i] = k;
        nodes[k] = parent->nodes[i];
        if (i > 0) {
            nodes[k].in[0] = k - 1;  /* the chain closes over removed nodes */
            if (nodes[k].kind == NODE_ADD) nodes[k].in[1] = map[parent->nodes[i].in[1]];
        }
        k++;
    }
    return assemble_child(child, parent, nodes, k, parent->next_uid, err);
}

int morph_apply(net_t *child, const net_t *parent, morph_op_t op, rng_t *rng, const morph_calib_t *calib,
                err_t *err)
{
    switch (op) {
    case OP_INSERT_BLOCK: return insert_block(child, parent, rng, calib, err);
    case OP_ADD_CONV:     return add_conv(child, parent, rng, err);
    case OP_ADD_SKIP:     return add_skip(child, parent, rng, err);
    case OP_REMOVE_LAYER: return remove_layer(child, parent, rng, err);
    default:              return err_set(err, "unknown operator %d", (int)op);
    }
}
