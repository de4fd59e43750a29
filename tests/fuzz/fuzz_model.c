/* fuzz_model.c - libFuzzer harness for the model loader.
 *
 * The input is "JSON [NUL weights]": the part before the first NUL byte is
 * parsed with cJSON and model_arch_parse; the part after it (if any) is
 * decoded with weights_decode into that network, or into a 4-filter
 * initial network when the JSON is not a valid model. The weights are
 * tried as given and with their trailing CRC-32 recomputed, so that the
 * fuzzer gets past the checksum to the size and layout checks.
 *
 * Networks wider than 64 filters are skipped: a valid 512-layer model of
 * 1024 filters needs ~19 GB, more than libFuzzer's memory limit, and that
 * allocation is legitimate (model_load caps the .bin at 2 GB anyway). */
#include "model_io.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    err_t err;
    net_t net;
    memset(&net, 0, sizeof net);
    int have = 0;
    cJSON *root = json_parse_all((const char *)data, jlen);
    if (root) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "filters");
        if (!(cJSON_IsNumber(f) && f->valuedouble > 64)) have = model_arch_parse(&net, root, "fuzz", &err) == 0;
        cJSON_Delete(root);
    }
    if (!have && nul && net_initial(&net, 4, &err) == 0) have = 1;
    if (have && nul) {
        const uint8_t *w = nul + 1;
        size_t wlen = size - jlen - 1;
        weights_decode(&net, w, wlen, "fuzz.bin", &err);
        if (wlen >= 4) {
            uint8_t *c = malloc(wlen);
            if (c) {
                memcpy(c, w, wlen);
                uint32_t crc = (uint32_t)crc32(0L, c, (uInt)(wlen - 4));
                memcpy(c + wlen - 4, &crc, 4);
                weights_decode(&net, c, wlen, "fuzz.bin", &err);
                free(c);
            }
        }
    }
    if (have) net_free(&net);
    return 0;
}
