/* cps-store-private.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What cps-store.c, cps-store-snapshot.c, cps-store-check.c and
 * cps-store-migrations.c share.
 */

#pragma once

#include <sqlite3.h>

#include "cps-store.h"

G_BEGIN_DECLS

#define CPS_STORE_BUSY_TIMEOUT_MS 10000

struct _CpsStore
{
  GObject parent_instance;

  /* Owned */
  char *path;
  sqlite3 *db;
  GHashTable *statements;     /* static SQL text → sqlite3_stmt */
  GHashTable *revision_cache; /* id → CpsRevision, recently added or read as parents */
  guint snapshot_limit;
  gboolean in_transaction; /* inside cps_store_begin()/commit() */
};

/* A cached statement, reset when it goes out of scope so that it never holds
 * a read transaction open. */
typedef sqlite3_stmt *CpsStoreStmt;

static inline void
_cps_store_stmt_reset (CpsStoreStmt *stmt)
{
  if (*stmt != NULL)
    {
      sqlite3_reset (*stmt);
      sqlite3_clear_bindings (*stmt);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CpsStoreStmt, _cps_store_stmt_reset)

/* A statement owned by its user (on another connection), finalized on scope exit. */
typedef sqlite3_stmt CpsSqliteStmt;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsSqliteStmt, sqlite3_finalize)

/* cps-store.c */
void _cps_store_set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *path,
                                  const char *doing);
sqlite3_stmt *_cps_store_prepare (CpsStore *self, const char *sql, GError **error);
gboolean _cps_store_exec (sqlite3 *db, const char *sql, const char *path, GError **error);
gboolean _cps_store_bind_text (sqlite3_stmt *stmt, int index, const char *text);
char *_cps_store_column_dup (sqlite3_stmt *stmt, int column);
sqlite3 *_cps_store_open_connection (const char *path, int flags, GError **error);
gboolean _cps_store_quick_check (sqlite3 *db, const char *pragma, char **out_problem);
char *_cps_store_damaged_message (const char *store_path, const char *detail);
CpsRevision *_cps_store_revision_from_text (const char *text, int length, const char *id,
                                            GError **error);
void _cps_store_forget_cached (CpsStore *self);

/* cps-store-migrations.c */
int _cps_store_read_schema_version (sqlite3 *db, int *out_version);
gboolean _cps_store_migrate (sqlite3 *db, const char *path, GError **error);
void _cps_store_set_newer_schema_error (GError **error, const char *path, int version);

/* cps-store-snapshot.c */
gboolean _cps_store_backup (sqlite3 *source, sqlite3 *dest, const char *source_path,
                            const char *dest_path, GError **error);
char *_cps_store_checksum_file (const char *path, gint64 *out_size, GError **error);

G_END_DECLS
