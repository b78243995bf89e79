/* cps-server-config.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Keys are documented, with their defaults, in data/cps-server.conf.example.
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <glib/gi18n.h>

#include "cps-server-config.h"

#define DATABASE_NAME "cps-server.db"

CpsServerConfig *
cps_server_config_new_defaults (void)
{
  CpsServerConfig *config = g_new0 (CpsServerConfig, 1);

  config->listen = g_strdup ("127.0.0.1:8080");
  config->storage = g_strdup ("sqlite");
  config->max_body_bytes = 4 * 1024 * 1024;
  config->max_push_revisions = 100;
  config->max_page_items = 500;
  config->access_token_seconds = 15 * 60;
  config->refresh_token_days = 30;
  config->login_window_seconds = 15 * 60;
  config->login_max_per_account = 5;
  config->login_max_per_address = 20;
  return config;
}

void
cps_server_config_free (CpsServerConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->data_dir);
  g_free (config->listen);
  g_free (config->tls_cert);
  g_free (config->tls_key);
  g_free (config->storage);
  g_free (config);
}

char *
cps_server_config_dup_database_path (const CpsServerConfig *config)
{
  return g_build_filename (config->data_dir, DATABASE_NAME, NULL);
}

static gboolean
read_string (GKeyFile *file, const char *group, const char *key, char **value, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = g_key_file_get_string (file, group, key, &local_error);

  if (text == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_free (*value);
  *value = g_steal_pointer (&text);
  return TRUE;
}

static gboolean
read_uint (GKeyFile *file, const char *group, const char *key, guint64 min, guint64 max,
           guint64 *value, GError **error)
{
  g_autofree char *text = NULL;
  guint64 parsed;

  if (!read_string (file, group, key, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_unsigned (g_strstrip (text), 10, min, max, &parsed, NULL))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[%s] %s must be a whole number from %llu to %llu."), group, key,
                   (unsigned long long) min, (unsigned long long) max);
      return FALSE;
    }
  *value = parsed;
  return TRUE;
}

static gboolean
read_bool (GKeyFile *file, const char *group, const char *key, gboolean *value, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean parsed = g_key_file_get_boolean (file, group, key, &local_error);

  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   _("[%s] %s must be true or false."), group, key);
      return FALSE;
    }
  *value = parsed;
  return TRUE;
}

#define READ_UINT(group, key, min, max, field)                                   \
  G_STMT_START                                                                   \
  {                                                                              \
    guint64 v_ = config->field;                                                  \
    if (!read_uint (file, group, key, min, max, &v_, error))                     \
      goto fail;                                                                 \
    config->field = v_;                                                          \
  }                                                                              \
  G_STMT_END

/**
 * cps_server_config_load_file:
 *
 * Reads @path over the values in @config. Unknown keys are refused, so a typo
 * in a security setting cannot pass silently.
 */
gboolean
cps_server_config_load_file (CpsServerConfig *config, const char *path, gboolean required,
                             GError **error)
{
  static const char *const known[] = {
    "server/data-dir", "server/listen", "server/tls-cert", "server/tls-key",
    "server/insecure-http", "server/workers", "server/storage",
    "limits/max-body-bytes", "limits/max-push-revisions", "limits/max-page-items",
    "auth/access-token-seconds", "auth/refresh-token-days", "auth/require-device-approval",
    "auth/login-window-seconds", "auth/login-max-per-account", "auth/login-max-per-address",
    NULL,
  };
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      if (!required && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                   _("Could not read the configuration “%s”: %s"), path, local_error->message);
      return FALSE;
    }

  groups = g_key_file_get_groups (file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (file, groups[i], NULL, NULL);

      for (guint j = 0; keys != NULL && keys[j] != NULL; j++)
        {
          g_autofree char *name = g_strconcat (groups[i], "/", keys[j], NULL);

          if (!g_strv_contains (known, name))
            {
              g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                           _("%s: unknown setting [%s] %s. See cps-server.conf.example for "
                             "the settings there are."),
                           path, groups[i], keys[j]);
              return FALSE;
            }
        }
    }

  if (!read_string (file, "server", "data-dir", &config->data_dir, error) ||
      !read_string (file, "server", "listen", &config->listen, error) ||
      !read_string (file, "server", "tls-cert", &config->tls_cert, error) ||
      !read_string (file, "server", "tls-key", &config->tls_key, error) ||
      !read_string (file, "server", "storage", &config->storage, error) ||
      !read_bool (file, "server", "insecure-http", &config->insecure_http, error) ||
      !read_bool (file, "auth", "require-device-approval", &config->require_device_approval,
                  error))
    goto fail;

  READ_UINT ("server", "workers", 0, 64, workers);
  READ_UINT ("limits", "max-body-bytes", 64 * 1024, 256 * 1024 * 1024, max_body_bytes);
  READ_UINT ("limits", "max-push-revisions", 1, 10000, max_push_revisions);
  READ_UINT ("limits", "max-page-items", 1, 10000, max_page_items);
  READ_UINT ("auth", "access-token-seconds", 30, 24 * 3600, access_token_seconds);
  READ_UINT ("auth", "refresh-token-days", 1, 365, refresh_token_days);
  READ_UINT ("auth", "login-window-seconds", 10, 24 * 3600, login_window_seconds);
  READ_UINT ("auth", "login-max-per-account", 1, 1000, login_max_per_account);
  READ_UINT ("auth", "login-max-per-address", 1, 100000, login_max_per_address);
  return TRUE;

fail:
  g_prefix_error (error, "%s: ", path);
  return FALSE;
}
