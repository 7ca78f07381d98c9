# Voilà configuration used by `workbench serve` (passed with --Voila.config_file_paths).
# workbench.apps.server checks every page's signed link (the gate) before any kernel is given or
# started, so there is no prelaunch hook; its kernel manager records which link has each kernel,
# caps kernels and keeps kernels preheated for the apps (with progressive rendering; Voilà's own
# preheating, `preheat_kernel`, cannot render progressively, so it stays off).
c.VoilaConfiguration.multi_kernel_manager_class = "workbench.apps.server.GuardedKernelManager"  # noqa: F821
