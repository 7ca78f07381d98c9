# Voilà configuration used by `workbench serve` (passed with --Voila.config_file_paths).
# The prelaunch hook refuses any page whose signed link is missing, invalid or for another app.
from workbench.apps.gate import prelaunch_hook

c.VoilaConfiguration.prelaunch_hook = prelaunch_hook  # noqa: F821 - `c` is provided by traitlets
