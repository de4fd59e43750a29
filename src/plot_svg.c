/* plot_svg.c - the front and hypervolume pictures as standalone SVG, and the
 * axis arithmetic behind them. See plot.h.
 *
 * Plain SVG 1.1: no scripts, no external fonts or images, a generic
 * font-family. Coordinates: a frame maps data values into the pixel box
 * [x0,x1] x [y0,y1] (y grows downwards, so larger values sit higher). */
#include "plot.h"
#include "fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- axes */

int plot_log_ticks(double lo, double hi, plot_tick_t *ticks, int max)
{
    if (!(lo > 0) || !(hi > lo) || max <= 0) return 0;
    const double eps = 1e-9;
    int k0 = (int)floor(log10(lo)), k1 = (int)ceil(log10(hi));
    int n_decades = 0;
    for (int k = k0; k <= k1; k++) {
        double v = pow(10, k);
        if (v >= lo * (1 - eps) && v <= hi * (1 + eps)) n_decades++;
    }
    int n = 0;
    for (int k = k0; k <= k1; k++)
        for (int m = 1; m <= 9; m++) {
            double v = m * pow(10, k);
            if (v < lo * (1 - eps) || v > hi * (1 + eps)) continue;
            if (n == max) return n;
            ticks[n].v = v;
            ticks[n].major = m == 1 || (n_decades < 2 && (m == 2 || m == 3 || m == 5));
            n++;
        }
    int n_major = 0;
    for (int i = 0; i < n; i++) n_major += ticks[i].major;
    if (n_major < 2)    /* a very narrow range: label every tick */
        for (int i = 0; i < n; i++) ticks[i].major = 1;
    return n;
}

/* 1, 2 or 5 times a power of ten, near (hi - lo) / target. */
static double nice_step(double lo, double hi, int target)
{
    double raw = (hi - lo) / (target > 0 ? target : 1);
    if (!(raw > 0)) return 1;
    double mag = pow(10, floor(log10(raw))), norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

static int ticks_at_step(double lo, double hi, double step, double *ticks, int max)
{
    int n = 0;
    for (double i = ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9 && n < max; i++)
        ticks[n++] = fabs(i * step) < step * 1e-9 ? 0 : i * step;
    return n;
}

int plot_linear_ticks(double lo, double hi, int target, double *ticks, int max, double *step)
{
    double s = nice_step(lo, hi, target);
    if (step) *step = s;
    if (!(hi >= lo)) return 0;
    return ticks_at_step(lo, hi, s, ticks, max);
}

void plot_format_count(double v, char *buf, size_t size)
{
    if (v >= 1e9) snprintf(buf, size, "%gG", v / 1e9);
    else if (v >= 1e6) snprintf(buf, size, "%gM", v / 1e6);
    else if (v >= 1e3) snprintf(buf, size, "%gk", v / 1e3);
    else snprintf(buf, size, "%g", v);
}

int plot_front_steps(const double *x, const double *y, int n, double x_right, double *sx, double *sy)
{
    for (int i = 0; i < n; i++) {
        sx[2 * i] = x[i];
        sy[2 * i] = y[i];
        sx[2 * i + 1] = i + 1 < n ? x[i + 1] : x_right;
        sy[2 * i + 1] = y[i];
    }
    return 2 * n;
}

/* Decimals needed to print multiples of step exactly. */
static int decimals_for(double step)
{
    int d = -(int)floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

typedef struct {
    double x0, x1, y0, y1;      /* pixel box: left, right, top, bottom */
    double lo_x, hi_x, lo_y, hi_y;
    int log_x;
} frame_t;

static double px(const frame_t *f, double v)
{
    /* cppcheck flags log10(0) from the hypervolume plot, whose frame has
     * log_x == 0, so the log branch never sees that 0 (a false positive). */
    // cppcheck-suppress invalidFunctionArg
    double t = f->log_x ? (log10(v) - log10(f->lo_x)) / (log10(f->hi_x) - log10(f->lo_x))
                        : (v - f->lo_x) / (f->hi_x - f->lo_x);
    return f->x0 + t * (f->x1 - f->x0);
}

static double py(const frame_t *f, double v)
{
    return f->y1 - (v - f->lo_y) / (f->hi_y - f->lo_y) * (f->y1 - f->y0);
}

/* -------------------------------------------------------------- output */

/* An SVG is printed into memory, then written with atomic_write (PATH.tmp,
 * fsync, rename), so a viewer never sees half a picture. */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
} out_t;

static int out_open(out_t *o, const char *path, err_t *err)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    if (!o->f) return err_set(err, "%s: out of memory", path);
    return 0;
}

