# Voilà configuration used by `workbench serve` (passed with --Voila.config_file_paths).
# The prelaunch hook refuses any page whose signed link is missing, invalid or for another app
# (workbench.apps.server checks the same before it; the hook stays for plain `voila` runs);
# the kernel manager records which link started each kernel and caps kernels.
from workbench.apps.gate import prelaunch_hook

c.VoilaConfiguration.prelaunch_hook = prelaunch_hook  # noqa: F821 - `c` is provided by traitlets
c.VoilaConfiguration.multi_kernel_manager_class = "workbench.apps.server.GuardedKernelManager"  # noqa: F821
