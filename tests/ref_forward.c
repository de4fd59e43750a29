/* ref_forward.c - see ref_forward.h. Deliberately naive loops. */
#include "ref_forward.h"
#include "tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void conv(double *out, const double *in, const double *w, const double *b, int N, int Cin, int Cout)
{
    for (int n = 0; n < N; n++)
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                for (int co = 0; co < Cout; co++) {
                    double s = b[co];
                    for (int ky = -1; ky <= 1; ky++)
                        for (int kx = -1; kx <= 1; kx++) {
                            int iy = y + ky, ix = x + kx;
                            if (iy < 0 || iy > 27 || ix < 0 || ix > 27) continue;
                            for (int ci = 0; ci < Cin; ci++)
                                s += in[((n * 28 + iy) * 28 + ix) * Cin + ci] *
                                     w[(((ky + 1) * 3 + (kx + 1)) * Cin + ci) * Cout + co];
                        }
                    out[((n * 28 + y) * 28 + x) * Cout + co] = s;
                }
}

double ref_loss(const net_t *net, const double *params, const double *state, const double *x,
                const uint8_t *y, int N, int training, double *logits_out)
{
    const int F = net->filters, nn = net->n_nodes;
    const size_t M = (size_t)N * IMG_PIXELS;
    double **act = calloc((size_t)nn, sizeof *act);
    act[0] = malloc(M * sizeof(double));
    memcpy(act[0], x, M * sizeof(double));
    for (int i = 1; i < nn; i++) {
        const node_t *nd = &net->nodes[i];
        act[i] = malloc(M * F * sizeof(double));
        const double *in = act[nd->in[0]], *p = params + nd->p_off;
        double *o = act[i];
        switch (nd->kind) {
        case NODE_CONV: {
            int cin = node_in_channels(net, nd);
            conv(o, in, p, p + 9 * cin * F, N, cin, F);
            break;
        }
        case NODE_BN:
            for (int c = 0; c < F; c++) {
                double mean, var;
                if (training) {
                    double s = 0, ss = 0;
                    for (size_t m = 0; m < M; m++) s += in[m * F + c];
                    mean = s / M;
                    for (size_t m = 0; m < M; m++) ss += (in[m * F + c] - mean) * (in[m * F + c] - mean);
                    var = ss / M;
                } else {
                    mean = state[nd->s_off + c];
                    var = state[nd->s_off + F + c];
                }
                for (size_t m = 0; m < M; m++)
                    o[m * F + c] = p[c] * (in[m * F + c] - mean) / sqrt(var + 1e-3) + p[F + c];
            }
            break;
        case NODE_RELU:
            for (size_t m = 0; m < M * F; m++) o[m] = in[m] > 0 ? in[m] : 0;
            break;
        case NODE_ADD:
            for (size_t m = 0; m < M; m++)
                for (int c = 0; c < F; c++)
                    o[m * F + c] = in[m * F + c] + p[c] * act[nd->in[1]][m * F + c];
            break;
        case NODE_INPUT:
            break;
        }
    }
    const double *last = act[nn - 1], *w = params + net->dense_off;
    const int K = IMG_PIXELS * F;
    double loss = 0;
    for (int n = 0; n < N; n++) {
        double z[10];
        for (int j = 0; j < 10; j++) {
            z[j] = w[(size_t)K * 10 + j];
            for (int k = 0; k < K; k++) z[j] += last[(size_t)n * K + k] * w[(size_t)k * 10 + j];
        }
        double mx = z[0], se = 0;
        for (int j = 1; j < 10; j++) if (z[j] > mx) mx = z[j];
        for (int j = 0; j < 10; j++) se += exp(z[j] - mx);
        loss += mx + log(se) - z[y[n]];
        if (logits_out) memcpy(logits_out + n * 10, z, sizeof z);
    }
    for (int i = 0; i < nn; i++) free(act[i]);
    free(act);
    return loss / N;
}
