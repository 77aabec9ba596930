"""What a sentence claims, read lexically: sentences, quotes, numbers, dates, names, negation.

The cheap layers of the citation checker (debate.check.faithfulness) are built from these; they
need no model. Everything here is deliberately simple and explainable: each helper returns
something a person can check by reading the sentence and the passage side by side.
"""

from __future__ import annotations

import re
from functools import lru_cache

from debate.core.text import (
    BULLET,
    CITATION_RE,
    fold_accents,
    quoted_spans,
    stem,
)
from debate.core.text import STOPWORDS as _STOPWORDS
from debate.core.text import words as _words
from debate.corpus.gazetteer import Gazetteer, for_motion

# A short signpost before a colon ("Add to that:", "My first point:") is rhetoric, not
# part of the claim. Only when it has no digit and no capital past its first letter, so a
# "Financial Times, 22 June 2024:" lead-in stays and is checked.
_SIGNPOST = re.compile(r"^[A-Z][a-z']*(?: [a-z'’]+){0,4}:\s+")


# A frame around a claim states the claim: "I will argue that X", "I believe X", "the
# evidence shows that X", "it is clear that X", "my case is that X" all claim X.
_FRAME = re.compile(
    r"^(?:(?:in|for) (?:this|my|our|today's) (?:talk|speech|round|debate|case),?\s+)?"
    r"(?:(?:i|we)(?: will| shall|'ll| am going to| are going to| want to| would like to)?\s+"
    r"(?:argue|show|prove|demonstrate|contend|maintain|submit|believe|think|hold|assert|claim)"
    r"|(?:the |our |my )?(?:evidence|data|facts?|record|research|sources?|cards?)\s+"
    r"(?:clearly |plainly )?(?:shows?|proves?|suggests?|indicates?|confirms?|makes? clear)"
    r"|it(?: is|'s) (?:clear|obvious|plain|evident|true|a fact)"
    r"|(?:my|our) (?:case|argument|point|contention|position) is)"
    r"(?: that)?\s*,?\s+",
    re.I,
)


# "You say X, but Y" claims Y: the other side's words restated are not the speaker's claim.
_RESTATED = re.compile(
    r"^(?:you|my opponents?|the other side|the opposition|they)\s+"
    r"(?:say|said|claim|claimed|argue|argued|suggest|suggested|insist|insisted)s?\b"
    r"[^.;:]{0,200}?,\s*but\s+",
    re.I,
)


def claim_text(sentence: str) -> str:
    """The sentence without citation markers, list bullets, a leading signpost, the other
    side's words restated before a "but" (_RESTATED) and a frame (_FRAME): what is actually
    claimed."""
    text = BULLET.sub("", CITATION_RE.sub("", sentence))
    text = " ".join(text.split()).replace(" .", ".").replace(" ,", ",")
    text = _SIGNPOST.sub("", text)
    for pattern in (_RESTATED, _FRAME):
        found = pattern.match(text)
        if found and len(text) - found.end() > 10:
            rest = text[found.end() :]
            text = rest[0].upper() + rest[1:]
    return text


