"""Units: one pint registry with the study's few extra units (FLOP, token, USD, counts).

Every number in ``data/`` carries a unit string; :func:`convert` turns it into the canonical unit of
its metric and refuses units that do not parse or have the wrong dimension.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pint

_DEFINITIONS = """
flop = [compute] = FLOP
op = flop = OP
FLOPS = flop / second
OPS = op / second
token = [token]
USD = [currency] = usd
chip = count
parameter = count
hop = count
core = count
link = count
star = count
instance = count
layer = count
x = count
"""


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """pint's default units with one change and a few additions.

    pint defines ``bit = []`` (dimensionless), which would let a byte count pass for a chip count
    or a percentage. The study loads pint's default definitions with ``bit = [information]``
    instead, then adds FLOP, token, USD and the named counts.
    """
    defaults = Path(pint.__file__).parent / "default_en.txt"
    lines = []
    for ln in defaults.read_text(encoding="utf-8").splitlines():
        if ln.strip().startswith("@import"):  # inline imported files (constants_en.txt)
            lines += (defaults.parent / ln.split()[1]).read_text(encoding="utf-8").splitlines()
        else:
            lines.append(ln)
    patched = ["bit = [information]" if ln.strip() == "bit = []" else ln for ln in lines]
    if patched == lines:
        raise RuntimeError("pint's default_en.txt no longer defines 'bit = []'; update analysis/units.py")
    ureg = pint.UnitRegistry(None, autoconvert_offset_to_baseunit=True)
    ureg.load_definitions(patched)
    ureg.load_definitions(_DEFINITIONS.strip().splitlines())
    return ureg


class UnitProblem(ValueError):
    """A unit string that does not parse or does not match the expected dimension."""


def parse_unit(text: str) -> pint.Unit:
    """Parse a unit string ('TFLOPS', 'GiB/s', 'USD/hour', 'percent'); UnitProblem if unknown."""
    if not isinstance(text, str) or not text.strip():
        raise UnitProblem("empty unit")
    try:
        q = registry().parse_units(text.strip())
    except Exception as exc:  # pint raises several types (UndefinedUnitError, syntax errors)
        raise UnitProblem(f"unknown unit '{text}'") from exc
    return q


def convert(value, unit: str, to: str):
    """value [unit] expressed in [to]; UnitProblem if the dimensions differ, or if one unit is per
    chip and the other is not ('USD/chip/hour' vs 'USD/hour': see :func:`per_chip_mismatch`).

    Works on floats and numpy arrays: ``convert(820, 'GiB/s', 'GB/s') == 880.468...``.
    """
    src, dst = parse_unit(unit), parse_unit(to)
    ureg = registry()
    if ureg.Quantity(1, src).dimensionality != ureg.Quantity(1, dst).dimensionality:
        raise UnitProblem(
            f"unit '{unit}' has dimension {ureg.Quantity(1, src).dimensionality}, "
            f"not that of '{to}' ({ureg.Quantity(1, dst).dimensionality})")
    why = per_chip_mismatch(unit, to)
    if why:
        raise UnitProblem(why)
    return ureg.Quantity(value, src).to(dst).magnitude


def factor(unit: str, to: str) -> float:
    """Multiplicative factor from unit to ``to`` (1 GiB -> 1.073741824 GB)."""
    return float(convert(1.0, unit, to))


def chip_power(unit: str) -> int:
    """The power of ``chip`` in a unit: -1 in 'USD/chip/hour', 1 in 'chip', 0 in 'USD/hour'.

    ``chip`` is a count (dimensionless) for pint, so pint alone would convert 'USD/chip/hour' to
    'USD/hour' with factor 1; the study reads the power of ``chip`` to tell per-chip from per-system.
    """
    return int(parse_unit(unit)._units.get("chip", 0))


def per_chip(unit: str, to: str) -> bool:
    """True when ``unit`` is ``to`` per chip ('USD/chip/hour' against the per-system 'USD/hour'):
    such a value becomes per system as value_per_chip x chips (see :func:`per_chip_mismatch`)."""
    cu, ct = chip_power(unit), chip_power(to)
    return cu < 0 and cu == ct - 1


def per_chip_mismatch(unit: str, to: str) -> str | None:
    """Why ``unit`` cannot become ``to`` by a factor alone, or None.

    Dividing by chips changes what a number is about (one chip, not one system), so a unit whose
    negative power of ``chip`` differs from the target's ('USD/chip/hour' -> 'USD/hour') needs the
    chip count, which a unit conversion does not know. Positive powers ('chip' -> 'count') are counts
    and convert freely.
    """
    cu, ct = min(chip_power(unit), 0), min(chip_power(to), 0)
    if cu == ct:
        return None
    return (f"unit '{unit}' is per chip and '{to}' is not" if cu < ct else
            f"unit '{to}' is per chip and '{unit}' is not") + " (multiply or divide by the chip count)"
