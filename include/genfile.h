/* genfile.h - the JSON files of a run directory (the contract that scripts
 * and jq rely on; README documents it):
 *
 *   run.json      version, command line, every option, data directory, seed
 *   gen_NNN.json  {"generation", "front": [model...], "children": [child...],
 *                  "hypervolume", "timing"}
 *   final.json    {"generation", "front": [model with test_loss/test_acc...],
 *                  "timing"}
 *
 * Everything that depends on the clock sits in "timing" objects, so that
 * `jq 'del(..|.timing?)'` of two runs with the same seed compares equal. */
#ifndef LEMONADE_GENFILE_H
#define LEMONADE_GENFILE_H

#include <cjson/cJSON.h>
#include "error.h"
#include "search.h"

/* A front model: id, parent, operator, born, filters, params,
 * trainable_params, macs, val_loss, val_acc, epochs, best_epoch, layers,
 * lineage, model (+ test_loss, test_acc when known; + timing). */
cJSON *genfile_model_json(const member_t *m);
/* A child: id, parent, operator, params, density, accept_prob, accepted,
 * and when trained val_loss, val_acc (or diverged: true) and timing. */
cJSON *genfile_child_json(const member_t *m);

/* Write OUT/gen_NNN.json atomically. load (n_ranks entries, may be NULL)
 * adds each MPI rank's training time to "timing" as "ranks". */
int genfile_write_gen(const char *out_dir, int gen, const member_t *const *front, int n_front,
                      const member_t *const *children, int n_children, double hv, double seconds,
                      const rank_load_t *load, int n_ranks, err_t *err);
int genfile_write_final(const char *out_dir, int gen, const member_t *const *front, int n_front,
                        double seconds, err_t *err);
int genfile_write_run(const search_opts_t *o, err_t *err);

/* Read the options recorded in OUT/run.json into o (keeps o's out_dir,
 * threads, jobs, stop and command_line). */
int genfile_read_run(const char *out_dir, search_opts_t *o, err_t *err);

/* Highest g such that OUT/gen_g.json exists, or -1. */
int genfile_last_gen(const char *out_dir);

/* Load the front of OUT/gen_NNN.json, models included. *front is a
 * malloc'ed array of malloc'ed members. */
int genfile_read_front(const char *out_dir, int gen, member_t ***front, int *n, err_t *err);

/* The parsers behind genfile_read_run / genfile_read_front, on text
 * already in memory (`path` names the file in errors). Every field is
 * validated; a truncated or corrupted file gives an error, never a crash.
 * genfile_parse_front loads each front model from out_dir/<model>; with
 * out_dir NULL it skips the models (the nets stay empty), which is what
 * the fuzz harness uses. */
int genfile_parse_run(const char *text, size_t len, const char *path, search_opts_t *o, err_t *err);
int genfile_parse_front(const char *text, size_t len, const char *path, const char *out_dir,
                        member_t ***front, int *n, err_t *err);

/* Path helper: OUT/gen_NNN.json */
void genfile_gen_path(char *buf, size_t len, const char *out_dir, int gen);

#endif
