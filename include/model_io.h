/* model_io.h - save and load models.
 *
 * A model is two files:
 *   NAME.json  the architecture, readable with jq:
 *              {"format": "lemonade-model", "version": 1, "id": ..., "filters": F,
 *               "next_uid": U, "nodes": [{"name", "type", "uid", "inputs": [names],
 *               "filters", "params"}...], "params", "trainable_params",
 *               "non_trainable_params", "macs", "weights": "NAME.bin", "weights_crc32"}
 *   NAME.bin   the weights, little-endian: magic "LEMNWTS1", u32 version (1),
 *              u32 tensor count (2), u64 float count of each tensor
 *              (trainable params, BN state), the float32 data, and a u32
 *              CRC-32 (zlib) of every byte before it.
 * Loading validates all of it and fails with an error naming the file on
 * any mismatch, truncation or corruption. Both files are written atomically.
 */
#ifndef LEMONADE_MODEL_IO_H
#define LEMONADE_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "error.h"
#include "net.h"

/* Save to json_path (must end in .json); weights go beside it as .bin. */
int model_save(const net_t *net, const char *id, const char *json_path, err_t *err);
/* Load a model; id_out (may be NULL) receives its id. */
int model_load(net_t *net, char *id_out, size_t id_len, const char *json_path, err_t *err);

/* The architecture as a cJSON object (the .json content less the weights
 * fields). */
cJSON *model_arch_json(const net_t *net, const char *id);
/* Rebuild a net's structure (params zeroed) from such an object. `name`
 * is used in errors. */
int model_arch_parse(net_t *net, const cJSON *root, const char *name, err_t *err);

/* Encode params+state in the .bin format; *buf malloc'ed. */
int weights_encode(const net_t *net, uint8_t **buf, size_t *len, err_t *err);
/* Decode into a net whose structure is already built; sizes must match. */
int weights_decode(net_t *net, const uint8_t *buf, size_t len, const char *name, err_t *err);

#endif
