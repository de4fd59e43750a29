/* morph.h - the four network-morphism operators of Light LEMONADE, with
 * Lamarckian inheritance.
 *
 * A child is built from its parent's node list and copies every weight and
 * batch-norm statistic of the nodes it shares with the parent (matched by
 * uid). The parent is never modified. insert_block, add_conv and add_skip
 * are function-preserving (the child computes the parent's function at
 * birth, in inference mode); remove_layer is not.
 *
 *   insert_block  after a random ReLU insert Conv(F)-BN-ReLU: identity conv,
 *                 BN initialised from the statistics of its input measured on
 *                 calibration images so it is the identity in inference mode
 *   add_conv      directly after a random conv insert an identity Conv(F)
 *   add_skip      for a random pair of ReLUs a < b, insert after b an add
 *                 b + scale*a with a learnable per-channel scale starting at 0
 *   remove_layer  remove a random layer other than the first conv; its
 *                 consumers take its input; an add whose skip source is
 *                 removed disappears with it
 * Choices are uniform over the places where the operator applies. */
#ifndef LEMONADE_MORPH_H
#define LEMONADE_MORPH_H

#include "error.h"
#include "net.h"
#include "pool.h"
#include "rng.h"

typedef enum { OP_INSERT_BLOCK, OP_ADD_CONV, OP_ADD_SKIP, OP_REMOVE_LAYER, OP_COUNT } morph_op_t;

const char *morph_name(morph_op_t op);
/* Operator by name; -1 if unknown. */
int morph_by_name(const char *name);

/* Images used to measure the input statistics of an inserted batch norm. */
typedef struct {
    const float *x;   /* (n, 784) */
    int n;
    pool_t *pool;     /* threads for that forward pass */
} morph_calib_t;

/* Build child = op(parent). Returns 0 on success, 1 if the operator cannot
 * apply to this parent (err says why; child untouched), -1 on failure. */
int morph_apply(net_t *child, const net_t *parent, morph_op_t op, rng_t *rng, const morph_calib_t *calib,
                err_t *err);

/* Copy the params and state of every node of child whose uid also appears
 * in parent, and the dense layer. */
void morph_inherit(net_t *child, const net_t *parent);

#endif
