"""Build the unseen-motion packs from UKPConvArg1 (Habernal & Gurevych 2016, CC BY 4.0).

Reads the snapshot of github:UKPLab/acl2016-convincing-arguments fetched with the `fetch`
tool (a bare git directory) and writes, for each motion:

    evals/unseen/<motion-id>/sources/<arg-id>.md   one argument per file, no stance field
    evals/unseen/labels.yaml                       hidden labels: motion -> source -> side
    evals/unseen/sources.yaml                      provenance, licence, selection, counts

motion.yaml, messages.yaml and README.md are written by hand and are not touched here.

    python evals/unseen/build.py [--git-dir /work/.mirror/UKPLab+acl2016-convincing-arguments/repo]

Deterministic: the same snapshot gives the same files. Every argument of the two debates
is kept except those under MIN_WORDS words and the off-topic ones listed in EXCLUDE; an
argument gets the side of the CSV file it sits in unless RELABEL says that its text argues
the other side of our thesis (the posters sometimes replied from the wrong side).
"""

from __future__ import annotations

import argparse
import html
import re
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = "UKPLab/acl2016-convincing-arguments"
COMMIT = "ca9d24e41b8805ff2e1d3585d552b49bb64a65f7"
DEFAULT_GIT_DIR = "/work/.mirror/UKPLab+acl2016-convincing-arguments/repo"
RANKING = "data/UKPConvArg1-Ranking-CSV"
FULL_XML = "data/UKPConvArg1-full-XML"
MIN_WORDS = 15  # arguments with fewer whitespace-separated words are skipped

MOTIONS = {
    "bottled-water-ban": {
        "debate": "ban-plastic-water-bottles",
        "topic": "bottled water",
        # CSV side file -> our side. Thesis: sale of plastic bottled water should be banned
        # except for emergencies; the CSV "yes" side is exactly that position.
        "sides": {"yes-emergencies-only": "defend", "no-bad-for-the-economy": "attack"},
        "exclude": {
            "arg219307": "song lyrics, no position on the motion",
            "arg219228": "joke ('high sixes'), no position on the motion",
            "arg219269": "joke ('Atlas would drop the world'), no position on the motion",
            "arg219239": "joke ('world series of poker using uno cards'), no position",
            "arg219276": "joke ('most interesting man in the world'), no position",
            "arg219288": "insult aimed at the other team, no position on the motion",
            "arg219275": "complaint that the other side posts song lyrics, no position",
            "arg219210": "a proverb about thirst, no position on the motion",
        },
        "relabel": {},
    },
    "mandatory-pe": {
        "debate": "should-physical-education-be-mandatory-in-schools-",
        "topic": "PE in schools",
        "sides": {"yes-": "defend", "no-": "attack"},
        "exclude": {
            "arg96567": "createdebate's minimum-length notice pasted as the whole post",
        },
        "relabel": {
            "arg251946": ("attack", "filed under Yes, but says PE 'mustn't b compulsory'"),
            "arg251944": ("attack", "filed under Yes, but says PE is a waste of time"),
            "arg96685": ("attack", "filed under Yes, agrees with a No post: 'PE is just Stupid'"),
            "arg244432": (
                "defend",
                "filed under No, but argues PE lowers obesity and heart failure",
            ),
        },
    },
}

# Readings worth a second look (kept, with the label given); reported in sources.yaml.
NOTES = {
    "bottled-water-ban": {
        "arg219261": "mixed: bottles can be made into fibre (recycling) and cups can be reused; kept on its CSV side",
        "arg219242": "garbled ('We will be able to ban ... until we get out of this recession'); read as 'not now'",
        "arg219223": "'without those we could comfortably walk' presumably means 'could not'",
        "arg219313": "contains a jibe about Mexicans",
        "arg219225": "contains a broken HTML entity '&#xof;' in the original (kept as is)",
        "arg219259": "argues bottled water is easy to hand out and safer than bulk storage; close to the 'emergencies' exception the defend side allows; kept on its CSV side (attack)",
    },
    "mandatory-pe": {
        "arg39274": "partly both: mandatory in lower grades, optional in high school; labelled attack",
        "arg582041": "confused ('must not be mandatory, but at least a requirement'); labelled attack",
        "arg271353": "'OK no and yes': PE should become health education, not laps; labelled attack",
        "arg96566": "ends with createdebate's minimum-length notice pasted into the post (kept verbatim)",
        "arg96685": "contains a homophobic remark about coaches",
        "arg217790": "claims computers cause cancer through electromagnetic waves",
        "arg245105": "about P.E. requirements in college, not school",
        "arg107456": "opens by stating the other side's view ('Most people think that PE classes are completely useless')",
    },
}


