"""Loaders: text with front matter, HTML main text, PDF pages; broken files are refused."""

from __future__ import annotations

import pytest

from debate.core.errors import SourceError
from debate.corpus.loaders import load_source

from .pdfs import make_pdf


def test_markdown_front_matter_becomes_metadata_and_is_not_in_the_text(tmp_path):
    f = tmp_path / "a.md"
    f.write_text(
        "---\ntitle: T\nurl: https://x.org\n---\nBody one.\n\nBody two.\n", encoding="utf-8"
    )
    loaded = load_source(f)
    assert loaded.meta == {"title": "T", "url": "https://x.org"}
    assert loaded.text == "Body one.\n\nBody two.\n"


def test_plain_text_without_front_matter_is_kept_whole(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Line one.\nLine two.\n", encoding="utf-8")
    assert load_source(f).text == "Line one.\nLine two.\n"


def test_html_keeps_article_text_and_drops_scripts_menus_and_footers(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>Page title</title><script>var x='SCRIPT';</script></head><body>"
        "<nav><a>MENU ITEM</a></nav><article><h1>Headline</h1><p>First <b>bold</b> paragraph.</p>"
        "<p>Second paragraph.</p></article><footer>FOOTER TEXT</footer></body></html>",
        encoding="utf-8",
    )
    loaded = load_source(f)
    assert loaded.text == "Headline\n\nFirst bold paragraph.\n\nSecond paragraph."
    assert loaded.meta["title"] == "Page title"
    for noise in ("SCRIPT", "MENU", "FOOTER"):
        assert noise not in loaded.text


def test_pdf_text_is_extracted_per_page_with_page_spans(tmp_path):
    f = tmp_path / "doc.pdf"
    f.write_bytes(make_pdf(["Page one says hello.", "Page two says goodbye."]))
    loaded = load_source(f)
    assert [n for _, _, n in loaded.pages] == [1, 2]
    for (start, end, _page), expected in zip(loaded.pages, ["hello", "goodbye"], strict=True):
        assert expected in loaded.text[start:end]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bin.txt", b"\x00\x01\x02binary\x00", "binary"),
        ("latin.md", "caf\xe9".encode("latin-1"), "not valid UTF-8"),
        ("broken.pdf", b"%PDF-1.4\n this is not really a pdf", "unreadable PDF"),
        ("empty.md", b"   \n\n", "no text"),
        ("bad-front.md", b"---\ntitle: [unclosed\n---\nbody\n", "front matter"),
        ("image.png", b"\x89PNG", "unsupported file type"),
    ],
)
def test_broken_files_give_a_one_line_error_naming_the_file(tmp_path, name, content, message):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(SourceError) as info:
        load_source(f)
    text = str(info.value)
    assert name in text and message in text and "\n" not in text
