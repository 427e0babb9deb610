"""Numbers for readers: the one formatter behind every table cell and glued number of the book.

Pure functions of a value (and its unit), no imports from the rest of the study:

* :func:`quantity` — a value in its unit: ``USD 14.2M``, ``1.2 GW``, ``3.35 TB/s``, ``45%``, ``2.1×``,
  ``1.2 × 10²⁶ FLOPs``; counts as ``1.2 million``.
* :func:`interval` — a central value and its interval, rounded to the place the interval's width
  resolves: ``USD 814M (631M–999M)``.
* :func:`exact` — a value as stated (a claim): up to four significant figures, trailing zeros dropped.
* :func:`cell` — any table cell: yes/no for booleans, ISO dates, readable floats, no e-notation.

The rounding rule (:func:`place_for`): a value alone keeps ``sig`` significant figures; a value with
an interval keeps the digits down to one place below the leading digit of the interval's width
(two significant figures of the width), but never fewer than two nor more than four significant
figures of the value. Scale words and SI prefixes absorb powers of ten; a power of ten is written
out (``× 10²⁶``) only where no unit or word can absorb it (FLOP counts, numbers beyond 10¹⁵ or
below 10⁻³ with no unit).
"""
from __future__ import annotations

import datetime as _dt
import math
import re

MINUS = "\u2212"
EN_DASH = "\u2013"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

CURRENCIES = {"USD"}
CURRENCY_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"))  # thousands keep their separators
COUNT_SCALES = ((1e12, " trillion"), (1e9, " billion"), (1e6, " million"))
SI_PREFIXES = {"p": -12, "n": -9, "µ": -6, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
               "P": 15, "E": 18, "Z": 21, "Y": 24}
_PREFIX_OF = {-12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P",
              18: "E", 21: "Z", 24: "Y"}
# base units that take an SI prefix (longest first, so "FLOPS" is not read as "F" + "LOPS")
SI_BASES = ("FLOPS", "bit/s", "B/s", "Wh", "Hz", "W", "B", "s")
POWER_UNITS = {"FLOP", "FLOPs", "flop", "FLOP/s"}   # no prefix reads well: write the power of ten
PERCENT_UNITS = {"percent", "%"}
RATIO_UNITS = {"x", "×"}
# unit strings that name what is counted: the number is shown bare (the unit has its own column)
COUNT_UNITS = {"", "count", "chip", "core", "parameter", "link", "hop", "star", "instance", "layer",
               "token", "GPU", "accelerator", "server", "rack", "year", "minute", "day", "hour"}


def exponent10(x: float) -> int:
    """floor(log10(|x|)), the power of ten of x's leading digit (0 for x = 0)."""
    if x == 0 or not math.isfinite(x):
        return 0
    e = math.floor(math.log10(abs(x)))
    # log10 can land just below an exact power of ten
    if abs(x) >= 10.0 ** (e + 1):
        e += 1
    return e


def place_for(x: float, sig: int = 3, low: float | None = None, high: float | None = None,
              min_sig: int = 2, max_sig: int = 4) -> int:
    """The power of ten of the last digit shown for ``x``.

    Alone: ``exponent10(x) - sig + 1``. With an interval: ``exponent10(high - low) - 1`` (two
    significant figures of the width), clamped so x keeps between ``min_sig`` and ``max_sig``
    significant figures (only the upper bound when |x| is smaller than the width).
    """
    e = exponent10(x)
    if low is None or high is None or not (high > low) or not math.isfinite(high - low):
        return e - sig + 1
    p = exponent10(high - low) - 1
    if abs(x) < high - low:  # a value nearer zero than the width: the width alone sets the place
        return max(p, e - max_sig + 1) if x else p
    return min(max(p, e - max_sig + 1), e - min_sig + 1)


def digits(x: float, place: int, strip: bool = False) -> str:
    """x rounded to 10**place, with thousands separators and a true minus sign; no exponent ever.

    ``strip`` drops trailing zeros after the decimal point (for values as stated).
    """
    if place < 0:
        s = f"{abs(x):,.{-place}f}"
    else:
        q = 10.0 ** place
        s = f"{round(abs(x) / q) * q:,.0f}"
    if strip and "." in s:
        s = s.rstrip("0").rstrip(".")
    if s.strip("0.,") == "":
        return s  # rounds to zero: no sign
    return (MINUS if x < 0 else "") + s


