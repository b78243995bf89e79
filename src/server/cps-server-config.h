/* cps-server-config.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * cps-server's settings: built-in defaults, then the GKeyFile
 * (/etc/cps-server.conf or --config), then command-line flags.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  /* [server] */
  char *data_dir;              /* holds cps-server.db and server-key (0600) */
  char *listen;                /* HOST:PORT */
  char *tls_cert;              /* (nullable) PEM file */
  char *tls_key;               /* (nullable) PEM file */
  gboolean insecure_http;      /* plain HTTP on a non-loopback address */
  guint workers;               /* handler threads; 0 = twice the cores, at least 4 */
  char *storage;               /* "sqlite" */

  /* [limits] */
  gsize max_body_bytes;        /* after decompression, default 4 MiB */
  guint max_push_revisions;    /* default 100 */
  guint max_page_items;        /* default 500 */

  /* [auth] */
  guint access_token_seconds;  /* default 900 */
  guint refresh_token_days;    /* default 30 */
  gboolean require_device_approval; /* default false */
  guint login_window_seconds;  /* default 900 */
  guint login_max_per_account; /* default 5 */
  guint login_max_per_address; /* default 20 */
} CpsServerConfig;

CpsServerConfig *cps_server_config_new_defaults (void);
/* Reads @path over the current values; a missing file is an error only when @required. */
gboolean cps_server_config_load_file (CpsServerConfig *config, const char *path,
                                      gboolean required, GError **error);
void cps_server_config_free (CpsServerConfig *config);
/* The SQLite database inside the data directory. */
char *cps_server_config_dup_database_path (const CpsServerConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsServerConfig, cps_server_config_free)

G_END_DECLS
