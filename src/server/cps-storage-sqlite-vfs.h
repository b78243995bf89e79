/* cps-storage-sqlite-vfs.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SQLite VFS the server's storage opens its connections with: the default one, with the
 * writes of WAL files gathered into few system calls. Only for connections that run with
 * synchronous=FULL (see cps-storage-sqlite-vfs.c).
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *_cps_sqlite_gathering_vfs (void);

G_END_DECLS
