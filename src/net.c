/* net.c - network graph, parameter layout and counts; see net.h. */
#include "net.h"
#include "tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int node_in_channels(const net_t *net, const node_t *nd)
{
    if (nd->kind == NODE_INPUT) return 1;
    return net->nodes[nd->in[0]].channels;
}

size_t node_param_size(const net_t *net, const node_t *nd)
{
    size_t F = (size_t)net->filters;
    switch (nd->kind) {
    case NODE_CONV: return 9 * (size_t)node_in_channels(net, nd) * F + F;
    case NODE_BN:   return 2 * F;
    case NODE_ADD:  return F;
    default:        return 0;
    }
}

size_t node_state_size(const net_t *net, const node_t *nd)
{
    return nd->kind == NODE_BN ? 2 * (size_t)net->filters : 0;
}

const char *node_kind_name(node_kind_t k)
{
    switch (k) {
    case NODE_INPUT: return "input";
    case NODE_CONV:  return "conv";
    case NODE_BN:    return "bn";
    case NODE_RELU:  return "relu";
    case NODE_ADD:   return "add";
    }
    return "?";
}

const char *node_keras_type(node_kind_t k)
{
    switch (k) {
    case NODE_INPUT: return "InputLayer";
    case NODE_CONV:  return "Conv2D";
    case NODE_BN:    return "BatchNormalization";
    case NODE_RELU:  return "Activation";
    case NODE_ADD:   return "ScaledAdd";
    }
    return "?";
}

void node_name(const node_t *nd, char *buf, size_t len)
{
    static const char *const prefix[] = {
        [NODE_INPUT] = "input", [NODE_CONV] = "conv2d", [NODE_BN] = "batch_normalization",
        [NODE_RELU] = "activation", [NODE_ADD] = "add",
    };
    if (nd->kind == NODE_INPUT) snprintf(buf, len, "input");
    else snprintf(buf, len, "%s_%d", prefix[nd->kind], nd->uid);
}

int net_assemble(net_t *net, int filters, node_t *nodes, int n_nodes, int next_uid, err_t *err)
{
    free(net->params);
    free(net->state);
    if (net->nodes != nodes) free(net->nodes);
    memset(net, 0, sizeof *net);
    net->filters = filters;
    net->nodes = nodes;
    net->n_nodes = n_nodes;
    net->next_uid = next_uid;
    if (net_validate(net, err)) return -1;
    size_t p = 0, s = 0;
    for (int i = 0; i < n_nodes; i++) {
        nodes[i].p_off = p;
        nodes[i].s_off = s;
        p += node_param_size(net, &nodes[i]);
        s += node_state_size(net, &nodes[i]);
    }
    net->dense_off = p;
    p += (size_t)IMG_PIXELS * filters * N_CLASSES + N_CLASSES;
    net->n_params = p;
    net->n_state = s;
    net->params = calloc(p, sizeof(float));
    net->state = calloc(s ? s : 1, sizeof(float));
    if (!net->params || !net->state) return err_set(err, "out of memory for %zu parameters", p);
    return 0;
}

int net_validate(const net_t *net, err_t *err)
{
    const int F = net->filters;
    if (F < 1 || F > NET_MAX_FILTERS)
        return err_set(err, "filter count %d outside 1..%d", F, NET_MAX_FILTERS);
    if (net->n_nodes < 2 || net->n_nodes > NET_MAX_NODES)
        return err_set(err, "network has %d nodes; need 2..%d", net->n_nodes, NET_MAX_NODES);
    const node_t *nd = net->nodes;
    if (nd[0].kind != NODE_INPUT || nd[0].channels != 1)
        return err_set(err, "node 0 must be the 28x28x1 input");
    if (nd[1].kind != NODE_CONV)
        return err_set(err, "the first layer must be a conv (it maps 1 -> %d channels)", F);
    for (int i = 1; i < net->n_nodes; i++) {
        /* Every layer sits on one chain: its main input is the layer before.
         * Only an add has a second input, an earlier ReLU (the skip). */
        if (nd[i].kind == NODE_INPUT)
            return err_set(err, "node %d: only node 0 may be an input", i);
        if (nd[i].in[0] != i - 1)
            return err_set(err, "node %d: main input must be node %d, is %d", i, i - 1, nd[i].in[0]);
        if (nd[i].kind == NODE_ADD) {
            int s = nd[i].in[1];
            if (s < 1 || s >= i)
                return err_set(err, "node %d: skip input %d is not an earlier layer", i, s);
            if (nd[s].kind != NODE_RELU)
                return err_set(err, "node %d: skip input %d is a %s, not a relu", i, s,
                               node_kind_name(nd[s].kind));
        } else if (nd[i].in[1] != -1) {
            return err_set(err, "node %d: a %s has one input", i, node_kind_name(nd[i].kind));
        }
        if (nd[i].channels != F)
            return err_set(err, "node %d: has %d channels, expected %d", i, nd[i].channels, F);
        for (int j = 0; j < i; j++)
            if (nd[j].uid == nd[i].uid)
                return err_set(err, "nodes %d and %d share uid %d", j, i, nd[i].uid);
    }
    for (int i = 0; i < net->n_nodes; i++)
        if (nd[i].uid >= net->next_uid)
            return err_set(err, "node %d: uid %d not below next_uid %d", i, nd[i].uid, net->next_uid);
    return 0;
}

static int parse_kind(const char *tok, size_t len, node_kind_t *k)
{
    static const struct { const char *name; node_kind_t kind; } names[] = {
        {"conv", NODE_CONV}, {"bn", NODE_BN}, {"relu", NODE_RELU},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i].name) == len && strncmp(tok, names[i].name, len) == 0) {
            *k = names[i].kind;
            return 0;
        }
    return -1;
}

