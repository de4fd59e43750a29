/* cli_search.c - `lemonade [options]`: run or resume the search. */
#include "cli.h"
#include "cli_args.h"
#include "cluster.h"
#include "dataset.h"
#include "fileio.h"
#include "genfile.h"
#include "json.h"
#include "pool.h"
#include "progress.h"
#include "search.h"
#include "version.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char search_help[] =
    "usage: lemonade [options]            run a search\n"
    "       lemonade --resume OUT [opts]  continue an interrupted search\n"
    "       lemonade train|summary|plot|bench ...   (see lemonade COMMAND --help)\n"
    "\n"
    "Evolve small CNNs on Fashion-MNIST so that the population is the Pareto\n"
    "front of (parameter count, validation loss) - LEMONADE (Elsken et al.,\n"
    "ICLR 2019) at small scale. Every generation each parent gets four\n"
    "network-morphism operators; a KDE over the children's parameter counts\n"
    "picks which to train; children start from their parent's weights.\n"
    "\n"
    "options (default in brackets):\n"
    "  --gens N            generations [20]\n"
    "  --accept N          children trained per generation [20]\n"
    "  --epochs N          training epochs per child [5]\n"
    "  --init-epochs N     epochs for the initial networks [same as --epochs]\n"
    "  --filters LIST      filter counts of the initial networks [4,8,16,32,64]\n"
    "  --batch N           batch size [64]\n"
    "  --lr X              Adam learning rate [0.001]\n"
    "  --seed N            random seed; same seed, same results [1]\n"
    "  --data DIR          Fashion-MNIST directory [$LEMONADE_DATA, data/fashion-mnist,\n"
    "                      /usr/share/datasets/fashion-mnist]\n"
    "  --out DIR           output directory, must be new or empty [runs/run-DATE-TIME]\n"
    "  --threads N         threads in all [all cores]\n"
    "  --jobs N            children trained at once, each with threads/jobs threads\n"
    "                      [= threads: one child per core]\n"
    "  --train-limit N     use only the first N training images [all 55,000]\n"
    "  --val-limit N       use only the first N validation images [all 5,000]\n"
    "  --kde-space S       linear (as the original) or log: KDE over log10(params) [linear]\n"
    "  --resume OUT        continue the run in OUT from its last complete generation;\n"
    "                      --gens may be raised, other result-changing options must match\n"
    "  --quiet             print only errors\n"
    "  --version           print the version\n"
    "\n"
    "Progress goes to stderr; the final front to stdout; results to OUT:\n"
    "run.json, gen_000.json ... gen_NNN.json, final.json, models/, front.svg,\n"
    "hypervolume.svg. Exit status: 0 done, 1 error, 2 bad command line,\n"
    "130/143 stopped by SIGINT/SIGTERM (resumable).\n"
    "\n"
    "examples:\n"
    "  lemonade --gens 20 --accept 20 --epochs 5          # the original experiment\n"
    "  lemonade --data data/fixture --gens 2 --accept 4 --epochs 1 --out /tmp/demo\n"
    "  lemonade --resume runs/run-20261204-120000\n"
    "  jq '.front[] | {id, params, val_loss}' /tmp/demo/gen_002.json\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    if (stop_signal && sig == SIGINT) _exit(130);  /* a second Ctrl-C: leave now; files are atomic */
    stop_signal = sig;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) { empty = 0; break; }
    closedir(d);
    return empty;
}

/* final.json is there and parses: the run is complete. A damaged one is
 * rewritten by resuming (from the last generation's front). */
static int final_is_valid(const char *path)
{
    char *text;
    size_t len;
    err_t err;
    if (read_file(path, &text, &len, 256u << 20, &err)) return 0;
    cJSON *root = json_parse_all(text, len);
    free(text);
    int ok = cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "front"));
    cJSON_Delete(root);
    return ok;
}

/* Prepare a fresh output directory: the default one is new for every run;
 * a given one must not exist, or be empty. */
static int prepare_out(char *out, size_t len, const char *given, err_t *err, int *usage)
{
    *usage = 0;
    if (given) {
        struct stat st;
        if (stat(given, &st) == 0) {
            char rj[4200];
            snprintf(rj, sizeof rj, "%s/run.json", given);
            if (!S_ISDIR(st.st_mode)) return *usage = 1, err_set(err, "--out %s: exists and is not a directory", given);
            if (access(rj, F_OK) == 0)
                return *usage = 1, err_set(err, "--out %s: holds an earlier run; continue it with --resume %s or choose a new --out",
                                           given, given);
            if (!dir_is_empty(given))
                return *usage = 1, err_set(err, "--out %s: directory is not empty", given);
            if (access(given, W_OK) != 0) return err_set(err, "--out %s: directory is not writable", given);
        } else if (ensure_dir(given, err)) {
            return -1;
        }
        snprintf(out, len, "%s", given);
        return 0;
    }
    if (ensure_dir("runs", err)) return -1;
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(out, len, "runs/run-%s", stamp);
        else snprintf(out, len, "runs/run-%s-%d", stamp, k);
        if (mkdir(out, 0755) == 0) return 0;
    }
    return err_set(err, "runs/: cannot create a new run directory");
}

