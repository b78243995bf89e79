/* cps-storage-sqlite-vfs.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An SQLite VFS over the default one that gathers the writes of WAL files.
 *
 * A commit in WAL mode writes every changed page as a frame, and SQLite writes each frame
 * with two write() calls, its 24-byte header and then the page: a push of 100 revisions
 * makes about 430 of them, a single revision about 34, all in a row at the end of the file
 * and followed by one fsync. On a virtual machine every system call is expensive, so here
 * consecutive writes to a WAL file are copied into one buffer and written with one call
 * when the buffer is full, before the file is synced, read, truncated, sized or closed,
 * and before a write elsewhere in the file. Every other file, and every other operation,
 * is the default VFS's.
 *
 * This is safe only because every connection opened through this VFS runs with
 * synchronous=FULL and cache_spill=OFF (cps-storage-sqlite.c sets both on every connection
 * it opens). FULL syncs the WAL before each commit becomes visible to readers, so nothing a
 * reader could look for is ever left in the buffer. Without spilling, pages are written to
 * the WAL only by a commit, which ends with that sync, so nothing is left in the buffer when
 * a transaction ends either. With spilling, a transaction too large for the page cache
 * writes frames early; rolled back, those frames would stay here and be written later, over
 * frames another connection had committed meanwhile (test-storage's
 * /storage/rollback-after-large-writes shows it). With synchronous=NORMAL a commit would not
 * sync the WAL, and another connection could read frames still held here. Do not open a
 * connection with this VFS either way.
 *
 * A failed write is reported by the call that flushes the buffer (usually the sync before
 * the commit), so the transaction fails as it would have with the write failing itself;
 * the frames were never made part of the log, and the next transaction writes over them.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include <glib.h>
#include <sqlite3.h>

#include "cps-storage-sqlite-vfs.h"

#define VFS_NAME "cps-gathered-wal"
/* The default VFS writes at most 128 KiB - 1 bytes per call (SQLite itself never asks for
 * more than a page and a frame header), so the buffer stays below that: a push of 100
 * revisions of ~3 KB, ~900 KB of frames, takes 8 calls instead of 430. */
#define BUFFER_BYTES (124 * 1024)

typedef struct
{
  sqlite3_file base;
  sqlite3_file *real; /* the default VFS's file, in the memory just after this struct */
  guint8 *buffer;     /* BUFFER_BYTES, allocated by the first write */
  gsize length;       /* bytes waiting in the buffer … */
  sqlite3_int64 offset; /* … to be written at this offset */
  int failed;         /* a flush that failed, until a sync has reported it */
} WalFile;

G_STATIC_ASSERT (BUFFER_BYTES < 0x20000);

static sqlite3_vfs *default_vfs;
static sqlite3_vfs gathering_vfs;

/* The real file starts after WalFile, aligned as any struct. */
#define REAL_FILE_OFFSET ((sizeof (WalFile) + 15) & ~(gsize) 15)

/* A failed write is reported by the call that flushed, and again by the next sync, so that
 * no commit can follow it as if its frames had been written. */
static int
flush (WalFile *file)
{
  gsize length = file->length;
  int rc;

  if (length == 0)
    return SQLITE_OK;
  file->length = 0;
  rc = file->real->pMethods->xWrite (file->real, file->buffer, (int) length, file->offset);
  if (rc != SQLITE_OK)
    file->failed = rc;
  return rc;
}

static int
wal_close (sqlite3_file *base)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);
  int close_rc = file->real->pMethods->xClose (file->real);

  g_clear_pointer (&file->buffer, g_free);
  return rc != SQLITE_OK ? rc : close_rc;
}

static int
wal_read (sqlite3_file *base, void *data, int amount, sqlite3_int64 offset)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);

  if (rc != SQLITE_OK)
    return rc;
  return file->real->pMethods->xRead (file->real, data, amount, offset);
}

static int
wal_write (sqlite3_file *base, const void *data, int amount, sqlite3_int64 offset)
{
  WalFile *file = (WalFile *) base;
  int rc;

  g_assert (amount >= 0);
  if (file->length > 0 && offset == file->offset + (sqlite3_int64) file->length
      && file->length + (gsize) amount <= BUFFER_BYTES)
    {
      memcpy (file->buffer + file->length, data, (gsize) amount);
      file->length += (gsize) amount;
      return SQLITE_OK;
    }

  rc = flush (file);
  if (rc != SQLITE_OK)
    return rc;
  if ((gsize) amount > BUFFER_BYTES / 2)
    return file->real->pMethods->xWrite (file->real, data, amount, offset);

  if (file->buffer == NULL)
    file->buffer = g_malloc (BUFFER_BYTES);
  memcpy (file->buffer, data, (gsize) amount);
  file->length = (gsize) amount;
  file->offset = offset;
  return SQLITE_OK;
}

