/* tensor.h - the memory layouts every module agrees on.
 *
 * All tensors are float32, contiguous, row-major, no strides or padding.
 *
 *   activation   (N, 28, 28, C)     NHWC: the C channels of a pixel are
 *                                    adjacent; index ((n*28 + y)*28 + x)*C + c
 *   conv weight  (3, 3, Cin, Cout)  HWIO, as Keras stores it: the Cout
 *                                    outputs of one (tap, input channel) are
 *                                    adjacent; index ((ky*3 + kx)*Cin + ci)*Cout + co
 *   conv bias    (Cout)
 *   dense weight (784*C, 10)        input index in the flatten order of an
 *                                    NHWC activation, (y*28 + x)*C + c
 *   dense bias   (10)
 *   logits       (N, 10)
 *
 * Every convolution is 3x3, stride 1, 'same' zero padding, so every
 * activation keeps the 28x28 image size. */
#ifndef LEMONADE_TENSOR_H
#define LEMONADE_TENSOR_H

#define IMG_SIDE 28
#define IMG_PIXELS (IMG_SIDE * IMG_SIDE)
#define N_CLASSES 10

/* Images per chunk when a batch is split across threads. Chunk boundaries
 * are fixed multiples of this, whatever the thread count, and every
 * reduction over images sums per-chunk partial results in chunk order; that
 * is what makes training bit-identical for any number of threads. */
#define CHUNK_IMAGES 8

#endif
