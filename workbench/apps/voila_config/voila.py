# Voilà configuration used by `workbench serve` (passed with --Voila.config_file_paths).
# workbench.apps.server checks every page's signed link (the gate) before a kernel is taken or started,
# so there is no prelaunch hook: kernels are preheated instead (started, the app imported, waiting
# for their page's request; sizes in workbench.apps.server.default_pool_sizes). Preheating renders
# a page as its cells finish over the page's own response, so Voilà's progressive rendering is off.
# The kernel manager records which link took or started each kernel and caps kernels.
c.VoilaConfiguration.preheat_kernel = True  # noqa: F821 - `c` is provided by traitlets
c.VoilaConfiguration.progressive_rendering = False  # noqa: F821
c.VoilaConfiguration.multi_kernel_manager_class = "workbench.apps.server.GuardedKernelManager"  # noqa: F821
