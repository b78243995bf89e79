/* cps-test-util.h
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Helpers the tests and benchmarks share.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void cps_test_remove_tree (const char *path);

G_END_DECLS
