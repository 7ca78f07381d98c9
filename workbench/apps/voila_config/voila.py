# Voilà configuration used by `workbench serve` (passed with --Voila.config_file_paths).
# workbench.apps.server checks every page's signed link (the gate) before any kernel is given or
# started, so there is no prelaunch hook; its kernel manager records which link has each kernel,
# caps kernels and keeps kernels preheated for the apps (with progressive rendering; Voilà's own
# preheating, `preheat_kernel`, cannot render progressively, so it stays off).
c.VoilaConfiguration.multi_kernel_manager_class = "workbench.apps.server.GuardedKernelManager"  # noqa: F821

# The page template (workbench/apps/share/voila/templates/workbench): Voilà's lab template with every
# asset served by this server (no icon font from a CDN) and the apps' stylesheet, static/workbench.css.
import os  # noqa: E402
from pathlib import Path  # noqa: E402

_SHARE = str(Path(__file__).resolve().parents[1] / "share")
if _SHARE not in os.environ.get("JUPYTER_PATH", "").split(os.pathsep):
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (_SHARE, os.environ.get("JUPYTER_PATH", "")) if p)
c.VoilaConfiguration.template = "workbench"  # noqa: F821
# Lab-only extensions the pages never use; each logged version warnings in every page's console
# (figures are anywidget FigureWidgets, which need neither the plotly lab renderer nor the preview).
c.VoilaConfiguration.extension_denylist = ["jupyterlab-plotly", "@voila-dashboards/jupyterlab-preview",  # noqa: F821
                                           "jupyterlab_pygments", "jupyterlab-jupytext"]
