"""MkDocs hook: the ops page's table is generated from the registry at build time, so it is
the registry (no copy to keep in sync)."""

import re

from micrograd.ops import op_table

MARKER = re.compile(r"<!-- ops -->.*?<!-- /ops -->", re.S)


def on_page_markdown(markdown: str, **kwargs: object) -> str:
    return MARKER.sub(lambda _: "<!-- ops -->\n" + op_table() + "\n<!-- /ops -->", markdown)
