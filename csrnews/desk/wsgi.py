"""The public site with the desk under /desk, for any WSGI server (configured by environment).

    gunicorn --workers 2 'csrnews.desk.wsgi:app_from_env()'

reads CSRNEWS_CONTENT, CSRNEWS_OUTPUT, CSRNEWS_INDEX, CSRNEWS_DESK_DIR and CSRNEWS_ROOT (the
defaults of `csrnews serve --desk` otherwise). Let the server, or the proxy in front of it, set
the scheme from X-Forwarded-Proto, so that the session cookie is marked Secure over HTTPS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from csrnews.desk import DeskConfig, mount
from csrnews.desk.config import DEFAULT_DESK_DIR
from csrnews.desk.service import load_secret
from csrnews.search.query import service_options
from csrnews.serve.wsgi import allowed_origins_from_env, make_app
from csrnews.story import settings


def app_from_env() -> Any:
    """The site's WSGI app with the desk mounted, from CSRNEWS_* environment variables."""
    env = os.environ
    config = DeskConfig(
        content=Path(env.get("CSRNEWS_CONTENT", settings.CONTENT_DIR)),
        output=Path(env.get("CSRNEWS_OUTPUT", settings.OUTPUT_DIR)),
        index=Path(env.get("CSRNEWS_INDEX", settings.INDEX_DIR)),
        desk_dir=Path(env.get("CSRNEWS_DESK_DIR", DEFAULT_DESK_DIR)),
        root=Path(env.get("CSRNEWS_ROOT", "var/site")),
    )
    config.check()
    load_secret(config.secret_file)
    app = make_app(
        config.output,
        config.index,
        allow_origins=allowed_origins_from_env(env),
        search_options=service_options(env),
    )
    return mount(app, config)
