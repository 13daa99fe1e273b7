"""Labels: the SVG is well-formed, the Code 128 bars decode (with an independent decoder
written from the symbology's tables) to the payload its human-readable line shows, and the
QR drawn is the QR of the payload."""

import re
import xml.etree.ElementTree as ET

import pytest
import segno
from barcode.charsets.code128 import CODES, STOP

from probity.core.labels import code128_svg, qr_svg

SVG_NS = "{http://www.w3.org/2000/svg}"
PATTERNS = {pattern: value for value, pattern in enumerate(CODES)}
START_A, START_B, START_C = 103, 104, 105


def _mm(value: str) -> float:
    return float(value.removesuffix("mm"))


def modules_from_svg(svg: str, module_mm: float) -> str:
    """The barcode as a string of 1 (bar) and 0 (space) modules, read from the rectangles."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    bars = []
    for rect in root.iter(f"{SVG_NS}rect"):
        if rect.get("fill") == "black":
            bars.append((_mm(rect.get("x")), _mm(rect.get("width"))))
    bars.sort()
    out = []
    position = round(bars[0][0] / module_mm)
    for x, width in bars:
        start = round(x / module_mm)
        out.append("0" * (start - position))
        count = round(width / module_mm)
        out.append("1" * count)
        position = start + count
    return "".join(out)


def decode_code128(modules: str) -> str:
    """Decode a Code 128 symbol: start code, data with code-set switches, check, stop."""
    stop = STOP + "11"  # the stop symbol and its two-module termination bar
    assert modules.endswith(stop), "no stop pattern"
    body = modules[: -len(stop)]
    assert len(body) % 11 == 0
    values = [PATTERNS[body[i : i + 11]] for i in range(0, len(body), 11)]
    start, *data, check = values
    assert start in (START_A, START_B, START_C)
    expected = (start + sum(i * v for i, v in enumerate(data, start=1))) % 103
    assert check == expected, "check symbol does not match"
    code_set = {START_A: "A", START_B: "B", START_C: "C"}[start]
    text = []
    for value in data:
        if code_set == "C":
            if value < 100:
                text.append(f"{value:02d}")
                continue
            code_set = {100: "B", 101: "A"}[value]
        else:
            if value == 99:
                code_set = "C"
            elif value == 100 and code_set == "A":
                code_set = "B"
            elif value == 101 and code_set == "B":
                code_set = "A"
            elif value < 64 or (code_set == "B" and value < 96):
                text.append(chr(32 + value))
            else:
                raise AssertionError(f"unexpected value {value} in code set {code_set}")
    return "".join(text)


@pytest.mark.parametrize("payload", ["PB-AB12-CD34-X", "PB-0123-4567-Z", "PB-7T9Q-M2K4-H"])
def test_code128_decodes_to_the_payload_it_prints(payload):
    svg = code128_svg(payload, module_width_mm=0.25)
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    root = ET.fromstring(svg)  # noqa: S314 - well-formed XML or this raises
    assert root.tag == f"{SVG_NS}svg"
    texts = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert texts == [payload]
    assert decode_code128(modules_from_svg(svg, 0.25)) == payload


def test_code128_module_width_and_no_text_on_request():
    svg = code128_svg("PB-AB12-CD34-X", module_width_mm=0.33, human_readable=False)
    root = ET.fromstring(svg)  # noqa: S314
    assert list(root.iter(f"{SVG_NS}text")) == []
    assert decode_code128(modules_from_svg(svg, 0.33)) == "PB-AB12-CD34-X"


def test_decoder_rejects_a_wrong_check_symbol():
    modules = modules_from_svg(code128_svg("PB-AB12-CD34-X"), 0.25)
    # replace the data symbol "X" (value 56) with "Y" (57): the check no longer matches
    swapped = modules.replace(CODES[56], CODES[57], 1)
    with pytest.raises(AssertionError, match="check"):
        decode_code128(swapped)


def qr_matrix_from_svg(svg: str) -> list[list[int]]:
    """Rebuild the module matrix from segno's path (``M x y`` / ``m dx dy`` / ``h n``)."""
    root = ET.fromstring(svg)  # noqa: S314
    path = next(root.iter(f"{SVG_NS}path")).get("d")
    width = round(float(root.get("viewBox").split()[2]) / 0.8)
    matrix = [[0] * width for _ in range(width)]
    x = y = 0.0
    for command, args in re.findall(r"([MmHh])([-\d. ]+)", path):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            row = int(y - 0.5)
            for col in range(int(x), int(x + numbers[0])):
                matrix[row][col] = 1
            x += numbers[0]
    return matrix


@pytest.mark.parametrize("payload", ["PB-AB12-CD34-X", "PB-0123-4567-Z"])
def test_qr_draws_the_qr_of_the_payload(payload):
    svg = qr_svg(payload, module_mm=0.8, border=2)
    root = ET.fromstring(svg)  # noqa: S314
    assert root.get("width").endswith("mm")
    assert next(root.iter(f"{SVG_NS}title")).text == payload
    qr = segno.make(payload, error="m", micro=False)
    size = len(qr.matrix) + 4
    expected = [[0] * size for _ in range(size)]
    for r, row in enumerate(qr.matrix):
        for c, dark in enumerate(row):
            expected[r + 2][c + 2] = 1 if dark else 0
    drawn = qr_matrix_from_svg(svg)
    assert drawn == expected
    other = segno.make(payload + "X", error="m", micro=False)
    assert [list(map(int, r)) for r in other.matrix] != [row[2:-2] for row in drawn[2:-2]]


def test_empty_payload_is_refused():
    with pytest.raises(ValueError):
        code128_svg("")
    with pytest.raises(ValueError):
        qr_svg("")
