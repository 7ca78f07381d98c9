"""The authored content library: schema, loading, cross-reference checks, queries."""

from .library import Library, check, cue_report, default_content_path
from .problems import ContentError, Problem

__all__ = ["ContentError", "Library", "Problem", "check", "cue_report", "default_content_path"]
