"""Every obligation sentence of the CoNDIS pages, each with a stable id.

An obligation sentence is one that contains "must", "must not", "can only" or "cannot" (any case,
whole words). condis/verifier/musts.tsv accounts for each one: the catalog rule (condis/rules.py)
that enforces it, or ``-`` and the reason condis deliberately does not check it.

Scope, read from the reference pack (../shared/reference):

- the seed page, ``seed/000_e0f5fe94aade492e.txt``;
- the 51 pages of the CoNDIS chapter, ``guide/`` in the order of ``guide/ORDER.txt`` (the other guide
  pages are the NDIS 6 base pages and are out of scope);
- the ``ddi/`` pages of ddi-index.tsv rows that are
  - a ``function`` whose name, or a ``callback`` whose callback name, starts with NdisCo, NdisCl,
    NdisCm, NdisMCm, NdisMCo, ProtocolCo, ProtocolCl, ProtocolCm or MiniportCo followed by a capital
    letter (so NdisCoCreateVc and ProtocolClIncomingCall are in, NdisCloseAdapterEx,
    NdisCompleteBindAdapterEx and ProtocolCloseAdapterCompleteEx are not), or
  - a ``structure`` whose name holds ``_CO_`` (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS,
    NDIS_CO_CLIENT_OPTIONAL_HANDLERS, NDIS_MINIPORT_CO_CHARACTERISTICS,
    NDIS_PROTOCOL_CO_CHARACTERISTICS).

Text: front matter, code blocks, image lines, HTML tags and Markdown markup are dropped; block-level
HTML elements, blank lines, headings, list items and table cells end a paragraph; a paragraph splits
into sentences after ".", "!" or "?" followed by white space and a capital letter, digit or opening
bracket. A sentence's id is its page path, "#", and the first 8 hex digits of the SHA-1 of the
sentence with white space collapsed, so it survives reflowing but not rewording. A sentence that
occurs twice on one page is listed once.

Usage, from the repository root::

    python tools/musts.py [--missing] [REFERENCE_DIR]

prints every sentence as "id<TAB>sentence", or with ``--missing`` only those musts.tsv does not
account for yet (and the rows of musts.tsv no sentence matches any more).
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"
TABLE = ROOT / "condis" / "verifier" / "musts.tsv"
SEED = "seed/000_e0f5fe94aade492e.txt"

PREFIXES = ("NdisCo", "NdisCl", "NdisCm", "NdisMCm", "NdisMCo", "ProtocolCo", "ProtocolCl", "ProtocolCm",
            "MiniportCo")
_IN_SCOPE_NAME = re.compile(rf"^(?:{'|'.join(PREFIXES)})[A-Z]")
_OBLIGATION = re.compile(r"\b(?:must|can\s+only|cannot)\b", re.IGNORECASE)

_BLOCK_TAGS = re.compile(r"</?(?:p|div|td|th|tr|table|li|ul|ol|dl|dt|dd|br|h\d|blockquote)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_FENCE = re.compile(r"^(`{3,}|~{3,})")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_BREAK = "\x00"
_BLOCK_START = re.compile(r"^(?:#+|\|\s*|>\s*|[-*+]\s+|\d+\.\s+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


class Must(NamedTuple):
    page: str
    id: str
    line: str


def pages(ref: Path) -> list[str]:
    """The in-scope pages, as paths relative to the reference directory, in reading order."""
    out = [SEED]
    out += [f"guide/{name.strip()}" for name in (ref / "guide" / "ORDER.txt").read_text().splitlines() if name.strip()]
    with open(ref / "ddi-index.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            kind = row["kind"]
            if kind == "function":
                keep = bool(_IN_SCOPE_NAME.match(row["name"]))
            elif kind == "callback":
                keep = bool(_IN_SCOPE_NAME.match(row["callback_name"]))
            else:
                keep = kind == "structure" and "_CO_" in row["name"]
            if keep:
                out.append(row["page"])
    return out


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            return text[text.find("\n", end + 1) + 1:]
    return text


def _paragraphs(text: str) -> list[str]:
    """Plain-text paragraphs of a page: markup dropped, one string per block."""
    lines: list[str] = []
    fence = None
    for raw in _strip_front_matter(text).splitlines():
        m = _FENCE.match(raw.strip())
        if m:
            fence = None if fence and m.group(1).startswith(fence) else (fence or m.group(1))
            lines.append(_BREAK)
        elif fence or raw.strip().startswith(":::"):
            lines.append(_BREAK)
        else:
            lines.append(raw if raw.strip() else _BREAK)
    # Only blank lines and block elements end a paragraph; a line that held nothing but an inline
    # tag (an <a href> on a line of its own) does not.
    body = _BLOCK_TAGS.sub(f"\n{_BREAK}\n", "\n".join(lines))
    body = _LINK.sub(r"\1", _TAG.sub("", body))
    out: list[str] = []
    current: list[str] = []
    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == _BREAK or _BLOCK_START.match(line):
            if current:
                out.append(" ".join(current))
            current = []
            line = _BLOCK_START.sub("", line).strip() if line != _BREAK else ""
            if line:
                current = [line]
            continue
        current.append(line)
    if current:
        out.append(" ".join(current))
    return [_plain(p) for p in out]


def _plain(text: str) -> str:
    text = html.unescape(text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)
    text = re.sub(r"\*\*|__|(?<!\w)\*|\*(?!\w)|`", "", text)
    text = text.replace("|", " ")
    return " ".join(text.split())


def sentence_id(page: str, sentence: str) -> str:
    """``page#hash``: the page and the first 8 hex digits of the SHA-1 of the normalised sentence."""
    norm = " ".join(sentence.split())
    return f"{page}#{hashlib.sha1(norm.encode()).hexdigest()[:8]}"


def extract(ref: Path = DEFAULT_REFERENCE) -> list[Must]:
    """Every obligation sentence of the in-scope pages, in page order, each page's duplicates once."""
    out: list[Must] = []
    for page in pages(ref):
        seen: set[str] = set()
        for para in _paragraphs((ref / page).read_text(encoding="utf-8")):
            for sentence in _SENTENCE_END.split(para):
                sentence = sentence.strip()
                if not _OBLIGATION.search(sentence):
                    continue
                sid = sentence_id(page, sentence)
                if sid not in seen:
                    seen.add(sid)
                    out.append(Must(page, sid, sentence))
    return out


def read_table(path: Path = TABLE) -> list[dict[str, str]]:
    """The rows of musts.tsv (page, id, rule, note)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def main(argv: list[str]) -> int:
    missing_only = "--missing" in argv
    args = [a for a in argv if a != "--missing"]
    ref = Path(args[0]) if args else DEFAULT_REFERENCE
    musts = extract(ref)
    if not missing_only:
        for m in musts:
            print(f"{m.id}\t{m.line}")
        print(f"{len(musts)} sentences", file=sys.stderr)
        return 0
    known = {r["id"] for r in read_table()} if TABLE.exists() else set()
    current = {m.id for m in musts}
    missing = [m for m in musts if m.id not in known]
    for m in missing:
        print(f"{m.id}\t{m.line}")
    stale = sorted(known - current)
    for sid in stale:
        print(f"stale\t{sid}")
    print(f"{len(musts)} sentences, {len(missing)} not accounted for, {len(stale)} stale rows", file=sys.stderr)
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
