"""Sphinx extension: one citation style, the same in the HTML book and in Jupyter.

The chapters cite as Markdown links, ``[Hochreiter and Schmidhuber (1997)](#hochreiter1997long)``
(``tools/portable_notebooks.py`` writes them), which read the same in JupyterLab,
where a ``{cite:t}`` role shows only its key. Here:

* each such link whose target is a key of ``references.bib`` becomes a link to
  that work's entry on the References page, keeping its text (the bibtex
  domain would otherwise resolve it and put its own "[Cho et al., 2014]");
* the References page labels its entries the same way, "Hochreiter and
  Schmidhuber 1997" (pybtex style ``authoryear``, set as
  ``bibtex_default_style`` in ``_config.yml``), instead of "[HS97]".

Listed in ``_config.yml`` (``extensions``; ``tools/`` is on the path through
``local_extensions``).
"""

from __future__ import annotations

import re
from collections import Counter

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform


def cited_names(entry) -> str:
    """'Elman', 'Hochreiter and Schmidhuber', 'Cho et al.' from a pybtex entry's authors."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [re.sub(r"[{}]", "", " ".join(p.prelast_names + p.last_names)) for p in people]
    if not last:
        return re.sub(r"[{}]", "", entry.fields.get("organization", entry.fields.get("title", entry.key)))
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels 'Hochreiter and Schmidhuber 1997' (a, b appended if two works would share one)."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [f"{cited_names(e)} {e.fields.get('year', 'n.d.')}" for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                yield f"{label}{'abcdefghij'[seen[label] - 1]}"
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    """The unsrt entry format, sorted by author and year, with author-year labels."""

    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


class CitationLinks(SphinxPostTransform):
    """``[text](#bibkey)`` -> a link with that text to the key's entry on the References page."""

    default_priority = 5  # before the references are resolved (ReferencesResolver: 10)

    def run(self, **kwargs):
        domain = self.env.get_domain("cite")
        entries = {c.key: c for c in domain.citations}
        for node in list(self.document.findall(pending_xref)):
            if node.get("reftype") != "myst" or node.get("reftarget") not in entries:
                continue
            children = (node.children[0].children if isinstance(node.children[0], nodes.inline)
                        else node.children)
            if self.app.builder.format == "latex":
                # LaTeX lists the entries as \bibitem keys, which \hyperref cannot
                # reach: in print the citation is its text, "Cho et al. (2014)".
                node.replace_self(nodes.inline("", "", *[c.deepcopy() for c in children]))
                continue
            citation = entries[node["reftarget"]]
            uri = self.app.builder.get_relative_uri(self.env.docname, citation.bibliography_key.docname)
            ref = nodes.reference("", "", internal=True, refuri=f"{uri}#{citation.citation_id}",
                                  classes=["citation-link"])
            ref += node.children[0].children if isinstance(node.children[0], nodes.inline) else node.children
            node.replace_self(ref)


def setup(app):
    app.add_post_transform(CitationLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
