"""Which OCR engine reads scanned news pages: Debian's tesseract-ocr against rapidocr-onnxruntime
(which ships its models in the wheel), on pages made here from the seed articles' text,
clean and as a scanner leaves them (a slight skew, blur and speckle, a smaller type).

    python bench/ocr_engines.py            # writes bench/ocr_engines.json and .md

Each engine is used only if present (tesseract on PATH; rapidocr importable, e.g. in a
scratch venv: `pip install rapidocr-onnxruntime pillow`). Word accuracy: the share of
the page's words that the engine's text has, in order (difflib's matching blocks over
words, case kept); time: seconds per page on this machine, after one warm-up page.
"""

from __future__ import annotations

import difflib
import io
import json
import platform
import random
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "seeds"
WIDTH, HEIGHT, MARGIN = 1700, 2200, 120  # about A4 at 200 dpi


def page_text(n: int) -> str:
    """Paragraphs of the seed articles, about a page's worth, starting at paragraph n."""
    blocks = []
    for path in sorted(SEEDS.glob("*.txt")):
        blocks += [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if len(b) > 80]
    return "\n\n".join(blocks[n : n + 5])


def render(text: str, size: int, scanned: bool, seed: int) -> Image.Image:
    font = ImageFont.load_default(size=size)
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    y = MARGIN
    per_line = int((WIDTH - 2 * MARGIN) / (size * 0.5))
    for block in text.split("\n\n"):
        for line in textwrap.wrap(block, per_line):
            draw.text((MARGIN, y), line, fill=0, font=font)
            y += int(size * 1.35)
        y += size
        if y > HEIGHT - MARGIN:
            break
    if scanned:
        rng = random.Random(seed)
        image = image.rotate(rng.uniform(-1.0, 1.0), expand=False, fillcolor=255)
        image = image.filter(ImageFilter.GaussianBlur(0.8))
        pixels = image.load()
        for _ in range(WIDTH * HEIGHT // 400):
            pixels[rng.randrange(WIDTH), rng.randrange(HEIGHT)] = rng.choice((0, 255))  # type: ignore[index]
    return image


def truth(image_text: str) -> list[str]:
    """The words as drawn (wrapped lines never lose a word)."""
    return re.findall(r"\S+", image_text)


def accuracy(reference: list[str], got: str) -> float:
    words = re.findall(r"\S+", got)
    matcher = difflib.SequenceMatcher(None, reference, words, autojunk=False)
    return sum(b.size for b in matcher.get_matching_blocks()) / max(len(reference), 1)


def tesseract(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    command = ["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "3"]
    done = subprocess.run(
        command, input=buffer.getvalue(), capture_output=True, check=True, timeout=120
    )
    return done.stdout.decode("utf-8", "replace")


def rapidocr() -> Callable[[Image.Image], str] | None:
    try:
        import numpy as np
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-not-found]
    except ImportError:
        return None
    engine = RapidOCR()

    def read(image: Image.Image) -> str:
        result, _ = engine(np.array(image.convert("RGB")))
        return "\n".join(r[1] for r in (result or []))

    return read


def main() -> int:
    engines: dict[str, Callable[[Image.Image], str]] = {}
    if shutil.which("tesseract"):
        engines["tesseract"] = tesseract
    rapid = rapidocr()
    if rapid is not None:
        engines["rapidocr-onnxruntime"] = rapid
    if not engines:
        print("no OCR engine found: apt-get install tesseract-ocr", file=sys.stderr)
        return 1
    pages = []
    for i, (size, scanned) in enumerate([(30, False), (30, True), (24, False), (24, True)]):
        text = page_text(i * 5)
        pages.append((f"type {size}px, {'scanned' if scanned else 'clean'}",
                      render(text, size, scanned, seed=i), truth(text)))  # fmt: skip
    results: dict[str, dict[str, object]] = {}
    for name, engine in engines.items():
        engine(pages[0][1])  # warm-up: model loading is not a page's time
        rows = {}
        for label, image, reference in pages:
            t = time.perf_counter()
            got = engine(image)
            rows[label] = {"accuracy": round(accuracy(reference, got), 4),
                           "seconds": round(time.perf_counter() - t, 2)}  # fmt: skip
        results[name] = rows
        print(name, rows, file=sys.stderr)
    out = {"machine": f"{platform.machine()}, {platform.python_version()}", "results": results}
    (HERE / "ocr_engines.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    lines = ["| engine | page | word accuracy | seconds |", "|---|---|---|---|"]
    for name, rows in results.items():
        for label, r in rows.items():  # type: ignore[attr-defined]
            lines.append(f"| {name} | {label} | {r['accuracy']:.3f} | {r['seconds']:.2f} |")
    (HERE / "ocr_engines.md").write_text(
        "# OCR engines on pages made from the seed articles\n\n"
        "`python bench/ocr_engines.py` (see its docstring). One warm-up page first.\n\n"
        + "\n".join(lines) + "\n", encoding="utf-8")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
