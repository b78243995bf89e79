#!/usr/bin/env python3
# gen-backup.py
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Writes a synthetic Cine Power Planner full backup for benchmarks: compact
# JSON.stringify output in the shape PLANNER-FORMATS.md describes (version,
# generatedAt, settings, sessionStorage, data, diagnostics), with N projects,
# each a data.setups entry and a data.project entry like the planner's own
# (device selections, projectInfo with crew, autoGearRules, diagramPositions,
# gearSelectors, powerSelection and a large gearList HTML string), plus a
# handful of planner auto-backups and the other data sections. The same seed
# and parameters always give the same bytes.

import argparse
import json
import os
import random
import sys
import tempfile

GENERATOR_VERSION = 1

CAMERAS = [
    "ARRI ALEXA 35", "ARRI ALEXA Mini LF", "ARRI AMIRA", "RED V-RAPTOR 8K VV",
    "RED KOMODO 6K", "Sony VENICE 2", "Sony FX9", "Sony BURANO", "Canon EOS C500 Mark II",
    "Canon EOS C300 Mark III", "Blackmagic URSA Mini Pro 12K", "Panasonic VariCam LT",
]
MONITORS = [
    "SmallHD Cine 7", "SmallHD Ultra 7", "Atomos Shinobi 7", "TVLogic F-7H mk2",
    "Flanders Scientific DM170", "SmallHD Indie 7", "Atomos Ninja V+",
]
VIDEO = [
    "Teradek Bolt 6 XT 750 TX", "Teradek Bolt 4K LT 750 TX", "Vaxis Storm 3000 DV TX",
    "Hollyland Mars 4K TX", "DJI SDR Transmission TX", "",
]
CAGES = ["ARRI Cage LF", "Bright Tangerine Left Behind", "Tilta Full Cage", "Wooden Camera Cage", ""]
MOTORS = ["ARRI cforce mini RF", "ARRI cforce mini", "Tilta Nucleus-M", "DJI Focus Pro Motor",
          "Preston DM1X", "Teradek RT MK3.1 Motor"]
CONTROLLERS = ["ARRI Hi-5", "ARRI WCU-4", "Preston HU4", "Tilta Nucleus-M Hand Wheel",
               "cmotion cPRO hand unit", "Teradek RT CTRL.3"]
DISTANCE = ["ARRI UDM-1", "Preston Light Ranger 2", "Teradek RT LR", "Focusbug Cine RT", ""]
PLATES = ["V-Mount", "B-Mount", "Gold-Mount"]
BATTERIES = {
    "V-Mount": ["Bebob V98micro", "Bebob V150micro", "Bebob V290RM-Cine", "IDX DUO-C98",
                "Core SWX Hypercore NEO 150", "Anton/Bauer Titon 150"],
    "B-Mount": ["Bebob B155cine", "Bebob B290cine", "ARRI B-Mount 98Wh", "Bebob B98cine"],
    "Gold-Mount": ["Anton/Bauer Dionic 90", "Anton/Bauer Titon 240", "Core SWX Hypercore 98 AB"],
}
HOTSWAP = ["", "", "Bebob V-Mount Hot-Swap Plate", "Core SWX Hot Swap"]
LENSES = [
    "ARRI Signature Prime 18mm", "ARRI Signature Prime 25mm", "ARRI Signature Prime 35mm",
    "ARRI Signature Prime 47mm", "ARRI Signature Prime 75mm", "Cooke S4/i 32mm", "Cooke S4/i 50mm",
    "Zeiss Supreme Prime 29mm", "Zeiss Supreme Prime 65mm", "Angénieux Optimo 24-290",
    "Canon CN-E 30-105mm", "Leitz Summilux-C 40mm", "Sigma Cine 105mm T1.5",
]
MOUNTS = ["LPL", "PL", "EF", "E"]
SCENARIOS = ["Handheld", "Steadicam", "Gimbal", "Car Rig", "Rain Machine", "Extreme cold (snow)",
             "Tripod", "Slider", "Jib", "Studio", "Outdoor", "Underwater"]