int net_from_arch(net_t *net, int filters, const char *arch, err_t *err)
{
    memset(net, 0, sizeof *net);
    if (filters < 1 || filters > NET_MAX_FILTERS)
        return err_set(err, "--filters %d: must be 1..%d", filters, NET_MAX_FILTERS);
    node_t *nodes = calloc(NET_MAX_NODES, sizeof *nodes);
    if (!nodes) return err_set(err, "out of memory");
    int n = 0;
    nodes[n++] = (node_t){.kind = NODE_INPUT, .in = {-1, -1}, .channels = 1, .uid = 0};
    const char *p = arch;
    while (*p) {
        const char *e = p;
        while (*e && *e != ',') e++;
        size_t len = (size_t)(e - p);
        node_kind_t k = NODE_CONV;
        int skip = -1;
        if (len > 4 && strncmp(p, "add(", 4) == 0 && p[len - 1] == ')') {
            char *end;
            long v = strtol(p + 4, &end, 10);
            if (end != p + len - 1 || v < 1 || v >= n) {
                free(nodes);
                return err_set(err, "--arch: '%.*s': add(I) needs I, the 1-based position of an earlier relu",
                               (int)len, p);
            }
            k = NODE_ADD;
            skip = (int)v;
        } else if (parse_kind(p, len, &k)) {
            free(nodes);
            return err_set(err, "--arch: unknown layer '%.*s' (use conv, bn, relu, add(I))", (int)len, p);
        }
        if (n >= NET_MAX_NODES) {
            free(nodes);
            return err_set(err, "--arch: more than %d layers", NET_MAX_NODES - 1);
        }
        nodes[n] = (node_t){.kind = k, .in = {n - 1, skip}, .channels = filters, .uid = n};
        n++;
        p = *e ? e + 1 : e;
        if (*e && !*p) { free(nodes); return err_set(err, "--arch: trailing comma"); }
    }
    if (n < 2) { free(nodes); return err_set(err, "--arch: empty layer list"); }
    if (net_assemble(net, filters, nodes, n, n, err)) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        net_free(net);
        return err_set(err, "--arch %s: %s", arch, msg);
    }
    return 0;
}

int net_initial(net_t *net, int filters, err_t *err)
{
    return net_from_arch(net, filters, "conv,bn,relu", err);
}

static void glorot_uniform(float *w, size_t n, double fan_in, double fan_out, rng_t *rng)
{
    double limit = sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * rng_uniform(rng) - 1.0) * limit);
}

void net_init_weights(net_t *net, rng_t *rng)
{
    const int F = net->filters;
    memset(net->params, 0, net->n_params * sizeof(float));
    for (int i = 1; i < net->n_nodes; i++) {
        node_t *nd = &net->nodes[i];
        float *p = net->params + nd->p_off;
        if (nd->kind == NODE_CONV) {
            int cin = node_in_channels(net, nd);
            glorot_uniform(p, (size_t)9 * cin * F, 9.0 * cin, 9.0 * F, rng);
        } else if (nd->kind == NODE_BN) {
            float *s = net->state + nd->s_off;
            for (int c = 0; c < F; c++) {
                p[c] = 1.0f;      /* gamma */
                s[F + c] = 1.0f;  /* moving variance */
            }
        }
    }
    size_t K = (size_t)IMG_PIXELS * F;
    glorot_uniform(net->params + net->dense_off, K * N_CLASSES, (double)K, N_CLASSES, rng);
}

int net_clone(net_t *dst, const net_t *src, err_t *err)
{
    memset(dst, 0, sizeof *dst);
    node_t *nodes = malloc(sizeof *nodes * (size_t)src->n_nodes);
    if (!nodes) return err_set(err, "out of memory");
    memcpy(nodes, src->nodes, sizeof *nodes * (size_t)src->n_nodes);
    if (net_assemble(dst, src->filters, nodes, src->n_nodes, src->next_uid, err)) {
        net_free(dst);
        return -1;
    }
    memcpy(dst->params, src->params, src->n_params * sizeof(float));
    memcpy(dst->state, src->state, src->n_state * sizeof(float));
    return 0;
}

void net_free(net_t *net)
{
    free(net->nodes);
    free(net->params);
    free(net->state);
    memset(net, 0, sizeof *net);
}

param_count_t net_param_count(const net_t *net)
{
    param_count_t c = {0, 0, 0};
    c.trainable = (long long)net->n_params;
    c.non_trainable = (long long)net->n_state;
    c.total = c.trainable + c.non_trainable;
    return c;
}

long long net_macs(const net_t *net)
{
    const long long F = net->filters, P = IMG_PIXELS;
    long long m = 0;
    for (int i = 1; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        if (nd->kind == NODE_CONV) m += P * 9 * node_in_channels(net, nd) * F;
        else if (nd->kind == NODE_BN || nd->kind == NODE_ADD) m += P * F;
    }
    return m + P * F * N_CLASSES;
}

int net_arch_string(const net_t *net, char *buf, size_t len)
{
    int total = 0;
    for (int i = 1; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        size_t at = (size_t)total < len ? (size_t)total : len;
        const char *sep = i > 1 ? "," : "";
        if (nd->kind == NODE_ADD)
            total += snprintf(buf + at, len - at, "%sadd(%d)", sep, nd->in[1]);
        else
            total += snprintf(buf + at, len - at, "%s%s", sep, node_kind_name(nd->kind));
    }
    return total;
}
