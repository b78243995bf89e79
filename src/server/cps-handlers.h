/* cps-handlers.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every route of the sync contract and the file that handles it. Each handler
 * authenticates (except health, login, refresh), validates, does its work in
 * storage transactions, audits, and replies through cps-request.h.
 */

#pragma once

#include "cps-request.h"

G_BEGIN_DECLS

typedef struct
{
  const char *method;
  const char *pattern;     /* segments; "{}" matches one path segment */
  CpsHandlerFunc handler;
} CpsRoute;

/* The route table (cps-router.c), terminated by a zeroed entry. */
extern const CpsRoute cps_routes[];

/* cps-handlers-health.c */
void cps_handle_health (CpsRequest *request);          /* GET  /v1/health */
void cps_handle_metrics (CpsRequest *request);         /* GET  /metrics */

/* cps-handlers-auth.c */
void cps_handle_login (CpsRequest *request);           /* POST /v1/auth/login */
void cps_handle_refresh (CpsRequest *request);         /* POST /v1/auth/refresh */
void cps_handle_logout (CpsRequest *request);          /* POST /v1/auth/logout */
void cps_handle_totp_begin (CpsRequest *request);      /* POST /v1/auth/totp */
void cps_handle_totp_confirm (CpsRequest *request);    /* POST /v1/auth/totp/confirm */
void cps_handle_totp_disable (CpsRequest *request);    /* DELETE /v1/auth/totp */

/* cps-handlers-accounts.c */
void cps_handle_account_self (CpsRequest *request);    /* GET  /v1/account */
void cps_handle_accounts_list (CpsRequest *request);   /* GET  /v1/accounts */
void cps_handle_accounts_create (CpsRequest *request); /* POST /v1/accounts */
void cps_handle_account_role (CpsRequest *request);    /* PUT  /v1/accounts/{id}/role */

/* cps-handlers-devices.c */
void cps_handle_devices_list (CpsRequest *request);    /* GET  /v1/devices */
void cps_handle_device_revoke (CpsRequest *request);   /* POST /v1/devices/{id}/revoke */
void cps_handle_device_approve (CpsRequest *request);  /* POST /v1/devices/{id}/approve */

/* cps-handlers-projects.c */
void cps_handle_projects_create (CpsRequest *request); /* POST /v1/projects */
void cps_handle_projects_list (CpsRequest *request);   /* GET  /v1/projects */
void cps_handle_project_get (CpsRequest *request);     /* GET  /v1/projects/{id} */
void cps_handle_member_put (CpsRequest *request);      /* PUT  /v1/projects/{id}/members/{account} */
void cps_handle_member_delete (CpsRequest *request);   /* DELETE same */
void cps_handle_project_conflict (CpsRequest *request);/* GET  /v1/projects/{id}/conflict */

/* cps-handlers-revisions.c */
void cps_handle_push (CpsRequest *request);            /* POST /v1/projects/{id}/revisions */
void cps_handle_revisions_list (CpsRequest *request);  /* GET  /v1/projects/{id}/revisions */
void cps_handle_revision_get (CpsRequest *request);    /* GET  /v1/projects/{id}/revisions/{rev} */

/* cps-handlers-changes.c */
void cps_handle_changes (CpsRequest *request);         /* GET  /v1/changes */

/* cps-handlers-audit.c */
void cps_handle_audit_list (CpsRequest *request);      /* GET  /v1/audit */
void cps_handle_audit_export (CpsRequest *request);    /* GET  /v1/audit/export */
void cps_handle_checkpoints_list (CpsRequest *request);/* GET  /v1/audit/checkpoints */
void cps_handle_checkpoint_create (CpsRequest *request);/* POST /v1/audit/checkpoints */

/* cps-handlers-admin.c */
void cps_handle_admin_status (CpsRequest *request);    /* GET  /v1/admin/status */

G_END_DECLS