ROLES = ["DoP", "1st AC", "2nd AC", "DIT", "Gaffer", "Key Grip", "Camera Operator",
         "Steadicam Operator", "Video Operator", "Producer", "Director", "Loader"]
FIRST = ["Alex", "Sam", "Kim", "Noa", "Jonas", "Léa", "Mia", "Luca", "Sofía", "Chloé", "Björn",
         "Aiko", "Mateo", "Zoë", "Nils", "Inès", "Giulia", "Émile", "Hanna", "Ömer"]
LAST = ["Example", "Müller", "García", "Rossi", "Dubois", "Schmidt", "Martín", "Bianchi",
        "Lefèvre", "Weiß", "Fernández", "Ricci", "Moreau", "Köhler", "Sánchez"]
PLACES = ["Berlin", "München", "Köln", "Paris", "Lyon", "Madrid", "Sevilla", "Roma", "Milano",
          "Wien", "Zürich", "Hamburg", "Barcelona", "Napoli", "Genève"]
WORDS = ["Night", "Exterior", "Interview", "Studio", "Car Rig", "Rooftop", "Harbour", "Forest",
         "Desert", "Kitchen", "Subway", "Stadium", "Ballroom", "Tunnel", "Alpine", "Market",
         "Warehouse", "Chase", "Wedding", "Commercial", "Documentary", "Pilot", "Episode",
         "Music Video", "Reshoot", "B-Unit", "Drone Day", "Pick-ups"]
GEAR_CATEGORIES = ["Camera", "Camera Support", "Media", "Lens", "Lens Support", "Matte box and "
                   "filter", "LDS (FIZ)", "Camera Batteries", "Monitoring Batteries", "Chargers",
                   "Monitoring", "Monitoring support", "Power", "Grip", "Carts and Transportation",
                   "Rigging", "Miscellaneous", "Consumables"]
GEAR_ITEMS = ["Teradek Bolt 6 XT 750 RX", "SmallHD Ultra 7 directors monitor", "Sachtler aktiv12T",
              "ARRI LMB 4x5 Pro Set", "Tiffen Black Pro-Mist 1/4 4x5.65", "D-Tap to LEMO 2-pin "
              "cable 0.5 m", "BNC cable 12G-SDI 1 m", "CFexpress Type B 512GB", "Angelbird "
              "AV Pro CFexpress 1TB", "Easyrig Vario 5", "Magliner Junior", "Gaffer tape 2\" "
              "black", "Bebob VS2 charger", "Ultraboom 3 m", "Noga arm", "Cine Saddle",
              "Apple Box set (full, half, quarter, pancake)", "Follow focus marking discs × 6",
              "Rain cover “Camera Raincoat”", "Lens cleaning kit – Zeiss", "Tilta 15 mm rods "
              "30 cm", "Wooden Camera D-Box", "Ø 114 mm clamp adapter", "Dana Dolly 1,8 m track"]
STREETS = ["Hauptstraße", "Rue de la Paix", "Calle Mayor", "Via Roma", "Bahnhofstraße",
           "Avenue des Champs", "Gran Vía", "Corso Italia"]

RULE_LIST_KEYS = [
    "mattebox", "cameraHandle", "viewfinderExtension", "deliveryResolution", "videoDistribution",
    "camera", "ownGear", "monitor", "tripodHeadBrand", "tripodBowl", "tripodTypes",
    "tripodSpreader", "crewPresent", "crewAbsent", "wireless", "motors", "controllers", "distance",
]


