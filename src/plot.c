/* plot.c - load a run directory for the pictures, choose generations, and
 * plot_run; the drawing itself is in plot_svg.c. See plot.h. */
#include "plot.h"
#include "fileio.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int push_point(plot_run_t *run, const plot_point_t *p)
{
    if (run->n_pts == run->cap_pts) {
        int cap = run->cap_pts ? run->cap_pts * 2 : 256;
        plot_point_t *np = realloc(run->pts, (size_t)cap * sizeof *np);
        if (!np) return -1;
        run->pts = np;
        run->cap_pts = cap;
    }
    run->pts[run->n_pts++] = *p;
    return 0;
}

/* One entry of "front" or "children" into a point. A front entry must have
 * a val_loss; a child has one only when it was evaluated and did not
 * diverge. `where` is e.g. "front[2]". */
static int parse_point(const cJSON *e, int need_loss, const char *path, const char *where, plot_point_t *p,
                       err_t *err)
{
    if (!cJSON_IsObject(e)) return err_set(err, "%s: %s is not an object", path, where);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(e, "params");
    const cJSON *loss = cJSON_GetObjectItemCaseSensitive(e, "val_loss");
    const cJSON *div = cJSON_GetObjectItemCaseSensitive(e, "diverged");
    if (!cJSON_IsString(id) || !id->valuestring[0]) return err_set(err, "%s: %s: missing 'id'", path, where);
    if (strlen(id->valuestring) >= PLOT_ID_LEN)
        return err_set(err, "%s: %s: id longer than %d characters", path, where, PLOT_ID_LEN - 1);
    if (!cJSON_IsNumber(params)) return err_set(err, "%s: %s (%s): missing 'params'", path, where, id->valuestring);
    if (!(params->valuedouble >= 1))
        return err_set(err, "%s: %s (%s): params %g is not a positive count", path, where, id->valuestring,
                       params->valuedouble);
    memset(p, 0, sizeof *p);
    strcpy(p->id, id->valuestring);
    p->params = params->valuedouble;
    p->val_loss = NAN;
    if (cJSON_IsNumber(loss) && !cJSON_IsTrue(div) && isfinite(loss->valuedouble)) p->val_loss = loss->valuedouble;
    else if (need_loss) return err_set(err, "%s: %s (%s): missing 'val_loss'", path, where, id->valuestring);
    return 0;
}

static int by_params(const void *a, const void *b)
{
    const plot_point_t *p = a, *q = b;
    return (p->params > q->params) - (p->params < q->params);
}

/* Parse one gen file into run->gens[g]. */
static int load_gen(plot_run_t *run, int g, const char *path, err_t *err)
{
    char *text;
    size_t len;
    if (read_file(path, &text, &len, (size_t)1 << 30, err)) return -1;
    cJSON *doc = cJSON_Parse(text);
    if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        free(text);
        if (off >= 0) return err_set(err, "%s: invalid JSON near byte %ld", path, off);
        return err_set(err, "%s: invalid JSON", path);
    }
    free(text);
    int rc = -1;
    char where[64];
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(doc, "generation");
    const cJSON *front = cJSON_GetObjectItemCaseSensitive(doc, "front");
    const cJSON *children = cJSON_GetObjectItemCaseSensitive(doc, "children");
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(doc, "hypervolume");
    plot_gen_t *G = &run->gens[g];
    if (!cJSON_IsObject(doc)) { err_set(err, "%s: not a JSON object", path); goto done; }
    if (!cJSON_IsNumber(gen)) { err_set(err, "%s: missing 'generation'", path); goto done; }
    if (gen->valuedouble != g) {
        err_set(err, "%s: says generation %g, expected %d", path, gen->valuedouble, g);
        goto done;
    }
    if (!cJSON_IsArray(front)) { err_set(err, "%s: missing 'front' array", path); goto done; }
    if (!cJSON_IsArray(children)) { err_set(err, "%s: missing 'children' array", path); goto done; }
    if (!cJSON_IsNumber(hv)) { err_set(err, "%s: missing 'hypervolume'", path); goto done; }
    if (cJSON_GetArraySize(front) == 0) { err_set(err, "%s: empty 'front'", path); goto done; }
    G->hypervolume = hv->valuedouble;

    G->front_off = run->n_pts;
    int i = 0;
    for (const cJSON *e = front->child; e; e = e->next, i++) {
        plot_point_t p;
        snprintf(where, sizeof where, "front[%d]", i);
        if (parse_point(e, 1, path, where, &p, err)) goto done;
        if (push_point(run, &p)) { err_set(err, "%s: out of memory", path); goto done; }
    }
    G->n_front = i;
    /* The contract says sorted by params; make sure, so a step line never
     * runs backwards. */
    qsort(run->pts + G->front_off, (size_t)G->n_front, sizeof *run->pts, by_params);

    G->child_off = run->n_pts;
    i = 0;
    for (const cJSON *e = children->child; e; e = e->next, i++) {
        plot_point_t p;
        snprintf(where, sizeof where, "children[%d]", i);
        if (parse_point(e, 0, path, where, &p, err)) goto done;
        if (push_point(run, &p)) { err_set(err, "%s: out of memory", path); goto done; }
    }
    G->n_children = i;
    rc = 0;
