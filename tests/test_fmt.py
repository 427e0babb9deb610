"""The reader's number formatter (analysis/fmt.py): every expected string worked out by hand."""
import datetime as dt
import math

import numpy as np
import pytest

from analysis import fmt


@pytest.mark.parametrize("x, e", [(1.0, 0), (9.99, 0), (10.0, 1), (1000.0, 3), (0.05, -2), (8.138e8, 8),
                                  (-250.0, 2), (0.0, 0)])
def test_exponent10_is_the_power_of_the_leading_digit(x, e):
    assert fmt.exponent10(x) == e


def test_place_alone_keeps_sig_figures():
    # 8.138e8 with 3 significant figures: last digit at 10^(8-3+1) = 10^6
    assert fmt.place_for(8.138e8, 3) == 6


def test_place_with_an_interval_follows_its_width():
    # width 9.985e8 - 6.313e8 = 3.672e8: two significant figures of the width -> last digit 10^7
    assert fmt.place_for(8.138e8, 3, 6.313e8, 9.985e8) == 7
    # a very narrow interval cannot buy more than 4 significant figures: 85.71 -> place 10^-2
    assert fmt.place_for(85.71, 3, 85.7099, 85.7101) == -2
    # a wide one (width 450 -> 10^1) leaves 2 significant figures of the value 450
    assert fmt.place_for(450.0, 3, 100.0, 550.0) == 1
    # a value nearer zero than the width: the width (0.3 -> 10^-2) decides alone
    assert fmt.place_for(-0.05, 3, -0.2, 0.1) == -2


def test_interval_of_the_issue_example_in_usd():
    # 8.138e8 (6.313e8-9.985e8) USD at place 10^7: 813.8M -> 810M, 631.3M -> 630M, 998.5M -> 1.00B
    assert fmt.interval(8.138e8, 6.313e8, 9.985e8, "USD") == "USD 810M (630M\u20131.00B)"


def test_interval_narrower_than_its_digits_shows_the_value_alone():
    assert fmt.interval(85.7142, 85.71419, 85.71421, "percent") == "85.7%"


def test_interval_in_si_units_keeps_the_centre_prefix():
    # 2.345 GHz (1.5-3.9): width 2.4 -> place 10^-1
    assert fmt.interval(2.345, 1.5, 3.9, "GHz") == "2.3 GHz (1.5 GHz\u20133.9 GHz)"
    assert fmt.interval(45.3, 40.1, 52.7, "percent") == "45% (40%\u201353%)"


def test_currency_scale_words_and_separators():
    assert fmt.exact(14.2e6, "USD") == "USD 14.2M"
    assert fmt.exact(812e6, "USD") == "USD 812M"
    assert fmt.exact(1.5e9, "USD") == "USD 1.5B"
    assert fmt.exact(3.4e12, "USD") == "USD 3.4T"
    assert fmt.exact(25000, "USD") == "USD 25,000"
    assert fmt.exact(0.35, "USD") == "USD 0.35"
    assert fmt.exact_range(50e6, 200e6, "USD") == "USD 50M\u2013200M"


def test_si_prefixes_absorb_the_scale():
    assert fmt.quantity(1.2e9, "W") == "1.2 GW"
    assert fmt.quantity(3350, "GB/s") == "3.35 TB/s"        # 3350 GB/s = 3.35 TB/s
    assert fmt.quantity(1300, "TFLOPS") == "1.3 PFLOPS"
    assert fmt.quantity(0.5, "ms") == "500 µs"
    assert fmt.quantity(96, "GB") == "96 GB"
    assert fmt.quantity(1.6, "Tbit/s") == "1.6 Tbit/s"


def test_flop_counts_write_the_power_of_ten():
    assert fmt.quantity(1.2e26, "FLOPs") == "1.2 × 10²⁶ FLOPs"
    assert fmt.quantity(1.2e26, "FLOPs", strip=False) == "1.20 × 10²⁶ FLOPs"
    assert fmt.exact(9.99996e25, "FLOP") == "1 × 10²⁶ FLOP"  # rounds up into the next power


def test_percent_ratio_and_counts():
    assert fmt.exact(30, "percent") == "30%"
    assert fmt.exact_range(30, 40, "percent") == "30\u201340%"
    assert fmt.quantity(4.3636, "x") == "4.36×"
    assert fmt.quantity(4.0, "core") == "4"
    assert fmt.exact(400000, "chip") == "400,000"
    assert fmt.exact(1.5e6, "chip") == "1.5 million"
    assert fmt.exact(405e9, "parameter") == "405 billion"