static void out_abort(out_t *o)
{
    fclose(o->f);
    free(o->buf);
}

static int out_close(out_t *o, const char *path, err_t *err)
{
    int bad = ferror(o->f);
    if (fclose(o->f) != 0) bad = 1;
    if (bad || !o->buf) {
        free(o->buf);
        return err_set(err, "%s: out of memory", path);
    }
    int rc = atomic_write(path, o->buf, o->len, err);
    free(o->buf);
    return rc;
}

/* Text with XML's special characters escaped. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

#define FONT "font-family=\"sans-serif\""

static void svg_begin(FILE *f, int w, int h, const char *title)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" " FONT " font-size=\"12\">\n", w, h, w, h);
    fprintf(f, "<title>%s</title>\n", title);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, h);
    fprintf(f, "<text x=\"%d\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" "
               "fill=\"#222\">%s</text>\n", w / 2, title);
}

/* Frame, grid, tick marks and labels, axis titles. Log x ticks come from
 * plot_log_ticks; linear ones at x_step. */
static void draw_axes(FILE *f, const frame_t *fr, const double *yt, int nyt, double y_step, double x_step,
                      const char *x_title, const char *y_title)
{
    char lab[32];
    fputs("<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < nyt; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->x0, py(fr, yt[i]), fr->x1,
                py(fr, yt[i]));
    plot_tick_t lt[64];
    double xt[64];
    int nlt = 0, nxt = 0;
    if (fr->log_x) {
        nlt = plot_log_ticks(fr->lo_x, fr->hi_x, lt, 64);
        for (int i = 0; i < nlt; i++)
            if (lt[i].major)
                fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px(fr, lt[i].v), fr->y0,
                        px(fr, lt[i].v), fr->y1);
    } else {
        nxt = ticks_at_step(fr->lo_x, fr->hi_x, x_step, xt, 64);
        for (int i = 0; i < nxt; i++)
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px(fr, xt[i]), fr->y0,
                    px(fr, xt[i]), fr->y1);
    }
    fputs("</g>\n", f);

    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#444\"/>\n",
            fr->x0, fr->y0, fr->x1 - fr->x0, fr->y1 - fr->y0);
    fputs("<g class=\"ticks\" stroke=\"#444\">\n", f);
    for (int i = 0; i < nyt; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->x0 - 5, py(fr, yt[i]), fr->x0,
                py(fr, yt[i]));
    for (int i = 0; i < nlt; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px(fr, lt[i].v), fr->y1,
                px(fr, lt[i].v), fr->y1 + (lt[i].major ? 6 : 3));
    for (int i = 0; i < nxt; i++)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", px(fr, xt[i]), fr->y1,
                px(fr, xt[i]), fr->y1 + 6);
    fputs("</g>\n<g class=\"tick-labels\" fill=\"#333\">\n", f);
    int yd = decimals_for(y_step);
    for (int i = 0; i < nyt; i++)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%.*f</text>\n", fr->x0 - 8,
                py(fr, yt[i]) + 4, yd, yt[i]);
    for (int i = 0; i < nlt; i++) {
        if (!lt[i].major) continue;
        plot_format_count(lt[i].v, lab, sizeof lab);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", px(fr, lt[i].v),
                fr->y1 + 20, lab);
    }
    int xd = nxt ? decimals_for(x_step) : 0;
    for (int i = 0; i < nxt; i++)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%.*f</text>\n", px(fr, xt[i]),
                fr->y1 + 20, xd, xt[i]);
    fputs("</g>\n", f);
    fprintf(f, "<text class=\"axis-title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"13\" "
               "fill=\"#222\">%s</text>\n", (fr->x0 + fr->x1) / 2, fr->y1 + 42, x_title);
    double yc = (fr->y0 + fr->y1) / 2;
    fprintf(f, "<text class=\"axis-title\" x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"13\" "
               "fill=\"#222\" transform=\"rotate(-90 %.2f %.2f)\">%s</text>\n", fr->x0 - 52, yc, fr->x0 - 52, yc,
            y_title);
}

