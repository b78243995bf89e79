/* fuzz-sidecar.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer target for the SHA256SUMS reader. The list must hold exactly the
 * names of the lines that follow the sha256sum format (`[\]` + 64 hex digits
 * + space + space or `*` + name), each digest must check as a match and any
 * other checksum as a mismatch, and writing the entries back in sha256sum
 * format must read back as the same list without findings.
 */

#define G_LOG_DOMAIN "fuzz-sidecar"

#include "config.h"

#include "fuzz-common.h"

#define DIGEST_LEN 64
#define PREFIX_LEN (DIGEST_LEN + 2)

/* sha256sum escapes names holding a backslash, newline or carriage return
 * and marks the line with a leading backslash; undo that. */
static char *
unescape (const char *name, gsize len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (name[i] == '\\' && i + 1 < len)
        {
          i++;
          g_string_append_c (out, name[i] == 'n' ? '\n' : name[i] == 'r' ? '\r' : name[i]);
        }
      else
        g_string_append_c (out, name[i]);
    }
  return g_string_free (out, FALSE);
}

static void
append_line (GString *out, const char *name, const char *digest)
{
  gboolean escape = strpbrk (name, "\\\n\r") != NULL;

  if (escape)
    g_string_append_c (out, '\\');
  g_string_append_printf (out, "%s  ", digest);
  for (const char *p = name; *p; p++)
    {
      if (escape && *p == '\\')
        g_string_append (out, "\\\\");
      else if (escape && *p == '\n')
        g_string_append (out, "\\n");
      else if (escape && *p == '\r')
        g_string_append (out, "\\r");
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '\n');
}

static void
check_entry (CpsSidecar *sidecar, const char *name, const char *digest)
{
  g_autofree char *match = g_strconcat (CPS_CHECKSUM_PREFIX, digest, NULL);
  g_autofree char *other = g_strdup (match);
  g_autofree char *upper = g_ascii_strup (digest, -1);
  g_autofree char *upper_checksum = g_strconcat (CPS_CHECKSUM_PREFIX, upper, NULL);
  char *last = other + strlen (other) - 1;

  fuzz_assert (strlen (digest) == DIGEST_LEN);
  fuzz_check_checksum (match, "sidecar digest");

  *last = *last == '0' ? '1' : '0';
  fuzz_assert (cps_sidecar_check (sidecar, name, match) == CPS_SIDECAR_MATCH);
  fuzz_assert (cps_sidecar_check (sidecar, name, other) == CPS_SIDECAR_MISMATCH);
  fuzz_assert (cps_sidecar_check (sidecar, name, digest) == CPS_SIDECAR_MISMATCH);
  fuzz_assert (cps_sidecar_check (sidecar, name, NULL) == CPS_SIDECAR_MISMATCH);
  if (strcmp (upper, digest) != 0)
    fuzz_assert (cps_sidecar_check (sidecar, name, upper_checksum) == CPS_SIDECAR_MISMATCH);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_warnings_fatal ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GPtrArray) findings = cps_findings_new ();
  g_autoptr (GPtrArray) sidecar_findings = NULL;
  g_autoptr (CpsSidecar) sidecar = NULL;
  g_autoptr (CpsSidecar) again = NULL;
  g_autoptr (GPtrArray) again_findings = cps_findings_new ();
  g_autoptr (GHashTable) found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) rewritten = g_string_new (NULL);
  const char *text = (const char *) data;
  const char *end = text + size;
  GHashTableIter iter;
  gpointer key;

  sidecar = cps_sidecar_parse (text, size, "SHA256SUMS", findings);
  fuzz_assert (sidecar != NULL);

  /* The caller's array receives the same findings the list keeps. */
  sidecar_findings = g_ptr_array_ref (cps_sidecar_get_findings (sidecar));
  fuzz_check_findings_full (sidecar_findings, "sidecar", FALSE);
  fuzz_assert (findings->len == sidecar_findings->len);
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *a = g_ptr_array_index (findings, i);
      const CpsFinding *b = g_ptr_array_index (sidecar_findings, i);
      fuzz_assert (a->severity == b->severity && g_strcmp0 (a->path, b->path) == 0
                   && g_strcmp0 (a->message, b->message) == 0);
    }
  if (cps_sidecar_get_n_entries (sidecar) == 0)
    fuzz_assert (cps_findings_count (findings, CPS_SEVERITY_ERROR) > 0);

  /* Every name written in the sha256sum shape is either listed with a
   * well-formed digest or was refused (the line then has a finding). */
  for (const char *p = text; p < end;)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line_end = eol ? eol : end;
      const char *q = p;
      gboolean escaped = FALSE;

      if (line_end > p && line_end[-1] == '\r')
        line_end--;
      if (q < line_end && *q == '\\')
        {
          escaped = TRUE;
          q++;
        }
      if (line_end - q > PREFIX_LEN)
        {
          gsize len = line_end - (q + PREFIX_LEN);
          char *name = escaped ? unescape (q + PREFIX_LEN, len) : g_strndup (q + PREFIX_LEN, len);
          const char *digest;

          /* `./name` is listed as `name`, as `find . -exec sha256sum` means it. */
          while (g_str_has_prefix (name, "./"))
            memmove (name, name + 2, strlen (name + 2) + 1);
          digest = cps_sidecar_lookup (sidecar, name);

          if (digest != NULL)
            {
              check_entry (sidecar, name, digest);
              g_hash_table_add (found, name);
            }
          else
            g_free (name);
        }
      p = eol ? eol + 1 : end;
    }
  fuzz_assert (g_hash_table_size (found) == cps_sidecar_get_n_entries (sidecar));
  fuzz_assert (cps_sidecar_check (sidecar, "\001 never listed \001", NULL)
               == CPS_SIDECAR_NOT_LISTED);

  /* Written back as sha256sum would, the list reads the same. */
  g_hash_table_iter_init (&iter, found);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    append_line (rewritten, key, cps_sidecar_lookup (sidecar, key));
  if (rewritten->len == 0)
    return 0;
  again = cps_sidecar_parse (rewritten->str, rewritten->len, "SHA256SUMS", again_findings);
  if (again_findings->len > 0)
    {
      const CpsFinding *finding = g_ptr_array_index (again_findings, 0);
      fuzz_fail ("a rewritten list has findings, first: %s: %s\n%s", finding->path,
                 finding->message, rewritten->str);
    }
  fuzz_assert (cps_sidecar_get_n_entries (again) == cps_sidecar_get_n_entries (sidecar));
  g_hash_table_iter_init (&iter, found);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    fuzz_assert (g_strcmp0 (cps_sidecar_lookup (again, key), cps_sidecar_lookup (sidecar, key))
                 == 0);
  return 0;
}