def test_negative_numbers_use_a_minus_sign():
    assert fmt.quantity(-12.5, "percent") == "\u221212.5%"
    assert fmt.interval(-0.05, -0.2, 0.1, "percent") == "\u22120.05% (\u22120.20%\u20130.10%)"


def test_booleans_dates_and_decimal_years():
    assert fmt.yes_no(True) == "yes" and fmt.yes_no(np.bool_(False)) == "no"
    assert fmt.date(dt.date(2024, 12, 3)) == "2024-12-03"
    assert fmt.date(dt.datetime(2024, 12, 3, 10, 5)) == "2024-12-03"
    # 2010.872: month 1 + floor(12 * 0.872) = 1 + 10 = 11
    assert fmt.decimal_year(2010.8722) == "2010-11"
    assert fmt.decimal_year(2015.0) == "2015"


def test_cells_for_tables():
    assert fmt.cell(True) == "yes" and fmt.cell(np.bool_(False)) == "no"
    assert fmt.cell(None) == "" and fmt.cell(float("nan")) == ""
    assert fmt.cell(2024) == "2024"              # years keep no separator
    assert fmt.cell(np.int64(123456)) == "123,456"
    assert fmt.cell(0.35) == "0.35"
    assert fmt.cell(1.23456e8) == "123.5 million"  # four significant figures
    assert fmt.cell(3.2e-5) == "3.2 × 10⁻⁵"
    assert fmt.cell(1e26) == "1 × 10²⁶"
    assert fmt.cell("S4-103") == "S4-103"
    assert fmt.cell(dt.date(2025, 6, 1)) == "2025-06-01"


@pytest.mark.parametrize("x", [8.138e8, 1.068e5, 2e9, 4.5e10, 1e-6, 1.2e26, 7e10, 3.725e6, 1e12])
def test_no_e_notation_in_any_cell(x):
    for text in (fmt.cell(x), fmt.quantity(x), fmt.quantity(x, "USD"), fmt.quantity(x, "W"),
                 fmt.interval(x, 0.8 * x, 1.3 * x, "USD")):
        assert not fmt.has_e_notation(text), text
        assert "e+" not in text and "e-" not in text


def test_e_notation_detector():
    assert fmt.has_e_notation("8.138e+08 (6.313e+08\u20139.985e+08)")
    assert fmt.has_e_notation("a step of 1e-3")
    assert not fmt.has_e_notation("claim S4-103, seed e5, 1.2 × 10²⁶ FLOPs")
    assert not fmt.has_e_notation("sha 2e5a9f")


def test_infinities_and_nan_never_crash():
    assert fmt.cell(math.inf) == "∞" and fmt.cell(-math.inf) == "\u2212∞"
    assert fmt.interval(float("nan")) == "" and fmt.quantity(None) == ""


def test_general_and_signed():
    assert fmt.general(0.123456) == "0.123456" and fmt.general(1e12) == "1 trillion" and fmt.general(70) == "70"
    assert fmt.signed(0.25) == "+0.25" and fmt.signed(-1.5) == "\u22121.5"


def test_tables_write_every_cell_for_readers():
    import re

    import pandas as pd

    from analysis import charts

    df = pd.DataFrame({"flops": [1.2e26, 0.35, None], "ok": [True, False, True], "year": [2024, 2025, 123456]},
                      index=pd.Index(["a", "b", "c"], name="run"))
    t = charts.table(df, "tbl-x", {"flops": "{:g}"})
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", t._repr_html_())
    # '{:g}' of 1.2e26 would be '1.2e+26': the guard writes it with fmt.cell; NaN stays blank
    assert [c.strip() for c in cells] == ["1.2 × 10²⁶", "yes", "2024", "0.35", "no", "2025", "", "yes", "123,456"]
    csv = t._repr_mimebundle_()[charts.TABLE_CSV_MIMETYPE]
    assert csv.splitlines() == ["run,flops,ok,year", "a,1.2e+26,True,2024", "b,0.35,False,2025", "c,,True,123456"]


def test_glue_number_glues_a_formatted_text_alongside(monkeypatch):
    import myst_nb

    from analysis import book

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display=False: glued.__setitem__(name, value))
    assert book.glue_number("ch8_price", 25000, unit="USD") == 25000.0
    assert glued == {"ch8_price": 25000.0, "ch8_price_fmt": "USD 25,000"}
    assert book.glue_text("ch8_flag", True) == "yes" and glued["ch8_flag"] == "yes"
