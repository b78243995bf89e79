/* cps-cli.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the subcommands of `cps` share.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "cps.h"
#include "cps-store.h"

G_BEGIN_DECLS

/* Exit codes, as the man page documents them. */
enum
{
  CPS_EXIT_OK = 0,
  CPS_EXIT_PROBLEMS = 1,
  CPS_EXIT_USAGE = 2,
};

typedef int (*CpsCommandFunc) (int argc, char **argv);

int cps_cmd_inspect (int argc, char **argv);
int cps_cmd_checksum (int argc, char **argv);
int cps_cmd_verify (int argc, char **argv);
int cps_cmd_export_bundle (int argc, char **argv);
int cps_cmd_import (int argc, char **argv);
int cps_cmd_projects (int argc, char **argv);
int cps_cmd_log (int argc, char **argv);
int cps_cmd_show (int argc, char **argv);
int cps_cmd_export (int argc, char **argv);
int cps_cmd_backup (int argc, char **argv);
int cps_cmd_restore (int argc, char **argv);
int cps_cmd_check (int argc, char **argv);
int cps_cmd_diff (int argc, char **argv);
int cps_cmd_merge (int argc, char **argv);

CpsStore *cps_cli_open_store (const char *path);
gboolean cps_cli_resolve_target (CpsStore *store, const char *spec, CpsStoreProject **out_project,
                                 CpsRevision **out_revision, GError **error);
gboolean cps_cli_parse_entries (GOptionContext *context, const GOptionEntry *entries, int *argc,
                                char ***argv);

gboolean cps_cli_parse_options (GOptionContext *context, int *argc, char ***argv);
void cps_cli_usage_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);
void cps_cli_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
void cps_cli_print_json (JsonNode *node);
void cps_cli_progress (const char *format, ...) G_GNUC_PRINTF (1, 2);
void cps_cli_progress_done (void);

void cps_cli_print_findings (GPtrArray *findings, const char *indent);
guint cps_cli_label_width (const char *const *labels, guint n, guint indent);
void cps_cli_print_field (const char *indent, guint width, const char *label, const char *value);
void cps_cli_add_findings_json (JsonBuilder *builder, GPtrArray *findings);
void cps_cli_add_project_json (JsonBuilder *builder, CpsPlannerProject *project);
void cps_cli_add_file_json (JsonBuilder *builder, CpsPlannerFile *file);
guint cps_cli_count_all_findings (CpsPlannerFile *file, CpsSeverity severity);
const CpsFinding *cps_cli_first_error (CpsPlannerFile *file);

G_END_DECLS
