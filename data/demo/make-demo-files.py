#!/usr/bin/env python3
# make-demo-files.py
# SPDX-License-Identifier: GPL-3.0-or-later
#
# How the two derived demo files were made (see README.md). It was run once;
# the outputs are committed, so nothing runs this at build time:
#
#   python3 data/demo/make-demo-files.py
#
# With --check it writes nothing and exits 1 when the committed files differ from what it
# would write (data/meson.build runs that as a test).
#
# It reads the sample backup cine_power_planner_backup_2025-03-01T14-05-09+01-00.json that
# sits next to it and writes, also next to it:
#
#   cine_power_planner_backup_2025-03-01T14-20-31+01-00.json
#       the same planner a quarter of an hour later, with planner auto-backups in
#       data.project and data.setups
#   cine_power_planner_backup_2025-03-02T09-12-44+01-00.json
#       a later backup whose copy was cut off after 24 KiB (deliberately damaged)
#
# Files are written the way the planner writes them: compact JSON.stringify, UTF-8, no BOM,
# no trailing newline. Python's json module with these separators produces the same bytes as
# JSON.stringify for this data (checked below by re-encoding the source file).

import copy
import json
import os
import sys

SOURCE = 'cine_power_planner_backup_2025-03-01T14-05-09+01-00.json'
WITH_AUTO_BACKUPS = 'cine_power_planner_backup_2025-03-01T14-20-31+01-00.json'
TRUNCATED = 'cine_power_planner_backup_2025-03-02T09-12-44+01-00.json'
TRUNCATED_SIZE = 24 * 1024


def stringify(value):
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def gear_list(title, camera, battery_count, battery):
    return ('<h2>Gear List: %s</h2><table class="gear-table"><tbody>'
            '<tr><td>1x %s</td></tr><tr><td>%dx %s</td></tr></tbody></table>'
            % (title, camera, battery_count, battery))


def add_history(backup, created_at, file_name):
    entry = {'createdAt': created_at, 'fileName': file_name}
    backup['data']['fullBackupHistory'].append(entry)
    history = json.loads(backup['settings']['cameraPowerPlanner_fullBackups'])
    history.append(entry)
    backup['settings']['cameraPowerPlanner_fullBackups'] = stringify(history).decode('utf-8')


def make_outputs():
    with open(SOURCE, 'rb') as f:
        raw = f.read()
    source = json.loads(raw)
    if stringify(source) != raw:
        sys.exit('re-encoding %s does not reproduce its bytes; refusing to continue' % SOURCE)

    backup = copy.deepcopy(source)
    setups = backup['data']['setups']
    projects = backup['data']['project']

    # auto-backups are written in the order the planner made them
    auto_backups = []

    # A project deleted two days earlier: its safety copy matches no project (an orphan).
    name = 'auto-backup-before-delete-2025-02-27-17-45-12-Pickup Shots'
    setup = copy.deepcopy(setups['Car Rig Test'])
    setup['projectInfo']['projectName'] = 'Pickup Shots'
    setup['projectInfo']['shootingDays'] = ['2025-02-26 to 2025-02-26']
    setup['camera'] = 'Example Cinema Camera Mini'
    project = copy.deepcopy(projects['Car Rig Test'])
    project['projectInfo']['projectName'] = 'Pickup Shots'
    project['projectInfo']['shootingDays'] = ['2025-02-26 to 2025-02-26']
    project['gearList'] = gear_list('Pickup Shots', 'Example Cinema Camera Mini', 4,
                                    'Example 98Wh B-Mount')
    auto_backups.append((name, setup, project))

    # Studio Interview before its shooting day moved from the 11th to the 10th
    # (timestamp without seconds, as older planner versions wrote it).
    name = 'auto-backup-2025-02-28-09-15-Studio Interview'
    setup = copy.deepcopy(setups['Studio Interview'])
    setup['projectInfo']['shootingDays'] = ['2025-03-11 to 2025-03-11']
    project = copy.deepcopy(projects['Studio Interview'])
    project['projectInfo']['shootingDays'] = ['2025-03-11 to 2025-03-11']
    auto_backups.append((name, setup, project))

    # Night Exterior before the batteries changed from 98 Wh to 150 Wh packs.
    name = 'auto-backup-2025-03-01-13-50-00-Night Exterior'
    setup = copy.deepcopy(setups['Night Exterior'])
    setup['battery'] = 'Example 98Wh V-Mount'
    project = copy.deepcopy(projects['Night Exterior'])
    project['powerSelection']['battery'] = 'Example 98Wh V-Mount'
    project['gearList'] = gear_list('Night Exterior', 'Example Cinema Camera X1', 6,
                                    'Example 98Wh V-Mount')
    auto_backups.append((name, setup, project))

    # Car Rig Test was deleted by mistake at 14:00 and restored from this copy, so the copy
    # and the project hold the same content.
    name = 'auto-backup-before-delete-2025-03-01-14-00-00-Car Rig Test'
    auto_backups.append((name, copy.deepcopy(setups['Car Rig Test']),
                         copy.deepcopy(projects['Car Rig Test'])))

    for name, setup, project in auto_backups:
        setups[name] = setup
        projects[name] = project
    # the planner writes data.project sorted by name
    backup['data']['project'] = {key: projects[key] for key in sorted(projects)}
    backup['settings']['cameraPowerPlanner_setups'] = stringify(setups).decode('utf-8')

    backup['generatedAt'] = '2025-03-01T14:20:31+01:00'
    add_history(backup, source['generatedAt'], SOURCE)

    later = copy.deepcopy(backup)
    later['generatedAt'] = '2025-03-02T09:12:44+01:00'
    add_history(later, backup['generatedAt'], WITH_AUTO_BACKUPS)

    return {
        WITH_AUTO_BACKUPS: stringify(backup),
        TRUNCATED: stringify(later)[:TRUNCATED_SIZE],
    }


if __name__ == '__main__':
    # the files live next to this script, wherever it is run from
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    outputs = make_outputs()
    if sys.argv[1:] == ['--check']:
        stale = []
        for file_name, data in outputs.items():
            try:
                with open(file_name, 'rb') as f:
                    if f.read() == data:
                        continue
            except OSError:
                pass
            stale.append(file_name)
        for file_name in stale:
            print('%s differs from what make-demo-files.py writes' % file_name)
        sys.exit(1 if stale else 0)
    elif sys.argv[1:]:
        sys.exit('usage: make-demo-files.py [--check]')
    for file_name, data in outputs.items():
        with open(file_name, 'wb') as f:
            f.write(data)
