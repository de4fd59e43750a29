/* model_io.c - model files; see model_io.h. */
#include "model_io.h"
#include "json.h"
#include "fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "model_io.c writes float32 data as little-endian and assumes a little-endian host"
#endif

#define WEIGHTS_MAGIC "LEMNWTS1"
#define WEIGHTS_VERSION 1
#define WEIGHTS_HEADER (8 + 4 + 4 + 2 * 8)
#define MODEL_MAX_JSON (64u << 20)
#define MODEL_MAX_BIN ((size_t)2 << 30)

cJSON *model_arch_json(const net_t *net, const char *id)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "lemonade-model");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "id", id ? id : "");
    cJSON_AddNumberToObject(root, "filters", net->filters);
    cJSON_AddNumberToObject(root, "next_uid", net->next_uid);
    cJSON *nodes = cJSON_AddArrayToObject(root, "nodes");
    for (int i = 0; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        char name[64];
        node_name(nd, name, sizeof name);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "type", node_kind_name(nd->kind));
        cJSON_AddNumberToObject(o, "uid", nd->uid);
        cJSON *in = cJSON_AddArrayToObject(o, "inputs");
        for (int s = 0; s < 2; s++)
            if (nd->in[s] >= 0) {
                char iname[64];
                node_name(&net->nodes[nd->in[s]], iname, sizeof iname);
                cJSON_AddItemToArray(in, cJSON_CreateString(iname));
            }
        cJSON_AddNumberToObject(o, "filters", nd->channels);
        cJSON_AddNumberToObject(o, "params", (double)(node_param_size(net, nd) + node_state_size(net, nd)));
        cJSON_AddItemToArray(nodes, o);
    }
    param_count_t pc = net_param_count(net);
    cJSON_AddNumberToObject(root, "params", (double)pc.total);
    cJSON_AddNumberToObject(root, "trainable_params", (double)pc.trainable);
    cJSON_AddNumberToObject(root, "non_trainable_params", (double)pc.non_trainable);
    cJSON_AddNumberToObject(root, "macs", (double)net_macs(net));
    return root;
}

static int get_int(const cJSON *o, const char *key, int lo, int hi, int *out, const char *name, err_t *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v)) return err_set(err, "%s: missing or non-numeric \"%s\"", name, key);
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || d != (double)(int)d)  /* range first: the cast must not overflow */
        return err_set(err, "%s: \"%s\" = %g is not an integer in %d..%d", name, key, d, lo, hi);
    *out = (int)d;
    return 0;
}

int model_arch_parse(net_t *net, const cJSON *root, const char *name, err_t *err)
{
    memset(net, 0, sizeof *net);
    if (!cJSON_IsObject(root)) return err_set(err, "%s: not a JSON object", name);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "lemonade-model") != 0)
        return err_set(err, "%s: not a lemonade model file (\"format\" is not \"lemonade-model\")", name);
    int version = 0, filters = 0, next_uid = 0;
    if (get_int(root, "version", 1, 1, &version, name, err) ||
        get_int(root, "filters", 1, NET_MAX_FILTERS, &filters, name, err) ||
        get_int(root, "next_uid", 1, 1 << 30, &next_uid, name, err))
        return -1;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 2 || n > NET_MAX_NODES)
        return err_set(err, "%s: \"nodes\" must be an array of 2..%d layers", name, NET_MAX_NODES);
    node_t *nodes = calloc((size_t)n, sizeof *nodes);
    char (*names)[64] = calloc((size_t)n, 64);
    if (!nodes || !names) { free(nodes); free(names); return err_set(err, "out of memory"); }
    int i = 0, rc = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, arr) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "inputs");
        if (!cJSON_IsString(type) || !cJSON_IsString(nm) || !cJSON_IsArray(in)) {
            rc = err_set(err, "%s: node %d lacks a string \"type\", \"name\" or an \"inputs\" array", name, i);
            break;
        }
        static const char *const kinds[] = {"input", "conv", "bn", "relu", "add"};
        int k = -1;
        for (int j = 0; j < 5; j++) if (strcmp(type->valuestring, kinds[j]) == 0) k = j;
        if (k < 0) { rc = err_set(err, "%s: node %d has unknown type \"%s\"", name, i, type->valuestring); break; }
        node_t *nd = &nodes[i];
        nd->kind = (node_kind_t)k;
        nd->in[0] = nd->in[1] = -1;
        nd->channels = k == NODE_INPUT ? 1 : filters;
        if (get_int(o, "uid", 0, 1 << 30, &nd->uid, name, err)) { rc = -1; break; }
        snprintf(names[i], 64, "%s", nm->valuestring);
        if (cJSON_GetArraySize(in) > 2) {
            rc = err_set(err, "%s: node %d (%s) has more than two inputs", name, i, names[i]);
            break;
        }
        int s = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, in) {
            int found = -1;
            for (int j = 0; j < i && cJSON_IsString(e); j++) if (strcmp(names[j], e->valuestring) == 0) found = j;
            if (found < 0) {
                rc = err_set(err, "%s: node %d (%s) has an input that is not an earlier node", name, i, names[i]);
                break;
            }
            nd->in[s++] = found;
        }
        if (rc) break;
        i++;
    }
    free(names);
    if (rc) { free(nodes); return -1; }
    if (net_assemble(net, filters, nodes, n, next_uid, err)) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        net_free(net);
        return err_set(err, "%s: invalid network: %s", name, msg);
    }
    return 0;
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

