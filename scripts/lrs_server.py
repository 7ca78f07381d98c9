"""Run ralph-malph's LRS on the file-system backend, for the tests (``.venv-lrs/bin/python``).

Usage: ``.venv-lrs/bin/python scripts/lrs_server.py HOST PORT DATA_DIR`` with
``RALPH_APP_DIR`` pointing at the folder whose ``auth.json`` ``ralph auth -w`` wrote.

``ralph runserver`` serves the same app with a file watcher (a second process) and writes
each batch of statements in ``create`` mode, which refuses a second batch once the
statements file exists. This launcher serves ``ralph.api:app`` in one process and makes the
file-system backend append, so the LRS keeps every batch it accepts.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    host, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(directory, exist_ok=True)
    os.environ["RALPH_RUNSERVER_BACKEND"] = "fs"
    os.environ["RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH"] = directory
    import uvicorn
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    uvicorn.run("ralph.api:app", host=host, port=port, log_level="warning", reload=False)


if __name__ == "__main__":
    main()
