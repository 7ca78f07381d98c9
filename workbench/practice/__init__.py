"""Practice: branching scenarios, scenario evidence for the skill posterior, the offline coach.

Pure domain code over the content library and the skill model; it never imports the store or
the apps. The app and the CLI persist runs, estimates, chat turns and commitments through the
callbacks and plain results these modules return.
"""

from .coach import (
    CoachContext,
    CoachSession,
    CoachState,
    OfflineCoach,
    Reply,
    ReplyGenerator,
    Turn,
)
from .commitment import Commitment, parse_due
from .evidence import (
    DEFAULT_CHOICE_ITEM,
    ChoiceItem,
    EstimateChange,
    apply_run,
    posterior_from_estimates,
    run_evidence,
)
from .grounding import Citation, Grounding
from .safety import Screening, screen
from .scenario import Debrief, Feedback, ScenarioRun, Step, enumerate_paths

__all__ = [
    "DEFAULT_CHOICE_ITEM", "ChoiceItem", "Citation", "CoachSession", "CoachState", "Commitment", "Debrief",
    "EstimateChange", "Feedback", "Grounding", "CoachContext", "OfflineCoach", "Reply", "ReplyGenerator",
    "ScenarioRun", "Screening", "Step", "Turn", "apply_run", "enumerate_paths", "parse_due",
    "posterior_from_estimates", "run_evidence", "screen",
]
