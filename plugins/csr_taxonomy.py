"""Organisation, standard and source pages with feeds, their directories, and period feeds."""

from __future__ import annotations

import logging
from collections import defaultdict
from functools import partial
from typing import Any

from pelican import signals
from pelican.generators import Generator

logger = logging.getLogger(__name__)

KINDS = (  # attribute on the article, context key, directory title
    ("organisations", "orgs", "Organisations"),
    ("standards", "standards", "Standards"),
    ("source_obj", "sources", "Sources"),
)


class TaxonomyGenerator(Generator):
    """Writes /org/<slug>/, /standard/<slug>/, /source/<slug>/ (paginated) and their feeds."""

    def generate_context(self) -> None:
        articles = self.context.get("articles", [])
        for attr, key, _title in KINDS:
            groups: dict[Any, list[Any]] = defaultdict(list)
            for article in articles:
                value = getattr(article, attr, None)
                for item in value if isinstance(value, list) else [value] if value else []:
                    groups[item].append(article)
            self.context[key] = sorted(groups.items(), key=lambda kv: kv[0].name.lower())

    def generate_output(self, writer: Any) -> None:
        write = partial(writer.write_file, relative_urls=self.settings["RELATIVE_URLS"])
        template = self.get_template("taxonomy")
        directory = self.get_template("directory")
        for _attr, key, title in KINDS:
            kind = key.rstrip("s") if key != "orgs" else "org"
            for item, articles in self.context[key]:
                write(
                    item.save_as,
                    template,
                    self.context,
                    taxon=item,
                    taxon_kind=kind,
                    articles=articles,
                    dates=articles,
                    template_name="taxonomy",
                    blog=True,
                    url=item.url,
                    page_name=item.page_name,
                    feed_atom=f"feeds/{kind}/{item.slug}.atom.xml",
                )
                writer.write_feed(
                    articles,
                    self.context,
                    f"feeds/{kind}/{item.slug}.atom.xml",
                    feed_title=f"{self.settings['SITENAME']}: {item.name}",
                )
            url = self.settings[f"{kind.upper()}S_URL"]
            write(
                f"{url}index.html",
                directory,
                self.context,
                directory_title=title,
                entries=self.context[key],
                url=url,
                template_name="directory",
            )
        for granularity in ("year", "month"):
            for period in self.context.get("period_archives", {}).get(granularity, []):
                path = "feeds/" + period["save_as"].replace("/index.html", "") + ".atom.xml"
                label = " ".join(str(p) for p in period["period"])
                writer.write_feed(
                    period["articles"],
                    self.context,
                    path,
                    feed_title=f"{self.settings['SITENAME']}: {label}",
                )


def get_generators(pelican: Any) -> type[Generator]:
    return TaxonomyGenerator


def register() -> None:
    signals.get_generators.connect(get_generators)
