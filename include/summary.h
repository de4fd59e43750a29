/* summary.h - Keras-like text summaries of a network. */
#ifndef LEMONADE_SUMMARY_H
#define LEMONADE_SUMMARY_H

#include <stdio.h>
#include "net.h"

/* One row per layer (name, type, output shape, parameter count, and for an
 * add what it is connected to), then "Total params: 539,850",
 * "Trainable params: ...", "Non-trainable params: ..." as Keras prints
 * them. */
void summary_print(FILE *out, const net_t *net, const char *title);

/* n with thousands separators ("539,850") into buf. */
const char *format_thousands(long long n, char *buf, size_t len);

#endif
