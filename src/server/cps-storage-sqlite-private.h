/* cps-storage-sqlite-private.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the two files of the SQLite backend share. cps-storage-sqlite.c opens the database
 * and runs its connections, writer turns, transactions and operations;
 * cps-storage-sqlite-records.c reads and writes the records through the connection in use.
 */

#pragma once

#include <sqlite3.h>

#include "cps-storage.h"

G_BEGIN_DECLS

typedef struct _WriterConnection WriterConnection;
typedef struct _CommitGroup CommitGroup;

typedef struct
{
  CpsStorage parent;

  /* The connection in use: this storage's own, or the process's writer connection while
   * this storage has the writer turn. */
  sqlite3 *db;
  GHashTable *statements; /* SQL text → sqlite3_stmt, of db */

  /* Owned */
  sqlite3 *own_db;
  GHashTable *own_statements;
  char *path;

  WriterConnection *writer; /* shared by the storages of this path in this process */
  gboolean has_writer_turn; /* between cps_storage_begin() and commit/rollback */
  CommitGroup *group;       /* the write transaction this storage's work is in */
  gboolean in_savepoint;    /* it joined that transaction with a savepoint */
  GError *lost_reads;       /* see storage_check_reads() */
  gboolean in_snapshot;     /* a read transaction of cps_storage_begin_read() is open */
  gboolean checkpoint_due;  /* a commit of ours made the WAL long: storage_idle() copies it */
} CpsStorageSqlite;

#define SELF(storage) ((CpsStorageSqlite *) (storage))

/* A cached statement in use: reset and unbound when it goes out of scope. */
typedef sqlite3_stmt *CachedStmt;

static inline void
_cps_storage_sqlite_release_stmt (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (CachedStmt, _cps_storage_sqlite_release_stmt, NULL)

/* A statement of its own, finalized when it goes out of scope. */
typedef sqlite3_stmt OwnStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OwnStmt, sqlite3_finalize)

/* Statements, errors and writer turns (cps-storage-sqlite.c) */
sqlite3_stmt *_cps_storage_sqlite_prepare (CpsStorageSqlite *self, const char *sql, GError **error);
gboolean _cps_storage_sqlite_step_done (CpsStorageSqlite *self, sqlite3_stmt *stmt,
                                        const char *doing, GError **error);
void _cps_storage_sqlite_set_error (CpsStorageSqlite *self, int rc, const char *doing,
                                    GError **error);

guint _cps_storage_sqlite_count_joining (CpsStorage *storage);

/* The record operations of the storage interface (cps-storage-sqlite-records.c) */
gboolean _cps_storage_sqlite_account_insert (CpsStorage *storage, const CpsAccountRecord *account,
                                             GError **error);
CpsAccountRecord *_cps_storage_sqlite_account_get (CpsStorage *storage, const char *id,
                                                   GError **error);
CpsAccountRecord *_cps_storage_sqlite_account_get_by_name (CpsStorage *storage,
                                                           const char *username, GError **error);
GPtrArray *_cps_storage_sqlite_account_list (CpsStorage *storage, const char *cursor, guint limit,
                                             GError **error);
gboolean _cps_storage_sqlite_account_update (CpsStorage *storage, const CpsAccountRecord *account,
                                             GError **error);
gint64 _cps_storage_sqlite_account_count (CpsStorage *storage, GError **error);
gboolean _cps_storage_sqlite_recovery_codes_replace (CpsStorage *storage, const char *account_id,
                                                     const char *const *code_hashes,
                                                     GError **error);
gboolean _cps_storage_sqlite_recovery_code_use (CpsStorage *storage, const char *account_id,
                                                const char *code_hash, GError **error);
gboolean _cps_storage_sqlite_device_insert (CpsStorage *storage, const CpsDeviceRecord *device,
                                            GError **error);
CpsDeviceRecord *_cps_storage_sqlite_device_get (CpsStorage *storage, const char *id,
                                                 GError **error);
CpsDeviceRecord *_cps_storage_sqlite_device_get_by_key (CpsStorage *storage, const char *public_key,
                                                        GError **error);
GPtrArray *_cps_storage_sqlite_device_list (CpsStorage *storage, const char *account_id,
                                            GError **error);
gboolean _cps_storage_sqlite_device_update (CpsStorage *storage, const CpsDeviceRecord *device,
                                            GError **error);
gboolean _cps_storage_sqlite_device_touch (CpsStorage *storage, const char *id, const char *at,
                                           gboolean synced, GError **error);
gboolean _cps_storage_sqlite_device_count_states (CpsStorage *storage, gint64 *active,
                                                  gint64 *pending, gint64 *revoked, GError **error);
gboolean _cps_storage_sqlite_token_insert (CpsStorage *storage, const CpsTokenRecord *token,
                                           GError **error);
