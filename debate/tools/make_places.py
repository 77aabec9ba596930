"""Regenerate debate/corpus/data/places.tsv, the country table behind debate.corpus.gazetteer.

Source: the `countryinfo` package from PyPI (MIT licence, (c) 2018 Porimol Chandro), which
ships, for every ISO 3166 country and territory, its common name, alternative spellings
(official and native names), capital and demonym. Its data has a few stale or wrong entries
and lacks Kosovo and plural demonyms; the hand tables below fix that, and every change is
visible here. Run it in a scratch environment, never at run time:

    python3.11 -m venv /tmp/gz && /tmp/gz/bin/pip install countryinfo==1.0.1
    /tmp/gz/bin/python debate/tools/make_places.py > debate/corpus/data/places.tsv

The output is deterministic (sorted), so a diff of places.tsv shows what changed.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from importlib import metadata

SOURCE = "countryinfo"

# ISO alpha-3 codes of the non-UN-member entries kept as "territory" (dependencies,
# special administrative regions, uninhabited islands). Every other ISO entry in the source
# is a UN member, except the observers and the partially recognised states listed next;
# tests/test_gazetteer.py checks that exactly 193 members come out.
TERRITORIES = set(
    """ABW AIA ALA ASM ATA ATF BES BLM BMU BVT CCK COK CUW CXR CYM ESH FLK FRO GGY GIB GLP GRL
    GUF GUM HKG HMD IMN IOT JEY MAC MAF MNP MSR MTQ MYT NCL NFK NIU PCN PRI PYF REU SGS SHN SJM
    SPM SXM TCA TKL UMI VGB VIR WLF""".split()
)
OBSERVERS = {"VAT", "PSE"}
PARTIAL = {"TWN", "XKX"}
DROPPED = {"ANT", "SCG"}  # Netherlands Antilles (dissolved 2010), Serbia and Montenegro (2006)

# Records the source files under another entry's ISO code ("Wales" under GBR): kept apart.
NOT_MERGED = {"Wales"}

# Per ISO alpha-3: the id (lowercase common English name) where the source's name is stale,
# inverted or parenthesised, and phrases to add or remove. "names" are alternative names,
# "capitals" capital cities (seats of government included), "demonyms" adjectives and nouns
# for the people. A "-" prefix removes a phrase the source gives.
FIXES: dict[str, dict] = {
    "USA": {
        "names": ["America", "U.S.", "U.S.A.", "US", "USA"],
        "capitals": ["Washington", "Washington, D.C.", "Washington DC", "-Washington D.C."],
        "demonyms": ["Americans"],
    },
    "GBR": {
        "names": ["Britain", "U.K.", "UK"],
        "demonyms": ["Briton", "Britons", "Brit", "Brits"],
    },
    "ARE": {"names": ["UAE", "U.A.E."], "demonyms": ["Emiratis"]},
    "RUS": {"demonyms": ["Russians"]},
    "UKR": {"capitals": ["Kiev"]},
    "SRB": {"demonyms": ["Serb", "Serbs"]},
    "HRV": {"demonyms": ["Croat", "Croats"]},
    "TUR": {"names": ["Türkiye"], "demonyms": ["Turk", "Turks"]},
    "POL": {"demonyms": ["Pole", "Poles"]},
    "DNK": {"demonyms": ["Dane", "Danes"]},
    "SWE": {"demonyms": ["Swede", "Swedes"]},
    "FIN": {"demonyms": ["Finn", "Finns"]},
    "ESP": {"demonyms": ["Spaniard", "Spaniards"]},
    "ISL": {"names": ["-Island"], "demonyms": ["Icelandic"]},
    "NLD": {"capitals": ["The Hague"], "demonyms": ["Dutchman", "Dutchmen"]},
    "LUX": {"demonyms": ["Luxembourgish"]},
    "KAZ": {"capitals": ["Astana"], "demonyms": ["Kazakh", "Kazakhs"]},
    "UZB": {"demonyms": ["Uzbek", "Uzbeks"]},
    "TJK": {"demonyms": ["-Tadzhik", "Tajik", "Tajiks", "Tajikistani"]},
    "KGZ": {"names": ["Kirghizia"], "demonyms": ["Kyrgyz", "Kyrgyzstani"]},
    "TKM": {"demonyms": ["Turkmens"]},
    "AZE": {"demonyms": ["Azeri", "Azeris"]},
    "ARG": {"demonyms": ["Argentine", "Argentines", "Argentinian"]},
    "ECU": {"demonyms": ["Ecuadorian"]},
    "CPV": {"demonyms": ["-Cape Verdian", "Cape Verdean"]},
    "MDV": {"demonyms": ["-Maldivan", "Maldivian"]},
    "COM": {"demonyms": ["Comorian"]},
    "SUR": {"demonyms": ["Surinamese"]},
    "NPL": {"demonyms": ["Nepali"]},
    "SAU": {"demonyms": ["Saudi", "Saudis"]},
    "SVN": {"demonyms": ["Slovenian"]},
    "BWA": {"demonyms": ["Batswana"]},
    "LSO": {"demonyms": ["Basotho"]},
    "PHL": {"demonyms": ["Philippine", "Filipina", "Filipinos"]},
    "LAO": {"names": ["Lao PDR"], "demonyms": ["Lao"]},
    "GRL": {"demonyms": ["Greenlander", "Greenlanders"]},
    "BIH": {"names": ["Bosnia", "Herzegovina"]},
    "TTO": {"names": ["Trinidad", "Tobago"], "demonyms": ["Tobagonian"]},
    "ATG": {"names": ["Antigua", "Barbuda"]},
    "KNA": {"names": ["St Kitts", "Saint Kitts"]},
    "VCT": {"names": ["St Vincent", "Saint Vincent"]},
    "STP": {"names": ["-Democratic Republic of Sao Tome and Principe"]},
    "MMR": {
        "names": ["Burma", "Republic of the Union of Myanmar"],
        "capitals": ["Nay Pyi Taw", "Naypyitaw"],
        "demonyms": ["Myanmar"],
    },
    "CZE": {"id": "czechia", "names": ["Czech Republic"], "demonyms": ["Czechs"]},
    "MKD": {
        "id": "north macedonia",
        "names": ["Macedonia", "Republic of North Macedonia"],
        "demonyms": ["North Macedonian"],
    },
    "SWZ": {
        "id": "eswatini",
        "names": ["Swaziland"],
        "capitals": ["Mbabane"],
        "demonyms": ["Swazis", "Emaswati"],
    },
    "BHS": {"id": "bahamas"},
    "GMB": {"id": "gambia"},
    "VAT": {
        "id": "vatican city",
        "names": ["Vatican", "Vatican City", "Holy See"],
        "capitals": ["-Vatican City State"],
        "demonyms": ["-Vaticanian"],
    },
    "PSE": {
        "id": "palestine",
        "capitals": ["Ramallah", "East Jerusalem", "-Jerusalem"],
        "demonyms": ["Palestinians"],
    },
    "FSM": {"id": "micronesia"},
    "CCK": {"id": "cocos islands"},
    "VGB": {"id": "british virgin islands", "demonyms": ["-Indian"]},
    "VIR": {"id": "united states virgin islands"},
    "IOT": {"demonyms": ["-Indian"]},
    "MAF": {"id": "saint martin"},
    "SXM": {"id": "sint maarten"},
    "BES": {"id": "caribbean netherlands", "names": ["Bonaire", "Sint Eustatius", "Saba"]},
    "HKG": {"capitals": ["-City of Victoria"], "demonyms": ["-Chinese", "Hongkonger"]},
    "MAC": {"names": ["Macao"], "demonyms": ["-Chinese", "Macanese"]},
    "MNP": {"demonyms": ["-American"]},
    "SJM": {"demonyms": ["-Norwegian"]},
    "SGS": {"demonyms": ["-South Georgia and the South Sandwich Islander"]},
    "COD": {
        "id": "democratic republic of the congo",
        "names": ["Congo", "Democratic Republic of Congo"],
        "demonyms": ["Congolese"],
    },
    "COG": {
        "id": "republic of the congo",
        "names": ["-Congo", "Republic of Congo"],
        "demonyms": ["-Congolese"],
    },
    "CIV": {"names": ["Cote d'Ivoire"], "capitals": ["Abidjan"]},
    "BEN": {"capitals": ["Cotonou"]},
    "BOL": {"capitals": ["La Paz"]},
    "MYS": {"capitals": ["Putrajaya"]},
    "LKA": {"capitals": ["Sri Jayawardenepura Kotte"]},
    "ZAF": {"names": ["-RSA"], "capitals": ["Cape Town", "Bloemfontein"]},
    "MNG": {"capitals": ["Ulan Bator"]},
    "IND": {"capitals": ["Delhi"]},
    "CHN": {"names": ["PRC"], "capitals": ["Peking"]},
    "IRN": {"capitals": ["Teheran"]},
    "YEM": {"capitals": ["Sanaa"]},
    "KIR": {"capitals": ["Tarawa"]},
    "DMA": {"names": ["-Dominique"]},
    "DOM": {"demonyms": ["Dominicans"]},
    "IMN": {"names": ["-Mann", "-Mannin"]},
    "BRN": {"names": ["-the Abode of Peace"]},
    "THA": {"names": ["-Prathet"]},
    "GUF": {"names": ["-Guiana"], "demonyms": ["Guianese"]},
    "PNG": {"names": ["-PNG"]},
    "MNE": {"names": ["-Montenegrin"]},
    "TGO": {"names": ["-Togolese"]},
    "MEX": {"names": ["-Mexicanos"]},
    "PRT": {"names": ["-Portuguesa"]},
    "TWN": {"demonyms": ["Taiwanese"]},
    "PRK": {"demonyms": ["North Koreans"]},
    "KOR": {"demonyms": ["South Koreans"]},
}

# Entities the source lacks (or ships without an ISO code): Kosovo (partially recognised)
# and the four nations of the United Kingdom, kept apart from it so that "England" in a
# passage does not stand for "Britain" in a claim.
ADDED = [
    {
        "iso3": "XKX",
        "id": "kosovo",
        "region": "Europe",
        "names": ["Kosovo", "Republic of Kosovo", "Kosova"],
        "capitals": ["Pristina", "Priština", "Prishtina"],
        "demonyms": ["Kosovar", "Kosovars", "Kosovan"],
    },
    {
        "iso3": "",
        "id": "england",
        "region": "Europe",
        "names": ["England"],
        "capitals": [],
        "demonyms": ["English", "Englishman", "Englishmen"],
    },
    {
        "iso3": "",
        "id": "scotland",
        "region": "Europe",
        "names": ["Scotland"],
        "capitals": ["Edinburgh"],
        "demonyms": ["Scottish", "Scot", "Scots"],
    },
    {
        "iso3": "",
        "id": "wales",
        "region": "Europe",
        "names": ["Wales"],
        "capitals": ["Cardiff"],
        "demonyms": ["Welsh"],
    },
    {
        "iso3": "",
        "id": "northern ireland",
        "region": "Europe",
        "names": ["Northern Ireland"],
        "capitals": ["Belfast"],
        "demonyms": ["Northern Irish"],
    },
]

# Acronyms written in capitals that prose uses for a country; any other 2-3 capital letters
# in the source are ISO codes, left out (too many are words or other acronyms).
KEEP_CODES = {"US", "USA", "UK", "UAE", "DRC", "PRC"}
_NO_PLURAL = {"Mosotho", "Motswana", "Lao", "Myanmar", "Djibouti", "Gibraltar"}
_LATIN = re.compile(r"^[A-Za-z][A-Za-z .'&-]*$")


def fold(text: str) -> str:
    """Same folding as debate.core.text.fold_accents (NFKD minus combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _plural(demonym: str) -> str | None:
    """'Russian' -> 'Russians', 'New Zealander' -> 'New Zealanders'; None for invariable
    ones ('Chinese', 'French', 'Swiss', 'Burkinabe') and irregular ones (hand-listed)."""
    last = demonym.split()[-1]
    if "-" in last or demonym in _NO_PLURAL or last.endswith("man"):
        return None
    if re.search(r"(an|i|er|ot|k|que|ene|o)$", last) and not re.search(r"ch$", last):
        return demonym + "s"
    return None


def _split_pair(demonym: str) -> list[str]:
    pair = re.fullmatch(r"(\w+) and (\w+)", demonym)
    return [pair.group(1), pair.group(2)] if pair else [demonym]


def _split(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [v.strip() for v in value if v and v.strip()]
    return [v.strip() for v in re.split(r"\s*[/,]\s*", value) if v.strip()]


def _good_name(phrase: str, codes: set[str]) -> bool:
    if phrase in KEEP_CODES:
        return True
    if phrase in codes or re.fullmatch(r"[A-Z]{2,3}", phrase):
        return False
    if "," in phrase or "(" in phrase or len(phrase) < 3:
        return False
    return bool(_LATIN.match(fold(phrase)))


def _apply(values: list[str], changes: list[str]) -> list[str]:
    out = list(values)
    for change in changes:
        if change.startswith("-"):
            out = [v for v in out if v != change[1:]]
        elif change not in out:
            out.append(change)
    return out


def _saint_variants(phrases: list[str]) -> list[str]:
    out = list(phrases)
    for p in phrases:
        for long, short in (("Saint ", "St. "), ("Saint ", "St "), ("St. ", "Saint ")):
            if p.startswith(long):
                out.append(short + p[len(long) :])
    return list(dict.fromkeys(out))


def build() -> tuple[list[dict], str]:
    from countryinfo import CountryInfo

    version = metadata.version(SOURCE)
    by_iso: dict[str, list[dict]] = {}
    for record in CountryInfo.all().values():
        iso3 = (record.get("ISO") or {}).get("alpha3")
        if iso3 and iso3 not in DROPPED and record.get("name") not in NOT_MERGED:
            by_iso.setdefault(iso3, []).append(record)

    rows = []
    for iso3, records in sorted(by_iso.items()):
        records.sort(key=lambda r: (not r.get("demonym"), -len(r.get("altSpellings") or [])))
        main = records[0]
        codes = {iso3, (main.get("ISO") or {}).get("alpha2") or ""}
        fix = FIXES.get(iso3, {})
        names, capitals, demonyms = [], [], []
        for r in records:
            names += [r["name"], *(r.get("altSpellings") or [])]
            capitals += _split(r.get("capital"))
            demonyms += [d for d in _split(r.get("demonym")) if d]
        names = [n.strip() for n in names if n and n.strip()]
        ident = fix.get("id") or fold(main["name"]).lower().removeprefix("the ")
        names = _apply([n for n in names if _good_name(n, codes)], fix.get("names", []))
        capitals = _apply(list(dict.fromkeys(capitals)), fix.get("capitals", []))
        demonyms = _apply(demonyms, fix.get("demonyms", []))
        # "Kittian and Nevisian" is two demonyms; "Wallis and Futuna Islander" is one.
        demonyms = [p for d in demonyms for p in _split_pair(d)]
        demonyms += [p for d in demonyms if (p := _plural(d))]
        kind = (
            "territory"
            if iso3 in TERRITORIES
            else "observer"
            if iso3 in OBSERVERS
            else "partial"
            if iso3 in PARTIAL
            else "member"
        )
        rows.append(
            {
                "id": ident,
                "kind": kind,
                "region": main.get("region") or "",
                "iso3": iso3,
                "names": _saint_variants(list(dict.fromkeys(names))),
                "capitals": _saint_variants(capitals),
                "demonyms": list(dict.fromkeys(demonyms)),
                "population": main.get("population") or 0,
            }
        )
    for added in ADDED:
        kind = "partial" if added["iso3"] in PARTIAL else "territory"
        rows.append({**added, "kind": kind, "population": 0})
    _resolve_conflicts(rows)
    return sorted(rows, key=lambda r: r["id"]), version


_RANK = {"member": 0, "observer": 1, "partial": 2, "territory": 3}


def _resolve_conflicts(rows: list[dict]) -> None:
    """A phrase claimed by two entries stays with the UN member, then the more populous one
    ('Kingston': Jamaica, not Norfolk Island; 'Dominican': the Dominican Republic)."""
    owners: dict[str, list[dict]] = {}
    for row in rows:
        row["names"] = [n for n in row["names"] if n != row["id"]] + [row["id"]]
        for field in ("names", "capitals", "demonyms"):
            for phrase in row[field]:
                key = fold(phrase).lower()
                if row not in owners.setdefault(key, []):
                    owners[key].append(row)
    for key, claimants in sorted(owners.items()):
        if len(claimants) < 2:
            continue
        claimants.sort(key=lambda r: (_RANK[r["kind"]], -r["population"]))
        print(f"shared {key!r}: kept by {claimants[0]['id']}", file=sys.stderr)
        for loser in claimants[1:]:
            for field in ("names", "capitals", "demonyms"):
                loser[field] = [p for p in loser[field] if fold(p).lower() != key]
    for row in rows:
        row["names"] = [n for n in row["names"] if n != row["id"]]


def main() -> None:
    rows, version = build()
    print("# Countries, capitals and demonyms for debate.corpus.gazetteer. Generated by")
    print(f"# debate/tools/make_places.py from the PyPI package {SOURCE} {version}")
    print("# (MIT licence, (c) 2018 Porimol Chandro), with the corrections listed there.")
    print("# Do not edit by hand: change make_places.py and regenerate.")
    print("# Columns: id (canonical, lowercase common name), kind (member = UN member, observer,")
    print("# partial = partially recognised, territory), region, iso3, then '|'-separated")
    print("# names, capitals and demonyms as written in prose (case and accents kept).")
    print("id\tkind\tregion\tiso3\tnames\tcapitals\tdemonyms")
    for r in rows:
        cells = [r["id"], r["kind"], r["region"], r["iso3"]]
        cells += ["|".join(r[f]) for f in ("names", "capitals", "demonyms")]
        assert not any("\t" in c or "\n" in c for c in cells), cells
        print("\t".join(cells))


if __name__ == "__main__":
    main()
