/* cps-json-writer.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small streaming JSON writer for responses: compact output, commas handled,
 * strings escaped as JCS does. Raw values (stored revision JSON) are spliced in
 * without re-parsing, which is what makes the changes feed fast.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CpsJsonWriter CpsJsonWriter;

CpsJsonWriter *cps_json_writer_new (void);
void cps_json_writer_free (CpsJsonWriter *writer);
/* Hands over the text written so far and frees the writer. */
GString *cps_json_writer_steal (CpsJsonWriter *writer);
const char *cps_json_writer_peek (CpsJsonWriter *writer);

void cps_json_writer_begin_object (CpsJsonWriter *writer);
void cps_json_writer_end_object (CpsJsonWriter *writer);
void cps_json_writer_begin_array (CpsJsonWriter *writer);
void cps_json_writer_end_array (CpsJsonWriter *writer);
/* The next value is the member @key of the current object. */
void cps_json_writer_key (CpsJsonWriter *writer, const char *key);

void cps_json_writer_string (CpsJsonWriter *writer, const char *value); /* NULL writes null */
void cps_json_writer_int (CpsJsonWriter *writer, gint64 value);
void cps_json_writer_bool (CpsJsonWriter *writer, gboolean value);
void cps_json_writer_null (CpsJsonWriter *writer);
/* @json must be one complete, valid JSON value (NULL writes null). */
void cps_json_writer_raw (CpsJsonWriter *writer, const char *json);
void cps_json_writer_strv (CpsJsonWriter *writer, const char *const *values);

/* key + value in one call */
void cps_json_writer_member_string (CpsJsonWriter *writer, const char *key, const char *value);
void cps_json_writer_member_int (CpsJsonWriter *writer, const char *key, gint64 value);
void cps_json_writer_member_bool (CpsJsonWriter *writer, const char *key, gboolean value);
void cps_json_writer_member_raw (CpsJsonWriter *writer, const char *key, const char *json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpsJsonWriter, cps_json_writer_free)

/* A JSON object of string members from NULL-terminated key, value pairs, for audit and error
 * details; a NULL value is written as null. */
char *cps_json_object_of_strings (const char *first_key, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
