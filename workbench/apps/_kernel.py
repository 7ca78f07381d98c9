"""Imported first by the app modules, which run inside Voilà kernels: keeps page loads light.

plotly's ``FigureWidget`` imports nbformat, which imports jsonschema; when the optional
``rfc3987_syntax`` package is importable, jsonschema builds a parser for IRI checks at import
time, which took 1.7 s of a 4.5 s page build here. App kernels never validate IRIs, so the
module is marked absent before anything imports jsonschema (jsonschema then skips that one
format check, as it does when the package is not installed). Nothing else changes.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
