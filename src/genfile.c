/* genfile.c - see genfile.h. */
#include "genfile.h"
#include "json.h"
#include "fileio.h"
#include "model_io.h"
#include "morph.h"
#include "version.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void genfile_gen_path(char *buf, size_t len, const char *out_dir, int gen)
{
    snprintf(buf, len, "%s/gen_%03d.json", out_dir, gen);
}

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
    if (s && *s) cJSON_AddStringToObject(o, key, s);
    else cJSON_AddNullToObject(o, key);
}

static cJSON *layers_json(const net_t *net)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 1; i < net->n_nodes; i++) {
        const node_t *nd = &net->nodes[i];
        char tok[32];
        if (nd->kind == NODE_ADD) snprintf(tok, sizeof tok, "add(%d)", nd->in[1]);
        else snprintf(tok, sizeof tok, "%s", node_kind_name(nd->kind));
        cJSON_AddItemToArray(a, cJSON_CreateString(tok));
    }
    return a;
}

static cJSON *lineage_json(const char *lineage)
{
    cJSON *a = cJSON_CreateArray();
    const char *p = lineage;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char tok[64];
        snprintf(tok, sizeof tok, "%.*s", (int)n, p);
        cJSON_AddItemToArray(a, cJSON_CreateString(tok));
        p += n + (e ? 1 : 0);
    }
    return a;
}

cJSON *genfile_model_json(const member_t *m)
{
    cJSON *o = cJSON_CreateObject();
    param_count_t pc = net_param_count(&m->net);
    cJSON_AddStringToObject(o, "id", m->id);
    add_str_or_null(o, "parent", m->parent);
    add_str_or_null(o, "operator", m->op >= 0 ? morph_name(m->op) : NULL);
    cJSON_AddNumberToObject(o, "born", m->born);
    cJSON_AddNumberToObject(o, "filters", m->net.filters);
    cJSON_AddNumberToObject(o, "params", (double)pc.total);
    cJSON_AddNumberToObject(o, "trainable_params", (double)pc.trainable);
    cJSON_AddNumberToObject(o, "macs", (double)net_macs(&m->net));
    cJSON_AddNumberToObject(o, "val_loss", m->val_loss);
    cJSON_AddNumberToObject(o, "val_acc", m->val_acc);
    if (m->has_test) {
        cJSON_AddNumberToObject(o, "test_loss", m->test_loss);
        cJSON_AddNumberToObject(o, "test_acc", m->test_acc);
    }
    cJSON_AddNumberToObject(o, "epochs", m->epochs);
    cJSON_AddNumberToObject(o, "best_epoch", m->best_epoch);
    cJSON_AddItemToObject(o, "layers", layers_json(&m->net));
    cJSON_AddItemToObject(o, "lineage", lineage_json(m->lineage));
    cJSON_AddStringToObject(o, "model", m->model);
    return o;
}

cJSON *genfile_child_json(const member_t *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->id);
    add_str_or_null(o, "parent", m->parent);
    add_str_or_null(o, "operator", m->op >= 0 ? morph_name(m->op) : NULL);
    cJSON_AddNumberToObject(o, "params", (double)net_param_count(&m->net).total);
    cJSON_AddNumberToObject(o, "density", m->density);
    cJSON_AddNumberToObject(o, "accept_prob", m->accept_prob);
    cJSON_AddBoolToObject(o, "accepted", m->accepted);
    if (m->trained) {
        if (m->diverged) {
            cJSON_AddBoolToObject(o, "diverged", 1);
        } else {
            cJSON_AddNumberToObject(o, "val_loss", m->val_loss);
            cJSON_AddNumberToObject(o, "val_acc", m->val_acc);
        }
        cJSON *t = cJSON_AddObjectToObject(o, "timing");
        cJSON_AddNumberToObject(t, "seconds", m->seconds);
        cJSON_AddNumberToObject(t, "img_per_s", m->img_per_s);
    }
    return o;
}

