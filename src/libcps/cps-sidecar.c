/* cps-sidecar.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads the lines `sha256sum` writes: 64 hex digits, a space, a space or
 * `*` (binary mode), the file name. Names with a backslash, newline or
 * carriage return are escaped by sha256sum and such lines start with `\`.
 */

#define G_LOG_DOMAIN "cps-sidecar"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cps-jcs.h"
#include "cps-sidecar.h"

#define MAX_SIDECAR_SIZE (16 << 20)

struct _CpsSidecar
{
  GHashTable *entries; /* basename → lowercase hex digest */
  GPtrArray *findings;
};

static char *
unescape_name (const char *name, gsize len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (name[i] == '\\' && i + 1 < len)
        {
          i++;
          if (name[i] == 'n')
            g_string_append_c (out, '\n');
          else if (name[i] == 'r')
            g_string_append_c (out, '\r');
          else
            g_string_append_c (out, name[i]);
        }
      else
        g_string_append_c (out, name[i]);
    }
  return g_string_free (out, FALSE);
}

/**
 * cps_sidecar_parse:
 * @display_name: the sidecar's name, for findings
 * @findings: (nullable): also receives the problems found
 *
 * Returns: (transfer full): the parsed list; unusable lines become findings
 */
CpsSidecar *
cps_sidecar_parse (const char *text, gsize length, const char *display_name, GPtrArray *findings)
{
  CpsSidecar *sidecar = g_new0 (CpsSidecar, 1);
  const char *p = text;
  const char *end = text + length;
  guint line_no = 0;

  sidecar->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sidecar->findings = cps_findings_new ();

  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line_end = eol ? eol : end;
      const char *q = p;
      gboolean escaped = FALSE;
      g_autofree char *location = NULL;
      g_autofree char *digest = NULL;
      g_autofree char *name = NULL;
      gsize name_len;

      line_no++;
      location = g_strdup_printf ("%s:%u", display_name, line_no);
      if (line_end > p && line_end[-1] == '\r')
        line_end--;
      if (line_end == p || *p == '#')
        goto next;

      if (*q == '\\')
        {
          escaped = TRUE;
          q++;
        }
      if (line_end - q < 66 || memchr (p, '\0', line_end - p) != NULL)
        goto bad_line;
      for (int i = 0; i < 64; i++)
        if (!g_ascii_isxdigit (q[i]))
          goto bad_line;
      if (q[64] != ' ' || (q[65] != ' ' && q[65] != '*'))
        goto bad_line;

      digest = g_ascii_strdown (q, 64);
      name_len = line_end - (q + 66);
      name = escaped ? unescape_name (q + 66, name_len) : g_strndup (q + 66, name_len);
      /* `find . -exec sha256sum` writes ./name; the file is the same. */
      while (g_str_has_prefix (name, "./"))
        memmove (name, name + 2, strlen (name + 2) + 1);
      if (!g_utf8_validate (name, -1, NULL) || *name == '\0')
        goto bad_line;

      {
        const char *existing = g_hash_table_lookup (sidecar->entries, name);
        if (existing != NULL && g_strcmp0 (existing, digest) != 0)
          {
            cps_findings_add (sidecar->findings, CPS_SEVERITY_ERROR, location,
                              _("“%s” is listed twice with different checksums"), name);
            goto next;
          }
      }
      g_hash_table_replace (sidecar->entries, g_steal_pointer (&name), g_steal_pointer (&digest));
      goto next;

    bad_line:
      cps_findings_add (sidecar->findings, CPS_SEVERITY_WARNING, location,
                        _("Line %u is not a sha256sum line (64 hex digits, two spaces, a file "
                          "name) and was ignored"),
                        line_no);
    next:
      p = eol ? eol + 1 : end;
    }

  if (g_hash_table_size (sidecar->entries) == 0)
    cps_findings_add (sidecar->findings, CPS_SEVERITY_ERROR, display_name,
                      _("The checksum list holds no usable sha256sum lines"));

  for (guint i = 0; findings != NULL && i < sidecar->findings->len; i++)
    g_ptr_array_add (findings, cps_finding_copy (g_ptr_array_index (sidecar->findings, i)));
  return sidecar;
}

/**
 * cps_sidecar_load:
 *
 * Returns: (transfer full) (nullable): the parsed list, or %NULL when it cannot be read
 */
CpsSidecar *
cps_sidecar_load (GFile *file, GCancellable *cancellable, GError **error)
{
  g_autofree char *name = g_file_get_parse_name (file);
  g_autofree char *basename = g_file_get_basename (file);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *data = NULL;
  gsize length;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
  if (info == NULL || g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR ||
      g_file_info_get_size (info) > MAX_SIDECAR_SIZE ||
      !g_file_load_contents (file, cancellable, &data, &length, NULL, &local_error))
    {
      g_set_error (error, G_IO_ERROR, local_error ? local_error->code : G_IO_ERROR_INVALID_DATA,
                   _("Cannot read the checksum list “%s”: %s"), name,
                   local_error ? local_error->message
                               : _("it is not a regular file of at most 16 MB"));
      return NULL;
    }
  return cps_sidecar_parse (data, length, basename, NULL);
}

void
cps_sidecar_free (CpsSidecar *sidecar)
{
  if (sidecar == NULL)
    return;
  g_hash_table_unref (sidecar->entries);
  g_ptr_array_unref (sidecar->findings);
  g_free (sidecar);
}

/**
 * cps_sidecar_get_findings:
 *
 * Returns: (transfer none) (element-type CpsFinding): problems in the list itself
 */
GPtrArray *
cps_sidecar_get_findings (CpsSidecar *sidecar)
{
  return sidecar->findings;
}

guint
cps_sidecar_get_n_entries (CpsSidecar *sidecar)
{
  return g_hash_table_size (sidecar->entries);
}

/**
 * cps_sidecar_lookup:
 *
 * Returns: (nullable): the listed hex digest for @basename
 */
const char *
cps_sidecar_lookup (CpsSidecar *sidecar, const char *basename)
{
  return g_hash_table_lookup (sidecar->entries, basename);
}

/**
 * cps_sidecar_check:
 * @checksum: a `sha256:` checksum of the file's bytes
 *
 * Returns: whether the list has @basename, and whether it matches
 */
CpsSidecarResult
cps_sidecar_check (CpsSidecar *sidecar, const char *basename, const char *checksum)
{
  const char *expected = cps_sidecar_lookup (sidecar, basename);

  if (expected == NULL)
    return CPS_SIDECAR_NOT_LISTED;
  if (checksum != NULL && g_str_has_prefix (checksum, CPS_CHECKSUM_PREFIX) &&
      strcmp (checksum + strlen (CPS_CHECKSUM_PREFIX), expected) == 0)
    return CPS_SIDECAR_MATCH;
  return CPS_SIDECAR_MISMATCH;
}