int weights_encode(const net_t *net, uint8_t **buf, size_t *len, err_t *err)
{
    size_t np = net->n_params, ns = net->n_state;
    size_t total = WEIGHTS_HEADER + (np + ns) * sizeof(float) + 4;
    uint8_t *b = malloc(total);
    if (!b) return err_set(err, "out of memory encoding %zu weights", np + ns);
    memcpy(b, WEIGHTS_MAGIC, 8);
    put_u32(b + 8, WEIGHTS_VERSION);
    put_u32(b + 12, 2);
    put_u64(b + 16, np);
    put_u64(b + 24, ns);
    memcpy(b + WEIGHTS_HEADER, net->params, np * sizeof(float));
    memcpy(b + WEIGHTS_HEADER + np * sizeof(float), net->state, ns * sizeof(float));
    put_u32(b + total - 4, (uint32_t)crc32(0L, b, (uInt)(total - 4)));
    *buf = b;
    *len = total;
    return 0;
}

int weights_decode(net_t *net, const uint8_t *buf, size_t len, const char *name, err_t *err)
{
    if (len < WEIGHTS_HEADER + 4)
        return err_set(err, "%s: truncated weights file (%zu bytes, header alone is %d)", name, len,
                       WEIGHTS_HEADER + 4);
    if (memcmp(buf, WEIGHTS_MAGIC, 8) != 0) return err_set(err, "%s: not a lemonade weights file (bad magic)", name);
    if (get_u32(buf + 8) != WEIGHTS_VERSION)
        return err_set(err, "%s: weights format version %u, expected %d", name, get_u32(buf + 8), WEIGHTS_VERSION);
    if (get_u32(buf + 12) != 2) return err_set(err, "%s: %u tensors, expected 2", name, get_u32(buf + 12));
    uint64_t np = get_u64(buf + 16), ns = get_u64(buf + 24);
    if (np != net->n_params || ns != net->n_state)
        return err_set(err, "%s: holds %llu+%llu weights but the architecture needs %zu+%zu", name,
                       (unsigned long long)np, (unsigned long long)ns, net->n_params, net->n_state);
    size_t want = WEIGHTS_HEADER + (size_t)(np + ns) * sizeof(float) + 4;
    if (len != want)
        return err_set(err, "%s: %s: %zu bytes, expected %zu", name, len < want ? "truncated" : "trailing data",
                       len, want);
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(len - 4));
    if (crc != get_u32(buf + len - 4))
        return err_set(err, "%s: CRC-32 mismatch (file is corrupted)", name);
    memcpy(net->params, buf + WEIGHTS_HEADER, np * sizeof(float));
    memcpy(net->state, buf + WEIGHTS_HEADER + np * sizeof(float), ns * sizeof(float));
    return 0;
}

/* "dir/name.json" -> "dir/name.bin" and "name.bin". */
static int bin_paths(const char *json_path, char *full, size_t flen, const char **base, err_t *err)
{
    size_t n = strlen(json_path);
    if (n < 6 || strcmp(json_path + n - 5, ".json") != 0)
        return err_set(err, "%s: a model file name must end in .json", json_path);
    snprintf(full, flen, "%.*s.bin", (int)(n - 5), json_path);
    const char *slash = strrchr(full, '/');
    *base = slash ? slash + 1 : full;
    return 0;
}

int model_save(const net_t *net, const char *id, const char *json_path, err_t *err)
{
    char bin[4200];
    const char *base = NULL;
    if (bin_paths(json_path, bin, sizeof bin, &base, err)) return -1;
    uint8_t *w;
    size_t wlen;
    if (weights_encode(net, &w, &wlen, err)) return -1;
    cJSON *root = model_arch_json(net, id);
    cJSON_AddStringToObject(root, "weights", base);
    cJSON_AddNumberToObject(root, "weights_crc32", (double)get_u32(w + wlen - 4));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    int rc = text ? 0 : err_set(err, "out of memory");
    /* Weights first: a .json on disk always has its .bin. */
    if (!rc) rc = atomic_write(bin, w, wlen, err);
    if (!rc) {
        size_t tl = strlen(text);
        text[tl] = '\n';
        rc = atomic_write(json_path, text, tl + 1, err);
        text[tl] = '\0';
    }
    free(text);
    free(w);
    return rc;
}

int model_load(net_t *net, char *id_out, size_t id_len, const char *json_path, err_t *err)
{
    memset(net, 0, sizeof *net);
    char *text;
    size_t len;
    if (read_file(json_path, &text, &len, MODEL_MAX_JSON, err)) return -1;
    cJSON *root = json_parse_all(text, len);
    free(text);
    if (!root) return err_set(err, "%s: not valid JSON", json_path);
    int rc = model_arch_parse(net, root, json_path, err);
    const cJSON *wname = cJSON_GetObjectItemCaseSensitive(root, "weights");
    if (!rc && (!cJSON_IsString(wname) || strchr(wname->valuestring, '/') || !*wname->valuestring))
        rc = err_set(err, "%s: \"weights\" must be a file name beside the model file", json_path);
    if (!rc && id_out) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
        snprintf(id_out, id_len, "%s", cJSON_IsString(id) ? id->valuestring : "");
    }
    if (!rc) {
        char bin[4200];
        const char *slash = strrchr(json_path, '/');
        snprintf(bin, sizeof bin, "%.*s%s", slash ? (int)(slash - json_path + 1) : 0, json_path, wname->valuestring);
        uint8_t *w;
        size_t wlen;
        if (read_file(bin, (char **)&w, &wlen, MODEL_MAX_BIN, err)) rc = -1;
        else {
            rc = weights_decode(net, w, wlen, bin, err);
            free(w);
        }
    }
    cJSON_Delete(root);
    if (rc) net_free(net);
    return rc;
}