static int
wal_truncate (sqlite3_file *base, sqlite3_int64 size)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);

  if (rc != SQLITE_OK)
    return rc;
  return file->real->pMethods->xTruncate (file->real, size);
}

static int
wal_sync (sqlite3_file *base, int flags)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);

  if (rc == SQLITE_OK && file->failed != SQLITE_OK)
    rc = file->failed;
  file->failed = SQLITE_OK;
  if (rc != SQLITE_OK)
    return rc;
  return file->real->pMethods->xSync (file->real, flags);
}

static int
wal_file_size (sqlite3_file *base, sqlite3_int64 *size)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);

  if (rc != SQLITE_OK)
    return rc;
  return file->real->pMethods->xFileSize (file->real, size);
}

static int
wal_lock (sqlite3_file *base, int lock)
{
  WalFile *file = (WalFile *) base;

  return file->real->pMethods->xLock (file->real, lock);
}

static int
wal_unlock (sqlite3_file *base, int lock)
{
  WalFile *file = (WalFile *) base;

  return file->real->pMethods->xUnlock (file->real, lock);
}

static int
wal_check_reserved_lock (sqlite3_file *base, int *out)
{
  WalFile *file = (WalFile *) base;

  return file->real->pMethods->xCheckReservedLock (file->real, out);
}

static int
wal_file_control (sqlite3_file *base, int op, void *arg)
{
  WalFile *file = (WalFile *) base;
  int rc = flush (file);

  if (rc != SQLITE_OK)
    return rc;
  return file->real->pMethods->xFileControl (file->real, op, arg);
}

static int
wal_sector_size (sqlite3_file *base)
{
  WalFile *file = (WalFile *) base;

  return file->real->pMethods->xSectorSize (file->real);
}

static int
wal_device_characteristics (sqlite3_file *base)
{
  WalFile *file = (WalFile *) base;

  return file->real->pMethods->xDeviceCharacteristics (file->real);
}

/* A WAL file has no shared memory and is never memory-mapped; SQLite does not call these
 * on it, but a version 3 file must have them. */
static int
wal_shm_map (sqlite3_file *base, int page, int page_size, int extend, void volatile **out)
{
  *out = NULL;
  return SQLITE_IOERR_SHMMAP;
}

static int
wal_shm_lock (sqlite3_file *base, int offset, int n, int flags)
{
  return SQLITE_IOERR_SHMLOCK;
}

static void
wal_shm_barrier (sqlite3_file *base)
{
}

static int
wal_shm_unmap (sqlite3_file *base, int delete_flag)
{
  return SQLITE_OK;
}

static int
wal_fetch (sqlite3_file *base, sqlite3_int64 offset, int amount, void **out)
{
  *out = NULL; /* “read it instead” */
  return SQLITE_OK;
}

static int
wal_unfetch (sqlite3_file *base, sqlite3_int64 offset, void *page)
{
  return SQLITE_OK;
}

static const sqlite3_io_methods wal_methods = {
  .iVersion = 3,
  .xClose = wal_close,
  .xRead = wal_read,
  .xWrite = wal_write,
  .xTruncate = wal_truncate,
  .xSync = wal_sync,
  .xFileSize = wal_file_size,
  .xLock = wal_lock,
  .xUnlock = wal_unlock,
  .xCheckReservedLock = wal_check_reserved_lock,
  .xFileControl = wal_file_control,
  .xSectorSize = wal_sector_size,
  .xDeviceCharacteristics = wal_device_characteristics,
  .xShmMap = wal_shm_map,
  .xShmLock = wal_shm_lock,
  .xShmBarrier = wal_shm_barrier,
  .xShmUnmap = wal_shm_unmap,
  .xFetch = wal_fetch,
  .xUnfetch = wal_unfetch,
};

/* WAL files get the gathering methods; every other file is the default VFS's own, in the
 * same memory. */
