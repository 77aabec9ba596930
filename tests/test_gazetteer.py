"""The gazetteer: countries, capitals, demonyms and organisations mapped to one id."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from debate.corpus import gazetteer
from debate.corpus.gazetteer import AMBIGUOUS, CASE_SENSITIVE, load_gazetteer, table

G = load_gazetteer()  # loaded once for the module


# ------------------------------------------------------------------ the table itself
def test_table_covers_every_un_member_and_more():
    kinds = Counter(row["kind"] for row in table())
    assert kinds["member"] == 193
    assert kinds["member"] + kinds["observer"] >= 195
    assert len(table()) >= 250
    ids = [row["id"] for row in table()]
    assert len(ids) == len(set(ids))
    assert all(i == i.lower() and i == gazetteer._key(i) for i in ids)


def test_every_member_has_a_capital_and_almost_all_a_demonym():
    members = [row for row in table() if row["kind"] == "member"]
    assert all(row["capitals"] for row in members), [r["id"] for r in members if not r["capitals"]]
    with_demonym = sum(1 for row in members if row["demonyms"])
    assert with_demonym >= 190


def test_data_header_records_source_version_and_licence():
    head = Path(gazetteer.DATA).read_text(encoding="utf-8").split("\nid\t")[0]
    assert "countryinfo 1.0.1" in head and "MIT" in head and "make_places.py" in head


def test_every_phrase_of_a_row_resolves_to_that_row():
    wrong = []
    for row in table():
        for column in ("names", "capitals", "demonyms"):
            for phrase in row[column]:
                if gazetteer._key(phrase) in AMBIGUOUS:
                    continue
                found = G.canonical(phrase)
                if found != row["id"]:
                    wrong.append((phrase, row["id"], found))
    assert not wrong


# ------------------------------------------------------------------ every continent
@pytest.mark.parametrize(
    "region, country, capital, demonym, canon",
    [
        ("Africa", "Kenya", "Nairobi", "Kenyan", "kenya"),
        ("Africa", "Nigeria", "Abuja", "Nigerians", "nigeria"),
        ("Africa", "South Africa", "Pretoria", "South Africans", "south africa"),
        ("Americas", "United States", "Washington", "Americans", "united states"),
        ("Americas", "Colombia", "Bogotá", "Colombian", "colombia"),
        ("Americas", "Canada", "Ottawa", "Canadian", "canada"),
        ("Asia", "China", "Beijing", "Chinese", "china"),
        ("Asia", "India", "New Delhi", "Indians", "india"),
        ("Asia", "Japan", "Tokyo", "Japanese", "japan"),
        ("Europe", "Russia", "Moscow", "Russians", "russia"),
        ("Europe", "Serbia", "Belgrade", "Serbs", "serbia"),
        ("Europe", "Ukraine", "Kiev", "Ukrainian", "ukraine"),
        ("Oceania", "Australia", "Canberra", "Australian", "australia"),
        ("Oceania", "New Zealand", "Wellington", "New Zealanders", "new zealand"),
        ("Oceania", "Fiji", "Suva", "Fijian", "fiji"),
    ],
)
def test_countries_of_every_continent_resolve(region, country, capital, demonym, canon):
    assert G.canonical(country) == canon
    assert G.canonical(capital) == canon
    assert G.canonical(demonym) == canon
    assert gazetteer._key(capital) in G.capitals()
    assert all(G.is_place(w) for w in (country, capital, demonym))
    assert next(r for r in table() if r["id"] == canon)["region"] == region


@pytest.mark.parametrize(
    "phrase, canon",
    [
        ("Kyiv", "ukraine"),
        ("U.S.", "united states"),
        ("U.S", "united states"),
        ("USA", "united states"),
        ("United States of America", "united states"),
        ("America", "united states"),
        ("UK", "united kingdom"),
        ("U.K.", "united kingdom"),
        ("Britain", "united kingdom"),
        ("UAE", "united arab emirates"),
        ("Russian Federation", "russia"),
        ("Russia's", "russia"),
        ("the Kremlin", "russia"),
        ("White House", "united states"),
        ("Downing Street", "united kingdom"),
        ("Élysée", "france"),
        ("Elysee Palace", "france"),
        ("Pristina", "kosovo"),
        ("Kosovar", "kosovo"),
        ("Türkiye", "turkey"),
        ("Swaziland", "eswatini"),
        ("Burma", "myanmar"),
        ("Czech Republic", "czechia"),
        ("Côte d’Ivoire", "ivory coast"),
        ("Congo", "democratic republic of the congo"),
        ("Congo-Brazzaville", "republic of the congo"),
        ("Jerusalem", "israel"),
        ("East Jerusalem", "palestine"),
        ("Astana", "kazakhstan"),
        ("Scotland", "scotland"),
        ("Welsh", "wales"),
    ],
)
def test_known_forms(phrase, canon):
    assert G.canonical(phrase) == canon


# ------------------------------------------------------------------ organisations
@pytest.mark.parametrize(
    "phrase, canon",
    [
        ("NATO", "nato"),
        ("Nato", "nato"),
        ("North Atlantic Treaty Organization", "nato"),
        ("UN", "united nations"),
        ("U.N.", "united nations"),
        ("United Nations", "united nations"),
        ("EU", "european union"),
        ("European Union", "european union"),
        ("IAEA", "iaea"),
        ("WHO", "world health organization"),
        ("IMF", "imf"),
        ("OPEC", "opec"),
        ("G7", "g7"),
        ("G-20", "g20"),
    ],
)
def test_organisations_resolve_and_are_not_places(phrase, canon):
    assert G.canonical(phrase) == canon
    assert not G.is_place(phrase)


# ------------------------------------------------------------------ ambiguity
def test_ambiguous_capitals_are_places_of_no_definite_country():
    for word in ("Victoria", "Kingston", "Santiago", "Hamilton", "Georgetown"):
        assert G.canonical(word) is None, word
        assert G.is_place(word), word
    assert "victoria" in G.capitals() and "kingston" in G.capitals()
    aliased = {phrase for phrase, _ in G.aliases()}
    assert not aliased & AMBIGUOUS


def test_capitals_that_are_english_words_are_not_places():
    assert G.canonical("Malé") is None and G.canonical("Male") is None
    assert not G.is_place("Male")
    assert "male" not in G.capitals() and "the valley" not in G.capitals()


def test_countries_named_like_words_keep_their_own_id():
    for word in ("Georgia", "Jordan", "Chad", "Turkey", "Guinea", "Niger", "Jersey"):
        assert G.canonical(word) == word.lower()
    assert G.canonical("Tbilisi") == "georgia"


def test_lowercase_words_are_not_acronyms():
    assert G.canonical("us") is None and G.canonical("Us") is None
    assert G.canonical("who") is None and G.canonical("Who") is None
    assert G.canonical("US") == "united states"
    aliased = {phrase for phrase, _ in G.aliases()}
    assert not aliased & {c.lower() for c in CASE_SENSITIVE}
    assert "u.s." in aliased


def test_shadow_places_keep_their_country_word_apart():
    assert G.canonical("New Mexico") == "new mexico"
    assert G.canonical("Indian Ocean") == "indian ocean"
    assert G.canonical("Latin America") == "latin america"
    assert G.canonical("Northern Ireland") == "northern ireland"


def test_unknown_names():
    for word in ("Vučić", "Vucic", "Korea", "Nice", "Smith", "", "   "):
        assert G.canonical(word) is None, word
        assert not G.is_place(word), word


# ------------------------------------------------------------------ case and accents
def test_lookups_fold_case_and_accents():
    assert G.canonical("Bogotá") == G.canonical("bogota") == G.canonical("BOGOTA") == "colombia"
    assert G.canonical("Priština") == G.canonical("PRISTINA") == "kosovo"
    assert G.canonical("  moscow ") == "russia"
    assert "bogota" in G.capitals() and "bogotá" not in G.capitals()


# ------------------------------------------------------------------ aliases for text
def test_aliases_are_folded_unique_and_longest_first():
    pairs = G.aliases()
    phrases = [p for p, _ in pairs]
    assert len(pairs) > 1000
    assert len(phrases) == len(set(phrases))
    assert all(p == gazetteer._key(p) for p in phrases)
    lengths = [len(p) for p in phrases]
    assert lengths == sorted(lengths, reverse=True)
    assert ("belgrade", "serbia") in pairs and ("kiev", "ukraine") in pairs


def test_single_pass_replacement_recipe_from_the_docstring():
    pairs = G.aliases()
    table_ = dict(pairs)
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(p) for p, _ in pairs) + r")(?![\w])")
    text = "officials in new mexico, mexico city and the kremlin met serbian envoys in kyiv"
    out = pattern.sub(lambda m: table_[m.group(1)], text)
    assert out == "officials in new mexico, mexico and the russia met serbia envoys in ukraine"


# ------------------------------------------------------------------ per-motion extras
def test_extras_add_phrases_and_ids():
    g = load_gazetteer({"russia": ["the kremlin"], "republika srpska": ["Banja Luka", "RS"]})
    assert g.canonical("the Kremlin") == "russia"
    assert g.canonical("Banja Luka") == "republika srpska"
    assert g.canonical("Republika Srpska") == "republika srpska"
    assert g.is_place("Banja Luka")
    assert ("banja luka", "republika srpska") in g.aliases()
    assert g.canonical("Moscow") == "russia"  # the rest is still there
    assert G.canonical("Banja Luka") is None  # and the default is untouched


def test_extras_override_the_table_and_ambiguity():
    g = load_gazetteer({"european union": ["Brussels"], "jamaica": ["Kingston"]})
    assert g.canonical("Brussels") == "european union"
    assert g.canonical("Kingston") == "jamaica"
    assert G.canonical("Brussels") == "belgium" and G.canonical("Kingston") is None


def test_extras_reject_empty_phrases():
    with pytest.raises(ValueError):
        load_gazetteer({"russia": ["  "]})


# ------------------------------------------------------------------ loading
def test_default_is_cached_and_extras_are_not():
    assert load_gazetteer() is load_gazetteer() is load_gazetteer(None) is G
    assert load_gazetteer({"kosovo": ["pristina"]}) is not G


def test_module_is_a_leaf():
    tree = ast.parse(Path(gazetteer.__file__).read_text(encoding="utf-8"))
    imported = [
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [None])
    ]
    assert not [m for m in imported if m and m.split(".")[0] == "debate"]