/* Colour of series i of n, oldest (i = 0) light, newest dark: viridis from
 * 0.8 down to 0. */
static void series_colour(int i, int n, char *buf, size_t size)
{
    static const unsigned char stops[5][3] = {
        {0x44, 0x01, 0x54}, {0x3b, 0x52, 0x8b}, {0x21, 0x91, 0x8c}, {0x5e, 0xc9, 0x62}, {0xfd, 0xe7, 0x25}};
    double t = n > 1 ? 0.8 * (1 - (double)i / (n - 1)) : 0;
    double s = t * 4;
    int k = (int)s;
    if (k > 3) k = 3;
    double u = s - k;
    int c[3];
    for (int j = 0; j < 3; j++) c[j] = (int)lround(stops[k][j] + u * (stops[k + 1][j] - stops[k][j]));
    snprintf(buf, size, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* ------------------------------------------------------ front picture */

enum { FW = 880, FH = 560, FL = 84, FT = 50, FR = FW - 180, FB = FH - 64 };

typedef struct { double x0, y0, x1, y1; } box_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int boxes_overlap(const box_t *a, const box_t *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Choose a place for a label of `len` characters (font-size 11) next to the
 * point (x, y) that stays inside the frame and clear of the labels placed
 * so far and of the front's points. Returns the box; *anchor_end says
 * whether the text is right-aligned at box.x1. */
static box_t place_label(const frame_t *fr, double x, double y, size_t len, const box_t *placed, int n_placed,
                         const double *ptx, const double *pty, int n_pts, int *anchor_end)
{
    static const struct { double dx, dy; int end; } cand[] = {
        {6, -6, 0}, {6, 15, 0}, {-6, -6, 1}, {-6, 15, 1}, {6, -19, 0}, {-6, -19, 1}, {6, 28, 0}, {-6, 28, 1},
        {6, -32, 0}, {-6, -32, 1}, {6, 41, 0}, {-6, 41, 1},
    };
    double w = 6.3 * (double)len + 2, h = 12;
    int nc = (int)(sizeof cand / sizeof *cand);
    for (int c = 0; c <= nc; c++) {
        int k = c < nc ? c : 0;     /* nothing fits: the first choice */
        box_t b;
        b.x0 = cand[k].end ? x + cand[k].dx - w : x + cand[k].dx;
        b.x1 = b.x0 + w;
        b.y1 = y + cand[k].dy + 3; /* baseline + descent */
        b.y0 = b.y1 - h;
        *anchor_end = cand[k].end;
        if (c == nc) return b;
        if (b.x0 < fr->x0 + 2 || b.x1 > fr->x1 - 2 || b.y0 < fr->y0 + 2 || b.y1 > fr->y1 - 2) continue;
        int clash = 0;
        for (int i = 0; i < n_placed && !clash; i++) clash = boxes_overlap(&b, &placed[i]);
        for (int i = 0; i < n_pts && !clash; i++) {
            box_t p = {ptx[i] - 3, pty[i] - 3, ptx[i] + 3, pty[i] + 3};
            clash = boxes_overlap(&b, &p);
        }
        if (!clash) return b;
    }
    return (box_t){0, 0, 0, 0}; /* not reached */
}

int plot_write_front_svg(const plot_run_t *run, const int *gens, int n_gens, const char *path, err_t *err)
{
    if (n_gens <= 0) return err_set(err, "%s: no generations to plot", path);
    for (int i = 0; i < n_gens; i++)
        if (gens[i] < 0 || gens[i] >= run->n_gens || (i && gens[i] <= gens[i - 1]))
            return err_set(err, "%s: bad generation selection", path);
    const int last = gens[n_gens - 1];

    /* Ranges. x: every point drawn. y: the front points of the selected
     * generations, except outliers far above the rest (a tiny network near
     * chance level is on the front too, and would squash everything else):
     * those lie above front_cap = median + 3 * (median - min) and are
     * marked at the top edge. Children count as far as y_cap. */
    double pmin = INFINITY, pmax = -INFINITY;
    int n_fl = 0;
    for (int i = 0; i < n_gens; i++) n_fl += run->gens[gens[i]].n_front;
    double *fl = malloc((size_t)n_fl * sizeof *fl);
    if (!fl) return err_set(err, "%s: out of memory", path);
    n_fl = 0;
    for (int i = 0; i < n_gens; i++) {
        const plot_gen_t *G = &run->gens[gens[i]];
        for (int j = 0; j < G->n_front; j++) {
            const plot_point_t *p = &run->pts[G->front_off + j];
            pmin = fmin(pmin, p->params); pmax = fmax(pmax, p->params);
            fl[n_fl++] = p->val_loss;
        }
    }
    qsort(fl, (size_t)n_fl, sizeof *fl, cmp_double);
    double median = fl[n_fl / 2], fy_lo = fl[0], fy_hi = fy_lo;
    double front_cap = median + 3 * fmax(median - fy_lo, 0.05);
    for (int i = 0; i < n_fl; i++)
        if (fl[i] <= front_cap) fy_hi = fl[i];
    free(fl);
    double y_cap = fy_hi + 0.6 * fmax(fy_hi - fy_lo, 0.05);
    double y_lo = fy_lo, y_hi = fy_hi;
    for (int g = 0; g <= last; g++) {
        const plot_gen_t *G = &run->gens[g];
        for (int j = 0; j < G->n_children; j++) {
            const plot_point_t *p = &run->pts[G->child_off + j];
            if (isnan(p->val_loss)) continue;
            if (p->val_loss > y_cap) continue;
            pmin = fmin(pmin, p->params); pmax = fmax(pmax, p->params);
            y_lo = fmin(y_lo, p->val_loss); y_hi = fmax(y_hi, p->val_loss);
        }
    }
    frame_t fr = {FL, FR, FT, FB, 0, 0, 0, 0, 1};
    double l0 = log10(pmin), l1 = log10(pmax);
    if (l1 - l0 < 0.5) {    /* at least half a decade, so ticks fall inside */
        double mid = (l0 + l1) / 2;
        l0 = mid - 0.25;
        l1 = mid + 0.25;
    }
    double ls = l1 - l0;
    fr.lo_x = pow(10, l0 - 0.06 * ls);
    fr.hi_x = pow(10, l1 + 0.14 * ls);
    if (y_hi - y_lo < 0.02) {   /* one point, or all losses alike */
        double mid = (y_hi + y_lo) / 2;
        y_lo = mid - 0.01;
        y_hi = mid + 0.01;
    }
    double ys = y_hi - y_lo, y_step, yt[64];
    plot_linear_ticks(y_lo, y_hi, 6, yt, 64, &y_step);
    fr.lo_y = floor((y_lo - 0.03 * ys) / y_step) * y_step;
    fr.hi_y = ceil((y_hi + 0.03 * ys) / y_step) * y_step;
    if (fr.lo_y < 0 && y_lo >= 0) fr.lo_y = 0;
    int nyt = ticks_at_step(fr.lo_y, fr.hi_y, y_step, yt, 64);

    out_t o;
    if (out_open(&o, path, err)) return -1;
    FILE *f = o.f;
    svg_begin(f, FW, FH, "Progress of the Pareto front");
    draw_axes(f, &fr, yt, nyt, y_step, 0, "parameters (log scale)", "validation loss");
    fprintf(f, "<defs><clipPath id=\"plot-area\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
               "</clipPath></defs>\n", FL, FT, FR - FL, FB - FT);

    /* Children, faint, under everything else; those above the frame are
     * only counted. */
    int n_children = 0, n_hidden = 0;
    fputs("<g class=\"children\" fill=\"#7a7a7a\" fill-opacity=\"0.35\" clip-path=\"url(#plot-area)\">\n", f);
    for (int g = 0; g <= last; g++) {
        const plot_gen_t *G = &run->gens[g];
        for (int j = 0; j < G->n_children; j++) {
            const plot_point_t *p = &run->pts[G->child_off + j];
            if (isnan(p->val_loss)) continue;
            if (p->val_loss > fr.hi_y) { n_hidden++; continue; }
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.6\"/>\n", px(&fr, p->params), py(&fr, p->val_loss));
            n_children++;
        }
    }
    fputs("</g>\n", f);

    /* One step line per generation, oldest first so the newest is on top.
     * A point above the frame gets a triangle at the top edge instead. */
    int max_front = 0, n_front_above = 0;
    for (int i = 0; i < n_gens; i++)
        if (run->gens[gens[i]].n_front > max_front) max_front = run->gens[gens[i]].n_front;
    double *buf = malloc((size_t)max_front * 6 * sizeof *buf);
    if (!buf) {
        out_abort(&o);
        return err_set(err, "%s: out of memory", path);
    }
    double *x = buf, *y = buf + max_front, *sx = buf + 2 * max_front, *sy = buf + 4 * max_front;
    char col[16];
    for (int i = 0; i < n_gens; i++) {
        const plot_gen_t *G = &run->gens[gens[i]];
        int newest = i == n_gens - 1;
        series_colour(i, n_gens, col, sizeof col);
        for (int j = 0; j < G->n_front; j++) {
            x[j] = px(&fr, run->pts[G->front_off + j].params);
            y[j] = py(&fr, run->pts[G->front_off + j].val_loss);
        }
        int nv = plot_front_steps(x, y, G->n_front, fr.x1, sx, sy);
        fprintf(f, "<g class=\"front\" data-generation=\"%d\" stroke=\"%s\" fill=\"%s\" "
                   "clip-path=\"url(#plot-area)\">\n<polyline fill=\"none\" stroke-width=\"%s\" "
                   "stroke-linejoin=\"round\" points=\"", gens[i], col, col, newest ? "2.5" : "1.8");
        for (int v = 0; v < nv; v++) fprintf(f, "%s%.2f,%.2f", v ? " " : "", sx[v], sy[v]);
        fputs("\"/>\n", f);
        for (int j = 0; j < G->n_front; j++)
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\" stroke=\"white\" stroke-width=\"0.8\"/>\n", x[j],
                    y[j], newest ? "4" : "3");
        fputs("</g>\n", f);
        for (int j = 0; j < G->n_front; j++) {
            if (run->pts[G->front_off + j].val_loss <= fr.hi_y) continue;
            fprintf(f, "<path class=\"above\" data-generation=\"%d\" d=\"M%.2f,%.2f l-5,9 h10 z\" fill=\"%s\"/>\n",
                    gens[i], x[j], fr.y0 + 2, col);
            n_front_above++;
        }
    }

    /* Labels for the newest front, placed so they do not collide. */
    {
        const plot_gen_t *G = &run->gens[last];
        box_t *placed = malloc((size_t)G->n_front * sizeof *placed);
        if (!placed) {
            free(buf);
            out_abort(&o);
            return err_set(err, "%s: out of memory", path);
        }
        for (int j = 0; j < G->n_front; j++) {
            x[j] = px(&fr, run->pts[G->front_off + j].params);
            y[j] = fmax(py(&fr, run->pts[G->front_off + j].val_loss), fr.y0 + 7);
        }
        fprintf(f, "<g class=\"labels\" data-generation=\"%d\" font-size=\"11\" fill=\"#222\" stroke=\"white\" "
                   "stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">\n", last);
        for (int j = 0; j < G->n_front; j++) {
            const char *id = run->pts[G->front_off + j].id;
            int end;
            placed[j] = place_label(&fr, x[j], y[j], strlen(id), placed, j, x, y, G->n_front, &end);
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\">", end ? placed[j].x1 - 1 : placed[j].x0 + 1,
                    placed[j].y1 - 3, end ? "end" : "start");
            put_escaped(f, id);
            fputs("</text>\n", f);
        }
        fputs("</g>\n", f);
        free(placed);
    }
    free(buf);

    /* Legend, right of the plot: the generations newest first (the one
     * labelled), the children, and what lies above the frame. */
    int n_notes = (n_front_above > 0) + (n_hidden > 0);
    double avail = FB - FT - 8 - 44 - 34 * n_notes;
    double row = fmin(20, avail / (n_gens + 1));
    int fs = row >= 16 ? 12 : (int)fmax(6, row - 3);
    double lx = FR + 18, ly = FT + 8;
    fprintf(f, "<g class=\"legend\" font-size=\"%d\" fill=\"#222\">\n", fs);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-weight=\"bold\">generation</text>\n", lx, ly + row * 0.6);
    for (int i = n_gens - 1; i >= 0; i--) {
        double yy = ly + row * (n_gens - i) + row * 0.5;
        series_colour(i, n_gens, col, sizeof col);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2.5\"/>\n",
                lx, yy, lx + 26, yy, col);
        fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n", lx + 13, yy, col);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">gen %d</text>\n", lx + 34, yy + fs * 0.35, gens[i]);
    }
    fputs("</g>\n<g class=\"legend-notes\" font-size=\"12\" fill=\"#222\">\n", f);
    double yy = ly + row * (n_gens + 1) + 16;
    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.6\" fill=\"#7a7a7a\" fill-opacity=\"0.5\"/>\n", lx + 13, yy);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">children (%d)</text>\n", lx + 34, yy + 4, n_children);
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#666\">evaluated, gen 0..%d</text>\n",
            lx + 34, yy + 17, last);
    yy += 44;
    if (n_front_above) {
        fprintf(f, "<path d=\"M%.2f,%.2f l-5,9 h10 z\" fill=\"#555\"/>\n", lx + 13, yy - 6);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#444\">%d front point%s above</text>\n",
                lx + 34, yy + 1, n_front_above, n_front_above == 1 ? "" : "s");
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#444\">val_loss %.*f</text>\n", lx + 34,
                yy + 14, decimals_for(y_step), fr.hi_y);
        yy += 34;
    }
    if (n_hidden) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#444\">%d child%s above</text>\n",
                lx + 34, yy + 1, n_hidden, n_hidden == 1 ? "" : "ren");
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"10\" fill=\"#444\">val_loss %.*f not shown</text>\n",
                lx + 34, yy + 14, decimals_for(y_step), fr.hi_y);
    }
    fputs("</g>\n</svg>\n", f);
    return out_close(&o, path, err);
}