static int write_json(const char *path, cJSON *root, err_t *err)
{
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return err_set(err, "out of memory writing %s", path);
    size_t n = strlen(text);
    char *buf = realloc(text, n + 2);
    if (!buf) { free(text); return err_set(err, "out of memory writing %s", path); }
    buf[n] = '\n';
    int rc = atomic_write(path, buf, n + 1, err);
    free(buf);
    return rc;
}

int genfile_write_gen(const char *out_dir, int gen, const member_t *const *front, int n_front,
                      const member_t *const *children, int n_children, double hv, double seconds,
                      const rank_load_t *load, int n_ranks, err_t *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "generation", gen);
    cJSON *f = cJSON_AddArrayToObject(root, "front");
    for (int i = 0; i < n_front; i++) cJSON_AddItemToArray(f, genfile_model_json(front[i]));
    cJSON *c = cJSON_AddArrayToObject(root, "children");
    for (int i = 0; i < n_children; i++) cJSON_AddItemToArray(c, genfile_child_json(children[i]));
    cJSON_AddNumberToObject(root, "hypervolume", hv);
    cJSON *t = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(t, "seconds", seconds);
    if (load && n_ranks > 0) {
        cJSON *ranks = cJSON_AddArrayToObject(t, "ranks");
        for (int r = 0; r < n_ranks; r++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "rank", r);
            cJSON_AddNumberToObject(o, "busy_s", load[r].busy_s);
            cJSON_AddNumberToObject(o, "children", load[r].children);
            cJSON_AddItemToArray(ranks, o);
        }
    }
    char path[4200];
    genfile_gen_path(path, sizeof path, out_dir, gen);
    return write_json(path, root, err);
}

int genfile_write_final(const char *out_dir, int gen, const member_t *const *front, int n_front,
                        double seconds, err_t *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "generation", gen);
    cJSON *f = cJSON_AddArrayToObject(root, "front");
    for (int i = 0; i < n_front; i++) cJSON_AddItemToArray(f, genfile_model_json(front[i]));
    cJSON *t = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(t, "seconds", seconds);
    char path[4200];
    snprintf(path, sizeof path, "%s/final.json", out_dir);
    return write_json(path, root, err);
}

int genfile_write_run(const search_opts_t *o, err_t *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", LEMONADE_VERSION);
    cJSON_AddStringToObject(root, "command", o->command_line ? o->command_line : "");
    cJSON *op = cJSON_AddObjectToObject(root, "options");
    cJSON_AddNumberToObject(op, "gens", o->gens);
    cJSON_AddNumberToObject(op, "accept", o->accept);
    cJSON_AddNumberToObject(op, "epochs", o->epochs);
    cJSON_AddNumberToObject(op, "init_epochs", o->init_epochs);
    cJSON *fl = cJSON_AddArrayToObject(op, "filters");
    for (int i = 0; i < o->n_filters; i++) cJSON_AddItemToArray(fl, cJSON_CreateNumber(o->filters[i]));
    cJSON_AddNumberToObject(op, "batch", o->batch);
    cJSON_AddNumberToObject(op, "lr", o->lr);
    cJSON_AddNumberToObject(op, "train_limit", o->train_limit);
    cJSON_AddNumberToObject(op, "val_limit", o->val_limit);
    cJSON_AddStringToObject(op, "kde_space", o->kde_log ? "log" : "linear");
    cJSON_AddNumberToObject(op, "threads", o->threads);
    cJSON_AddNumberToObject(op, "jobs", o->jobs);
    cJSON_AddStringToObject(root, "data_dir", o->data_dir);
    /* The seed as a string too: JSON numbers lose precision past 2^53. */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    cJSON_AddStringToObject(root, "seed", seed);
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", o->out_dir);
    return write_json(path, root, err);
}

static int num(const cJSON *o, const char *key, double *v, const char *path, err_t *err)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x)) return err_set(err, "%s: missing or non-numeric \"%s\"", path, key);
    *v = x->valuedouble;
    return 0;
}