static int
vfs_open (sqlite3_vfs *vfs, const char *name, sqlite3_file *base, int flags, int *out_flags)
{
  WalFile *file = (WalFile *) base;
  int rc;

  if (!(flags & SQLITE_OPEN_WAL))
    return default_vfs->xOpen (default_vfs, name, base, flags, out_flags);

  memset (file, 0, sizeof *file);
  file->real = (sqlite3_file *) ((guint8 *) base + REAL_FILE_OFFSET);
  rc = default_vfs->xOpen (default_vfs, name, file->real, flags, out_flags);
  if (rc != SQLITE_OK)
    {
      /* the default VFS closes what it opened on failure; SQLite must not call xClose */
      base->pMethods = NULL;
      return rc;
    }
  base->pMethods = &wal_methods;
  return SQLITE_OK;
}

static int
vfs_delete (sqlite3_vfs *vfs, const char *name, int sync_dir)
{
  return default_vfs->xDelete (default_vfs, name, sync_dir);
}

static int
vfs_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
  return default_vfs->xAccess (default_vfs, name, flags, out);
}

static int
vfs_full_pathname (sqlite3_vfs *vfs, const char *name, int n_out, char *out)
{
  return default_vfs->xFullPathname (default_vfs, name, n_out, out);
}

static void *
vfs_dl_open (sqlite3_vfs *vfs, const char *filename)
{
  return default_vfs->xDlOpen (default_vfs, filename);
}

static void
vfs_dl_error (sqlite3_vfs *vfs, int n_bytes, char *message)
{
  default_vfs->xDlError (default_vfs, n_bytes, message);
}

static void (*vfs_dl_sym (sqlite3_vfs *vfs, void *handle, const char *symbol)) (void)
{
  return default_vfs->xDlSym (default_vfs, handle, symbol);
}

static void
vfs_dl_close (sqlite3_vfs *vfs, void *handle)
{
  default_vfs->xDlClose (default_vfs, handle);
}

static int
vfs_randomness (sqlite3_vfs *vfs, int n_bytes, char *out)
{
  return default_vfs->xRandomness (default_vfs, n_bytes, out);
}

static int
vfs_sleep (sqlite3_vfs *vfs, int microseconds)
{
  return default_vfs->xSleep (default_vfs, microseconds);
}

static int
vfs_current_time (sqlite3_vfs *vfs, double *out)
{
  return default_vfs->xCurrentTime (default_vfs, out);
}

static int
vfs_get_last_error (sqlite3_vfs *vfs, int n_bytes, char *out)
{
  return default_vfs->xGetLastError (default_vfs, n_bytes, out);
}

static int
vfs_current_time_int64 (sqlite3_vfs *vfs, sqlite3_int64 *out)
{
  return default_vfs->xCurrentTimeInt64 (default_vfs, out);
}

/**
 * _cps_sqlite_gathering_vfs:
 *
 * Registers the VFS on first use (not as the default).
 *
 * Returns: the name to pass to sqlite3_open_v2(), or %NULL when SQLite has no default VFS
 *   to build on (then the default is used)
 */
const char *
_cps_sqlite_gathering_vfs (void)
{
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      gsize result = 1;

      default_vfs = sqlite3_vfs_find (NULL);
      if (default_vfs == NULL || default_vfs->iVersion < 2)
        result = 2;
      else
        {
          gathering_vfs = (sqlite3_vfs){
            .iVersion = 2,
            .szOsFile = (int) (REAL_FILE_OFFSET + (gsize) default_vfs->szOsFile),
            .mxPathname = default_vfs->mxPathname,
            .zName = VFS_NAME,
            .xOpen = vfs_open,
            .xDelete = vfs_delete,
            .xAccess = vfs_access,
            .xFullPathname = vfs_full_pathname,
            .xDlOpen = vfs_dl_open,
            .xDlError = vfs_dl_error,
            .xDlSym = vfs_dl_sym,
            .xDlClose = vfs_dl_close,
            .xRandomness = vfs_randomness,
            .xSleep = vfs_sleep,
            .xCurrentTime = vfs_current_time,
            .xGetLastError = vfs_get_last_error,
            .xCurrentTimeInt64 = vfs_current_time_int64,
          };
          if (sqlite3_vfs_register (&gathering_vfs, 0) != SQLITE_OK)
            result = 2;
        }
      g_once_init_leave (&registered, result);
    }
  return registered == 1 ? VFS_NAME : NULL;
}
