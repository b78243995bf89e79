/* fuzz-common.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checks shared by the libFuzzer targets. A violated invariant calls abort(),
 * which libFuzzer reports as a crash and saves the input that caused it.
 */

#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static inline void fuzz_fail (const char *format, ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static inline void
fuzz_fail (const char *format, ...)
{
  va_list args;

  fputs ("fuzz invariant violated: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  abort ();
}

#define fuzz_assert(expr)                                                                          \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (G_UNLIKELY (!(expr)))                                                                      \
      fuzz_fail ("%s:%d: %s", __FILE__, __LINE__, #expr);                                          \
  }                                                                                                \
  G_STMT_END

static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  g_log_writer_standard_streams (level, fields, n_fields, data);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    fuzz_fail ("a GLib warning or critical was logged (see above)");
  return G_LOG_WRITER_HANDLED;
}

/* A g_return_if_fail() or g_warning() reached from input data is a bug, and
 * must abort() rather than trap so that libFuzzer saves the input. */
static inline void
fuzz_make_warnings_fatal (void)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* Every finding must be something the console and `cps --json` can show:
 * a known severity, a non-empty UTF-8 message and, when there is a path, a
 * UTF-8 one. Findings about a JSON document carry a JSON path rooted at `$`
 * (cps-finding.h); pass @json_paths to check that too. */
static inline void
fuzz_check_findings_full (GPtrArray *findings, const char *where, gboolean json_paths)
{
  if (findings == NULL)
    return;
  for (guint i = 0; i < findings->len; i++)
    {
      const CpsFinding *finding = g_ptr_array_index (findings, i);

      if (finding == NULL)
        fuzz_fail ("%s: finding %u is NULL", where, i);
      if (finding->severity > CPS_SEVERITY_ERROR)
        fuzz_fail ("%s: finding %u has severity %d", where, i, (int) finding->severity);
      if (finding->message == NULL || finding->message[0] == '\0')
        fuzz_fail ("%s: finding %u has no message", where, i);
      if (!g_utf8_validate (finding->message, -1, NULL))
        fuzz_fail ("%s: finding %u has a message that is not UTF-8", where, i);
      if (finding->path != NULL && !g_utf8_validate (finding->path, -1, NULL))
        fuzz_fail ("%s: finding %u has a path that is not UTF-8", where, i);
      if (json_paths && finding->path != NULL && finding->path[0] != '$')
        fuzz_fail ("%s: finding %u has the path “%s”, not a JSON path", where, i, finding->path);
      (void) cps_severity_to_string (finding->severity);
      (void) cps_severity_to_label (finding->severity);
    }
}

static inline void
fuzz_check_findings (GPtrArray *findings, const char *where)
{
  fuzz_check_findings_full (findings, where, TRUE);
}

/* Writers must emit UTF-8 text without raw NUL bytes. */
static inline void
fuzz_check_text (const char *text, gsize length, const char *what)
{
  if (text == NULL)
    fuzz_fail ("%s: no text", what);
  if (strlen (text) != length)
    fuzz_fail ("%s: %" G_GSIZE_FORMAT " bytes reported but a NUL at byte %" G_GSIZE_FORMAT, what,
               length, strlen (text));
  if (!g_utf8_validate (text, length, NULL))
    fuzz_fail ("%s: not valid UTF-8", what);
}

static inline void
fuzz_check_checksum (const char *checksum, const char *what)
{
  if (!cps_checksum_is_valid (checksum))
    fuzz_fail ("%s: “%s” is not a sha256: checksum", what, checksum ? checksum : "(null)");
}
