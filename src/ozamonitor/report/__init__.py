"""HTML reports: :class:`ReportDocument` assembles sections contributed by the analyses."""

from ozamonitor.report.document import (
    ReportDocument,
    Section,
    figure_html,
    note,
    paragraph,
    table_html,
    tr,
)

__all__ = ["ReportDocument", "Section", "figure_html", "note", "paragraph", "table_html", "tr"]
