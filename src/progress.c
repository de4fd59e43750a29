/* progress.c - see progress.h. */
#include "progress.h"
#include "morph.h"
#include "summary.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *fmt_time(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0) snprintf(buf, len, "?");
    else if (s < 60) snprintf(buf, len, "%.0fs", s);
    else if (s < 3600) snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, len, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
    return buf;
}

void progress_init(progress_t *p, const search_opts_t *o, int quiet)
{
    memset(p, 0, sizeof *p);
    p->err = stderr;
    p->out = stdout;
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
    p->gens = o->gens;
    p->batch = o->batch;
    p->jobs = o->jobs > 0 ? o->jobs : 1;
    p->t_start = p->t_gen_start = now_s();
}

static void end_line(progress_t *p)
{
    if (p->line_open) {
        fputs("\r\033[K", p->err);
        p->line_open = 0;
    }
}

/* Time left in the run: the rest of this generation plus the remaining
 * ones at the mean measured generation time. */
static double run_eta(const progress_t *p, double gen_eta)
{
    if (!p->gens_timed) return NAN;  /* unknown until one generation has been timed */
    return gen_eta + (p->gens - p->gen) * (p->gen_seconds_sum / p->gens_timed);
}

static void on_child_start(void *ctx, int gen, const member_t *m, int index, int count)
{
    progress_t *p = ctx;
    if (p->gen != gen) p->t_gen_start = now_s();
    p->gen = gen;
    p->child_index = index;
    p->child_count = count;
    if (p->quiet || p->tty) return;
    char b[32];
    fprintf(p->err, "gen %d/%d  child %d/%d  %s (%s, %s params)\n", gen, p->gens, index + 1, count, m->id,
            m->op >= 0 ? morph_name(m->op) : "initial", format_thousands(net_param_count(&m->net).total, b, sizeof b));
}

static void on_batch(void *ctx, const member_t *m, int epoch, int epochs, int batch, int n_batches, double ips)
{
    progress_t *p = ctx;
    if (p->quiet || !p->tty) return;
    double child_left = ((double)(epochs - epoch) * n_batches + (n_batches - batch)) * p->batch / ips;
    /* Children are trained largest first, so the ones still waiting are
     * cheaper than this one: count them at half its full cost. */
    double child_full = (double)epochs * n_batches * p->batch / ips;
    double gen_left = child_left + 0.5 * child_full * (p->child_count - p->child_index - 1) / p->jobs;
    char a[16], b[16], c[16];
    fprintf(p->err, "\r\033[Kgen %d/%d  child %d/%d %s %s  epoch %d/%d  batch %d/%d  %.0f img/s  ETA child %s gen %s run %s",
            p->gen, p->gens, p->child_index + 1, p->child_count, m->id, m->op >= 0 ? morph_name(m->op) : "initial",
            epoch, epochs, batch, n_batches, ips, fmt_time(child_left, a, sizeof a), fmt_time(gen_left, b, sizeof b),
            fmt_time(run_eta(p, gen_left), c, sizeof c));
    p->line_open = 1;
    fflush(p->err);
}

static void on_epoch(void *ctx, const member_t *m, int epoch, int epochs, double loss, double val_loss, double val_acc,
                     double seconds, double ips)
{
    progress_t *p = ctx;
    if (p->quiet || p->tty) return;
    fprintf(p->err, "  %s epoch %d/%d  loss %.4f  val_loss %.4f val_acc %.4f  %.1f s  %.0f img/s\n", m->id, epoch,
            epochs, loss, val_loss, val_acc, seconds, ips);
}

static void print_front(FILE *f, const member_t *const *front, int n, int with_test)
{
    fprintf(f, "  %-10s %9s %9s %8s%s  %s\n", "id", "params", "val_loss", "val_acc", with_test ? " test_acc" : "",
            "lineage");
    for (int i = 0; i < n; i++) {
        const member_t *m = front[i];
        char b[32], t[16] = "";
        if (with_test) snprintf(t, sizeof t, " %8.4f", m->test_acc);
        fprintf(f, "  %-10s %9s %9.4f %8.4f%s  %s\n", m->id, format_thousands(net_param_count(&m->net).total, b, sizeof b),
                m->val_loss, m->val_acc, t, m->lineage[0] ? m->lineage : "(initial)");
    }
}

static void on_generation(void *ctx, int gen, const member_t *const *front, int n, double hv, double hv_prev,
                          int n_children, int n_accepted)
{
    progress_t *p = ctx;
    double dt = now_s() - p->t_gen_start;
    if (gen > 0) {
        p->gen_seconds_sum += dt;
        p->gens_timed++;
    }
    p->gen = gen;
    p->t_gen_start = now_s();
    if (p->quiet) return;
    end_line(p);
    char a[16];
    fprintf(p->err, "generation %d/%d done in %s: %d children, %d trained; front of %d, hypervolume %.4f (%+.4f)",
            gen, p->gens, fmt_time(dt, a, sizeof a), n_children, n_accepted, n, hv, hv - hv_prev);
    if (gen < p->gens && p->gens_timed) {
        char b[16];
        fprintf(p->err, ", run ETA %s", fmt_time(run_eta(p, 0), b, sizeof b));
    }
    fputc('\n', p->err);
    print_front(p->err, front, n, 0);
}

static void on_finished(void *ctx, const member_t *const *front, int n, const char *out_dir)
{
    progress_t *p = ctx;
    end_line(p);
    char a[16];
    fprintf(p->out, "final front after %d generations (%s):\n", p->gens, fmt_time(now_s() - p->t_start, a, sizeof a));
    print_front(p->out, front, n, 1);
    fprintf(p->out, "results: %s/final.json, %s/gen_*.json, models in %s/models/, plots %s/front.svg\n", out_dir,
            out_dir, out_dir, out_dir);
}

void progress_events(progress_t *p, search_events_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->ctx = p;
    ev->child_start = on_child_start;
    ev->batch = on_batch;
    ev->epoch_done = on_epoch;
    ev->generation_done = on_generation;
    ev->finished = on_finished;
}