/* ------------------------------------------------- hypervolume picture */

enum { HW = 680, HH = 420, HL = 84, HT = 62, HR = HW - 30, HB = HH - 64 };

int plot_write_hv_svg(const plot_run_t *run, const char *path, err_t *err)
{
    int n = run->n_gens;
    if (n <= 0) return err_set(err, "%s: no generations to plot", path);
    double lo = INFINITY, hi = -INFINITY;
    for (int g = 0; g < n; g++) {
        lo = fmin(lo, run->gens[g].hypervolume);
        hi = fmax(hi, run->gens[g].hypervolume);
    }
    if (hi - lo < 1e-9) {
        double d = fmax(fabs(hi) * 0.05, 0.01);
        lo -= d;
        hi += d;
    }
    frame_t fr = {HL, HR, HT, HB, 0, 0, 0, 0, 0};
    double y_step, yt[64], span = hi - lo;
    plot_linear_ticks(lo, hi, 6, yt, 64, &y_step);
    fr.lo_y = floor((lo - 0.05 * span) / y_step) * y_step;
    fr.hi_y = ceil((hi + 0.05 * span) / y_step) * y_step;
    if (fr.lo_y < 0 && lo >= 0) fr.lo_y = 0;
    int nyt = ticks_at_step(fr.lo_y, fr.hi_y, y_step, yt, 64);
    int last = n - 1;
    double x_step = fmax(1, nice_step(0, last, 10));
    double pad = fmax(0.3, 0.03 * last);
    fr.lo_x = -pad;
    fr.hi_x = last + pad;

    out_t o;
    if (out_open(&o, path, err)) return -1;
    FILE *f = o.f;
    svg_begin(f, HW, HH, "Hypervolume per generation");
    fprintf(f, "<text x=\"%d\" y=\"44\" text-anchor=\"middle\" font-size=\"11\" fill=\"#666\">area dominated by "
               "the front in (log10 params, val_loss), reference point (6, 2.3026)</text>\n", HW / 2);
    draw_axes(f, &fr, yt, nyt, y_step, x_step, "generation", "hypervolume");
    fputs("<g class=\"hv\" stroke=\"#3b528b\" fill=\"#3b528b\">\n<polyline fill=\"none\" stroke-width=\"2\" "
          "stroke-linejoin=\"round\" points=\"", f);
    for (int g = 0; g < n; g++)
        fprintf(f, "%s%.2f,%.2f", g ? " " : "", px(&fr, g), py(&fr, run->gens[g].hypervolume));
    fputs("\"/>\n", f);
    double r = n > 60 ? 2 : 3.5;
    for (int g = 0; g < n; g++)
        fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" stroke=\"white\" stroke-width=\"0.8\"/>\n",
                px(&fr, g), py(&fr, run->gens[g].hypervolume), r);
    fputs("</g>\n</svg>\n", f);
    return out_close(&o, path, err);
}