static int run_search(int argc, char **argv, int first, cluster_t *cluster)
{
    search_opts_t o;
    memset(&o, 0, sizeof o);
    int gens = 20, accept = 20, epochs = 5, init_epochs = 0, batch = 64, threads = 0, jobs = 0;
    int train_limit = 0, val_limit = 0, quiet = 0, help = 0, version = 0;
    long long seed = 1;
    double lr = 1e-3;
    const char *filters = "4,8,16,32,64", *data = NULL, *out = NULL, *resume = NULL, *kde = "linear";
    opt_t opts[] = {
        {"gens", OPT_INT, &gens, 0, 100000, 0},
        {"accept", OPT_INT, &accept, 1, 100000, 0},
        {"epochs", OPT_INT, &epochs, 1, 10000, 0},
        {"init-epochs", OPT_INT, &init_epochs, 1, 10000, 0},
        {"filters", OPT_STRING, &filters, 0, 0, 0},
        {"batch", OPT_INT, &batch, 1, 65536, 0},
        {"lr", OPT_DOUBLE, &lr, 1e-12, 1e3, 0},
        {"seed", OPT_LONG, &seed, 0, 9.2e18, 0},
        {"data", OPT_STRING, &data, 0, 0, 0},
        {"out", OPT_STRING, &out, 0, 0, 0},
        {"threads", OPT_INT, &threads, 1, 1024, 0},
        {"jobs", OPT_INT, &jobs, 1, 64, 0},
        {"train-limit", OPT_INT, &train_limit, 1, 1e9, 0},
        {"val-limit", OPT_INT, &val_limit, 1, 1e9, 0},
        {"kde-space", OPT_STRING, &kde, 0, 0, 0},
        {"resume", OPT_STRING, &resume, 0, 0, 0},
        {"quiet", OPT_FLAG, &quiet, 0, 0, 0},
        {"help", OPT_FLAG, &help, 0, 0, 0},
        {"version", OPT_FLAG, &version, 0, 0, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    err_t err;
    if (cli_parse(argc, argv, first, opts, NULL, 0, NULL, &err)) return usage_error(NULL, &err);
    if (help) { fputs(search_help, stdout); return 0; }
    if (version) { printf("lemonade %s\n", LEMONADE_VERSION); return 0; }
    if (strcmp(kde, "linear") != 0 && strcmp(kde, "log") != 0) {
        err_set(&err, "--kde-space: '%s' is neither linear nor log", kde);
        return usage_error(NULL, &err);
    }
    int flist[SEARCH_MAX_FILTERS], nf;
    if (cli_parse_int_list(filters, flist, SEARCH_MAX_FILTERS, &nf, 1, NET_MAX_FILTERS, "--filters", &err))
        return usage_error(NULL, &err);
    if (resume && out) {
        err_set(&err, "--resume OUT and --out cannot be combined");
        return usage_error(NULL, &err);
    }

    char cmdline[8192];
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof cmdline; i++)
        used += (size_t)snprintf(cmdline + used, sizeof cmdline - used, "%s%s", i ? " " : "", argv[i]);
    o.command_line = cmdline;
    o.stop = &stop_signal;
    o.cluster = cluster;

    if (resume) {
        snprintf(o.out_dir, sizeof o.out_dir, "%s", resume);
        if (genfile_read_run(resume, &o, &err)) return run_error(NULL, &err);
        /* Options that change results must match the run's. */
        struct { const char *name; long long given, run; } same[] = {
            {"accept", accept, o.accept}, {"epochs", epochs, o.epochs},
            {"init-epochs", init_epochs, o.init_epochs}, {"batch", batch, o.batch}, {"seed", seed, (long long)o.seed},
            {"train-limit", train_limit, o.train_limit}, {"val-limit", val_limit, o.val_limit},
        };
        for (size_t i = 0; i < sizeof same / sizeof *same; i++)
            if (cli_opt(opts, same[i].name)->seen && same[i].given != same[i].run) {
                err_set(&err, "--resume: --%s %lld conflicts with the run's %lld", same[i].name, same[i].given, same[i].run);
                return usage_error(NULL, &err);
            }
        if (cli_opt(opts, "lr")->seen && lr != o.lr) {
            err_set(&err, "--resume: --lr %g conflicts with the run's %g", lr, o.lr);
            return usage_error(NULL, &err);
        }
        if (cli_opt(opts, "filters")->seen &&
            (nf != o.n_filters || memcmp(flist, o.filters, sizeof(int) * (size_t)nf) != 0)) {
            err_set(&err, "--resume: --filters %s conflicts with the run's filters", filters);
            return usage_error(NULL, &err);
        }
        if (cli_opt(opts, "kde-space")->seen && (strcmp(kde, "log") == 0) != o.kde_log) {
            err_set(&err, "--resume: --kde-space %s conflicts with the run's", kde);
            return usage_error(NULL, &err);
        }
        if (cli_opt(opts, "gens")->seen) {
            int last = genfile_last_gen(resume);
            if (gens < last) {
                err_set(&err, "--resume: --gens %d is below the %d generations already done", gens, last);
                return usage_error(NULL, &err);
            }
            o.gens = gens;
        }
        char final_path[4200];
        snprintf(final_path, sizeof final_path, "%s/final.json", resume);
        if (genfile_last_gen(resume) >= o.gens && final_is_valid(final_path)) {
            fprintf(stderr, "lemonade: %s is complete (%d generations); raise --gens to continue it\n", resume, o.gens);
            return 0;
        }
        o.resume = 1;
    } else {
        o.gens = gens;
        o.accept = accept;
        o.epochs = epochs;
        o.init_epochs = init_epochs ? init_epochs : epochs;
        memcpy(o.filters, flist, sizeof flist);
        o.n_filters = nf;
        o.batch = batch;
        o.lr = lr;
        o.seed = (uint64_t)seed;
        o.train_limit = train_limit;
        o.val_limit = val_limit;
        o.kde_log = strcmp(kde, "log") == 0;
    }
    if (!resume || data) {
        if (dataset_find_dir(data, o.data_dir, sizeof o.data_dir, &err)) return run_error(NULL, &err);
    }
    int total_threads = threads ? threads : cpu_count();
    o.jobs = jobs ? jobs : total_threads;
    o.threads = total_threads / o.jobs > 0 ? total_threads / o.jobs : 1;

    if (!resume) {
        int usage;
        if (prepare_out(o.out_dir, sizeof o.out_dir, out, &err, &usage))
            return usage ? usage_error(NULL, &err) : run_error(NULL, &err);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    progress_t prog;
    progress_init(&prog, &o, quiet);
    search_events_t ev;
    progress_events(&prog, &ev);
    if (!quiet)
        fprintf(stderr, "lemonade %s: %s %s, data %s, %d job%s x %d thread%s\n", LEMONADE_VERSION,
                resume ? "resuming" : "writing", o.out_dir, o.data_dir, o.jobs, o.jobs > 1 ? "s" : "", o.threads,
                o.threads > 1 ? "s" : "");
    int rc = search_run(&o, &ev, &err);
    if (rc == SEARCH_STOPPED) {
        fprintf(stderr, "\nlemonade: stopped by %s%s; the last complete generation is on disk; continue with: "
                "lemonade --resume %s\n", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT",
                cluster_size(cluster) > 1 ? " (under MPI also sent by mpirun/srun when a rank died or was lost)" : "",
                o.out_dir);
        return stop_signal == SIGTERM ? 143 : 130;
    }
    if (rc != SEARCH_OK) return run_error(NULL, &err);
    return 0;
}

/* An MPI rank other than 0: only --threads and --jobs are its own; the
 * rest comes from rank 0, which also reports any command-line error. */
static int run_worker(int argc, char **argv, int first, cluster_t *cluster)
{
    int threads = 0, jobs = 0;
    opt_t opts[] = {
        {"threads", OPT_INT, &threads, 1, 1024, 0},
        {"jobs", OPT_INT, &jobs, 1, 64, 0},
        {NULL, 0, NULL, 0, 0, 0},
    };
    /* Keep only --threads/--jobs (and their values) for this parse. */
    char *mine[8];
    int n = 0;
    for (int i = first; i < argc && n < 6; i++)
        if (!strncmp(argv[i], "--threads", 9) || !strncmp(argv[i], "--jobs", 6)) {
            mine[n++] = argv[i];
            if (!strchr(argv[i], '=') && i + 1 < argc) mine[n++] = argv[++i];
        }
    mine[n] = NULL;
    err_t err;
    if (cli_parse(n, mine, 0, opts, NULL, 0, NULL, &err)) threads = jobs = 0;  /* rank 0 says why */
    search_opts_t o;
    memset(&o, 0, sizeof o);
    int total_threads = threads ? threads : cpu_count();
    o.jobs = jobs ? jobs : total_threads;
    o.threads = total_threads / o.jobs > 0 ? total_threads / o.jobs : 1;
    o.stop = &stop_signal;
    o.cluster = cluster;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (search_worker(&o, &err) != SEARCH_OK) return run_error(NULL, &err);
    return 0;
}

int cmd_search(int argc, char **argv, int first)
{
    cluster_t *cluster;
    err_t err;
    if (cluster_open(&cluster, &err)) return run_error(NULL, &err);
    int rc = cluster_rank(cluster) > 0 ? run_worker(argc, argv, first, cluster)
                                       : run_search(argc, argv, first, cluster);
    /* On an error, end every rank; otherwise rank 0 tells the workers. */
    cluster_close(cluster, rc == 1);
    return rc;
}
