"""The ICP document as a PDF (fpdf2, pure Python): the one page on exactly one A4 page.

The page is laid out at the roomiest density (``outline.DENSITIES``) that fits on one sheet;
tighter ones show fewer rows and shorter texts, counting what they leave out ("+3 more"). The
appendix, when asked for, starts on page 2 and flows over as many pages as it needs.

Text is drawn as text (never interpreted as markup), in DejaVu Sans: the TrueType font that
ships inside matplotlib (already a dependency for the review chart), located on disk without
importing matplotlib, so names and quotes in any Latin, Greek or Cyrillic script print; STIX
(same folder) is the fallback for symbols. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import logging
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from bot.services.icp.export.document import ExportDocument
from bot.services.icp.export.outline import DENSITIES, Element, Heading, Items, Para, Table, page
from bot.services.icp.export.outline import appendix as appendix_elements

FONT = "dejavu"
FALLBACK = "stix"
BODY_SIZE = 8.0
SMALL_SIZE = 7.0
LINE = 3.6  # mm per body line
MAX_CELL_TEXT = 600  # a cell longer than this would push the table off the page


class ExportError(RuntimeError):
    """The export cannot be produced here (e.g. the fonts are missing); the message says why."""


@cache
def font_dir() -> Path:
    """matplotlib's bundled TrueType folder (found by its package path, not by importing it)."""
    spec = importlib.util.find_spec("matplotlib")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "mpl-data" / "fonts" / "ttf"
        if (folder / "DejaVuSans.ttf").is_file():
            return folder
    raise ExportError("PDF export needs the DejaVu fonts that ship with matplotlib: pip install matplotlib")


def _cut(text: str, limit: int = MAX_CELL_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _new_pdf(doc: ExportDocument) -> FPDF:
    folder = font_dir()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(11, 10, 11)
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_font(FONT, "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FALLBACK, "", str(folder / "STIXGeneral.ttf"))
    pdf.set_fallback_fonts([FALLBACK], exact_match=False)
    pdf.set_title(doc.title)
    pdf.set_subject(f"ICP version {doc.version} ({doc.status})")
    pdf.set_creator("ICP assistant")
    pdf.set_creation_date(doc.generated_at)
    pdf.add_page()
    return pdf


def _table(pdf: FPDF, element: Table) -> None:
    pdf.set_font(FONT, "", BODY_SIZE)
    heading = FontFace(emphasis="BOLD", fill_color=(240, 240, 243))
    with pdf.table(
        col_widths=element.widths,
        headings_style=heading,
        line_height=LINE,
        text_align="LEFT",
        borders_layout="HORIZONTAL_LINES",
        padding=(0.4, 1.2),
    ) as table:
        for cells in (element.header, *element.rows):
            row = table.row()
            for cell in cells:
                row.cell(_cut(cell))
    pdf.ln(1)


def _items(pdf: FPDF, element: Items) -> None:
    for lead, text in element.items:
        pdf.set_font(FONT, "B", BODY_SIZE)
        pdf.write(LINE, f"• {_cut(lead, 120)}: ")
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.write(LINE, _cut(text))
        pdf.ln(LINE + 0.6)


def _draw(pdf: FPDF, elements: list[Element], *, first: bool) -> None:
    width = pdf.epw
    for element in elements:
        if isinstance(element, Heading):
            if element.new_page:
                pdf.add_page()
            pdf.set_font(FONT, "B", 15 if first else 10)
            if not first and not element.new_page:
                pdf.ln(1.2)
            pdf.multi_cell(
                width, 7 if first else 4.8, _cut(element.text, 200), new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            first = False
        elif isinstance(element, Para):
            size = SMALL_SIZE if element.small else BODY_SIZE + 0.5 if element.lead else BODY_SIZE
            pdf.set_font(FONT, "B" if element.lead else "", size)
            pdf.multi_cell(width, LINE, _cut(element.text, 1500), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        elif isinstance(element, Table):
            _table(pdf, element)
        elif isinstance(element, Items):
            _items(pdf, element)


def render_pdf(doc: ExportDocument, *, appendix: bool = False) -> bytes:
    """The PDF file's bytes: one page, then the appendix's pages when ``appendix`` is set."""
    # fpdf2 logs each glyph no font has (emoji) as a warning; the character is simply left out.
    logging.getLogger("fpdf").setLevel(logging.ERROR)
    pdf = _new_pdf(doc)
    for limits in DENSITIES:
        pdf = _new_pdf(doc)
        _draw(pdf, page(doc, limits), first=True)
        if pdf.page == 1:
            break
    else:  # an ICP of extremes (dozens of tiers, huge names): still one page, its foot clipped
        pdf = _new_pdf(doc)
        pdf.set_auto_page_break(auto=False)
        _draw(pdf, page(doc, DENSITIES[-1]), first=True)
        pdf.set_auto_page_break(auto=True, margin=10)
    if appendix:
        _draw(pdf, appendix_elements(doc), first=False)
    return bytes(pdf.output())
