"""The stand-alone report of a run: what was fitted, to what, what came out; Markdown and HTML.

Layer: utilities (beside plotting): it reads the run directory's card copy and run.json
(:mod:`tlsbayes.rundir`, :mod:`tlsbayes.card`) and formats results; the fit pipeline calls it.

* :mod:`.context`: :func:`run_context` gathers card, data files (sha256 from run.json), group,
  filter, window, priors used (declared or default), constants in units, and the axes of the
  figures in the units of the data.
* :mod:`.markdown`: the text of report.md.
* :mod:`.html`: report.md as one self-contained HTML page, figures embedded
  (``tlsbayes report RUN_DIR --html``).
"""

from tlsbayes.lazy import lazy_getattr

from .context import Axis, RunContext, run_context
from .markdown import report_markdown

# The HTML page is made by ``tlsbayes report --html`` alone: a fit does not import it.
_LAZY = {"markdown_to_html": "html", "write_html_report": "html"}


def _load(owner):
    from . import html as module

    return module


__getattr__ = lazy_getattr(__name__, _LAZY, globals(), _load)

__all__ = ["Axis", "RunContext", "run_context", "report_markdown", "markdown_to_html",
           "write_html_report"]
