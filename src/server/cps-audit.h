/* cps-audit.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server audit log: an append-only hash chain (CONTRACT.md “Audit”)
 *   hash = H(prev_hash + JCS(entry without prev_hash and hash))
 * where the entry is {seq, at, action, actor_account, actor_device,
 * target_type, target_id, details} (absent actors/targets are null). The chain
 * head lives in storage, so several server processes extend one chain.
 * Checkpoints sign a chain hash with the server key: one is made whenever an
 * append reaches a multiple of 100, every 10 minutes when there are new
 * entries, and on request.
 */

#pragma once

#include "cps-server-key.h"
#include "cps-storage.h"

G_BEGIN_DECLS

#define CPS_AUDIT_GENESIS_HASH \
  "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define CPS_AUDIT_CHECKPOINT_EVERY 100

/* Appends inside the caller's write transaction; fills @out (nullable) with the entry. When
 * the new seq is a multiple of CPS_AUDIT_CHECKPOINT_EVERY and @key is not NULL, a checkpoint
 * is inserted in the same transaction. */
gboolean cps_audit_append (CpsStorage *storage, CpsServerKey *key, const char *action,
                           const char *actor_account, const char *actor_device,
                           const char *target_type, const char *target_id,
                           const char *details_json, CpsAuditRecord **out, GError **error);

/* The chain hash of @entry given its prev_hash (entry->hash is not read). */
char *cps_audit_compute_hash (const CpsAuditRecord *entry, GError **error);

/* Signs the current chain head as a new checkpoint (own transaction when @in_transaction is
 * FALSE). Returns NULL without error when the chain is empty. */
CpsCheckpointRecord *cps_audit_checkpoint (CpsStorage *storage, CpsServerKey *key,
                                           gboolean in_transaction, GError **error);

/* Re-verifies the whole chain (every hash and link, and every checkpoint signature against
 * @public_key_base64). Problems are appended to @problems as sentences; returns FALSE only
 * when storage failed. @n_entries (nullable) gets the number of entries checked. */
gboolean cps_audit_verify_chain (CpsStorage *storage, const char *public_key_base64,
                                 GPtrArray *problems, gint64 *n_entries, GError **error);

/* Writes one entry as a JSON object with its chain fields (export, list). */
void cps_audit_write_entry_json (const CpsAuditRecord *entry, GString *out);

G_END_DECLS