def superscript(n: int) -> str:
    """An integer in superscript digits: -4 -> '⁻⁴'."""
    return str(n).translate(_SUPERSCRIPT)


def power_of_ten(x: float, place: int, strip: bool = False) -> str:
    """x as a mantissa times a power of ten, rounded to 10**place: '1.2 × 10²⁶'."""
    e = exponent10(x)
    m = x / 10.0 ** e
    text = digits(m, place - e, strip)
    if text.lstrip(MINUS) == "10":  # 9.96e25 rounded to 1e26
        e += 1
        text = digits(x / 10.0 ** e, place - e, strip)
    return f"{text} × 10{superscript(e)}"


def scaled(x: float, place: int, scales, strip: bool = False) -> str:
    """x with the largest scale word it reaches ('814M', '1.2 billion'), rounded to 10**place."""
    q = 10.0 ** place
    r = round(x / q) * q if place >= 0 else x
    for size, word in scales:
        if abs(r) >= size:
            return digits(x / size, place - exponent10(size), strip) + word
    return digits(x, place, strip)


def _split_si(unit: str) -> tuple[str, str] | None:
    for base in SI_BASES:
        if unit.endswith(base) and unit[: -len(base)] in SI_PREFIXES:
            return unit[: -len(base)], base
    return None


def _si(x: float, prefix: str, base: str, place: int, strip: bool, anchor: float | None = None) -> str:
    """x (in prefix+base) re-prefixed so the mantissa of ``anchor`` (default x) lies in [1, 1000)."""
    p0 = SI_PREFIXES[prefix]
    a = x if anchor is None else anchor
    e = exponent10(a) + p0 if a else p0
    # don't invent sub-unit prefixes for counts of seconds (0.5 s stays 0.5 s, not 500 ms)
    p1 = max(min(3 * math.floor(e / 3), 24), -12)
    if base == "s" and p1 < 0 <= p0:
        p1 = p0
    mant = x * 10.0 ** (p0 - p1)
    return f"{digits(mant, place + p0 - p1, strip)} {_PREFIX_OF[p1]}{base}"


def _one(x: float, unit: str, place: int, strip: bool, with_unit: bool = True,
         anchor: float | None = None) -> str:
    """One number in its unit at a given rounding place (no interval logic)."""
    unit = (unit or "").strip()
    if unit in CURRENCIES:
        body = scaled(x, place, CURRENCY_SCALES, strip)
        return f"{unit} {body}" if with_unit else body
    if unit in PERCENT_UNITS:
        return digits(x, place, strip) + ("%" if with_unit else "")
    if unit in RATIO_UNITS:
        return digits(x, place, strip) + ("×" if with_unit else "")
    if unit in POWER_UNITS:
        body = power_of_ten(x, place, strip) if abs(x) >= 1e6 else digits(x, place, strip)
        return f"{body} {unit}" if with_unit else body
    si = _split_si(unit)
    if si:
        text = _si(x, *si, place, strip, anchor)
        return text if with_unit else text.rsplit(" ", 1)[0]
    if abs(x) >= 1e15 or (x != 0 and abs(x) < 1e-3):
        body = power_of_ten(x, place, strip)
    else:
        body = scaled(x, place, COUNT_SCALES, strip)
    if unit in COUNT_UNITS or not with_unit:
        return body
    return f"{body} {unit}"


def quantity(x, unit: str = "", sig: int = 3, strip: bool = True) -> str:
    """A value in its unit with ``sig`` significant figures: 'USD 14.2M', '1.2 GW', '45%', '2.1×'.

    Counts (unit '', 'chip', 'count', ...) are shown bare, with scale words from a million up.
    ``strip`` drops trailing zeros (a value with no interval claims no precision beyond its digits).
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool):
        return yes_no(x)
    x = float(x)
    return _one(x, unit, place_for(x, sig), strip=strip)


def exact(x, unit: str = "", max_sig: int = 4) -> str:
    """A value as stated (a claim): at most ``max_sig`` significant figures, trailing zeros dropped.

    0.35 USD -> 'USD 0.35'; 30 percent -> '30%'; 1.5e9 USD -> 'USD 1.5B'.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool):
        return yes_no(x)
    x = float(x)
    place = exponent10(x) - max_sig + 1
    return _one(x, unit, place, strip=True)


def general(x) -> str:
    """Like ``'{:g}'`` (six significant figures, trailing zeros dropped) but never e-notation:
    1e12 -> '1 trillion', 0.5 -> '0.5', 70 -> '70'."""
    return exact(x, max_sig=6)