# ---------------------------------------------------------------- numbers, dates, entities
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.,])\d+(?:\.\d+)?")
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
    if w != "_"
}
_WORD_NUMBERS.update(
    {
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
        "dozen": 12,
    }
)
MONTHS = (
    "january february march april may june july august september october november december"
).split()
CURRENCIES = {
    "€": "euro",
    "euro": "euro",
    "euros": "euro",
    "$": "dollar",
    "dollar": "dollar",
    "dollars": "dollar",
    "usd": "dollar",
    "dinar": "dinar",
    "dinars": "dinar",
    "rouble": "rouble",
    "roubles": "rouble",
    "ruble": "rouble",
    "rubles": "rouble",
    "£": "pound",
}
_CAPITALISED = re.compile(r"\b[A-ZČĆŠŽĐ][\w'’-]*")
# Capitalised words that start sentences or clauses without naming anything.
_COMMON_CAPS = set(
    """
a an the in on at but and or nor this that these those it its he she they we i our my your
their his her according however moreover yet so if when while although though as since after
before even still first second third fourth fifth finally also meanwhile furthermore for with
by from to of not no both many most some such there here what why how who which indeed instead
thus therefore then now today yes consider take look note remember let put far only just again
my opponent opponents all any each every one two three four five six seven eight nine ten
more less another other neither either is are was were has have had do does did can could
should would will may might must yesterday last next over under into about against between
during without within until through across despite because rather than whether key facts
overall together similarly likewise unlike notably crucially importantly clearly of course ask madam
mister mr mrs ms dr speaker chair judge judges ladies gentlemen please thank thanks good very well where
once unless whereas whenever wherever upon toward towards among amid beyond throughout later earlier
soon often never always sometimes every few several much little whose whom
""".split()
)
NEGATIONS = frozenset(
    {
        "not",
        "no",
        "never",
        "nor",
        "neither",
        "none",
        "nothing",
        "without",
        "refused",
        "refuses",
        "refuse",
        "refusal",
        "refusing",
        "declined",
        "declines",
        "denied",
        "denies",
        "deny",
        "rejected",
        "rejects",
        "failed",
        "fails",
        "cannot",
    }
)
# Past-tense reports of events: "X said", "Serbia voted". Present-tense generalities ("what
# it says", "who owns Serbia's energy") are argument, not a checkable report.
_REPORTING = re.compile(
    r"\b(said|told|stated|announced|reported|signed|voted|agreed|accused|bought|sold|met|held|"
    r"visited|denied|refused|declined|imposed|suspended|approved|joined|according|found|showed|"
    r"estimated|owned|supplied|delivered|launched|opened|recognised|recognized|condemned|"
    r"abstained|vetoed|blocked)\b",
    re.I,
)


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits or (two to twenty, tens) in words, as canonical strings."""
    found = set()
    for m in _NUMBER.finditer(CITATION_RE.sub(" ", text)):
        value = float(m.group(0).replace(",", ""))
        found.add(f"{value:g}")
    words = re.findall(r"[a-z]+", text.lower())
    for i, word in enumerate(words):
        if word in _WORD_NUMBERS and not (word == "two" and i and words[i - 1] == "the"):
            found.add(f"{_WORD_NUMBERS[word]:g}")
    return found


_TOKENS = re.compile(r"[\w'.-]+")


@lru_cache(maxsize=32)
def _by_first_word(gaz: Gazetteer) -> dict[str, list[tuple[str, str]]]:
    index: dict[str, list[tuple[str, str]]] = {}
    for phrase, ident in gaz.aliases():
        index.setdefault(phrase.split(" ", 1)[0], []).append((phrase, ident))
    return index


def _alias_hits(low: str, gaz: Gazetteer, multiword_only: bool = False) -> dict[str, str]:
    """{phrase: id} of the gazetteer's phrases that may occur in low (lowercase, folded):
    those whose first word is a word of low. A regex of these few, not of all 1,600."""
    index = _by_first_word(gaz)
    hits: dict[str, str] = {}
    for token in set(_TOKENS.findall(low)):
        for word in {token, token.strip(".'-")}:
            for phrase, ident in index.get(word, ()):
                if not multiword_only or " " in phrase:
                    hits[phrase] = ident
    return hits


def _alias_regex(phrases: list[str], flags: int = 0) -> re.Pattern:
    ordered = sorted(phrases, key=len, reverse=True)  # 'new mexico' before 'mexico'
    return re.compile(r"(?<![\w])(" + "|".join(map(re.escape, ordered)) + r")(?![\w])", flags)


def _token(ident: str) -> str:
    """A canonical id as one word: 'united states' -> 'united_states'."""
    return ident.replace(" ", "_")


def canonical(text: str, gaz: Gazetteer | None = None) -> str:
    """Lower-case, folded text with every name of a country, capital, demonym or
    organisation replaced by its canonical id ("Moscow" and "the Kremlin" -> russia), from
    the gazetteer (the world's countries plus the motion's own `aliases:`)."""
    return _canonical(text, gaz or for_motion())


@lru_cache(maxsize=8192)
def _canonical(text: str, gaz: Gazetteer) -> str:
    # Memoised per gazetteer object (compared by identity; a motion's changed aliases
    # build a new one): the checker canonicalises the same passages sentence after sentence.
    if gaz.exact:  # "US", "WHO": names only in capitals
        text = _alias_regex(list(gaz.exact)).sub(
            lambda m: f" {_token(gaz.exact[m.group(1)])} ", text
        )
    low = " " + fold_accents(text.lower()).replace("’", "'").replace("'s ", " ") + " "
    hits = _alias_hits(low, gaz)
    if hits:
        low = _alias_regex(list(hits)).sub(lambda m: f" {_token(hits[m.group(1)])} ", low)
    return low


def entities_in(text: str, gaz: Gazetteer | None = None) -> list[str]:
    """Capitalised words that name something (not sentence starters), normalised; a
    several-word name the gazetteer knows ("United States") counts as one."""
    hits = _alias_hits(fold_accents(text.lower()), gaz or for_motion(), multiword_only=True)
    if hits:
        text = _alias_regex(list(hits), re.I).sub(
            lambda m: _token(hits[fold_accents(m.group(1).lower())]).upper(), text
        )
    out: list[str] = []
    first = re.match(r"\W*([\w'’-]+)", text)
    for m in _CAPITALISED.finditer(text):
        word = m.group(0).replace("’", "'")
        word = re.sub(r"'s?$", "", word)
        low = fold_accents(word.lower())
        if first and m.start() == first.start(1) and _plain_first_word(low):
            continue  # "Speaking in New York, ...", "Once the sanctions bit, ...": no name
        if low in _COMMON_CAPS or low in MONTHS or len(low) < 2:
            continue
        for part in low.split("-"):
            if part in ("anti", "pro", "non", "ex", "post", "pre", "neo", "self", "so"):
                continue  # "Anti-Western", "Pro-Russian": the name is the other part
            if part[:1].isdigit():
                continue  # "MiG-29s": a model number (layer 3 checks it as a number)
            if part and part not in out and part not in _COMMON_CAPS:
                out.append(part)
    return out


def _plain_first_word(low: str) -> bool:
    """A sentence's first word that is capitalised only because it starts the sentence: a
    function word ("Once", "When") or an -ing, -ly, -ed or -ike form."""
    return low in _STOPWORDS or bool(re.search(r"(ing|ly|ed|ike)$", low))


def initialisms(text: str) -> set[str]:
    """Acronyms of capitalised names in text: International Republican Institute -> iri."""
    out = set()
    for m in re.finditer(r"[A-Z][\w’'-]*(?:\s+(?:of|for|the|and|on)?\s*[A-Z][\w’'-]*)+", text):
        initials = [w[0] for w in m.group(0).split() if w[0].isupper()]
        for i in range(len(initials)):
            for j in range(i + 2, len(initials) + 1):
                out.add("".join(initials[i:j]).lower())
    return out


def entity_present(
    entity: str, canon_passage: str, passage_words: set[str], gaz: Gazetteer | None = None
) -> bool:
    if entity in passage_words:
        return True
    canon = canonical(entity, gaz).strip()
    if canon and re.search(rf"(?<![\w]){re.escape(canon)}(?![\w])", canon_passage):
        return True
    stem = entity[: max(4, len(entity) - 3)]
    return any(w.startswith(stem) for w in passage_words)


@lru_cache(maxsize=20_000)
def content_tokens(text: str) -> frozenset[str]:
    """Stems of the content words of text (no stopwords, negations or single letters).
    Memoised: the checker compares the same passage sentences turn after turn."""
    return frozenset(
        stem(w) for w in _words(text) if w not in _STOPWORDS and w not in NEGATIONS and len(w) > 1
    )


# A negation's scope ends with its clause: at a comma, semicolon, colon, bracket or dash.
_CLAUSE_END = frozenset(",;:()–—")
# "X rather than Y", "X instead of Y" deny Y as "not Y, but X" does.
_CONTRAST = {("rather", "than"), ("instead", "of")}
# A claim may render a passage's negation in other words: "rejected" for "rejecting",
# "no longer worked" for "stopped working". Such a word of the passage licenses a claim
# negation of the same stem (CESSATION words license "no longer"), and only that one.
CESSATION = frozenset("stopped ceased halted ended".split())


def _negation_positions(words: list[str]) -> list[int]:
    """Where the negations are: a word of NEGATIONS or an n't, the second
    word of a contrast ("rather than"), and "neither ... nor" once (the nor is its
    neither's)."""
    out: list[int] = []
    for i, w in enumerate(words):
        if i and (words[i - 1], w) in _CONTRAST:
            out.append(i)
        elif w == "nor" and "neither" in words[max(0, i - 8) : i]:
            continue
        elif w in NEGATIONS or w.endswith("n't"):
            out.append(i)
    return out


def _polarity(text: str) -> tuple[list[str], list[int], set[str]]:
    """The text's words (with clause-ending punctuation as tokens of their own), the
    positions of its negations, and its content stems."""
    words = _clause_words(text)
    return words, _negation_positions(words), content_tokens(text)


def _clause_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+|[,;:()–—]", fold_accents(text.lower().replace("’", "'")))


def _licensed(words: list[str], i: int, sentence: list[str]) -> bool:
    """Does the passage sentence render the claim's negation at i in other words (see
    CESSATION)?"""
    if words[i] == "no" and words[i + 1 : i + 2] == ["longer"]:
        return any(w in CESSATION for w in sentence)
    if words[i] not in NEGATIONS or len(words[i]) < 5:
        return False  # not, no, never...: a particle, matched by a particle
    root = words[i][:5]  # refus-, rejec-, denie- / deny-, decli-, faile-
    return any(w.startswith(root) for w in sentence if w not in NEGATIONS)


def _scope(words: list[str], i: int, width: int) -> set[str]:
    """The content stems a negation at i denies: its next `width` words, within its clause."""
    out: set[str] = set()
    for w in words[i + 1 : i + 1 + width]:
        if w in _CLAUSE_END:
            break
        out |= content_tokens(w)
    return out


def negation_flip(claim: str, window: list[str]) -> str | None:
    """A reason when the claim negates what the window (the best-matching passage sentences)
    asserts, or drops one of its negations; None when polarity agrees.

    Lexical, clause by clause: each negation of the claim is aligned with the window
    sentence that shares most content words with what it negates (its next six words up to
    the end of its clause; the whole claim when no sentence shares one of those; on a tie,
    one with a negation still unmatched); a
    sentence that receives more negations than it has, not counting those it renders in
    other words (_licensed), is a flip. A window negation whose next four content words
    within its clause reappear in the claim (two or more) must be matched by a claim
    negation in that sentence."""
    c_words, c_neg, c_content = _polarity(claim)
    sentences = [_polarity(s) for s in window]
    if not sentences:
        return None
    assigned = [0] * len(sentences)  # claim negations aligned with each sentence...
    unlicensed = [0] * len(sentences)  # ...and those of them it does not render otherwise
    for i in c_neg:
        negated = _scope(c_words, i, 6)
        overlaps = [len(negated & content) for _, _, content in sentences]
        if not any(overlaps):
            overlaps = [len(c_content & content) for _, _, content in sentences]
        # Ties go to a sentence with a negation still unmatched.
        best = max(
            range(len(sentences)),
            key=lambda k: (overlaps[k], len(sentences[k][1]) > unlicensed[k]),
        )
        if overlaps[best]:
            assigned[best] += 1
            unlicensed[best] += not _licensed(c_words, i, sentences[best][0])
    for k, (words, neg, _) in enumerate(sentences):
        if unlicensed[k] > len(neg):
            said = " ".join(c_words[c_neg[0] : c_neg[0] + 4])
            return f'negation: the sentence says "{said}" but the passage does not negate it'
        needed = [j for j in neg if len(_scope(words, j, 4) & c_content) >= 2]
        if len(needed) > assigned[k]:
            said = " ".join(w for w in words[needed[0] : needed[0] + 5] if w not in _CLAUSE_END)
            return f'negation: the passage says "{said}" but the sentence drops the negation'
    return None


# Restating the student's point ("Your point is that...", "You ask: ...") asserts nothing.
_STUDENTS_WORDS = re.compile(
    r"^\W*(you|your|my opponent'?s?|the other side'?s?)\b[^.]{0,40}?\b(ask|asked|say|said|"
    r"claim|claimed|argue|argued|point|opened|question|suggest|suggested|insist|mention)",
    re.I,
)


def is_factual(claim: str) -> bool:
    """Does an uncited sentence state something checkable? Questions and rhetoric do not;
    numbers, dates, money, quotes and reported events (a name plus a reporting or event verb)
    do."""
    if claim.rstrip().endswith("?") or _STUDENTS_WORDS.match(claim):
        return False
    if numbers_in(claim) or quoted_spans(claim):
        return True
    low = claim.lower()
    if any(re.search(rf"\b{m}\b", low) for m in MONTHS) or any(c in claim for c in "€$£"):
        return True
    return bool(entities_in(claim)) and any(
        not _MODAL_BEFORE.search(claim[: m.start()]) for m in _REPORTING.finditer(claim)
    )


# "can be met", "will be held", "to be signed": a possibility or a plan, not a report.
_MODAL_BEFORE = re.compile(r"\b(be|been|being|to)\s+$", re.I)


# Words that say the opposite of each other in this domain's prose (votes, deals, polls,
# policies). Stems; each pair is read both ways.
_ANTONYMS = [
    ("support", "oppos"),
    ("favour", "against"),
    ("favor", "against"),
    ("ris", "fall"),
    ("ris", "fell"),
    ("rose", "fell"),
    ("increas", "decreas"),
    ("increas", "fell"),
    ("grew", "fell"),
    ("prais", "criticis"),
    ("prais", "apologis"),
    ("prais", "condemn"),
    ("success", "mistak"),
    ("cancel", "kept"),
    ("cancel", "continu"),
    ("suspend", "resum"),
    ("suspend", "held"),
    ("halt", "resum"),
    ("accept", "reject"),
    ("admit", "deni"),
    ("confirm", "deni"),
    ("won", "lost"),
    ("join", "left"),
    ("allow", "ban"),
    ("open", "clos"),
    ("lift", "impos"),
    ("higher", "lower"),
    ("above", "below"),
    ("more", "fewer"),
    ("more", "less"),
    ("cheaper", "dearer"),
    ("cheaper", "expens"),
    ("friend", "enem"),
    ("alli", "enem"),
    ("alli", "threat"),
    ("approv", "reject"),
    ("sign", "refus"),
    ("first", "last"),
    ("largest", "smallest"),
]


# Opposite phrasings too short to read word by word.
_PHRASE_ANTONYMS = [(r"\bvot\w* against\b", r"\bvot\w* (?:for|in favou?r)\b")]


def _stems(text: str) -> list[str]:
    return [stem(w) for w in _words(text)]


@lru_cache(maxsize=20_000)
def _stem_set(text: str) -> frozenset[str]:
    return frozenset(_stems(text))


_ANTONYM_STEMS = tuple(dict.fromkeys(w for pair in _ANTONYMS for w in pair))


@lru_cache(maxsize=20_000)
def _antonym_stems_in(stems: frozenset[str]) -> frozenset[str]:
    """The entries of _ANTONYMS that begin some stem (or word) of the set: what the
    antonym checks ask of a sentence, computed once per sentence instead of once per pair."""
    return frozenset(a for a in _ANTONYM_STEMS if any(s.startswith(a) for s in stems))


def antonym_clash(claim: str, window: list[str]) -> str | None:
    """A reason when the claim uses a word whose opposite stands where the claim's own word
    should be in a window sentence about the same thing ("84% supported" vs "84% opposed")."""
    claim_has = _antonym_stems_in(_stem_set(claim))
    claim_content = content_tokens(claim)
    for sentence in window:
        if len(content_tokens(sentence) & claim_content) < 2:
            continue
        for a, b in _PHRASE_ANTONYMS:
            for mine, theirs in ((a, b), (b, a)):
                if (
                    re.search(mine, claim, re.I)
                    and re.search(theirs, sentence, re.I)
                    and not re.search(mine, sentence, re.I)
                ):
                    said = re.search(mine, claim, re.I).group(0)
                    return f'contradiction: the sentence says "{said}", the passage the opposite'
        has = _antonym_stems_in(_stem_set(sentence))
        for a, b in _ANTONYMS:
            for mine, theirs in ((a, b), (b, a)):
                if (
                    mine in claim_has
                    and mine not in has
                    and theirs in has
                    and theirs not in claim_has
                ):
                    word = next(w for w in _words(claim) if stem(w).startswith(mine))
                    other = next(w for w in _words(sentence) if stem(w).startswith(theirs))
                    return f'contradiction: the sentence says "{word}" where the passage says "{other}"'
        # The same check next to each shared number: "84% supported" vs "84% opposed".
        mine_ctx, theirs_ctx = _number_contexts(claim), _number_contexts(sentence)
        for n, words in mine_ctx.items():
            if n not in theirs_ctx:
                continue
            near, their_near = _antonym_stems_in(words), _antonym_stems_in(theirs_ctx[n])
            for a, b in _ANTONYMS:
                for mine, theirs in ((a, b), (b, a)):
                    if mine in near and mine not in their_near and theirs in their_near:
                        return (
                            f"contradiction: next to {n} the passage says the opposite of "
                            "the sentence"
                        )
    return None


@lru_cache(maxsize=20_000)
def _number_contexts(text: str, quantities_only: bool = False) -> dict[str, frozenset[str]]:
    """For each number in text, the content words within three words either side
    (quantities_only: skip years and days of the month, which are dates, not amounts)."""
    words = re.findall(r"[\w.,%€$]+", CITATION_RE.sub(" ", text))
    out: dict[str, set[str]] = {}
    for i, w in enumerate(words):
        nums = numbers_in(w) if re.search(r"\d", w) else set()
        if quantities_only:
            near_month = any(x.lower() in MONTHS for x in words[max(0, i - 1) : i + 2])
            nums = {
                n
                for n in nums
                if not (re.fullmatch(r"(19|20)\d\d", n) or (near_month and float(n) <= 31))
            }
        for n in nums:
            near = " ".join(words[max(0, i - 3) : i] + words[i + 1 : i + 4])
            near = re.sub(r"\d[\d.,]*", " ", near)
            out.setdefault(n, set()).update(content_tokens(near))
    return {n: frozenset(near) for n, near in out.items()}  # memoised: callers only read it


def swapped_numbers(claim: str, window: list[str]) -> str | None:
    """A reason when a number of the claim sits among the words that surround a different
    number in the passage, and not its own ("17 with NATO, 116 with Russia" for the reverse),
    or when a change "from A to B" runs the other way in the passage."""
    claim_ctx = _number_contexts(claim, quantities_only=True)
    for sentence in window:
        m = re.search(r"from (\d[\d.,]*)%? to (\d[\d.,]*)", claim)
        if m and re.search(rf"from {re.escape(m.group(2))}%? to {re.escape(m.group(1))}", sentence):
            return f"direction: the passage goes from {m.group(2)} to {m.group(1)}, not the reverse"
        ctx = _number_contexts(sentence, quantities_only=True)
        for n, words in claim_ctx.items():
            if n not in ctx or len(words) < 2 or words & ctx[n]:
                continue  # shares words with its own context in the passage: not swapped
            for other, other_words in ctx.items():
                if other != n and other in claim_ctx and len(words & other_words) >= 2:
                    return f"numbers swapped: {n} belongs with other words in the passage"
    return None


_PLACE = re.compile(
    r"\b(?:in|at|to|from|near|visited|visit|visits)\s+([A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)?)"
)


def places_in(text: str, gaz: Gazetteer | None = None) -> list[str]:
    """Capitals named as places ("in Moscow"), which must appear as such in the passage,
    while elsewhere "Moscow" may stand for Russia."""
    capitals = (gaz or for_motion()).capitals()
    out = []
    for m in _PLACE.finditer(text):
        words = fold_accents(m.group(1).lower()).rstrip(".").split()
        for n in (len(words), 1):  # "in San Marino" or "in Moscow Tuesday"
            name = " ".join(words[:n])
            if name in capitals:
                out.append(name)
                break
    return out
