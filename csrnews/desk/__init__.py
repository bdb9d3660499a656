"""The editors' desk: the web app under /desk/ where editors work on stories and top-10 lists.

They find, fix, hide and write stories, compile the top-10 lists, see and restore earlier
versions and rebuild the site, on the same files as everything else: story files through
csrnews.story.storyfile, lists through csrnews.top10. `csrnews serve --desk` mounts it beside the
public site.
"""

from __future__ import annotations

from csrnews.desk.config import DeskConfig, DeskConfigError

__all__ = ["DeskConfig", "DeskConfigError", "create_app", "mount"]


def create_app(config: DeskConfig, *, testing: bool = False) -> object:
    """The desk's Flask app (serves paths under its own root; mount it at /desk)."""
    # Flask only when the desk runs: `csrnews serve` without --desk (and --help) never loads it.
    from csrnews.desk.app import create_app as _create

    return _create(config, testing=testing)


def mount(site_app: object, config: DeskConfig) -> object:
    """The public site's WSGI app with the desk answering everything under /desk."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    desk = create_app(config)
    return DispatcherMiddleware(site_app, {"/desk": desk})  # type: ignore[arg-type,dict-item]
