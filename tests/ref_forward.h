/* ref_forward.h - an independent double-precision forward pass of a net_t,
 * written from the layer definitions (not from the kernels), used as the
 * reference for the finite-difference gradient checks. Batch norm uses the
 * batch statistics (training mode) when training != 0, else the running
 * statistics. Returns the mean cross-entropy over the N images. */
#ifndef LEMONADE_REF_FORWARD_H
#define LEMONADE_REF_FORWARD_H

#include <stdint.h>
#include "net.h"

/* params/state override the net's own arrays (same layout), in double. */
double ref_loss(const net_t *net, const double *params, const double *state, const double *x,
                const uint8_t *y, int N, int training, double *logits_out);

#endif
