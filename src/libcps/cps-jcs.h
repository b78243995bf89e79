/* cps-jcs.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 8785 JSON Canonicalization Scheme and the checksums built on it.
 */

#pragma once

#include <glib.h>

#include "cps-json.h"

G_BEGIN_DECLS

#define CPS_CHECKSUM_PREFIX "sha256:"
#define CPS_CHECKSUM_LENGTH (7 + 64)

gsize cps_jcs_format_number (double value, char buf[32]);
void cps_jcs_append_string (GString *out, const char *s, gsize len);
gboolean cps_jcs_write (GString *out, const CpsJsonNode *node, GError **error);
gboolean cps_jcs_write_document (GString *out, const CpsJsonNode *document, gsize *metadata_start,
                                 gsize *metadata_end, GError **error);
char *cps_jcs_to_string (const CpsJsonNode *node, gsize *length, GError **error);
int cps_jcs_compare_keys (const char *a, gsize a_len, const char *b, gsize b_len);

char *cps_checksum_bytes (const void *data, gsize length);
char *cps_checksum_spliced (const void *data, gsize length, gsize cut_start, gsize cut_end);
char *cps_checksum_json (const CpsJsonNode *node, GError **error);
char *cps_checksum_content (const CpsJsonNode *document, GError **error);
gboolean cps_checksum_is_valid (const char *checksum);

G_END_DECLS
