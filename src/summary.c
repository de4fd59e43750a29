/* summary.c - see summary.h. */
#include "summary.h"
#include "tensor.h"

#include <string.h>

const char *format_thousands(long long n, char *buf, size_t len)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    size_t k = 0;
    if (n < 0 && k + 1 < len) buf[k++] = '-';
    for (int i = 0; i < nd && k + 1 < len; i++) {
        buf[k++] = digits[i];
        if ((nd - 1 - i) % 3 == 0 && i != nd - 1 && k + 1 < len) buf[k++] = ',';
    }
    buf[k] = '\0';
    return buf;
}

static void rule(FILE *out, char c)
{
    for (int i = 0; i < 100; i++) fputc(c, out);
    fputc('\n', out);
}

static void row(FILE *out, const char *name, const char *type, const char *shape, long long params,
                const char *connected)
{
    char layer[96];
    snprintf(layer, sizeof layer, "%s (%s)", name, type);
    if (*connected) fprintf(out, " %-46s %-20s %-10lld %s\n", layer, shape, params, connected);
    else fprintf(out, " %-46s %-20s %lld\n", layer, shape, params);
}

void summary_print(FILE *out, const net_t *net, const char *title)
{
    const int F = net->filters;
    char shape[64], name[64];
    fprintf(out, "Model: \"%s\"\n", title && *title ? title : "lemonade");
    rule(out, '_');
    fprintf(out, " %-46s %-20s %-10s %s\n", "Layer (type)", "Output Shape", "Param #", "Connected to");
    rule(out, '=');
    for (int i = 0; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        node_name(nd, name, sizeof name);
        snprintf(shape, sizeof shape, "(None, 28, 28, %d)", nd->channels);
        char conn[160] = "";
        if (nd->kind == NODE_ADD) {
            char a[64], b[64];
            node_name(&net->nodes[nd->in[0]], a, sizeof a);
            node_name(&net->nodes[nd->in[1]], b, sizeof b);
            snprintf(conn, sizeof conn, "%s, %s (x scale)", a, b);
        }
        row(out, name, node_keras_type(nd->kind), shape,
            (long long)(node_param_size(net, nd) + node_state_size(net, nd)), conn);
    }
    snprintf(shape, sizeof shape, "(None, %d)", IMG_PIXELS * F);
    row(out, "flatten", "Flatten", shape, 0, "");
    snprintf(shape, sizeof shape, "(None, %d)", N_CLASSES);
    row(out, "dense", "Dense", shape, (long long)IMG_PIXELS * F * N_CLASSES + N_CLASSES, "");
    row(out, "softmax", "Activation", shape, 0, "");
    rule(out, '=');
    param_count_t pc = net_param_count(net);
    char b1[32], b2[32], b3[32];
    fprintf(out, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n",
            format_thousands(pc.total, b1, sizeof b1), format_thousands(pc.trainable, b2, sizeof b2),
            format_thousands(pc.non_trainable, b3, sizeof b3));
    rule(out, '_');
}