def stringify(value):
    """JSON.stringify (value): compact, UTF-8, no escaping beyond JSON's."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.uuid_counter = 0

    def uuid(self):
        self.uuid_counter += 1
        r = self.rng.getrandbits(64)
        return "%08x-%04x-4%03x-8%03x-%012x" % (
            r & 0xFFFFFFFF, (r >> 32) & 0xFFFF, (r >> 48) & 0xFFF, self.uuid_counter & 0xFFF,
            self.uuid_counter)

    def person(self):
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return {
            "name": "%s %s" % (first, last),
            "phone": "+49 %03d %07d" % (rng.randrange(1000), rng.randrange(10 ** 7)),
            "email": "%s.%s@example.invalid" % (first.lower(), last.lower()),
            "role": rng.choice(ROLES),
        }

    def date_range(self, month, day, length):
        end = min(day + length, 28)
        return "2025-%02d-%02d to 2025-%02d-%02d" % (month, day, month, end)

    def project_info(self, name):
        rng = self.rng
        month, day = rng.randrange(1, 13), rng.randrange(1, 25)
        lenses = rng.sample(LENSES, rng.randrange(2, 7))
        company = "%s %s Pictures" % (rng.choice(LAST), rng.choice(["Film", "Media", "Studio"]))
        city = rng.choice(PLACES)
        street = "%s %d" % (rng.choice(STREETS), rng.randrange(1, 200))
        postal = "%05d" % rng.randrange(100000)
        return {
            "projectName": name,
            "productionCompany": company,
            "productionCompanyAddress": "%s\n%s %s" % (street, postal, city),
            "productionCompanyStreet": street,
            "productionCompanyCity": city,
            "productionCompanyPostalCode": postal,
            "productionCompanyCountry": rng.choice(["Germany", "France", "Spain", "Italy",
                                                    "Austria", "Switzerland"]),
            "rentalHouse": "%s Camera Rental" % rng.choice(PLACES),
            "people": [self.person() for _ in range(rng.randrange(3, 13))],
            "prepDays": [self.date_range(month, day, rng.randrange(1, 4))],
            "shootingDays": [self.date_range(month, min(day + 4, 27), rng.randrange(1, 10))
                             for _ in range(rng.randrange(1, 4))],
            "deliveryResolution": rng.choice(["UHD", "4K DCI", "HD", "2K DCI"]),
            "recordingResolution": rng.choice(["4.5K LF 3:2", "4.6K 3:2 Open Gate", "8K 17:9",
                                               "6K 3:2", "3.8K UHD"]),
            "aspectRatio": rng.choice(["2.39:1", "1.85:1", "16:9", "2:1", "1.33:1"]),
            "codec": rng.choice(["ProRes 4444 XQ", "ARRIRAW", "REDCODE HQ", "X-OCN XT",
                                 "ProRes 422 HQ"]),
            "baseFrameRate": rng.choice(["23.976", "24", "25", "29.97", "50"]),
            "sensorMode": rng.choice(["LF Open Gate", "S35 3:2", "Full Frame 6K", "S35 4K"]),
            "lenses": lenses,
            "lensSelections": [{"name": l, "mount": rng.choice(MOUNTS)} for l in lenses],
            "requiredScenarios": ", ".join(rng.sample(SCENARIOS, rng.randrange(1, 4))),
            "mattebox": rng.choice(["Clamp On", "Swing Away", "Rod based"]),
            "cameraHandle": rng.choice(["Hand Grips", "Top Handle", "Handle Extension"]),
            "viewfinderExtension": rng.choice(["", "ARRI VEB-3"]),
            "videoDistribution": rng.sample(["Directors Monitor 7\" handheld", "Focus Monitor",
                                             "Combo Monitor 15\"", "DoP Monitor 7\""],
                                            rng.randrange(1, 4)),
            "monitoringConfiguration": rng.choice(["Onboard Only", "Onboard + Wireless"]),
            "tripodHeadBrand": rng.choice(["Sachtler", "OConnor", "Cartoni"]),
            "tripodBowl": rng.choice(["100mm bowl", "150mm bowl", "Mitchell Mount"]),
            "tripodTypes": rng.sample(["Long Legs", "Short Legs", "Hi-Hat", "Baby Legs"], 2),
            "tripodSpreader": rng.choice(["Ground Spreader", "Mid-Level Spreader"]),
            "filter": "%s:%s" % (rng.choice(["IRND", "Pol", "Diopter"]), rng.choice(["4x5.65",
                                                                                 "6x6"])),
            "notes": "Call time %02d:%02d at %s — bring spare D-Tap cables." % (
                rng.randrange(5, 10), rng.choice([0, 15, 30, 45]), city),
        }

    def rule(self):
        rng = self.rng
        rule = {
            "id": "rule-" + self.uuid(),
            "label": "%s kit" % rng.choice(SCENARIOS),
            "always": rng.random() < 0.1,
            "scenarioLogic": "all",
            "scenarioPrimary": "",
            "scenarioMultiplier": rng.choice([1, 1, 2]),
            "scenarios": rng.sample(SCENARIOS, rng.randrange(1, 3)),
        }
        for key in RULE_LIST_KEYS:
            rule[key] = rng.sample(CAMERAS, 1) if key == "camera" and rng.random() < 0.2 else []
        rule["cameraWeight"] = None
        rule["shootingDays"] = None
        for key in RULE_LIST_KEYS:
            rule[key + "Logic"] = "all"
        rule["conditionLogic"] = {}
        rule["add"] = [{
            "id": "item-" + self.uuid(),
            "name": rng.choice(GEAR_ITEMS),
            "category": rng.choice(GEAR_CATEGORIES),
            "quantity": rng.randrange(1, 5),
            "screenSize": "",
            "selectorType": "none",
            "selectorDefault": "",
            "selectorEnabled": False,
            "selectorContext": "",
            "notes": "",
            "contextNotes": [],
            "ownGearId": "",
            "ownGearLabel": "",
        } for _ in range(rng.randrange(1, 4))]
        rule["remove"] = []
        rule["enabled"] = True
        return rule

    def diagram_positions(self):
        rng = self.rng
        nodes = ["camera", "monitor", "video", "battery", "batteryPlate", "motors0",
                 "controllers0", "distance", "cage", "dtap"]
        return {n: {"x": round(rng.uniform(20, 600), 2) if rng.random() < 0.3
                    else rng.randrange(20, 600), "y": rng.randrange(20, 400)}
                for n in rng.sample(nodes, rng.randrange(4, len(nodes)))}

    def gear_list(self, name, info, target_length):
        rng = self.rng
        parts = ['<h2>Gear List: %s</h2>' % name,
                 '<h3>Project Requirements</h3><ul class="requirements">']
        for key in ("productionCompany", "rentalHouse", "codec", "recordingResolution",
                    "aspectRatio", "baseFrameRate"):
            parts.append('<li><strong>%s</strong>: %s</li>' % (key, info[key]))
        parts.append('</ul><table class="gear-table"><tbody>')
        end = "</tbody></table>"
        # The length as written in JSON: every quote gains a backslash.
        length = sum(len(p.encode("utf-8")) + p.count('"') for p in parts) + len(end)
        while True:
            category = rng.choice(GEAR_CATEGORIES)
            row = ['<tr class="category-row"><td>%s</td></tr>' % category]
            for _ in range(rng.randrange(3, 12)):
                item = rng.choice(GEAR_ITEMS)
                row.append('<tr><td><span class="gear-item" data-gear-name="%s">%dx %s</span>'
                           '<select id="gearListSelect%d" data-category="%s"><option value="%s" '
                           'selected>%s</option></select></td></tr>'
                           % (item.replace('"', "&quot;"), rng.randrange(1, 9), item,
                              rng.randrange(10000), category, item.replace('"', "&quot;"), item))
            chunk = "".join(row)
            cost = len(chunk.encode("utf-8")) + chunk.count('"')
            if length + cost // 2 > target_length and len(parts) > 9:
                break
            parts.append(chunk)
            length += cost
        parts.append(end)
        return "".join(parts)

    def setup_and_project(self, name):
        rng = self.rng
        info = self.project_info(name)
        plate = rng.choice(PLATES)
        battery = rng.choice(BATTERIES[plate])
        hotswap = rng.choice(HOTSWAP)
        motors = rng.sample(MOTORS, rng.randrange(1, 4))
        controllers = rng.sample(CONTROLLERS, rng.randrange(1, 3))
        diagram = self.diagram_positions()
        selectors = {
            "gearListCageSelect": rng.choice(CAGES),
            "gearListFilterSelect": rng.sample(["IRND 0.3", "IRND 0.6", "IRND 0.9", "Pol",
                                                "Black Pro-Mist 1/8"], rng.randrange(0, 4)),
            "gearListBatteryCount": str(rng.randrange(4, 17)),
        }
        setup = {
            "projectInfo": info,
            "camera": rng.choice(CAMERAS),
            "monitor": rng.choice(MONITORS),
            "video": rng.choice(VIDEO),
            "cage": selectors["gearListCageSelect"],
            "motors": motors,
            "controllers": controllers,
            "distance": rng.choice(DISTANCE),
            "batteryPlate": plate,
            "battery": battery,
            "batteryHotswap": hotswap,
            "diagramPositions": diagram,
            "gearSelectors": selectors,
            "gearListAndProjectRequirementsGenerated": True,
        }
        project = {
            "gearList": "",
            "projectInfo": info,
            "diagramPositions": diagram,
            "gearListAndProjectRequirementsGenerated": True,
            "autoGearRules": [self.rule() for _ in range(rng.randrange(2, 9))],
            "gearSelectors": selectors,
            "powerSelection": {"batteryPlate": plate, "battery": battery,
                               "batteryHotswap": hotswap},
        }
        return setup, project

    def device_catalogue(self):
        rng = self.rng
        cameras = {}
        for c in CAMERAS:
            cameras[c] = {
                "powerDrawWatts": round(rng.uniform(12, 110), 1),
                "power": {"input": {"voltageRange": "%d-%d" % (rng.choice([10, 11, 12]),
                                                               rng.choice([26, 33, 34])),
                                    "type": rng.choice(["LEMO 8-pin", "Fischer 3-pin", "XLR-4"])},
                          "batteryPlateSupport": [{"type": p, "mount": "native"}
                                                  for p in rng.sample(PLATES, 2)]},
                "videoOutputs": [{"type": "12G-SDI"}, {"type": "3G-SDI"}],
                "fizConnectors": [{"type": "LEMO 7-pin"}],
                "recordingMedia": [{"type": "CFexpress Type B", "notes": ""}],
                "lensMount": [{"type": m, "mount": "native"} for m in rng.sample(MOUNTS, 2)],
                "resolutions": ["4.5K LF 3:2", "UHD", "HD"],
                "frameRates": ["%s fps" % f for f in ("23.976", "24", "25", "50", "100")],
            }
        batteries = {}
        for plate, names in BATTERIES.items():
            for b in names:
                batteries[b] = {"capacity": rng.choice([98, 150, 155, 240, 290]),
                                "pinA": round(rng.uniform(8, 20), 1),
                                "dtapA": round(rng.uniform(5, 10), 1), "mount_type": plate,
                                "weight_g": rng.randrange(500, 1900)}
        monitors = {m: {"screenSizeInches": rng.choice([5, 7, 17, 24]),
                        "brightnessNits": rng.choice([1000, 2200, 3000]),
                        "powerDrawWatts": round(rng.uniform(8, 40), 1),
                        "wirelessTx": False, "latencyMs": rng.choice([0, 1, 2])}
                    for m in MONITORS}
        fiz = {"motors": {m: {"powerDrawWatts": round(rng.uniform(2, 20), 1),
                              "connector": "LEMO 7-pin", "internalController": False,
                              "torqueNm": round(rng.uniform(0.1, 1.2), 3)} for m in MOTORS},
               "controllers": {c: {"powerDrawWatts": round(rng.uniform(1, 5), 1),
                                   "connectivity": "RF"} for c in CONTROLLERS},
               "distance": {d: {"powerDrawWatts": round(rng.uniform(1, 7), 1)}
                            for d in DISTANCE if d}}
        return {"cameras": cameras, "monitors": monitors, "video": {
            v: {"powerDrawWatts": round(rng.uniform(5, 25), 1), "frequency": "5 GHz"}
            for v in VIDEO if v}, "fiz": fiz, "batteries": batteries,
            "batteryHotswaps": {h: {"capacity": 0} for h in HOTSWAP if h},
            "accessories": {"cables": {"D-Tap to LEMO 2-pin": {"lengthM": 0.5}}}}


def project_names(gen, count):
    names = set()
    result = []
    while len(result) < count:
        name = "%s %s %s" % (gen.rng.choice(WORDS), gen.rng.choice(PLACES), gen.rng.choice(WORDS))
        name = "%s %04d" % (name, len(result) + 1)
        if name not in names:
            names.add(name)
            result.append(name)
    return result


def js_sorted(keys):
    # The planner sorts data.project by name with the default JavaScript
    # comparison, which orders by UTF-16 code units.
    return sorted(keys, key=lambda k: k.encode("utf-16-be"))


def generate(projects, target_size, seed):
    gen = Generator(seed)
    rng = gen.rng
    names = project_names(gen, projects)
    setups = {}
    entries = {}
    for name in names:
        setups[name], entries[name] = gen.setup_and_project(name)

    # A handful of the planner's auto-backups, named as the planner names them.
    backup_names = []
    for i, owner in enumerate(rng.sample(names, min(4, len(names)))):
        backup_names.append(("auto-backup-2025-03-01-%02d-%02d-%s" % (9 + i, 5 * i, owner),
                             owner))
    backup_names.append(("auto-backup-2025-03-01-13-50-00-%s" % names[0], names[0]))
    backup_names.append(("auto-backup-2025-03-01-13-50-00-%s-copy-2" % names[0], names[0]))
    backup_names.append(("auto-backup-before-delete-2025-02-27-18-00-00-%s" % names[-1],
                         names[-1]))

    contacts = []
    for i in range(250):
        p = gen.person()
        contacts.append({"id": "contact-%s" % gen.uuid()[:13], "name": p["name"],
                         "role": p["role"], "phone": p["phone"], "email": p["email"],
                         "website": "", "notes": "", "createdAt": 1740700800000 + i * 60000,
                         "updatedAt": 1740700800000 + i * 90000})
    global_rules = [gen.rule() for _ in range(24)]
    feedback = {}
    for name in rng.sample(names, min(60, len(names))):
        s = setups[name]
        key = "|".join([s["camera"], s["monitor"], s["video"], s["cage"], ",".join(s["motors"]),
                        ",".join(s["controllers"]), s["distance"], s["battery"],
                        s["batteryHotswap"], s["batteryPlate"]])
        feedback[key] = [{"username": gen.person()["name"], "date": "2025-02-%02d" % (d + 1),
                          "location": rng.choice(PLACES), "camera": s["camera"],
                          "batteryPlate": s["batteryPlate"], "lensMount": "LPL",
                          "resolution": "4.5K", "codec": "ProRes 4444 XQ", "framerate": "25",
                          "battery": s["battery"], "temperature": str(rng.randrange(-10, 35)),
                          "runtime": "%d:%02d" % (rng.randrange(0, 3), rng.randrange(60)),
                          "batteriesPerDay": str(rng.randrange(4, 20))}
                         for d in range(rng.randrange(1, 4))]

    def assemble(gear_lengths):
        project_map = {}
        for name in names:
            entry = dict(entries[name])
            entry["gearList"] = gear_lengths.get(name, "")
            project_map[name] = entry
        setup_map = dict(setups)
        for backup, owner in backup_names:
            setup_map[backup] = dict(setups[owner], battery=rng.choice(
                BATTERIES[setups[owner]["batteryPlate"]]))
            project_map[backup] = dict(project_map[owner])
        project_map = {k: project_map[k] for k in js_sorted(project_map)}
        return {
            "version": "1.0.53",
            "generatedAt": "2025-03-01T14:05:09+01:00",
            "settings": settings(setup_map),
            "sessionStorage": {"__cineLoggingHistory": stringify([{
                "id": "log-1740834309000-k3j9x2ab", "level": "info",
                "message": "Session restored", "namespace": "session", "detail": None,
                "meta": None, "timestamp": 1740834309000,
                "isoTimestamp": "2025-03-01T13:05:09.000Z", "origin": "runtime"}]),
                "darkMode": None, "language": None},
            "data": {
                "devices": catalogue,
                "setups": setup_map,
                "session": {"setupName": names[0], "setupSelect": names[0],
                            "camera": setups[names[0]]["camera"]},
                "feedback": feedback,
                "project": project_map,
                "favorites": {"cameraSelect": CAMERAS[:3], "batterySelect": BATTERIES["V-Mount"][:2]},
                "contacts": contacts,
                "ownGear": [{"id": "own-gear-%04d" % i, "name": rng.choice(GEAR_ITEMS),
                             "quantity": str(rng.randrange(1, 5)), "notes": ""}
                            for i in range(120)],
                "userProfile": {"name": "Alex Example", "role": "DoP", "avatar": "", "phone": "",
                                "email": "alex@example.invalid"},
                "autoGearRules": global_rules,
                "autoGearBackups": [{"id": "backup-" + gen.uuid(),
                                     "createdAt": "2025-02-2%dT10:00:00.000Z" % i,
                                     "rules": global_rules[:6],
                                     "monitorDefaults": {"focus": "", "handheld7": "",
                                                         "combo15": "", "director15": ""},
                                     "note": ""} for i in range(3)],
                "autoGearSeeded": True,
                "autoGearPresets": [],
                "autoGearMonitorDefaults": {},
                "autoGearActivePresetId": "",
                "autoGearAutoPresetId": "",
                "autoGearShowBackups": False,
                "autoGearBackupRetention": 36,
                "fullBackupHistory": [{"createdAt": "2025-02-%02dT18:00:00+01:00" % d,
                                       "fileName": "cine_power_planner_backup_2025-02-%02dT18-00-"
                                                   "00+01-00.json" % d} for d in range(1, 28)],
                "preferences": {"darkMode": False, "showAutoBackups": False,
                                "accentColor": "#001589", "fontSize": "16",
                                "fontFamily": "'Ubuntu', sans-serif", "language": "en"},
                "documentationTracker": {"version": 1, "releases": []},
            },
            "diagnostics": [{"section": "documentationTracker", "status": "recovered",
                             "source": "loadDocumentationTracker"}],
        }

    def settings(setup_map):
        # The raw localStorage snapshot: values are strings or null; the
        # planner keeps its setups there as one JSON string.
        return {
            "darkMode": "false", "showAutoBackups": "false", "accentColor": "#001589",
            "fontSize": "16", "fontFamily": "'Ubuntu', sans-serif", "language": "en",
            "cine_user_uuid": "00000000-0000-4000-8000-00000000c0de",
            "cine_device_uuid": "00000000-0000-4000-8000-00000000d0de",
            "cine_storage_migrated_v2": "true",
            "cameraPowerPlanner_setups": stringify(setup_map),
            "cameraPowerPlanner_session": stringify({"setupName": names[0]}),
            "cameraPowerPlanner_autoGearRules": stringify(global_rules),
            "cameraPowerPlanner_project": None,
            "cameraPowerPlanner_customLogo": None,
        }

    catalogue = gen.device_catalogue()

    # Everything but the gear lists, then gear lists sized so that the file
    # comes out close to the target size. Auto-backups copy their owner's.
    state = rng.getstate()
    base = len(stringify(assemble({})).encode("utf-8"))
    rng.setstate(state)
    copies = {}
    for _, owner in backup_names:
        copies[owner] = copies.get(owner, 0) + 1
    weights = {name: rng.uniform(0.5, 1.5) * (1 + copies.get(name, 0)) for name in names}
    total_weight = sum(weights.values())
    budget = max(0, target_size - base)
    gear_lists = {}
    for name in names:
        length = int(budget * weights[name] / total_weight / (1 + copies.get(name, 0)))
        gear_lists[name] = gen.gear_list(name, entries[name]["projectInfo"], length)
    rng.setstate(state)
    return stringify(assemble(gear_lists))


def main():
    parser = argparse.ArgumentParser(description=__doc__ or "Generate a planner full backup")
    parser.add_argument("-o", "--output", required=True, help="file to write")
    parser.add_argument("--projects", type=int, default=1000, help="at least 1")
    parser.add_argument("--size-mb", type=float, default=100.0,
                        help="approximate size in MB (10^6 bytes)")
    parser.add_argument("--seed", type=int, default=20250301)
    args = parser.parse_args()
    if args.projects < 1:
        parser.error("--projects must be at least 1")

    text = generate(args.projects, int(args.size_mb * 1000 * 1000), args.seed)
    data = text.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".gen-backup-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, args.output)
    except BaseException:
        os.unlink(tmp)
        raise
    print("%s: %d bytes, %d projects" % (args.output, len(data), args.projects), file=sys.stderr)


if __name__ == "__main__":
    main()
