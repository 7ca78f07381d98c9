"""plotly's chart widget code, served once per browser instead of once per chart.

plotly's ``FigureWidget`` is an anywidget: its front-end code (``plotly/package_data/widgetbundle.js``,
about 4.9 MB) is a trait of every chart's model. Each chart therefore sent those megabytes from the
kernel through the server to the browser, and the browser evaluated them again from a new blob URL
(anywidget imports each model's code afresh): four charts on the Progress tab were about 20 MB of
messages and four evaluations of plotly.js. When the evaluation took longer than anywidget's 2 s
budget (a loaded machine), the console showed "[anywidget] Failed to initialize model".

Under ``workbench serve`` (its kernels have the server's kernel key in their environment) a chart's
model carries :func:`loader` instead, a few lines that import the bundle from the server by a URL
naming plotly's version (:func:`bundle_route`): the browser fetches and evaluates it once per page,
keeps it in its HTTP cache across pages, and every chart shares that one module. Anywhere else (a
notebook in JupyterLab, papermill) charts keep plotly's own widget code.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from ._kernel import KERNEL_KEY_ENV

BUNDLE = "widgetbundle.js"


@cache
def plotly_version() -> str:
    from importlib.metadata import version

    return version("plotly")


def bundle_dir() -> Path:
    """The folder of plotly's installed widget bundle."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.origin is not None, "plotly is not installed"
    return Path(spec.origin).parent / "package_data"


def bundle_folder() -> str:
    """The bundle's folder under the server's base URL (versioned: a new plotly gets a new URL)."""
    return f"voila/workbench-assets/plotly-{plotly_version()}"


def bundle_route() -> str:
    """The bundle's path under the server's base URL."""
    return f"{bundle_folder()}/{BUNDLE}"


#: the chart models' code under ``workbench serve``. The bundle's address is resolved against the page's
#: base URL (Voilà's page config); the bundle is imported once per page and shared by every chart.
#: anywidget gives a model 2 s to load its code and initialize before it logs "Failed to initialize
#: model", so ``initialize`` only starts the import and returns: plotly's own widget is made, and
#: initialized, when the chart is first drawn (``render`` waits for it).
LOADER_TEMPLATE = """\
const config = document.getElementById("jupyter-config-data");
const base = ((config && JSON.parse(config.textContent).baseUrl) || "/").replace(/\\/?$/, "/");
const url = new URL(base + "%(route)s", document.baseURI).href;
let bundle = null;
function code() {
  return bundle || (bundle = import(url));
}
export default function () {
  let widget = null;
  function ready(context) {
    return widget || (widget = code().then(async (plotly) => {
      const made = plotly.default();
      await made.initialize(context);
      return made;
    }));
  }
  return {
    initialize(context) {
      ready(context).catch((error) => console.error("[workbench] chart code failed to load", error));
    },
    async render(context) {
      return (await ready(context)).render(context);
    },
  };
}
"""


def loader() -> str:
    return LOADER_TEMPLATE % {"route": bundle_route()}


def served_by_workbench() -> bool:
    """Whether this process is a kernel started by ``workbench serve`` (which serves the bundle)."""
    return bool(os.environ.get(KERNEL_KEY_ENV))
