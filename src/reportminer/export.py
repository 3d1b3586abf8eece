"""Export: hand the results on in the formats of the field, read from an output folder.

- :func:`export_oparl` writes OParl 1.1 objects (https://oparl.org): a System with one Body ("the reports"),
  its Meetings (one for each row of the ``meetings`` table), the Organizations and Persons the meeting
  reports name, and the Locations the meetings took place at, as one JSON file per object plus the Body's
  paginated object lists. A static web server over the folder serves them at their ids.

- :func:`export_ftm` writes FollowTheMoney entities (https://followthemoney.tech), one JSON object a line,
  built with the ``followthemoney`` package's model (``pip install 'reportminer[ftm]'``): each report as a
  PlainText, HyperText or Document; people as Person, organisations as Organization, places as Address (with
  coordinates where known); each meeting as an Event (its date, place, the people and organisations
  involved, its report as proof); and a Mention for each entity in each report, which Aleph loads as the
  link between a document and the entities it names.

OParl ids are URLs under ``base_url``, built from the outputs' stable keys (``meeting_id``, ``entity_id``), so a
re-export of the same outputs gives the same ids. Each Meeting links back to the report it was found in,
as its ``resultsProtocol`` (an OParl File with the report's title, file name, date and address).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from reportminer import __version__
from reportminer.errors import OutputError, ReportminerError
from reportminer.store import atomic_path, read_table

OPARL = "https://schema.oparl.org/1.1/"
PAGE_SIZE = 100
"""Objects per page of an OParl list."""
TIMEZONE = ZoneInfo("Europe/Berlin")
MIME = {"txt": "text/plain", "md": "text/markdown", "html": "text/html", "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}  # fmt: skip
OBJECT_FOLDERS = ("meeting", "organization", "person", "location", "file", "body", "list")


class ExportError(ReportminerError):
    """The outputs cannot be exported (no outputs, or a destination that cannot be written)."""


def export_oparl(
    out_dir: Path, dest: Path, *, base_url: str | None = None, source_url: str | None = None
) -> dict[str, int]:
    """Write the OParl objects of the outputs in ``out_dir`` to the folder ``dest``; counts per type.

    ``base_url``: the address ``dest`` will be served at (ids are ``BASE/meeting/ID.json``, …); default
    ``dest``'s own ``file://`` address, which works offline. ``source_url``: the address of the corpus
    folder, under which each report's path is its ``accessUrl``; default the corpus folder of the last run
    as a ``file://`` address. Objects already in ``dest`` from an earlier export are replaced."""
    out_dir, dest = Path(out_dir), Path(dest)
    tables = _read(out_dir, ("meetings", "entities", "mentions", "documents", "runs"))
    base = (base_url or dest.resolve().as_uri()).rstrip("/")
    source_url = _corpus_url(tables["runs"], out_dir, source_url)

    docs = tables["documents"].set_index("doc_id")
    entities = tables["entities"].set_index("entity_id")
    mentions = tables["mentions"]
    named = mentions[
        mentions["label"].isin(["PER", "ORG"])
        & mentions["entity_id"].notna()
        & ~mentions["in_boilerplate"].fillna(False)
    ]
    people_of = _first_seen(named[named["label"] == "PER"])
    orgs_of = _first_seen(named[named["label"] == "ORG"])
    places = entities[entities["label"] == "LOC"]
    place_ids = dict(zip(places["name"], places.index, strict=True))

    def url(kind: str, key: str) -> str:
        return f"{base}/{kind}/{_safe(key)}.json"

    body_id = f"{base}/body/reports.json"
    lists = {
        kind: f"{base}/list/{kind}.json"
        for kind in ("meeting", "organization", "person", "location", "paper")
    }
    meetings, locations, files = [], {}, []
    org_ids: set[str] = set()
    person_ids: set[str] = set()
    for m in tables["meetings"].itertuples(index=False):
        doc = docs.loc[m.doc_id] if m.doc_id in docs.index else None
        orgs, people = orgs_of.get(m.doc_id, []), people_of.get(m.doc_id, [])
        org_ids.update(orgs)
        person_ids.update(people)
        meeting = {
            "id": url("meeting", m.meeting_id), "type": OPARL + "Meeting", "name": _text(m.name) or "Sitzung",
            "meetingState": "durchgeführt" if m.start_source == "meeting_cue" else "unbekannt",
            "organization": [url("organization", e) for e in orgs],
            "participant": [url("person", e) for e in people],
            "keyword": [k for k in (_text(m.cue), *(_split(m.themes))) if k],
        }  # fmt: skip
        if _text(m.start):
            meeting["start"] = _day_start(str(m.start))
        place_key = place_ids.get(_text(m.place) or "")
        if place_key is not None or _text(m.place):
            key = place_key or f"place-{_safe(str(m.place))}"
            location = locations.get(key) or _location(
                url("location", key), str(m.place), entities, place_key
            )
            location.setdefault("meetings", []).append(meeting["id"])
            locations[key] = location
            meeting["location"] = {k: v for k, v in location.items() if k != "meetings"}
        if doc is not None:
            protocol = _file(url("file", m.doc_id), doc, m.path, source_url, meeting["id"])
            meeting["resultsProtocol"] = protocol
            files.append(protocol)
        meeting["web"] = meeting.get("resultsProtocol", {}).get("accessUrl") or meeting["id"]
        meetings.append(meeting)

    organizations = [
        _named(url("organization", e), "Organization", entities.loc[e], body_id) for e in sorted(org_ids)
    ]
    persons = [_person(url("person", e), entities.loc[e], body_id) for e in sorted(person_ids)]
    system_id = f"{base}/system.json"
    body = {
        "id": body_id, "type": OPARL + "Body", "system": system_id, "name": "reportminer: Berichte",
        "shortName": "reportminer", "organization": lists["organization"], "person": lists["person"],
        "meeting": lists["meeting"], "paper": lists["paper"], "locationList": lists["location"],
        "legislativeTerm": [], "keyword": ["reportminer"],
    }  # fmt: skip
    system = {
        "id": system_id, "type": OPARL + "System", "oparlVersion": OPARL, "body": f"{base}/list/body.json",
        "name": "reportminer OParl export", "product": f"reportminer {__version__}",
    }  # fmt: skip

    staging = dest.with_name(f".{dest.name}.export-tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _write(staging, base, system_id, system)
        _write(staging, base, body_id, body)
        for obj in (*meetings, *organizations, *persons, *locations.values(), *files):
            _write(staging, base, obj["id"], obj)
        _write_list(staging, base, f"{base}/list/body.json", [body])
        for kind, objs in (("meeting", meetings), ("organization", organizations), ("person", persons),
                           ("location", list(locations.values())), ("paper", [])):  # fmt: skip
            _write_list(staging, base, lists[kind], objs)
        dest.mkdir(parents=True, exist_ok=True)
        for name in ("system.json", *OBJECT_FOLDERS):  # replace what an earlier export wrote, keep the rest
            target, new = dest / name, staging / name
            if target.is_dir():
                shutil.rmtree(target)
            if new.exists():
                new.replace(target)
    except OSError as exc:
        raise ExportError(
            f"cannot write the OParl export to {dest} ({exc.strerror or exc}); choose another folder"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"Meeting": len(meetings), "Organization": len(organizations), "Person": len(persons),
            "Location": len(locations), "File": len(files), "Body": 1, "System": 1}  # fmt: skip


FTM_DATASET = "reportminer"
"""The namespace of the FollowTheMoney ids (``make_id``), so that ids are the same in every export."""
FTM_DOCUMENT = {"html": "HyperText", "txt": "PlainText", "md": "PlainText"}
"""Report formats and their FtM schema; others (PDF, DOCX) are a Document."""


def export_ftm(out_dir: Path, dest: Path, *, source_url: str | None = None) -> dict[str, int]:
    """Write the FollowTheMoney entities of the outputs in ``out_dir`` to ``dest`` (JSON lines, written
    atomically); counts per schema. ``source_url``: the address of the corpus folder, under which each
    report's path is its ``sourceUrl`` (default: its ``file://`` address)."""
    try:
        from followthemoney import model
    except ImportError as exc:
        raise ExportError(
            f"the FollowTheMoney export needs the followthemoney package ({exc}); "
            "install it with `pip install 'reportminer[ftm]'`"
        ) from exc
    out_dir, dest = Path(out_dir), Path(dest)
    tables = _read(out_dir, ("documents", "entities", "mentions", "meetings", "runs"))
    source_url = _corpus_url(tables["runs"], out_dir, source_url)
    entities = tables["entities"]
    kinds = {"PER": "Person", "ORG": "Organization", "LOC": "Address"}
    made: list = []
    ftm_id: dict[str, str] = {}

    def make(schema: str, *key: str):
        proxy = model.make_entity(schema)
        proxy.make_id(FTM_DATASET, schema, *key)
        made.append(proxy)
        return proxy

    doc_ids: dict[str, str] = {}
    for doc in tables["documents"].itertuples(index=False):
        fmt = str(doc.format or "").lower()
        proxy = make(FTM_DOCUMENT.get(fmt, "Document"), str(doc.doc_id))
        rel = _text(doc.path) or ""
        proxy.add("title", _text(doc.title) or rel)
        proxy.add("fileName", Path(rel).name)
        proxy.add("date", _text(doc.report_date))
        proxy.add("mimeType", MIME.get(fmt))
        proxy.add("sourceUrl", _source(source_url, rel))
        proxy.add("publisher", "reportminer")
        doc_ids[doc.doc_id] = proxy.id

    for e in entities[entities["label"].isin(list(kinds))].itertuples(index=False):
        schema = kinds[e.label]
        proxy = make(schema, str(e.entity_id))
        name = str(e.name)
        if schema == "Address":
            proxy.add("full", name)
            if e.place_kind == "place":
                proxy.add("city", name)
            if _text(e.state) or _text(e.district_key):
                proxy.add("country", "de")
            if e.lat is not None and not pd.isna(e.lat) and not pd.isna(e.lon):
                proxy.add("latitude", float(e.lat))
                proxy.add("longitude", float(e.lon))
        else:
            proxy.add("name", name)
            proxy.add("alias", [a for a in _split(e.aliases) if a != name])
        ftm_id[e.entity_id] = proxy.id

    mentions = tables["mentions"]
    mentions = mentions[mentions["entity_id"].isin(list(ftm_id)) & mentions["doc_id"].isin(list(doc_ids))]
    for (doc_id, entity_id), group in mentions.groupby(["doc_id", "entity_id"], sort=True):
        label = str(group["label"].iloc[0])
        mention = make("Mention", str(doc_id), str(entity_id))
        mention.add("document", doc_ids[doc_id])
        mention.add("resolved", ftm_id[entity_id])
        mention.add("name", sorted(set(group["text"].astype(str))))
        mention.add(
            "detectedSchema", "Person" if label == "PER" else "Organization" if label == "ORG" else "Address"
        )

    by_name = {(str(n), str(lab)): eid for n, lab, eid in
               zip(entities["name"], entities["label"], entities["entity_id"], strict=True)}  # fmt: skip
    involved = _first_seen(
        mentions[mentions["label"].isin(["PER", "ORG"]) & ~mentions["in_boilerplate"].fillna(False)]
    )
    for m in tables["meetings"].itertuples(index=False):
        event = make("Event", str(m.meeting_id))
        event.add("name", _text(m.name) or "Sitzung")
        event.add("startDate", _text(m.start))
        event.add("date", _text(m.start))
        event.add("location", _text(m.place))
        place = by_name.get((str(m.place), "LOC"))
        if place in ftm_id:
            event.add("addressEntity", ftm_id[place])
        event.add("involved", [ftm_id[e] for e in involved.get(m.doc_id, []) if e in ftm_id])
        event.add("keywords", [k for k in (_text(m.cue), *_split(m.themes)) if k])
        if m.doc_id in doc_ids:
            event.add("proof", doc_ids[m.doc_id])
        event.add("sourceUrl", _source(source_url, _text(m.path) or ""))

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(dest) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            for proxy in made:
                fh.write(json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    except OSError as exc:
        raise ExportError(f"cannot write {dest} ({exc.strerror or exc}); choose another file") from exc
    counts: dict[str, int] = {}
    for proxy in made:
        counts[proxy.schema.name] = counts.get(proxy.schema.name, 0) + 1
    return counts


def _corpus_url(runs: pd.DataFrame, out_dir: Path, source_url: str | None) -> str:
    if source_url is None:
        corpus = Path(str(runs["corpus"].iloc[-1])) if len(runs) else out_dir
        source_url = corpus.resolve().as_uri()
    return source_url.rstrip("/")


def _source(source_url: str, rel: str) -> str:
    return f"{source_url}/{'/'.join(_quote(p) for p in rel.split('/'))}"


def validate_oparl(dest: Path, schema_dir: Path) -> list[str]:
    """Check every object written by :func:`export_oparl` in ``dest`` against the OParl JSON schemas in
    ``schema_dir`` (``Meeting.json``, …), objects embedded in others (a Meeting's ``location``) and the
    objects in list pages included; one message per problem ("meeting/x.json: 'id' is a required
    property"), an empty list when all are valid."""
    from jsonschema import Draft7Validator

    schemas = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in Path(schema_dir).glob("*.json")}
    if not schemas:
        raise ExportError(f"no OParl schemas (*.json) in {schema_dir}")
    problems: list[str] = []

    def check(obj: dict, where: str) -> None:
        kind = str(obj.get("type", "")).removeprefix(OPARL)
        schema = schemas.get(kind)
        if schema is None:
            problems.append(f"{where}: unknown type {obj.get('type')!r}")
            return
        for error in Draft7Validator(schema).iter_errors(obj):
            path = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{where}: {path + ': ' if path else ''}{error.message}")
        for name, prop in schema.get("properties", {}).items():  # embedded objects: "schema": "File.json"
            value = obj.get(name)
            if isinstance(value, dict) and prop.get("schema"):
                check(value, f"{where} {name}")

    for path in sorted(Path(dest).rglob("*.json")):
        rel = path.relative_to(dest).as_posix()
        data = json.loads(path.read_text(encoding="utf-8"))
        if rel.startswith("list/"):
            if not {"data", "pagination", "links"} <= set(data):
                problems.append(f"{rel}: a list page needs data, pagination and links")
            for i, obj in enumerate(data.get("data", [])):
                check(obj, f"{rel} data/{i}")
        else:
            check(data, rel)
    return problems


# ----------------------------------------------------------------------------------------------- helpers


def _read(out_dir: Path, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    try:
        return {name: read_table(out_dir, name) for name in names}
    except (OutputError, OSError) as exc:
        raise ExportError(
            f"no reportminer outputs to export in {out_dir} ({exc}); run `reportminer run CORPUS --out {out_dir}` first"
        ) from exc


def _first_seen(mentions: pd.DataFrame) -> dict[str, list[str]]:
    """Each report's entities in the order of their first mention."""
    ordered = mentions.sort_values(["doc_id", "start_char"], kind="stable")
    return {
        doc: list(dict.fromkeys(group["entity_id"])) for doc, group in ordered.groupby("doc_id", sort=False)
    }


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-") or "x"


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _split(value: object) -> list[str]:
    text = _text(value)
    return [part.strip() for part in text.split("|")] if text else []


def _day_start(day: str) -> str:
    """An OParl date-time for a day: its midnight in German time (the reports give the day, not the hour)."""
    d = date.fromisoformat(day[:10])
    return datetime(d.year, d.month, d.day, tzinfo=TIMEZONE).isoformat()


def _named(id_: str, kind: str, entity: pd.Series, body_id: str) -> dict:
    obj = {"id": id_, "type": OPARL + kind, "name": str(entity["name"]), "body": body_id}
    aliases = _split(entity.get("aliases"))
    if aliases:
        obj["keyword"] = aliases
    return obj


def _person(id_: str, entity: pd.Series, body_id: str) -> dict:
    obj = _named(id_, "Person", entity, body_id)
    parts = str(entity["name"]).split()
    if len(parts) >= 2:
        obj["givenName"], obj["familyName"] = " ".join(parts[:-1]), parts[-1]
    return obj


def _location(id_: str, name: str, entities: pd.DataFrame, key: str | None) -> dict:
    obj = {"id": id_, "type": OPARL + "Location", "description": name, "locality": name}
    if key is not None:
        entity = entities.loc[key]
        lat, lon = entity.get("lat"), entity.get("lon")
        if lat is not None and lon is not None and not pd.isna(lat) and not pd.isna(lon):
            obj["geojson"] = {
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
                "properties": {"name": name},
            }  # fmt: skip
        district = _text(entity.get("district_key"))
        if district:
            obj["keyword"] = [f"AGS:{district}"]
    return obj


def _file(id_: str, doc: pd.Series, path: object, source_url: str, meeting_id: str) -> dict:
    rel = _text(path) or _text(doc.get("path")) or ""
    obj = {
        "id": id_, "type": OPARL + "File", "name": _text(doc.get("title")) or rel, "fileName": Path(rel).name,
        "accessUrl": _source(source_url, rel),
        "mimeType": MIME.get(str(doc.get("format") or "").lower(), "application/octet-stream"),
        "meeting": [meeting_id],
    }  # fmt: skip
    if _text(doc.get("report_date")):
        obj["date"] = str(doc["report_date"])[:10]
    return obj


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part)


def _write(root: Path, base: str, id_: str, obj: dict) -> None:
    path = root / id_.removeprefix(base + "/")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_list(root: Path, base: str, first: str, objs: list[dict]) -> None:
    """An OParl object list: pages of :data:`PAGE_SIZE` objects, the first at ``first``, the next at
    ``…-2.json``, …, with ``pagination`` and ``links``."""
    pages = max(1, -(-len(objs) // PAGE_SIZE))

    def page_url(n: int) -> str:
        return first if n == 1 else first.removesuffix(".json") + f"-{n}.json"

    for n in range(1, pages + 1):
        links = {"first": page_url(1), "last": page_url(pages), "self": page_url(n)}
        if n > 1:
            links["prev"] = page_url(n - 1)
        if n < pages:
            links["next"] = page_url(n + 1)
        page = {
            "data": objs[(n - 1) * PAGE_SIZE : n * PAGE_SIZE],
            "pagination": {"totalElements": len(objs), "elementsPerPage": PAGE_SIZE, "currentPage": n,
                           "totalPages": pages},
            "links": links,
        }  # fmt: skip
        _write(root, base, page_url(n), page)
