/* cluster.c - the messages between ranks (no MPI here); see cluster.h. */
#include "cluster.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cluster.c encodes little-endian and assumes a little-endian host"
#endif

#define MSG_MAGIC "LEMNMSG1"
#define MSG_HEAD (8 + 4 + 4)
#define MSG_MAX ((size_t)1 << 31)

/* A growing output buffer; the first allocation failure sticks. */
typedef struct {
    uint8_t *b;
    size_t len, cap;
    int oom;
} wbuf_t;

static void put(wbuf_t *w, const void *p, size_t n)
{
    if (w->oom) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n) cap *= 2;
        uint8_t *b = realloc(w->b, cap);
        if (!b) { w->oom = 1; return; }
        w->b = b;
        w->cap = cap;
    }
    if (n) memcpy(w->b + w->len, p, n);  /* p may be NULL when n is 0 */
    w->len += n;
}
static void put_u32(wbuf_t *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(wbuf_t *w, uint64_t v) { put(w, &v, 8); }
static void put_f64(wbuf_t *w, double v) { put(w, &v, 8); }
static void put_str(wbuf_t *w, const char *s, size_t n) { put_u32(w, (uint32_t)n); put(w, s, n); }
static void put_blob(wbuf_t *w, const uint8_t *p, size_t n) { put_u64(w, n); put(w, p, n); }

static void begin(wbuf_t *w, uint32_t kind)
{
    put(w, MSG_MAGIC, 8);
    put_u32(w, kind);
    put_u32(w, 0);  /* payload length, set by finish() */
}

static int finish(wbuf_t *w, uint8_t **buf, size_t *len, err_t *err)
{
    if (!w->oom && w->len - MSG_HEAD > 0xffffffffu - 4) w->oom = 1;
    if (!w->oom) {
        uint32_t payload = (uint32_t)(w->len - MSG_HEAD);
        memcpy(w->b + 12, &payload, 4);
        put_u32(w, (uint32_t)crc32(0L, w->b, (uInt)w->len));
    }
    if (w->oom) {
        free(w->b);
        return err_set(err, "out of memory encoding a message");
    }
    *buf = w->b;
    *len = w->len;
    return 0;
}

/* Reading: bounds are checked on every field; the first error sticks. */
typedef struct {
    const uint8_t *p, *end;
    int bad;
} rbuf_t;

static const uint8_t *take(rbuf_t *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}
static uint32_t get_u32(rbuf_t *r) { uint32_t v = 0; const uint8_t *q = take(r, 4); if (q) memcpy(&v, q, 4); return v; }
static uint64_t get_u64(rbuf_t *r) { uint64_t v = 0; const uint8_t *q = take(r, 8); if (q) memcpy(&v, q, 8); return v; }
static double get_f64(rbuf_t *r) { double v = 0; const uint8_t *q = take(r, 8); if (q) memcpy(&v, q, 8); return v; }
/* A string into out[cap] (NUL-terminated); too long is an error. */
static void get_str(rbuf_t *r, char *out, size_t cap)
{
    uint32_t n = get_u32(r);
    if (!r->bad && n >= cap) r->bad = 1;
    const uint8_t *q = take(r, n);
    if (q) { memcpy(out, q, n); out[n] = '\0'; }
    else if (cap) out[0] = '\0';
}
/* A string or blob in place: pointer into the buffer and its length. */
static const uint8_t *get_span(rbuf_t *r, size_t *n, int wide)
{
    uint64_t len = wide ? get_u64(r) : get_u32(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) { r->bad = 1; return NULL; }
    *n = (size_t)len;
    return take(r, (size_t)len);
}

static const char *kind_name(uint32_t k)
{
    return k == CLUSTER_MSG_SETUP ? "setup" : k == CLUSTER_MSG_TASK ? "task" : k == CLUSTER_MSG_RESULT ? "result" : "?";
}

/* Check the frame (magic, kind, length, CRC) and point r at the payload. */
static int open_msg(const uint8_t *buf, size_t len, uint32_t kind, rbuf_t *r, err_t *err)
{
    const char *what = kind_name(kind);
    if (len < MSG_HEAD + 4) return err_set(err, "%s message truncated (%zu bytes)", what, len);
    if (memcmp(buf, MSG_MAGIC, 8) != 0) return err_set(err, "%s message: bad magic (not a lemonade message)", what);
    uint32_t k, payload;
    memcpy(&k, buf + 8, 4);
    memcpy(&payload, buf + 12, 4);
    if (k != kind) return err_set(err, "expected a %s message, got kind %u", what, k);
    if ((size_t)payload + MSG_HEAD + 4 != len)
        return err_set(err, "%s message %s: %zu bytes, header says %zu", what,
                       len < (size_t)payload + MSG_HEAD + 4 ? "truncated" : "has trailing data", len,
                       (size_t)payload + MSG_HEAD + 4);
    uint32_t crc;
    memcpy(&crc, buf + len - 4, 4);
    if (crc != (uint32_t)crc32(0L, buf, (uInt)(len - 4))) return err_set(err, "%s message: CRC-32 mismatch (corrupted)", what);
    r->p = buf + MSG_HEAD;
    r->end = buf + len - 4;
    r->bad = 0;
    return 0;
}

static int close_msg(const rbuf_t *r, uint32_t kind, err_t *err)
{
    if (r->bad) return err_set(err, "%s message: a field runs past the end or is too long", kind_name(kind));
    if (r->p != r->end) return err_set(err, "%s message: %zu unread bytes at the end", kind_name(kind), (size_t)(r->end - r->p));
    return 0;
}

/* -------------------------------------------------------------- setup */

int cluster_setup_encode(const cluster_setup_t *s, uint8_t **buf, size_t *len, err_t *err)
{
    wbuf_t w = {0};
    begin(&w, CLUSTER_MSG_SETUP);
    put_u32(&w, (uint32_t)s->batch);
    put_f64(&w, s->lr);
    put_u64(&w, s->seed);
    put_u32(&w, (uint32_t)s->train_limit);
    put_u32(&w, (uint32_t)s->val_limit);
    put_str(&w, s->data_dir, strnlen(s->data_dir, sizeof s->data_dir - 1));
    put_str(&w, s->kernels, strnlen(s->kernels, sizeof s->kernels - 1));
    return finish(&w, buf, len, err);
}

int cluster_setup_decode(const uint8_t *buf, size_t len, cluster_setup_t *s, err_t *err)
{
    rbuf_t r;
    if (open_msg(buf, len, CLUSTER_MSG_SETUP, &r, err)) return -1;
    cluster_setup_t t;
    memset(&t, 0, sizeof t);
    t.batch = (int)get_u32(&r);
    t.lr = get_f64(&r);
    t.seed = get_u64(&r);
    t.train_limit = (int)get_u32(&r);
    t.val_limit = (int)get_u32(&r);
    get_str(&r, t.data_dir, sizeof t.data_dir);
    get_str(&r, t.kernels, sizeof t.kernels);
    if (close_msg(&r, CLUSTER_MSG_SETUP, err)) return -1;
    if (t.batch < 1 || t.train_limit < 0 || t.val_limit < 0)
        return err_set(err, "setup message: batch %d, train_limit %d, val_limit %d out of range", t.batch,
                       t.train_limit, t.val_limit);
    *s = t;
    return 0;
}

/* --------------------------------------------------------------- task */

int cluster_task_encode(const cluster_task_t *t, const member_t *m, uint8_t **buf, size_t *len, err_t *err)
{
    cJSON *arch = model_arch_json(&m->net, m->id);
    char *text = arch ? cJSON_PrintUnformatted(arch) : NULL;
    cJSON_Delete(arch);
    uint8_t *wts = NULL;
    size_t wlen = 0;
    if (!text) return err_set(err, "out of memory encoding %s", m->id);
    if (weights_encode(&m->net, &wts, &wlen, err)) { free(text); return -1; }
    wbuf_t w = {0};
    begin(&w, CLUSTER_MSG_TASK);
    put_u32(&w, (uint32_t)t->slot);
    put_u32(&w, (uint32_t)t->gen);
    put_u32(&w, (uint32_t)t->index);
    put_u32(&w, (uint32_t)t->epochs);
    put_str(&w, m->id, strnlen(m->id, sizeof m->id - 1));
    put_str(&w, text, strlen(text));
    put_blob(&w, wts, wlen);
    free(text);
    free(wts);
    return finish(&w, buf, len, err);
}

int cluster_task_decode(const uint8_t *buf, size_t len, cluster_task_t *t, member_t *m, err_t *err)
{
    rbuf_t r;
    if (open_msg(buf, len, CLUSTER_MSG_TASK, &r, err)) return -1;
    cluster_task_t tk;
    memset(&tk, 0, sizeof tk);
    tk.slot = (int)get_u32(&r);
    tk.gen = (int)get_u32(&r);
    tk.index = (int)get_u32(&r);
    tk.epochs = (int)get_u32(&r);
    get_str(&r, tk.id, sizeof tk.id);
    size_t alen = 0, wlen = 0;
    const uint8_t *arch = get_span(&r, &alen, 0);
    const uint8_t *wts = get_span(&r, &wlen, 1);
    if (close_msg(&r, CLUSTER_MSG_TASK, err)) return -1;
    if (tk.slot < 0 || tk.gen < 0 || tk.index < 0 || tk.epochs < 0)
        return err_set(err, "task message: slot %d, gen %d, index %d, epochs %d out of range", tk.slot, tk.gen,
                       tk.index, tk.epochs);
    cJSON *root = cJSON_ParseWithLength((const char *)arch, alen);
    if (!root) return err_set(err, "task message %s: architecture is not valid JSON", tk.id);
    char name[64];
    snprintf(name, sizeof name, "task %s", tk.id);
    memset(m, 0, sizeof *m);
    int rc = model_arch_parse(&m->net, root, name, err);
    cJSON_Delete(root);
    if (rc) return -1;
    if (weights_decode(&m->net, wts, wlen, name, err)) {
        net_free(&m->net);
        memset(m, 0, sizeof *m);
        return -1;
    }
    memcpy(m->id, tk.id, sizeof m->id);
    *t = tk;
    return 0;
}

/* ------------------------------------------------------------- result */

int cluster_result_encode(const cluster_result_t *r, const member_t *m, uint8_t **buf, size_t *len, err_t *err)
{
    uint8_t *wts = NULL;
    size_t wlen = 0;
    if (r->status == SEARCH_OK && weights_encode(&m->net, &wts, &wlen, err)) return -1;
    wbuf_t w = {0};
    begin(&w, CLUSTER_MSG_RESULT);
    put_u32(&w, (uint32_t)r->slot);
    put_u32(&w, (uint32_t)r->status);
    put_str(&w, r->error, r->status == SEARCH_FAILED ? strnlen(r->error, sizeof r->error - 1) : 0);
    put_u32(&w, (uint32_t)m->trained);
    put_u32(&w, (uint32_t)m->diverged);
    put_u32(&w, (uint32_t)m->epochs);
    put_u32(&w, (uint32_t)m->best_epoch);
    put_f64(&w, m->val_loss);
    put_f64(&w, m->val_acc);
    put_f64(&w, m->seconds);
    put_f64(&w, m->img_per_s);
    put_blob(&w, wts, wlen);
    free(wts);
    return finish(&w, buf, len, err);
}

/* Everything but the weights; *wts and *wlen locate them in buf. */
static int result_fields(const uint8_t *buf, size_t len, cluster_result_t *r, member_t *m, const uint8_t **wts,
                         size_t *wlen, err_t *err)
{
    rbuf_t rb;
    if (open_msg(buf, len, CLUSTER_MSG_RESULT, &rb, err)) return -1;
    memset(r, 0, sizeof *r);
    r->slot = (int)get_u32(&rb);
    r->status = (int)get_u32(&rb);
    get_str(&rb, r->error, sizeof r->error);
    m->trained = (int)get_u32(&rb);
    m->diverged = (int)get_u32(&rb);
    m->epochs = (int)get_u32(&rb);
    m->best_epoch = (int)get_u32(&rb);
    m->val_loss = get_f64(&rb);
    m->val_acc = get_f64(&rb);
    m->seconds = get_f64(&rb);
    m->img_per_s = get_f64(&rb);
    *wts = get_span(&rb, wlen, 1);
    if (close_msg(&rb, CLUSTER_MSG_RESULT, err)) return -1;
    if (r->slot < 0 || (r->status != SEARCH_OK && r->status != SEARCH_STOPPED && r->status != SEARCH_FAILED))
        return err_set(err, "result message: slot %d, status %d out of range", r->slot, r->status);
    if (r->status == SEARCH_OK && *wlen == 0) return err_set(err, "result message: no weights");
    return 0;
}

int cluster_result_peek(const uint8_t *buf, size_t len, cluster_result_t *r, err_t *err)
{
    member_t tmp;
    const uint8_t *wts;
    size_t wlen;
    return result_fields(buf, len, r, &tmp, &wts, &wlen, err);
}

int cluster_result_decode(const uint8_t *buf, size_t len, cluster_result_t *r, member_t *m, err_t *err)
{
    member_t tmp = *m;
    const uint8_t *wts;
    size_t wlen;
    if (result_fields(buf, len, r, &tmp, &wts, &wlen, err)) return -1;
    if (r->status != SEARCH_OK) return 0;
    if (weights_decode(&m->net, wts, wlen, m->id, err)) return -1;
    *m = tmp;  /* same net pointers; the weights were decoded into them */
    return 0;
}