def signed(x, max_sig: int = 3) -> str:
    """:func:`exact` with an explicit sign: 0.25 -> '+0.25', -1.5 -> '−1.5'."""
    text = exact(x, max_sig=max_sig)
    return text if text.startswith(MINUS) or text in ("0", "") else "+" + text


def exact_range(lo, hi, unit: str = "", max_sig: int = 4) -> str:
    """A stated range 'lo–hi' in one unit: (30, 40, 'percent') -> '30–40%'; USD -> 'USD 1B–1.5B'."""
    a = exact(lo, unit, max_sig)
    b = exact(hi, unit, max_sig)
    unit = (unit or "").strip()
    if unit in PERCENT_UNITS or unit in RATIO_UNITS:
        return a[:-1] + EN_DASH + b
    if unit in CURRENCIES:
        return a + EN_DASH + b[len(unit) + 1:]
    return a + EN_DASH + b


def interval(x, low=None, high=None, unit: str = "", sig: int = 3) -> str:
    """A central value with its interval, rounded where the interval's width resolves (:func:`place_for`).

    (8.138e8, 6.313e8, 9.985e8, 'USD') -> 'USD 814M (631M–999M)'. Without an interval (or a
    degenerate one) the value alone with ``sig`` significant figures.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, bool):
        return yes_no(x)
    x = float(x)
    if low is None or high is None or float(low) == float(high):
        return quantity(x, unit, sig)
    low, high = float(low), float(high)
    place = place_for(x, sig, low, high)
    centre = _one(x, unit, place, strip=False)
    if _one(low, unit, place, False) == _one(high, unit, place, False):  # narrower than its digits
        return quantity(x, unit, sig)
    lo = _one(low, unit, place, strip=False, with_unit=_unit_after(unit), anchor=x)
    hi = _one(high, unit, place, strip=False, with_unit=_unit_after(unit), anchor=x)
    return f"{centre} ({lo}{EN_DASH}{hi})"


def _unit_after(unit: str) -> bool:
    """Whether an interval's ends repeat the unit after the number: SI units, % and × do
    ('1.2 GW (0.9 GW–1.5 GW)', '45% (40%–53%)'); a currency, written before the number, does not
    ('USD 810M (630M–1.00B)')."""
    unit = (unit or "").strip()
    return bool(_split_si(unit)) or unit in PERCENT_UNITS or unit in RATIO_UNITS


def yes_no(b) -> str:
    """True -> 'yes', False -> 'no'."""
    return "yes" if bool(b) else "no"


def date(d) -> str:
    """A date (or datetime, or ISO string) as ISO 8601 'YYYY-MM-DD'; a year-month string stays as is."""
    if isinstance(d, (_dt.datetime,)):
        return d.date().isoformat()
    if isinstance(d, _dt.date):
        return d.isoformat()
    if hasattr(d, "date") and callable(d.date) and hasattr(d, "isoformat"):  # pandas Timestamp
        return d.date().isoformat()
    return str(d)


def decimal_year(y) -> str:
    """A decimal year as year-month: 2010.872 -> '2010-11' (month = 1 + floor(12 × fraction));
    a whole year stays '2010'."""
    y = float(y)
    year = math.floor(y)
    frac = y - year
    if frac == 0:
        return str(year)
    return f"{year}-{min(int(frac * 12), 11) + 1:02d}"


_E_NOTATION = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")


def has_e_notation(text: str) -> bool:
    """Whether ``text`` holds a number in e-notation such as '8.138e+08' or '1e-3'."""
    return bool(_E_NOTATION.search(text))


def cell(v) -> str:
    """Any table cell for a reader: '' for missing, yes/no, ISO dates, readable numbers, text as is.

    Integers get thousands separators from 10,000 up (years stay '2024'); other floats keep four
    significant figures with trailing zeros dropped, scale words from a million up and a power of
    ten only beyond 10¹⁵ or below 10⁻³.
    """
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or type(v).__name__ in ("bool_", "bool"):  # numpy 1 and 2
        return yes_no(v)
    if isinstance(v, (_dt.date, _dt.datetime)) or type(v).__name__ == "Timestamp":
        return date(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return ("" if x > 0 else MINUS) + "∞"
    if x == int(x) and abs(x) < 1e6:
        return digits(x, 0) if abs(x) >= 1e4 else (MINUS if x < 0 else "") + str(int(abs(x)))
    return exact(x)