def git_show(git_dir: str, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{COMMIT}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def clean(text: str) -> str:
    """<br/> to line breaks, HTML entities decoded, spaces normalised; words untouched."""
    text = html.unescape(text.replace("<br/>", "\n"))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    out, blank = [], False
    for line in lines:
        if line:
            out.append(line)
            blank = False
        elif not blank and out:
            out.append("")
            blank = True
    return "\n".join(out).strip()


def read_ranking(git_dir: str, name: str) -> list[tuple[str, str]]:
    rows = []
    for line in git_show(git_dir, f"{RANKING}/{name}.csv").split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        arg_id, _rank, text = line.split("\t", 2)
        rows.append((arg_id, text))
    return rows


def read_meta(git_dir: str, name: str) -> tuple[dict, str, str]:
    """Authors by argument id, and the debate's title and URL, from the full XML file."""
    xml = git_show(git_dir, f"{FULL_XML}/{name}.xml")
    authors = {}
    for author, arg_id in re.findall(
        r"<arg[12]>\s*<author>(.*?)</author>.*?<id>(.*?)</id>", xml, re.S
    ):
        authors[arg_id] = html.unescape(author.strip())
    title = html.unescape(re.search(r"<debateMetaData>\s*<title>(.*?)</title>", xml, re.S)[1])
    url = re.search(r"<debateMetaData>.*?<url>(.*?)</url>", xml, re.S)[1].strip()
    return authors, title.strip(), url


def licence_text(git_dir: str) -> dict:
    readme = git_show(git_dir, "README.md")
    data = re.search(r"The data are licensed under .*?\. ", readme, re.S)[0].strip()
    origin = re.search(r"The source arguments originate from\n(.*?)\n\n", readme, re.S)[0]
    return {"data": re.sub(r"\s+", " ", data), "origin": origin.strip()}


def build(git_dir: str) -> None:
    labels: dict = {}
    provenance = {
        "dataset": "UKPConvArg1 (UKPConvArgRank export)",
        "citation": (
            "Ivan Habernal and Iryna Gurevych. 2016. Which argument is more convincing? "
            "Analyzing and predicting convincingness of Web arguments using bidirectional "
            "LSTM. ACL 2016, pages 1589-1599. http://www.aclweb.org/anthology/P16-1150"
        ),
        "repo": f"https://github.com/{REPO}",
        "commit": COMMIT,
        "read_with": "fetch github:UKPLab/acl2016-convincing-arguments, then "
        "git --git-dir=<dir> show HEAD:<path>",
        "licence": {
            "name": "CC BY 4.0",
            "as_stated_in_README.md": licence_text(git_dir),
            "attribution": "each source file names the createdebate.com user who wrote it "
            "(author) and the debate page (url)",
        },
        "text_handling": "argument text verbatim from the Ranking CSV; <br/> turned into "
        "line breaks, HTML entities decoded, runs of spaces collapsed; nothing else changed",
        "min_words": MIN_WORDS,
        "reserved_sets_not_used": [
            "Climate-FEVER",
            "HealthVer",
            "WiCE",
            "FRANK",
            "AggreFact",
            "BEGIN",
            "PERSPECTRUM",
            "IBM Debater claim-stance",
            "IBM ArgKP",
            "IBM ArgQ",
        ],
        "motions": {},
    }
    for motion_id, spec in MOTIONS.items():
        out_dir = HERE / motion_id / "sources"
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.glob("arg*.md"):
            old.unlink()
        kept: list[tuple[str, str, str, str, str]] = []  # (id, text, side, author, url)
        skipped_short, excluded, relabelled, paths = [], [], [], []
        per_csv = {}
        for csv_side, our_side in spec["sides"].items():
            name = f"{spec['debate']}_{csv_side}"
            paths += [f"{RANKING}/{name}.csv", f"{FULL_XML}/{name}.xml"]
            authors, title, url = read_meta(git_dir, name)
            rows = read_ranking(git_dir, name)
            per_csv[csv_side] = {"side": our_side, "arguments_in_file": len(rows)}
            for arg_id, raw in rows:
                text = clean(raw)
                if len(text.split()) < MIN_WORDS:
                    skipped_short.append(arg_id)
                    continue
                if arg_id in spec["exclude"]:
                    excluded.append(
                        {"id": arg_id, "csv_side": csv_side, "why": spec["exclude"][arg_id]}
                    )
                    continue
                side = our_side
                if arg_id in spec["relabel"]:
                    side, why = spec["relabel"][arg_id]
                    relabelled.append(
                        {"id": arg_id, "csv_side": csv_side, "label": side, "why": why}
                    )
                kept.append((arg_id, text, side, authors.get(arg_id, ""), url))
        kept.sort(key=lambda r: int(r[0][3:]))  # numbered by id, so numbers say nothing of side
        labels[motion_id] = {}
        for n, (arg_id, text, side, author, url) in enumerate(kept, 1):
            front = {
                "title": f"Comment {n} on {spec['topic']}",
                "author": f"{author} (createdebate.com user)"
                if author
                else "createdebate.com user",
                "publisher": "createdebate.com",
                "date": "n.d.",
                "url": url,
                "kind": "opinion",
            }
            meta = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=4096)
            (out_dir / f"{arg_id}.md").write_text(f"---\n{meta}---\n\n{text}\n", encoding="utf-8")
            labels[motion_id][arg_id] = side
        counts = {s: sum(1 for r in kept if r[2] == s) for s in ("defend", "attack")}
        provenance["motions"][motion_id] = {
            "debate": spec["debate"],
            "debate_title": title,
            "debate_url": url,
            "publisher": "createdebate.com",
            "paths": paths,
            "csv_sides": per_csv,
            "kept": len(kept),
            "kept_per_side": counts,
            "skipped_under_min_words": sorted(skipped_short),
            "excluded_off_topic": excluded,
            "relabelled": relabelled,
            "notes": NOTES.get(motion_id, {}),
        }
        print(
            motion_id,
            len(kept),
            counts,
            "short",
            len(skipped_short),
            "excluded",
            len(excluded),
            "relabelled",
            len(relabelled),
        )
    header = (
        "# Hidden labels for the unseen-motion check (see README.md). NEVER ingest this file\n"
        "# or show it to the bot: motion id -> source id -> the side of OUR thesis that the\n"
        "# argument argues (defend = for the thesis, attack = against). Written by build.py.\n"
    )
    (HERE / "labels.yaml").write_text(
        header + yaml.safe_dump(labels, sort_keys=False), encoding="utf-8"
    )
    header = "# Provenance of the unseen-motion packs (written by build.py; do not edit by hand).\n"
    (HERE / "sources.yaml").write_text(
        header + yaml.safe_dump(provenance, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", default=DEFAULT_GIT_DIR)
    build(parser.parse_args().git_dir)