CpsTokenRecord *_cps_storage_sqlite_token_get (CpsStorage *storage, const char *token_hash,
                                               GError **error);
gboolean _cps_storage_sqlite_token_set_state (CpsStorage *storage, const char *token_hash,
                                              CpsTokenState state, GError **error);
gboolean _cps_storage_sqlite_tokens_revoke_session (CpsStorage *storage, const char *session_id,
                                                    GError **error);
gboolean _cps_storage_sqlite_tokens_revoke_device (CpsStorage *storage, const char *device_id,
                                                   GError **error);
gboolean _cps_storage_sqlite_tokens_purge_expired (CpsStorage *storage, gint64 now, GError **error);
gboolean _cps_storage_sqlite_ratelimit_record (CpsStorage *storage, const char *key, gint64 at,
                                               GError **error);
gint64 _cps_storage_sqlite_ratelimit_count (CpsStorage *storage, const char *key, gint64 since,
                                            gint64 *oldest, GError **error);
gboolean _cps_storage_sqlite_ratelimit_clear (CpsStorage *storage, const char *key, GError **error);
gboolean _cps_storage_sqlite_ratelimit_forget (CpsStorage *storage, const char *key, gint64 at,
                                               GError **error);
gboolean _cps_storage_sqlite_project_insert (CpsStorage *storage, const CpsProjectRecord *project,
                                             GError **error);
CpsProjectRecord *_cps_storage_sqlite_project_get (CpsStorage *storage, const char *id,
                                                   GError **error);
GPtrArray *_cps_storage_sqlite_project_list (CpsStorage *storage, const char *member_account,
                                             const char *cursor, guint limit, GError **error);
gboolean _cps_storage_sqlite_project_update (CpsStorage *storage, const CpsProjectRecord *project,
                                             GError **error);
gint64 _cps_storage_sqlite_project_count_conflicted (CpsStorage *storage, GError **error);
gboolean _cps_storage_sqlite_member_put (CpsStorage *storage, const char *project_id,
                                         const char *account_id, const char *role, GError **error);
gboolean _cps_storage_sqlite_member_delete (CpsStorage *storage, const char *project_id,
                                            const char *account_id, GError **error);
char *_cps_storage_sqlite_member_get_role (CpsStorage *storage, const char *project_id,
                                           const char *account_id, GError **error);
GPtrArray *_cps_storage_sqlite_member_list (CpsStorage *storage, const char *project_id,
                                            GError **error);
gboolean _cps_storage_sqlite_keys_put (CpsStorage *storage, const char *project_id,
                                       const char *account_id, GPtrArray *keys, GError **error);
GPtrArray *_cps_storage_sqlite_keys_list (CpsStorage *storage, const char *project_id,
                                          const char *account_id, GError **error);
gboolean _cps_storage_sqlite_revision_insert (CpsStorage *storage, CpsRevisionRecord *revision,
                                              GError **error);
CpsRevisionRecord *_cps_storage_sqlite_revision_get (CpsStorage *storage, const char *project_id,
                                                     const char *id, GError **error);
GPtrArray *_cps_storage_sqlite_revision_list (CpsStorage *storage, const char *project_id,
                                              gint64 after_seq, guint limit, GError **error);
GPtrArray *_cps_storage_sqlite_revision_graph (CpsStorage *storage, const char *project_id,
                                               GError **error);
GPtrArray *_cps_storage_sqlite_changes_list (CpsStorage *storage, const char *member_account,
                                             gint64 after_seq, guint limit, GError **error);
gint64 _cps_storage_sqlite_revision_count (CpsStorage *storage, GError **error);
gboolean _cps_storage_sqlite_revision_foreach (CpsStorage *storage,
                                               gboolean (*func) (const CpsRevisionRecord *revision,
                                                                 gpointer user_data,
                                                                 GError **error),
                                               gpointer user_data, GError **error);
gboolean _cps_storage_sqlite_audit_last (CpsStorage *storage, gint64 *seq, char **hash,
                                         GError **error);
gboolean _cps_storage_sqlite_audit_insert (CpsStorage *storage, const CpsAuditRecord *entry,
                                           GError **error);
GPtrArray *_cps_storage_sqlite_audit_list (CpsStorage *storage, const CpsAuditFilter *filter,
                                           gint64 after_seq, guint limit, GError **error);
gboolean _cps_storage_sqlite_checkpoint_insert (CpsStorage *storage,
                                                const CpsCheckpointRecord *checkpoint,
                                                GError **error);
GPtrArray *_cps_storage_sqlite_checkpoint_list (CpsStorage *storage, GError **error);
CpsCheckpointRecord *_cps_storage_sqlite_checkpoint_last (CpsStorage *storage, GError **error);

G_END_DECLS
