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

from .context import Axis, RunContext, run_context
from .html import markdown_to_html, write_html_report
from .markdown import report_markdown

__all__ = ["Axis", "RunContext", "run_context", "report_markdown", "markdown_to_html",
           "write_html_report"]
