/* cps-store.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The crash-safe local store: one SQLite file (WAL, synchronous=FULL) holding
 * devices, projects, append-only signed revisions, imported files, the outbox
 * and the sync log, with rotating checksummed snapshots next to it.
 */

#pragma once

#include <gio/gio.h>

#include "cps-finding.h"
#include "cps-revision.h"

G_BEGIN_DECLS

#define CPS_STORE_ERROR (cps_store_error_quark ())

typedef enum
{
  CPS_STORE_ERROR_NEWER_SCHEMA,
  CPS_STORE_ERROR_CORRUPT,
  CPS_STORE_ERROR_NOT_FOUND,
  CPS_STORE_ERROR_CONFLICT,
  CPS_STORE_ERROR_IO,
  CPS_STORE_ERROR_INVALID,
} CpsStoreError;

/* The schema version this build writes (PRAGMA user_version). */
#define CPS_STORE_SCHEMA_VERSION 1
#define CPS_STORE_DEFAULT_SNAPSHOT_LIMIT 20

/**
 * CpsStoreProject:
 * @id: the project's UUID
 * @name: its name (as the planner knows it)
 * @created_at: when it was added to this store
 * @updated_at: the newest revision's `created_at`, or @created_at without one
 * @revision_count: how many revisions it has
 * @heads: (array zero-terminated=1): its heads (revisions without children), sorted
 * @conflicted: whether it has more than one head
 * @checksum: (nullable): content checksum of the display winner
 * @deleted: whether the display winner is a deletion
 */
typedef struct
{
  char *id;
  char *name;
  char *created_at;
  char *updated_at;
  guint revision_count;
  GStrv heads;
  gboolean conflicted;
  char *checksum;
  gboolean deleted;
} CpsStoreProject;

/**
 * CpsSnapshot:
 * @path: the snapshot file
 * @created_at: (nullable): from its manifest
 * @reason: (nullable): from its manifest (`manual`, `before-restore`, …)
 * @checksum: (nullable): `sha256:<hex>` from its `.sha256` manifest
 * @size: the file's size in bytes
 */
typedef struct
{
  char *path;
  char *created_at;
  char *reason;
  char *checksum;
  gint64 size;
} CpsSnapshot;

/**
 * CpsStoreCheck:
 * @revisions_checked: revisions re-verified
 * @problems: findings of error severity
 * @findings: (element-type CpsFinding): everything found, in order
 */
typedef struct
{
  guint revisions_checked;
  guint problems;
  GPtrArray *findings;
} CpsStoreCheck;

#define CPS_TYPE_STORE_PROJECT (cps_store_project_get_type ())
#define CPS_TYPE_SNAPSHOT (cps_snapshot_get_type ())
#define CPS_TYPE_STORE_CHECK (cps_store_check_get_type ())

GType cps_store_project_get_type (void) G_GNUC_CONST;
CpsStoreProject *cps_store_project_copy (const CpsStoreProject *project);
void cps_store_project_free (CpsStoreProject *project);

GType cps_snapshot_get_type (void) G_GNUC_CONST;
CpsSnapshot *cps_snapshot_copy (const CpsSnapshot *snapshot);
void cps_snapshot_free (CpsSnapshot *snapshot);

GType cps_store_check_get_type (void) G_GNUC_CONST;
CpsStoreCheck *cps_store_check_copy (const CpsStoreCheck *check);
void cps_store_check_free (CpsStoreCheck *check);

#define CPS_TYPE_STORE (cps_store_get_type ())
G_DECLARE_FINAL_TYPE (CpsStore, cps_store, CPS, STORE, GObject)

GQuark cps_store_error_quark (void);

char *cps_store_default_path (void);
CpsStore *cps_store_open (const char *path, GError **error);
const char *cps_store_get_path (CpsStore *self);
int cps_store_get_schema_version (CpsStore *self);

/* Devices known locally, to verify revisions offline */
gboolean cps_store_add_device (CpsStore *self, const char *device_id,
                               const guint8 public_key[32], const char *name, GError **error);
gboolean cps_store_get_device_key (CpsStore *self, const char *device_id,
                                   guint8 public_key[32], GError **error);
char *cps_store_dup_device_name (CpsStore *self, const char *device_id);

/* Projects */
gboolean cps_store_add_project (CpsStore *self, const char *project_id, const char *name,
                                GError **error);
GPtrArray *cps_store_list_projects (CpsStore *self, GError **error);
CpsStoreProject *cps_store_get_project (CpsStore *self, const char *project_id, GError **error);
CpsStoreProject *cps_store_find_project (CpsStore *self, const char *id_or_name, GError **error);

/* Revisions: append-only */
gboolean cps_store_add_revision (CpsStore *self, CpsRevision *revision, gboolean *out_added,
                                 GError **error);
gboolean cps_store_has_revision (CpsStore *self, const char *revision_id);
CpsRevision *cps_store_get_revision (CpsStore *self, const char *revision_id, GError **error);
GPtrArray *cps_store_list_revisions (CpsStore *self, const char *project_id, GError **error);
GPtrArray *cps_store_get_heads (CpsStore *self, const char *project_id, GError **error);
CpsRevision *cps_store_get_display_winner (CpsStore *self, const char *project_id,
                                           GError **error);
guint cps_store_count_revisions (CpsStore *self, const char *project_id, GError **error);

/* Transactions, for batches */
gboolean cps_store_begin (CpsStore *self, GError **error);
gboolean cps_store_commit (CpsStore *self, GError **error);
void cps_store_rollback (CpsStore *self);
gboolean cps_store_in_transaction (CpsStore *self);

/* Imported files */
gboolean cps_store_record_import (CpsStore *self, const char *path, const char *file_checksum,
                                  const char *kind, GError **error);
gboolean cps_store_has_import (CpsStore *self, const char *file_checksum);

/* Outbox (revisions not yet pushed) */
guint cps_store_count_outbox (CpsStore *self, GError **error);

/* Snapshots */
void cps_store_set_snapshot_limit (CpsStore *self, guint limit);
guint cps_store_get_snapshot_limit (CpsStore *self);
char *cps_store_get_snapshot_dir (CpsStore *self);
CpsSnapshot *cps_store_snapshot (CpsStore *self, const char *reason, GError **error);
GPtrArray *cps_store_list_snapshots (CpsStore *self, GError **error);
GPtrArray *cps_store_list_snapshots_for_path (const char *store_path, GError **error);
gboolean cps_store_verify_snapshot (const char *snapshot_path, GError **error);
gboolean cps_store_restore (CpsStore *self, const char *snapshot_path, GError **error);
gboolean cps_store_restore_damaged (const char *store_path, const char *snapshot_path,
                                    char **out_moved_aside, GError **error);

/* Checks */
CpsStoreCheck *cps_store_check (CpsStore *self, GCancellable *cancellable, GError **error);
CpsStoreCheck *cps_store_rehearse_restore (const char *snapshot_path, GCancellable *cancellable,
                                           GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsStoreProject, cps_store_project_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsSnapshot, cps_snapshot_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsStoreCheck, cps_store_check_free)

G_END_DECLS