/* v must be an integer-valued number in lo..hi (checked before any cast). */
static int int_in(double v, int lo, int hi) { return v >= lo && v <= hi && v == (double)(long long)v; }

int genfile_parse_run(const char *text, size_t len, const char *path, search_opts_t *o, err_t *err)
{
    cJSON *root = json_parse_all(text, len);
    if (!root) return err_set(err, "%s: not valid JSON (truncated or corrupted?)", path);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "options");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    const cJSON *dd = cJSON_GetObjectItemCaseSensitive(root, "data_dir");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(op, "filters");
    const cJSON *ks = cJSON_GetObjectItemCaseSensitive(op, "kde_space");
    int rc = 0;
    double v[8];
    static const char *const keys[8] = {"gens", "accept", "epochs", "init_epochs", "batch", "lr",
                                        "train_limit", "val_limit"};
    if (!cJSON_IsObject(op) || !cJSON_IsString(seed) || !cJSON_IsString(dd) || !cJSON_IsArray(fl) ||
        !cJSON_IsString(ks))
        rc = err_set(err, "%s: missing \"options\", \"seed\", \"data_dir\", filters or kde_space", path);
    for (int i = 0; i < 8 && !rc; i++) rc = num(op, keys[i], &v[i], path, err);
    /* Range-check before converting: a corrupted file must not overflow a cast. */
    if (!rc && (!int_in(v[0], 0, 100000) || !int_in(v[1], 1, 100000) || !int_in(v[2], 1, 10000) ||
                !int_in(v[3], 1, 10000) || !int_in(v[4], 1, 65536) || !(v[5] > 0 && v[5] <= 1e3) ||
                !int_in(v[6], 0, 1000000000) || !int_in(v[7], 0, 1000000000)))
        rc = err_set(err, "%s: option values out of range", path);
    if (!rc) {
        o->gens = (int)v[0]; o->accept = (int)v[1]; o->epochs = (int)v[2]; o->init_epochs = (int)v[3];
        o->batch = (int)v[4]; o->lr = v[5]; o->train_limit = (int)v[6]; o->val_limit = (int)v[7];
        o->seed = strtoull(seed->valuestring, NULL, 10);
        snprintf(o->data_dir, sizeof o->data_dir, "%s", dd->valuestring);
        o->kde_log = strcmp(ks->valuestring, "log") == 0;
        o->n_filters = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, fl) {
            if (o->n_filters >= SEARCH_MAX_FILTERS || !cJSON_IsNumber(f) || !int_in(f->valuedouble, 1, NET_MAX_FILTERS)) {
                rc = err_set(err, "%s: bad \"filters\" list", path);
                break;
            }
            o->filters[o->n_filters++] = (int)f->valuedouble;
        }
        if (!rc && o->n_filters < 1) rc = err_set(err, "%s: bad \"filters\" list", path);
    }
    cJSON_Delete(root);
    return rc;
}

int genfile_read_run(const char *out_dir, search_opts_t *o, err_t *err)
{
    char path[4200], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/run.json", out_dir);
    if (read_file(path, &text, &len, 1 << 20, err)) return -1;
    int rc = genfile_parse_run(text, len, path, o, err);
    free(text);
    return rc;
}

int genfile_last_gen(const char *out_dir)
{
    DIR *d = opendir(out_dir);
    if (!d) return -1;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        /* exactly gen_DDD.json (three or more digits) */
        const char *p = e->d_name;
        if (strncmp(p, "gen_", 4) != 0) continue;
        p += 4;
        int g = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) g = g * 10 + (*p++ - '0'), digits++;
        if (digits >= 3 && strcmp(p, ".json") == 0 && g > best) best = g;
    }
    closedir(d);
    return best;
}

