/* fuzz_genfile.c - libFuzzer harness for the resume-state loader: the
 * input is parsed both as run.json (genfile_parse_run) and as a
 * gen_NNN.json front (genfile_parse_front, models not loaded). */
#include "genfile.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    err_t err;
    search_opts_t o;
    memset(&o, 0, sizeof o);
    genfile_parse_run((const char *)data, size, "run.json", &o, &err);
    member_t **front = NULL;
    int n = 0;
    if (genfile_parse_front((const char *)data, size, "gen_001.json", NULL, &front, &n, &err) == 0) {
        for (int i = 0; i < n; i++) {
            if (strlen(front[i]->id) >= sizeof front[i]->id || strlen(front[i]->lineage) >= sizeof front[i]->lineage)
                abort();
            net_free(&front[i]->net);
            free(front[i]);
        }
        free(front);
    }
    return 0;
}
