/* cps-audit-chain.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server audit log's hash chain (CONTRACT.md “Audit”), shared by the
 * server that extends it and by clients that verify an export offline:
 *   hash = H(prev_hash + JCS(entry without "prev_hash" and "hash"))
 * The first entry's prev_hash is CPS_AUDIT_CHAIN_GENESIS; a checkpoint
 * signature is Ed25519 over the UTF-8 bytes of the chain hash it attests.
 */

#pragma once

#include <glib.h>

#include "cps-json.h"

G_BEGIN_DECLS

#define CPS_AUDIT_CHAIN_GENESIS \
  "sha256:0000000000000000000000000000000000000000000000000000000000000000"

char *cps_audit_chain_hash (const char *prev_hash, const CpsJsonNode *entry, GError **error);

gboolean cps_audit_chain_verify_jsonl (const char *data, gsize length, GPtrArray *problems,
                                       gint64 *n_entries, char **head_hash, GError **error);

gboolean cps_audit_chain_verify_checkpoint (const char *public_key_base64, const char *hash,
                                            const char *signature_base64);

G_END_DECLS
