"""Captions that cite and rows that stay short: the book extension's pure helpers, and the built book's
captions (tables numbered as tables, each caption with its label and downloads that exist)."""
import re
import sys
from pathlib import Path

from analysis.paths import BOOK_DIR

sys.path.insert(0, str(BOOK_DIR / "_ext"))
import study_book  # noqa: E402


def test_a_long_cell_folds_at_its_first_sentence():
    text = "The verdict rests on two checks of the fleet. " + "word " * 60
    out = study_book.fold_text(text)
    assert out.startswith('<details class="study-more"><summary>The verdict rests on two checks of the fleet.')
    # opened, the cell reads as the original text: summary + rest
    plain = re.sub(r"<span class=\"study-more-hint\">more</span>", "", out)
    plain = re.sub(r"<[^>]+>", " ", plain)
    assert plain.split() == text.split()


def test_a_first_sentence_longer_than_the_summary_is_cut_at_a_space():
    text = "x" * 10 + " " + "longword " * 40
    head = re.search(r"<summary>(.*?) <span", study_book.fold_text(text, keep=50)).group(1)
    assert len(head) <= 50 and not head.endswith("longwor")


def test_only_long_plain_cells_of_study_tables_fold():
    long = "a " * 200
    table = f'<table class="study-table"><tr><td>{long}</td><td>short</td><td><a href="x">{long}</a></td></tr></table>'
    out = study_book.fold_long_cells(table)
    assert out.count("<details") == 1 and "<td>short</td>" in out
    other = f"<table><tr><td>{long}</td></tr></table>"
    assert study_book.fold_long_cells(other) == other
    with_lt = f'<table class="study-table"><tr><td>{long} rebuilt low 3 <= claimed 4</td></tr></table>'
    assert study_book.fold_long_cells(with_lt).count("<details") == 1
    # 150 characters: not folded, but given a readable width
    mid = "b " * 75
    out = study_book.fold_long_cells(f'<table class="study-table"><tr><td>{mid}</td></tr></table>')
    assert f'<td><div class="study-long">{mid}</div></td>' in out and "<details" not in out


def test_built_captions_number_tables_as_tables_and_link_existing_downloads(built_book):
    html_dir, _ = built_book
    seen = {"tbl": 0, "fig": 0}
    for page in sorted((html_dir / "notebooks").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for m in re.finditer(r'<figure[^>]*?id="((?:tbl|fig)-[^"]+)"[^>]*>(.*?)</figcaption>', text, flags=re.S):
            label, head = m.group(1), m.group(2)
            kind = label[:3]
            seen[kind] += 1
            number = re.search(r'<span class="caption-number">([^<]*)</span>', head).group(1)
            assert number.startswith("Table " if kind == "tbl" else "Fig. "), (page.name, label, number)
            assert f'<span class="pre">{label}</span>' in head, (page.name, label)
            # the ledger's own export links sit above its table, in the figure's body
            where = text[m.start():text.index("</figure>", m.end())] if label == "tbl-ledger" else head
            links = re.findall(r'href="([^"]*_static/downloads/[^"]+)"', where)
            exts = sorted(Path(h).suffix for h in links)
            # the ledger offers the whole ledger export (CSV and JSON) instead of a table CSV
            want = [".csv", ".json"] if label == "tbl-ledger" else [".csv"] if kind == "tbl" else [".csv", ".png", ".svg"]
            assert exts == want, (page.name, label, exts)
            for h in links:
                assert (page.parent / h).resolve().stat().st_size > 0, h
            if kind == "tbl":  # the caption is closed before the table: the table is not caption text
                assert "<table" not in head, (page.name, label, "table inside its <figcaption>")
    assert seen["tbl"] >= 30 and seen["fig"] >= 20, seen
