"""The one-page ICP export: the same content in Markdown, HTML and PDF, untrusted text escaped,
and the PDF checked by rendering it to an image (pypdfium2) and reading its text back."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.services.icp.export import file_name, parse_format, render
from bot.services.icp.export.document import ExportDocument, backtest_doc, evidence_of, persona_doc
from icp_engine.model import ICP
from tests.support.strategies import round_trip_icps

EVIL = '<script>alert("x")</script> **[click](javascript:alert(1))** | # not a heading & more'
ICP_DATA: dict[str, Any] = {
    "name": "Mid-market SaaS",
    "description": "B2B software companies with a sales team",
    "criteria": [
        {
            "attribute": "industry",
            "op": "in",
            "values": ["software", "fintech"],
            "points": 25,
            "evidence": ["stat:industry=software", "ans:41"],
        },
        {"attribute": "employees", "op": "between", "values": [200, 2000], "points": 20},
        {"attribute": "country", "op": "in", "values": ["US", "CA"], "points": 15},
    ],
    "disqualifiers": [
        {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"}
    ],
    "evidence": {"stat:industry=software": "Software wins 42% (n=120) vs 18%", "ans:41": EVIL},
}
BACKTEST = {
    "n": 340,
    "wins": 100,
    "win_rate": 0.294,
    "auc": 0.71,
    "top_tier": "A",
    "top_tier_lift": 2.1,
    "coverage": 0.93,
    "tiers": [
        {"tier": "A", "label": "Best match", "n": 80, "win_rate": 0.6},
        {"tier": "B", "label": "Good fit", "n": 60, "win_rate": 0.3},
        {"tier": "C", "label": "Not a fit", "n": 200, "win_rate": 0.1},
    ],
}
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def make_doc(icp: ICP | None = None, *, persona_name: str = EVIL, **changes: Any) -> ExportDocument:
    icp = icp or ICP.model_validate(ICP_DATA)
    values: dict[str, Any] = {
        "workspace": "T1",
        "icp": icp,
        "version": 3,
        "segment": "default",
        "status": "approved",
        "author": "U0ANA",
        "created_at": datetime(2026, 11, 1, tzinfo=UTC),
        "approver": "U0BOSS",
        "approved_at": datetime(2026, 11, 20, tzinfo=UTC),
        "personas": (
            persona_doc(persona_name, {"role": "Head of Sales", "goals": ["pipeline", "forecast"]}),
            persona_doc("RevOps lead", {"role": "RevOps", "objections": "another tool"}),
        ),
        "evidence": evidence_of(icp),
        "backtest": backtest_doc(BACKTEST),
        "generated_at": AT,
    }
    values.update(changes)
    return ExportDocument(**values)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "thead", "tbody"}
SAFE_TAGS |= {"tr", "th", "td", "ul", "li", "strong", "em", "code", "hr"}


def test_markdown_holds_every_section_and_escapes_untrusted_text() -> None:
    md = render(make_doc(), "md").decode()
    assert "Unknown attributes score 0, like an average account" in md
    for needed in (
        "# Ideal Customer Profile: Mid",
        "| industry | software or fintech +25 |",
        "| employees | 200 to 2,000 +20 |",
        "| ? | Not enough data: less than 50% of the ICP's weight is known | — |",
        "too small to need us",
        "Head of Sales",
        "Approved by U0BOSS on 2026-11-20",
        "Version 3",
    ):
        assert needed in md, needed
    assert "AUC 0.71" not in md and "stat:industry=software" not in md  # in the appendix only
    full = render(make_doc(), "md", appendix=True).decode()
    assert full.startswith(md.rstrip("\n"))  # the page, then the appendix
    for needed in (
        "## Appendix: evidence, citations and backtest",
        "| industry | software or fintech +25 | stat:industry=software, ans:41 |",
        "| employees | 200 to 2,000 +20 | — |",
        "AUC 0.71 on 340 closed deals",
    ):
        assert needed in full, needed
    html = MarkdownIt("commonmark").enable("table").render(full)
    parsed = parse_html(html)
    assert set(parsed.tags) <= SAFE_TAGS - {"style", "meta"}, parsed.tags
    assert not any(name == "href" for name, _ in parsed.attrs)
    shown = "".join(parsed.text)
    assert EVIL in shown  # the persona name and the quote read exactly as typed
    assert shown.count(EVIL) == 3  # the persona on the page and in full, and the quote


def test_html_is_one_safe_page_that_reads_as_typed() -> None:
    page = render(make_doc(), "html", appendix=True).decode()
    parsed = parse_html(page)
    assert "script" not in parsed.tags and set(parsed.tags) <= SAFE_TAGS
    assert not any(name in {"href", "src", "onclick"} for name, _ in parsed.attrs)
    text = "".join(parsed.text)
    assert text.count(EVIL) == 3 and "200 to 2,000 +20" in text
    assert "http" not in page  # nothing remote
    assert "".join(parse_html(render(make_doc(), "html").decode()).text).count(EVIL) == 1  # no quotes


def pdf_pages(data: bytes) -> list[tuple[str, int]]:
    """(text, count of non-white pixels) per page, from rendering it like a viewer would."""
    document = pdfium.PdfDocument(data)
    try:
        out = []
        for index in range(len(document)):
            page = document[index]
            text_page = page.get_textpage()
            text = text_page.get_text_range()
            image = page.render(scale=1).to_pil().convert("L")
            dark = int((np.asarray(image) < 200).sum())
            text_page.close()
            page.close()
            out.append((text, dark))
        return out
    finally:
        document.close()


def test_pdf_is_one_page_with_the_criteria_and_ink_on_it() -> None:
    data = render(make_doc(), "pdf")
    assert data.startswith(b"%PDF-")
    pages = pdf_pages(data)
    assert len(pages) == 1
    text, dark = pages[0]
    flat = " ".join(text.split())
    for needed in (
        "software or fintech +25",
        "200 to 2,000 +20",
        "US or CA +15",
        "too small to need us",
        "Head of Sales",
        "Approved by U0BOSS on 2026-11-20",
        "60% win rate vs 29% overall",
    ):
        assert needed in flat, needed
    assert '<script>alert("x")</script>' in flat  # shown as text, not lost
    assert dark > 5_000  # a page of text, not a blank sheet


def test_pdf_of_a_big_icp_stays_one_page_and_its_appendix_keeps_every_criterion() -> None:
    criteria = [
        {"attribute": f"custom_{i}", "op": "eq", "values": [f"value {i} " + "long " * 20], "points": i % 30}
        for i in range(120)
    ]
    icp = ICP.model_validate({**ICP_DATA, "criteria": criteria, "evidence": {}})
    (only,) = pdf_pages(render(make_doc(icp), "pdf"))
    text = " ".join(only[0].split())
    assert "more characteristics: see the appendix" in text and "custom_1 " in text
    pages = pdf_pages(render(make_doc(icp), "pdf", appendix=True))
    assert len(pages) > 2  # the page, then the appendix over as many pages as it needs
    assert " ".join(pages[0][0].split()) == text  # page 1 is the same one page
    flat = " ".join(" ".join(text.split()) for text, _ in pages[1:])
    assert all(f"custom_{i} value {i} long" in flat for i in range(120))


def test_the_page_is_one_page_whatever_the_size_of_each_section() -> None:
    """Many characteristics, disqualifiers, personas, pains and long texts: still one page, the
    rest counted."""
    criteria = [
        {
            "attribute": f"attr_{i}",
            "op": "in",
            "values": [f"v{j} " + "word " * 8 for j in range(12)],
            "points": 5,
        }
        for i in range(40)
    ]
    disqualifiers = [
        {"attribute": f"d{i}", "op": "eq", "values": ["x"], "reason": "reason " * 30} for i in range(15)
    ]
    icp = ICP.model_validate(
        {**ICP_DATA, "name": "N" * 120, "criteria": criteria, "disqualifiers": disqualifiers}
    )
    persona = {"role": "role " * 40, "goals": ["goal " * 30] * 5, "challenges": ["pain " * 30] * 5}
    doc = make_doc(
        icp,
        personas=tuple(persona_doc(f"Persona {i}", persona) for i in range(9)),
        pains=tuple("pain said at length " * 12 + str(i) for i in range(12)),
        triggers=tuple("trigger said at length " * 12 + str(i) for i in range(12)),
    )
    pages = pdf_pages(render(doc, "pdf"))
    assert len(pages) == 1
    text = " ".join(pages[0][0].split())
    assert "more characteristics: see the appendix" in text and "more personas" in text
    assert "Tiers and plays" in text and "In customers' words" in text


def test_unapproved_versions_say_so_everywhere() -> None:
    doc = make_doc(status="draft", approver=None, approved_at=None, backtest=None, personas=())
    md = render(doc, "md").decode()
    assert "Draft: not approved yet" in md and "not backtested yet" in md and "No personas" in md
    assert "Approver: not approved yet" in md
    assert "Not backtested" in render(doc, "md", appendix=True).decode()
    assert "Draft: not approved yet" in " ".join(pdf_pages(render(doc, "pdf"))[0][0].split())


@pytest.mark.parametrize(
    ("word", "expected"),
    [("pdf", "pdf"), (".PDF", "pdf"), ("markdown", "md"), ("md", "md"), ("htm", "html"), ("docx", None)],
)
def test_parse_format(word: str, expected: str | None) -> None:
    assert parse_format(word) == expected


def test_file_name_is_ascii() -> None:
    icp = ICP.model_validate({**ICP_DATA, "name": "Ünïcode / ../../etc"})
    assert file_name(make_doc(icp), "pdf") == "icp-n-code-etc-v3.pdf"
    assert file_name(make_doc(ICP.model_validate({**ICP_DATA, "name": "日本"})), "md") == "icp-icp-v3.md"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(round_trip_icps(), st.text(min_size=1, max_size=40), st.text(max_size=80))
def test_any_text_renders_in_every_format_without_markup(icp: ICP, name: str, quote: str) -> None:
    icp = icp.model_copy(update={"evidence": {"q": quote}})
    doc = make_doc(icp, persona_name=name)
    md = render(doc, "md").decode()
    rendered = parse_html(MarkdownIt("commonmark").enable("table").render(md))
    assert set(rendered.tags) <= SAFE_TAGS and not rendered.attrs
    page = parse_html(render(doc, "html").decode())
    assert set(page.tags) <= SAFE_TAGS
    assert len(pdf_pages(render(doc, "pdf"))) >= 1


def test_a_drafted_persona_reads_well_and_its_evidence_ids_stay_out() -> None:
    stored = {
        "name": "Ops Olivia",
        "titles": ["VP Operations", "COO"],
        "role": "VP Operations",
        "goals": ["fewer manual steps"],
        "message_hooks": ["save a day a week"],
        "hooks": ["save a day a week"],
        "evidence": {"goals": [["ans:4"]]},
    }
    doc = persona_doc("Ops Olivia", stored)
    assert doc.fields == (
        ("Role", "VP Operations"),
        ("Titles", "VP Operations, COO"),
        ("Goals", "fewer manual steps"),
        ("Message hooks", "save a day a week"),
    )


def test_evidence_text_comes_from_the_icp_or_the_drafters_citations() -> None:
    icp = ICP.model_validate(ICP_DATA)
    citations = {
        "ans:41": {
            "id": "ans:41",
            "kind": "answer",
            "source": "U0ANA (sales)",
            "quote": "ignored: the ICP has it",
        },
        "stat:industry=software": {"source": "CRM statistics", "quote": "not used either"},
    }
    assert dict(evidence_of(icp, citations))["ans:41"] == EVIL
    bare = icp.model_copy(update={"evidence": {}})
    assert dict(evidence_of(bare, citations))["ans:41"] == "U0ANA (sales): “ignored: the ICP has it”"
    assert dict(evidence_of(bare))["ans:41"] == ""


def typical_drafted_doc() -> ExportDocument:
    """What a draft from a real team looks like: 8 criteria each citing 3 items, 3 disqualifiers,
    4 personas with every field, 20 interview quotes and a backtest."""
    attrs = [
        ("industry", ["software", "fintech", "healthtech"], 25),
        ("country", ["US", "CA", "GB"], 15),
        ("tech_stack", ["salesforce", "hubspot"], 10),
        ("region", ["North America"], 5),
        ("plan", ["enterprise"], 10),
        ("funding_stage", ["series b", "series c"], 8),
        ("employees_band", ["200-500", "500-1000"], 12),
        ("sales_team", ["yes"], 6),
    ]
    criteria = [
        {
            "attribute": a,
            "op": "in",
            "values": v,
            "points": p,
            "evidence": [f"ans:{i}", f"stat:{a}", f"ans:{i + 10}"],
        }
        for i, (a, v, p) in enumerate(attrs)
    ]
    quote = "Customers like this one buy fastest: they have a RevOps team and a clear pain around manual reporting"
    icp = ICP.model_validate(
        {
            "name": "Mid-market SaaS, North America",
            "description": "B2B software companies with 200-2,000 staff, a sales team and a CRM.",
            "criteria": criteria,
            "disqualifiers": [
                {"attribute": "employees", "op": "lt", "values": [20], "reason": "too small to need us"},
                {
                    "attribute": "industry",
                    "op": "in",
                    "values": ["government"],
                    "reason": "procurement too slow",
                },
                {"attribute": "country", "op": "in", "values": ["XX"], "reason": "cannot sell there"},
            ],
            "evidence": {f"ans:{i}": f"{quote}, said stakeholder {i} in the interview." for i in range(20)},
        }
    )
    persona = {
        "role": "VP Sales",
        "titles": ["VP Sales", "CRO"],
        "seniority": "VP",
        "department": "Sales",
        "buying_role": "economic buyer",
        "goals": ["hit the number", "forecast accurately", "shorten cycles"],
        "challenges": ["pipeline visibility", "rep ramp time"],
        "motivators": ["board pressure"],
        "objections": ["another tool", "price"],
        "tools": ["Salesforce", "Gong"],
        "message_hooks": ["a forecast you can trust"],
    }
    names = ["Sales Sam", "Ops Olivia", "Finance Fred", "CEO Cathy"]
    return make_doc(icp, personas=tuple(persona_doc(n, persona) for n in names))


def test_a_typical_drafted_icp_fits_on_one_page() -> None:
    doc = typical_drafted_doc()
    pages = pdf_pages(render(doc, "pdf"))
    assert len(pages) == 1
    text = " ".join(pages[0][0].split())
    assert all(name in text for name in ("Sales Sam", "Ops Olivia", "Finance Fred", "CEO Cathy"))
    assert "stat:industry" not in text  # evidence is in the appendix
    pages = pdf_pages(render(doc, "pdf", appendix=True))
    appendix = " ".join(" ".join(t.split()) for t, _ in pages[1:])
    assert "Appendix: evidence, citations and backtest" in appendix
    assert "Also cited: stat:industry, stat:country" in appendix and "AUC 0.71" in appendix


def test_characteristics_show_their_bins_grouped_with_real_minus_signs() -> None:
    icp = ICP.model_validate(
        {
            "name": "Scorecard",
            "target": "retention",
            "characteristics": [
                {
                    "attribute": "industry",
                    "bins": [
                        {"op": "eq", "values": ["fintech"], "points": 12, "evidence": ["stat:fintech"]},
                        {"op": "eq", "values": ["software"], "points": 11},
                        {"op": "eq", "values": ["retail"], "points": -8, "evidence": ["stat:retail"]},
                    ],
                },
                {
                    "attributes": ["lead_source", "region"],
                    "bins": [
                        {
                            "all_of": [
                                {"attribute": "lead_source", "op": "eq", "values": ["inbound"]},
                                {"attribute": "region", "op": "eq", "values": ["EMEA"]},
                            ],
                            "points": 6,
                        }
                    ],
                },
            ],
            "min_confidence": 0.6,
        }
    )
    doc = make_doc(icp)
    md = render(doc, "md").decode()
    assert "| industry | fintech +12 · software +11 · retail −8 |" in md
    assert "| lead\\_source × region | inbound \\& EMEA +6 |" in md  # escaped, reads as typed
    assert "Points predict the kept and expanding customers." in md
    assert "| ? | Not enough data: less than 60% of the ICP's weight is known | — |" in md
    full = render(doc, "md", appendix=True).decode()
    assert "| industry | fintech +12 · software +11 · retail −8 | stat:fintech, stat:retail |" in full
    assert "| lead\\_source × region | inbound \\& EMEA +6 | — |" in full
    page = " ".join(pdf_pages(render(doc, "pdf"))[0][0].split())
    assert "fintech +12 · software +11 · retail −8" in page
    html = "".join(parse_html(render(doc, "html").decode()).text)
    assert "retail −8" in html and "retail -8" not in html