int genfile_parse_front(const char *text, size_t len, const char *path, const char *out_dir,
                        member_t ***front_out, int *n_out, err_t *err)
{
    *front_out = NULL;
    *n_out = 0;
    cJSON *root = json_parse_all(text, len);
    if (!root) return err_set(err, "%s: not valid JSON (truncated or corrupted?)", path);
    const cJSON *front = cJSON_GetObjectItemCaseSensitive(root, "front");
    int n = cJSON_GetArraySize(front), rc = 0, k = 0;
    if (!cJSON_IsArray(front) || n < 1) {
        cJSON_Delete(root);
        return err_set(err, "%s: \"front\" is not a non-empty array", path);
    }
    member_t **list = calloc((size_t)n, sizeof *list);
    const cJSON *e;
    cJSON_ArrayForEach(e, front) {
        member_t *m = calloc(1, sizeof *m);
        if (!list || !m) { free(m); rc = err_set(err, "out of memory"); break; }
        list[k++] = m;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *par = cJSON_GetObjectItemCaseSensitive(e, "parent");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "operator");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(e, "model");
        const cJSON *lin = cJSON_GetObjectItemCaseSensitive(e, "lineage");
        double born = 0, vl = 0, va = 0, ep = 0, be = 0;
        if (!cJSON_IsString(id) || !cJSON_IsString(model) || !cJSON_IsArray(lin) ||
            strlen(id->valuestring) >= sizeof m->id || strlen(model->valuestring) >= sizeof m->model ||
            strstr(model->valuestring, "..")) {
            rc = err_set(err, "%s: front entry %d lacks a valid \"id\", \"model\" or \"lineage\"", path, k - 1);
            break;
        }
        if (num(e, "born", &born, path, err) || num(e, "val_loss", &vl, path, err) ||
            num(e, "val_acc", &va, path, err) || num(e, "epochs", &ep, path, err) ||
            num(e, "best_epoch", &be, path, err)) {
            rc = -1;
            break;
        }
        if (!int_in(born, 0, 1000000) || !int_in(ep, 0, 1000000) || !int_in(be, 0, 1000000)) {
            rc = err_set(err, "%s: front entry %d has \"born\", \"epochs\" or \"best_epoch\" out of range", path,
                         k - 1);
            break;
        }
        snprintf(m->id, sizeof m->id, "%s", id->valuestring);
        snprintf(m->parent, sizeof m->parent, "%s", cJSON_IsString(par) ? par->valuestring : "");
        m->op = cJSON_IsString(op) ? morph_by_name(op->valuestring) : -1;
        m->born = (int)born;
        m->val_loss = vl;
        m->val_acc = va;
        m->epochs = (int)ep;
        m->best_epoch = (int)be;
        m->trained = 1;
        snprintf(m->model, sizeof m->model, "%s", model->valuestring);
        const cJSON *l;
        size_t used = 0;
        cJSON_ArrayForEach(l, lin) {
            if (!cJSON_IsString(l)) continue;
            if (used >= sizeof m->lineage - 1) break;  /* full: snprintf truncated it */
            used += (size_t)snprintf(m->lineage + used, sizeof m->lineage - used, "%s%s", used ? "," : "",
                                     l->valuestring);
        }
        if (out_dir) {
            char mpath[4200];
            snprintf(mpath, sizeof mpath, "%s/%s", out_dir, m->model);
            if (model_load(&m->net, NULL, 0, mpath, err)) { rc = -1; break; }
        }
    }
    cJSON_Delete(root);
    if (rc) {
        for (int i = 0; i < k; i++) { net_free(&list[i]->net); free(list[i]); }
        free(list);
        return -1;
    }
    *front_out = list;
    *n_out = n;
    return 0;
}

int genfile_read_front(const char *out_dir, int gen, member_t ***front_out, int *n_out, err_t *err)
{
    char path[4200], *text;
    size_t len;
    genfile_gen_path(path, sizeof path, out_dir, gen);
    *front_out = NULL;
    *n_out = 0;
    if (read_file(path, &text, &len, 256u << 20, err)) return -1;
    int rc = genfile_parse_front(text, len, path, out_dir, front_out, n_out, err);
    free(text);
    return rc;
}
