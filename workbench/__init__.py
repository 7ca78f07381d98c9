"""Leadership Workbench: personalized leadership development, end to end.

Subpackages follow ``docs/architecture.md``: ``content`` (the authored library), ``store``
(SQLAlchemy persistence), ``skills`` (the graded response skill model), and the apps and
command line at the edge.
"""

__version__ = "0.1.0"
