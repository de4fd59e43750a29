/* net.h - a network as a small DAG of node descriptors plus its parameters.
 *
 * input (28x28x1) -> conv / bn / relu / add nodes -> flatten -> dense(10)
 * -> softmax. Nodes are kept in topological order, nodes[0] is the input and
 * the last node feeds the (implied) flatten. Every conv has the network's
 * filter count F as output channels (the first maps 1 -> F, all others
 * F -> F) and every node keeps the 28x28 shape, so nodes can be inserted and
 * removed without shape surgery.
 *
 * Parameters live in two flat arrays owned by the net: `params` (trainable,
 * one contiguous block so the optimiser is one loop) and `state` (batch-norm
 * moving mean and variance). Each node records its offsets into them; the
 * dense layer's weights and bias are the last block of `params`.
 *
 * Per-node trainable blocks:  conv  w (3,3,Cin,F) then bias (F)
 *                             bn    gamma (F) then beta (F)
 *                             add   scale (F) of the skip input
 * Per-node state blocks:      bn    moving mean (F) then moving variance (F)
 * Dense block:                w (784*F, 10) then bias (10). */
#ifndef LEMONADE_NET_H
#define LEMONADE_NET_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "rng.h"

typedef enum { NODE_INPUT, NODE_CONV, NODE_BN, NODE_RELU, NODE_ADD } node_kind_t;

typedef struct {
    node_kind_t kind;
    int in[2];       /* producer node indices; in[1] is the skip input of an add, else -1 */
    int channels;    /* output channels: 1 for the input node, F otherwise */
    int uid;         /* unique in a lineage; names the layer and ties inherited weights */
    size_t p_off;    /* offset of the trainable block in net->params */
    size_t s_off;    /* offset of the state block in net->state */
} node_t;

typedef struct {
    int filters;       /* F */
    int n_nodes;
    node_t *nodes;     /* n_nodes, topological; nodes[0] is the input */
    size_t n_params;   /* trainable floats, including the dense layer */
    float *params;
    size_t n_state;    /* non-trainable floats (BN moving statistics) */
    float *state;
    size_t dense_off;  /* offset of the dense weights in params */
    int next_uid;      /* next unused uid of this lineage */
} net_t;

#define NET_MAX_NODES 512
#define NET_MAX_FILTERS 1024

typedef struct {
    long long total, trainable, non_trainable;
} param_count_t;

/* Sizes of a node's blocks, Keras' counts (bn state counts as non-trainable). */
size_t node_param_size(const net_t *net, const node_t *nd);
size_t node_state_size(const net_t *net, const node_t *nd);
/* Input channels of a node (1 for the first conv). */
int node_in_channels(const net_t *net, const node_t *nd);
/* Keras-style layer name: conv2d_3, batch_normalization_4, activation_5, add_6. */
void node_name(const node_t *nd, char *buf, size_t len);
const char *node_kind_name(node_kind_t k);   /* "conv", "bn", "relu", "add", "input" */
const char *node_keras_type(node_kind_t k);  /* "Conv2D", "BatchNormalization", ... */

/* Build a chain from "conv,bn,relu,..." (layers between input and flatten).
 * The first layer must be conv. Parameters are allocated, not initialised. */
int net_from_arch(net_t *net, int filters, const char *arch, err_t *err);
/* The original's initial network: conv-bn-relu. */
int net_initial(net_t *net, int filters, err_t *err);

/* Given nodes (kind, in, channels, uid) and filters, compute offsets and
 * (re)allocate zeroed params/state. Takes ownership of `nodes`. */
int net_assemble(net_t *net, int filters, node_t *nodes, int n_nodes, int next_uid, err_t *err);

/* Keras initialisation: Glorot-uniform kernels, zero biases, BN gamma 1,
 * beta 0, moving mean 0, moving variance 1, skip scales 0. */
void net_init_weights(net_t *net, rng_t *rng);

/* Structural check: topological order, valid inputs, channel counts, the
 * first node an input and the second a 1->F conv. */
int net_validate(const net_t *net, err_t *err);

int net_clone(net_t *dst, const net_t *src, err_t *err);
void net_free(net_t *net);

param_count_t net_param_count(const net_t *net);
/* Forward multiply-accumulates per image: conv and dense products, one per
 * value for BN (folded to an affine map) and for skip scales. */
long long net_macs(const net_t *net);

/* Comma-separated layer list in the --arch syntax; adds are written
 * "add(I)" where I is the position (1-based, in this list) of the skip
 * source. Returns the length (snprintf semantics). */
int net_arch_string(const net_t *net, char *buf, size_t len);

#endif
