/* cps-json-writer.c
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "cps-server"

#include "config.h"

#include <string.h>

#include "cps-jcs.h"
#include "cps-json-writer.h"

struct _CpsJsonWriter
{
  GString *out;
  /* One bit per nesting level: whether the container already has a value. Nesting is
   * bounded by what handlers write, never by input. */
  guint64 has_value;
  guint depth;
  gboolean after_key;
};

CpsJsonWriter *
cps_json_writer_new (void)
{
  CpsJsonWriter *writer = g_new0 (CpsJsonWriter, 1);

  writer->out = g_string_sized_new (256);
  return writer;
}

void
cps_json_writer_free (CpsJsonWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->out != NULL)
    g_string_free (writer->out, TRUE);
  g_free (writer);
}

GString *
cps_json_writer_steal (CpsJsonWriter *writer)
{
  GString *out = g_steal_pointer (&writer->out);

  cps_json_writer_free (writer);
  return out;
}

const char *
cps_json_writer_peek (CpsJsonWriter *writer)
{
  return writer->out->str;
}

static void
begin_value (CpsJsonWriter *writer)
{
  guint64 bit;

  if (writer->after_key)
    {
      writer->after_key = FALSE;
      return;
    }
  if (writer->depth == 0)
    return;
  bit = G_GUINT64_CONSTANT (1) << (writer->depth - 1);
  if (writer->has_value & bit)
    g_string_append_c (writer->out, ',');
  writer->has_value |= bit;
}

static void
open_container (CpsJsonWriter *writer, char c)
{
  begin_value (writer);
  g_string_append_c (writer->out, c);
  g_assert (writer->depth < 64);
  writer->depth++;
  writer->has_value &= ~(G_GUINT64_CONSTANT (1) << (writer->depth - 1));
}

static void
close_container (CpsJsonWriter *writer, char c)
{
  g_assert (writer->depth > 0);
  writer->depth--;
  g_string_append_c (writer->out, c);
}

void
cps_json_writer_begin_object (CpsJsonWriter *writer)
{
  open_container (writer, '{');
}

void
cps_json_writer_end_object (CpsJsonWriter *writer)
{
  close_container (writer, '}');
}

void
cps_json_writer_begin_array (CpsJsonWriter *writer)
{
  open_container (writer, '[');
}

void
cps_json_writer_end_array (CpsJsonWriter *writer)
{
  close_container (writer, ']');
}

void
cps_json_writer_key (CpsJsonWriter *writer, const char *key)
{
  begin_value (writer);
  cps_jcs_append_string (writer->out, key, strlen (key));
  g_string_append_c (writer->out, ':');
  writer->after_key = TRUE;
}

void
cps_json_writer_string (CpsJsonWriter *writer, const char *value)
{
  begin_value (writer);
  if (value == NULL)
    g_string_append (writer->out, "null");
  else
    cps_jcs_append_string (writer->out, value, strlen (value));
}

void
cps_json_writer_int (CpsJsonWriter *writer, gint64 value)
{
  begin_value (writer);
  g_string_append_printf (writer->out, "%" G_GINT64_FORMAT, value);
}

void
cps_json_writer_bool (CpsJsonWriter *writer, gboolean value)
{
  begin_value (writer);
  g_string_append (writer->out, value ? "true" : "false");
}

void
cps_json_writer_null (CpsJsonWriter *writer)
{
  begin_value (writer);
  g_string_append (writer->out, "null");
}

void
cps_json_writer_raw (CpsJsonWriter *writer, const char *json)
{
  begin_value (writer);
  g_string_append (writer->out, json != NULL ? json : "null");
}

void
cps_json_writer_strv (CpsJsonWriter *writer, const char *const *values)
{
  cps_json_writer_begin_array (writer);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    cps_json_writer_string (writer, values[i]);
  cps_json_writer_end_array (writer);
}

void
cps_json_writer_member_string (CpsJsonWriter *writer, const char *key, const char *value)
{
  cps_json_writer_key (writer, key);
  cps_json_writer_string (writer, value);
}

void
cps_json_writer_member_int (CpsJsonWriter *writer, const char *key, gint64 value)
{
  cps_json_writer_key (writer, key);
  cps_json_writer_int (writer, value);
}

void
cps_json_writer_member_bool (CpsJsonWriter *writer, const char *key, gboolean value)
{
  cps_json_writer_key (writer, key);
  cps_json_writer_bool (writer, value);
}

void
cps_json_writer_member_raw (CpsJsonWriter *writer, const char *key, const char *json)
{
  cps_json_writer_key (writer, key);
  cps_json_writer_raw (writer, json);
}

char *
cps_json_object_of_strings (const char *first_key, ...)
{
  CpsJsonWriter *writer = cps_json_writer_new ();
  va_list args;

  cps_json_writer_begin_object (writer);
  va_start (args, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (args, const char *))
    cps_json_writer_member_string (writer, key, va_arg (args, const char *));
  va_end (args);
  cps_json_writer_end_object (writer);
  return g_string_free (cps_json_writer_steal (writer), FALSE);
}
