#!/usr/bin/env python3
"""Fails when a `{{#include file:anchor}}` in the guide names a missing file or anchor, or
when a Rust listing leaves out its imports.

mdBook only warns about a missing file and silently includes nothing for a missing anchor;
this keeps the guide from going stale without anyone noticing. A reader copies what a page
shows: an anchored Rust listing must start before the file's `use` lines (or the file has
none before it), so that it shows what it needs.
"""
import pathlib
import re
import sys

book = pathlib.Path(__file__).resolve().parent.parent / "book" / "src"
pattern = re.compile(r"\{\{#include\s+([^:}\s]+)(?::([A-Za-z0-9_-]+))?\s*\}\}")
problems = []
count = 0
for page in sorted(book.rglob("*.md")):
    for match in pattern.finditer(page.read_text()):
        count += 1
        target = (page.parent / match.group(1)).resolve()
        anchor = match.group(2)
        if not target.is_file():
            problems.append(f"{page.name}: {match.group(1)} does not exist")
            continue
        if anchor and anchor.isdigit():
            continue
        if anchor:
            text = target.read_text()
            if f"ANCHOR: {anchor}" not in text or f"ANCHOR_END: {anchor}" not in text:
                problems.append(f"{page.name}: {match.group(1)} has no anchor `{anchor}`")
                continue
            if target.suffix == ".rs":
                before = text.split(f"ANCHOR: {anchor}")[0]
                if any(line.startswith("use ") for line in before.splitlines()):
                    problems.append(
                        f"{page.name}: {match.group(1)}:{anchor} starts after the file's `use` "
                        "lines: move the anchor above them, so the listing shows its imports"
                    )
for p in problems:
    print(p, file=sys.stderr)
print(f"{count} includes checked, {len(problems)} broken")
sys.exit(1 if problems else 0)