done:
    cJSON_Delete(doc);
    return rc;
}

int plot_load_run(plot_run_t *run, const char *run_dir, err_t *err)
{
    memset(run, 0, sizeof *run);
    struct stat st;
    if (stat(run_dir, &st) != 0) return err_set(err, "%s: no such directory", run_dir);
    if (!S_ISDIR(st.st_mode)) return err_set(err, "%s: not a directory", run_dir);
    char path[4096];
    int n = 0;
    while (n < PLOT_MAX_GENS) {
        snprintf(path, sizeof path, "%s/gen_%03d.json", run_dir, n);
        if (stat(path, &st) != 0) break;
        n++;
    }
    if (n == 0) return err_set(err, "%s: no gen_000.json (not a lemonade run directory?)", run_dir);
    run->gens = calloc((size_t)n, sizeof *run->gens);
    if (!run->gens) return err_set(err, "%s: out of memory", run_dir);
    run->n_gens = n;
    for (int g = 0; g < n; g++) {
        snprintf(path, sizeof path, "%s/gen_%03d.json", run_dir, g);
        if (load_gen(run, g, path, err)) {
            plot_run_free(run);
            return -1;
        }
    }
    return 0;
}

void plot_run_free(plot_run_t *run)
{
    free(run->gens);
    free(run->pts);
    memset(run, 0, sizeof *run);
}

int plot_default_gens(int last, int *out)
{
    int n = 0;
    if (last < 0) return 0;
    for (int i = 0; i < 5; i++) {
        int g = (int)floor(i * (double)last / 4 + 0.5);
        if (n == 0 || g != out[n - 1]) out[n++] = g;
    }
    return n;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int plot_run(const char *run_dir, const int *gens, int n_gens, const char *front_svg_path,
             const char *hv_svg_path, err_t *err)
{
    plot_run_t run;
    if (plot_load_run(&run, run_dir, err)) return -1;
    int last = run.n_gens - 1, sel[PLOT_MAX_GENS], n = 0, rc = -1;
    if (!gens || n_gens <= 0) {
        n = plot_default_gens(last, sel);
    } else {
        if (n_gens > PLOT_MAX_GENS) { err_set(err, "too many generations requested"); goto done; }
        memcpy(sel, gens, (size_t)n_gens * sizeof *sel);
        qsort(sel, (size_t)n_gens, sizeof *sel, cmp_int);
        for (int i = 0; i < n_gens; i++)
            if (n == 0 || sel[i] != sel[n - 1]) sel[n++] = sel[i];
        for (int i = 0; i < n; i++)
            if (sel[i] < 0 || sel[i] > last) {
                if (last == 0) err_set(err, "%s: no generation %d (the run has only gen_000)", run_dir, sel[i]);
                else err_set(err, "%s: no generation %d (the run has gen_000..gen_%03d)", run_dir, sel[i], last);
                goto done;
            }
    }
    char fpath[4096], hpath[4096];
    if (!front_svg_path) { snprintf(fpath, sizeof fpath, "%s/front.svg", run_dir); front_svg_path = fpath; }
    if (!hv_svg_path) { snprintf(hpath, sizeof hpath, "%s/hypervolume.svg", run_dir); hv_svg_path = hpath; }
    if (plot_write_front_svg(&run, sel, n, front_svg_path, err)) goto done;
    if (plot_write_hv_svg(&run, hv_svg_path, err)) goto done;
    rc = 0;
done:
    plot_run_free(&run);
    return rc;
}
