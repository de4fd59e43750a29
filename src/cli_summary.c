/* cli_summary.c - `lemonade summary`: Keras-like layer tables of a model
 * given by --arch, a model file, or a generation file of a run. */
#include "json.h"
#include "cli.h"
#include "cli_args.h"
#include "fileio.h"
#include "model_io.h"
#include "net.h"
#include "summary.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char summary_help[] =
    "usage: lemonade summary --filters F --arch LIST\n"
    "       lemonade summary MODEL.json\n"
    "       lemonade summary OUT/gen_NNN.json [--id ID]\n"
    "\n"
    "Print a Keras-like summary: one row per layer with its output shape and\n"
    "parameter count, then Total / Trainable / Non-trainable params.\n"
    "Given a generation file of a run, list its front (id, params, macs,\n"
    "val_loss, val_acc, test_acc when known); with --id, the layer table of\n"
    "that model.\n"
    "\n"
    "options:\n"
    "  --filters F   conv filters of an --arch network (default 16)\n"
    "  --arch LIST   layers between input and flatten: conv, bn, relu, add(I)\n"
    "  --id ID       with a generation file: the model to show\n"
    "\n"
    "examples:\n"
    "  lemonade summary --filters 64 --arch conv,bn,relu,conv,bn,relu\n"
    "  lemonade summary runs/run-1/models/g3_c5.json\n"
    "  lemonade summary runs/run-1/gen_020.json --id g20_c7\n";

/* List a gen/final file's front, or show one model of it. */
static int summary_run_file(const char *path, cJSON *root, const char *id)
{
    err_t err;
    const cJSON *front = cJSON_GetObjectItemCaseSensitive(root, "front");
    if (!cJSON_IsArray(front)) {
        err_set(&err, "%s: no \"front\" array", path);
        return run_error("summary", &err);
    }
    if (id) {
        const cJSON *m;
        cJSON_ArrayForEach(m, front) {
            const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
            const cJSON *mp = cJSON_GetObjectItemCaseSensitive(m, "model");
            if (!cJSON_IsString(mid) || strcmp(mid->valuestring, id) != 0) continue;
            if (!cJSON_IsString(mp)) {
                err_set(&err, "%s: model %s has no \"model\" path", path, id);
                return run_error("summary", &err);
            }
            char mpath[4200];
            const char *slash = strrchr(path, '/');
            snprintf(mpath, sizeof mpath, "%.*s%s", slash ? (int)(slash - path + 1) : 0, path, mp->valuestring);
            net_t net;
            if (model_load(&net, NULL, 0, mpath, &err)) return run_error("summary", &err);
            summary_print(stdout, &net, id);
            net_free(&net);
            return 0;
        }
        err_set(&err, "%s: no model with id '%s' in the front", path, id);
        return run_error("summary", &err);
    }
    printf("%-10s %10s %12s %9s %8s %9s\n", "id", "params", "macs", "val_loss", "val_acc", "test_acc");
    const cJSON *m;
    cJSON_ArrayForEach(m, front) {
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(m, "test_acc");
        char ta_s[16] = "-";
        if (cJSON_IsNumber(ta)) snprintf(ta_s, sizeof ta_s, "%.4f", ta->valuedouble);
        printf("%-10s %10.0f %12.0f %9.4f %8.4f %9s\n", cJSON_IsString(mid) ? mid->valuestring : "?",
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "params")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "macs")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "val_loss")),
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "val_acc")), ta_s);
    }
    return 0;
}

int cmd_summary(int argc, char **argv, int first)
{
    int filters = 16, help = 0;
    const char *arch = NULL, *id = NULL, *pos[1];
    int n_pos = 0;
    opt_t opts[] = {
        {"filters", OPT_INT, &filters, 1, NET_MAX_FILTERS, 0},
        {"arch", OPT_STRING, &arch, 0, 0, 0},
        {"id", OPT_STRING, &id, 0, 0, 0},
        {"help", OPT_FLAG, &help, 0, 0, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    err_t err;
    if (cli_parse(argc, argv, first, opts, pos, 1, &n_pos, &err)) return usage_error("summary", &err);
    if (help) { fputs(summary_help, stdout); return 0; }
    if ((n_pos == 0) == (arch == NULL)) {
        err_set(&err, "give either --arch LIST or one model/generation file");
        return usage_error("summary", &err);
    }
    if (arch) {
        net_t net;
        if (net_from_arch(&net, filters, arch, &err)) return usage_error("summary", &err);
        summary_print(stdout, &net, NULL);
        net_free(&net);
        return 0;
    }
    char *text;
    size_t len;
    if (read_file(pos[0], &text, &len, 64u << 20, &err)) return run_error("summary", &err);
    cJSON *root = json_parse_all(text, len);
    free(text);
    if (!root) {
        err_set(&err, "%s: not valid JSON", pos[0]);
        return run_error("summary", &err);
    }
    int rc;
    if (cJSON_GetObjectItemCaseSensitive(root, "front")) {
        rc = summary_run_file(pos[0], root, id);
    } else {
        net_t net;
        char mid[128];
        cJSON_Delete(root);
        root = NULL;
        if (model_load(&net, mid, sizeof mid, pos[0], &err)) return run_error("summary", &err);
        summary_print(stdout, &net, mid);
        net_free(&net);
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}
