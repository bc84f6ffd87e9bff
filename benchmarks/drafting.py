"""Drafting benchmark: prompt tokens and model calls per draft as interview answers grow, and the
wall time of a draft with the real local model, the queue fake and the offline drafter.

    .venv/bin/python benchmarks/drafting.py [--answers 10,100,1000] [--repeat 3] [--no-local-model]

* Tokens and calls are measured through the real ``LlmClient`` (its on-disk tokenizer and budget
  checks) on a queue fake that answers at once, so they are exact and cost no model time. The
  target: the drafting (reduce) prompt flat and at most 12,000 tokens however many answers; map
  calls (summaries per stakeholder group) appear once the answers no longer fit, capped.
* Times (median of ``--repeat``) are of the whole pipeline on the engine's sample company (CRM
  analysis and learning excluded, done once): the offline drafter is the baseline every time is
  a ratio to; the fake shows the pipeline's own cost; the local model (SmolLM2-135M over llama.cpp,
  started as the tests' ``local_llm`` fixture starts it, in its own process, stopped by PID) shows
  what a draft costs on this machine with a real model and its small-model schema, twice: with
  small limits set by hand, and with default settings (the client reads the 4,096-token context
  llama.cpp serves and fits its budget to it), with the largest prompt against that context.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
if (
    __name__ == "__main__" and not __package__
):  # run as a file, not with -m: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._table import NA, fmt_ratio, fmt_seconds, mark, print_table, ratio, say
from bot.llm.client import LlmClient, RetryPolicy
from bot.llm.fake import QueueChatModel
from bot.llm.tokens import count_message_tokens
from bot.services.icp.drafting.check import check
from bot.services.icp.drafting.compose import DRAFT_PROMPT_TOKENS, build_messages, draft_schema, llm_proposal
from bot.services.icp.drafting.evidence import citations_of
from bot.services.icp.drafting.gather import AnswerEvidence, Gathered
from bot.services.icp.drafting.offline import offline_proposal
from bot.services.icp.drafting.schemas import SUMMARY_TOPICS, StakeholderSummary
from bot.services.icp.drafting.service import propose
from icp_engine import sample
from icp_engine.crm import load_crm
from icp_engine.learn import learn
from icp_engine.stats import analyze

ROLES = ("sales", "marketing", "customer_success", "product", "leadership")
TOPICS = {
    "best_customers": [
        "Our best customers are {seg} with {size} teams; they {why}.",
        "The deals I would clone are {seg}: they {why}.",
    ],
    "pains": [
        "They come to us because {pain}, and it gets worse every quarter.",
        "In discovery calls they say {pain}; the manual workaround eats their week.",
    ],
    "triggers": ["They start looking after {trigger}.", "Usually {trigger} right before they reach out."],
    "buying_committee": [
        "The {buyer} decides and the CFO signs; IT can block it on security review.",
        "Our champion is usually the {buyer}; procurement and the CFO approve the budget.",
    ],
    "objections": ["The objection we hear most is {objection}; a short pilot answers it."],
    "bad_fit": ["{bad} look good on paper but churn within a year."],
}
FILL = {
    "seg": ["software companies", "fintech firms", "logistics operators", "healthcare groups", "retailers"],
    "size": ["large support", "busy dispatch", "growing finance", "distributed field"],
    "why": ["expand every year", "close in under a month", "refer their peers", "renew without a fight"],
    "pain": ["routing tickets by hand costs overtime", "reports take days to build", "audits are painful"],
    "trigger": ["a new VP of Operations joins", "a funding round closes", "they outgrow spreadsheets"],
    "buyer": ["VP of Operations", "Head of Customer Success", "Director of Finance"],
    "objection": ["migration effort", "price compared with spreadsheets", "security review"],
    "bad": ["Tiny education outfits", "Agencies with one client", "Hardware resellers"],
}


def synthetic_answers(n: int, *, per_person: int = 6) -> list[AnswerEvidence]:
    """``n`` varied answers from ``n / per_person`` people across roles and topics (deterministic)."""
    topics = list(TOPICS)
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        template = TOPICS[topic][(i // len(topics)) % len(TOPICS[topic])]
        values = {key: options[(i * 7 + len(key)) % len(options)] for key, options in FILL.items()}
        person = i // per_person
        out.append(
            AnswerEvidence(
                answer_id=i + 1,
                text=template.format(**values) + f" (account {i % 41}, quarter {i % 4 + 1})",
                stakeholder=f"U{person:05d}",
                display_name=None,
                role=ROLES[person % len(ROLES)],
                question_key=topic,
                question=None,
                topic=topic,
                answered_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )
    return out


def base_inputs() -> Gathered:
    company = sample.generate(seed=7, n_accounts=800, messy=False)
    with tempfile.TemporaryDirectory() as folder:
        paths = sample.write_csv(company, Path(folder))
        crm = load_crm(paths["accounts"], paths["deals"], paths["health"])
    closed = crm.closed
    analysis = analyze(closed, crm.accounts, attributes=crm.attributes)
    learned = learn(closed, crm.accounts, attributes=crm.attributes, analysis=analysis)
    return Gathered("TBENCH", 1, "default", crm, closed, analysis, learned, [], len(crm.deals))


def empty_draft() -> dict[str, object]:
    keys = ("criteria", "personas", "pains", "goals", "triggers", "disqualifiers")
    return {"name": "Benchmark draft", "narrative": "", **{k: [] for k in keys}}


ANSWER_LINE = re.compile(r'(ans:\d+) <answer role="[^"]*" topic="([^"]*)">([^<]*)</answer>')


class InstantModel(QueueChatModel):
    """Answers every structured call at once, recording the calls, so tokens and calls are the
    pipeline's own. A summary call gets what a summariser would give back: per topic, up to three
    points quoting the answers it was shown (with their ids); a draft call gets an empty draft."""

    def _next(self, messages: list[Any], kind: str, schema: Any, method: str | None) -> Any:
        self.calls.append(list(messages))
        if schema is not StakeholderSummary:
            return empty_draft()
        fields = {topic: name for name, topic in SUMMARY_TOPICS.items()}
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in StakeholderSummary.model_fields}
        for answer_id, topic, text in ANSWER_LINE.findall(str(messages[-1].content)):
            points = out.get(fields.get(topic, ""))
            if points is not None and len(points) < 3:
                points.append({"text": text[:180], "evidence": [answer_id]})
        return out


def fake_client(g: Gathered) -> tuple[LlmClient, QueueChatModel]:
    fake = InstantModel()
    return LlmClient(fake, retry=RetryPolicy(max_retries=0)), fake


def median_time(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_tokens(g: Gathered) -> dict[str, float]:
    llm, fake = fake_client(g)
    messages, _ = build_messages(g, llm=llm, knowledge=None)
    schema, max_output = draft_schema(llm)
    llm.structured(schema, messages, max_output_tokens=max_output)
    reduce_tokens = llm.usage.calls[-1].prompt_tokens
    return {
        "calls": llm.usage.call_count,
        "map_calls": llm.usage.call_count - 1,
        "reduce_tokens": reduce_tokens,
        "reduce_message_tokens": count_message_tokens(messages),
        "max_tokens": llm.usage.max_prompt_tokens,
        "total_tokens": llm.usage.prompt_tokens,
        "budget": min(DRAFT_PROMPT_TOKENS, llm.prompt_token_budget),
        "fake_calls": len(fake.calls),
    }


@dataclasses.dataclass
class LocalRun:
    """One configuration of the local model: median time per draft and what the drafts were."""

    label: str
    seconds: float | None
    detail: str


def _local_settings(base_url: str, defaults: bool) -> Any:
    from bot.settings import Settings
    from tests.support.llm import llm_settings

    if defaults:  # only where the model is: every limit is the default, fitted to the served context
        return Settings(  # type: ignore[call-arg]
            _env_file=None,
            llm_provider="openai-compatible",
            llm_base_url=base_url,
            llm_model="smollm2",
            openai_api_key=None,
        )
    return llm_settings(
        base_url,
        llm_model="smollm2",
        llm_timeout_seconds=55,
        llm_deadline_seconds=58,
        llm_max_retries=0,
        llm_prompt_token_budget=1200,
        llm_max_output_tokens=450,
    )


def local_model_drafts(g: Gathered, repeat: int) -> list[LocalRun]:
    """Drafts through the real local model, with hand-set small limits and with default settings."""
    try:
        from bot.llm.factory import build_llm
        from tests.support.llm.local_model import LocalModelServer
    except ImportError as exc:  # pragma: no cover - a checkout without tests/
        return [LocalRun("real local model", None, f"local model helper not importable: {exc}")]
    log = Path(tempfile.mkdtemp(prefix="bench-llm-")) / "server.log"
    try:
        server = LocalModelServer(log).start()
    except (RuntimeError, OSError) as exc:
        return [LocalRun("real local model", None, f"local model server did not start: {exc}")]
    runs: list[LocalRun] = []
    try:
        for defaults in (False, True):
            settings = _local_settings(server.base_url, defaults)
            outcomes: list[str] = []
            prompts: list[int] = []
            limits: list[str] = []
            attempts: list[int] = []

            def run(
                settings: Any = settings,
                outcomes: list[str] = outcomes,
                prompts: list[int] = prompts,
                limits: list[str] = limits,
                attempts: list[int] = attempts,
            ) -> None:
                llm = build_llm(settings)
                assert llm is not None
                if not limits:
                    schema = draft_schema(llm)[0].__name__
                    limits.append(
                        f"served context {llm.served_context or '?'}, budget {llm.prompt_token_budget:,}, "
                        f"output {llm.max_output_tokens:,}, {schema}"
                    )
                proposal, drafted_with, notes = propose(g, llm=llm, knowledge=None)
                check(proposal, g, citations_of(g))
                prompts.extend(call.prompt_tokens for call in llm.usage.calls)
                attempts.append(llm.usage.attempts)
                outcomes.append("model" if drafted_with != "offline" else "fell back: " + notes[0][-60:])

            seconds = median_time(run, repeat)
            ok = sum(o == "model" for o in outcomes)
            detail = (
                f"{ok} of {len(outcomes)} drafts by the model in {sum(attempts)} attempt(s); "
                f"largest prompt {max(prompts, default=0):,} tokens"
            )
            detail += f" ({limits[0]})" if limits else ""
            fallbacks = [o for o in outcomes if o != "model"]
            if fallbacks:
                detail += f"; {fallbacks[0]}"
            label = (
                "real local model (SmolLM2-135M), default settings fitted to the served context"
                if defaults
                else "real local model (SmolLM2-135M, 1,200-token budget, compact schema)"
            )
            runs.append(LocalRun(label, seconds, detail))
    finally:
        server.stop()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", default="10,100,1000", help="comma-separated answer counts")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--local-repeat", type=int, default=1, help="timed local-model drafts")
    parser.add_argument("--no-local-model", action="store_true", help="skip the real local model")
    args = parser.parse_args()
    counts = [int(x) for x in args.answers.split(",") if x.strip()]

    base = base_inputs()
    rows_tokens: list[list[str]] = []
    rows_time: list[list[str]] = []
    first_reduce: float | None = None
    for n in counts:
        g = dataclasses.replace(base, answers=synthetic_answers(n))
        t = measure_tokens(g)
        first_reduce = first_reduce or t["reduce_tokens"]
        offline = median_time(lambda g=g: check(offline_proposal(g), g, citations_of(g)), args.repeat)

        def with_fake(g: Gathered = g) -> None:
            llm, _ = fake_client(g)
            check(llm_proposal(g, llm=llm, knowledge=None), g, citations_of(g))

        fake = median_time(with_fake, args.repeat)
        rows_tokens.append(
            [
                f"{n:,}",
                f"{t['calls']:.0f}",
                f"{t['map_calls']:.0f}",
                f"{t['reduce_tokens']:,.0f}",
                fmt_ratio(ratio(t["reduce_tokens"], first_reduce)),
                f"{t['max_tokens']:,.0f}",
                f"{t['total_tokens']:,.0f}",
                f"{t['budget']:,.0f}",
                mark(t["max_tokens"] <= DRAFT_PROMPT_TOKENS),
            ]
        )
        rows_time.append(
            [f"offline drafter, {n:,} answers", fmt_seconds(offline), fmt_ratio(1.0), "baseline"]
        )
        rows_time.append(
            [
                f"LLM pipeline on an instant fake, {n:,} answers",
                fmt_seconds(fake),
                fmt_ratio(ratio(fake, offline)),
                f"{t['calls']:.0f} call(s)",
            ]
        )
        if n == counts[0] and not args.no_local_model:
            for local in local_model_drafts(g, args.local_repeat):
                rows_time.append(
                    [
                        f"{local.label}, {n:,} answers",
                        NA if local.seconds is None else fmt_seconds(local.seconds),
                        NA if local.seconds is None else fmt_ratio(ratio(local.seconds, offline)),
                        local.detail,
                    ]
                )

    print_table(
        "Prompt tokens and model calls per draft (client budget 12,000 tokens)",
        [
            "answers",
            "model calls",
            "map calls",
            "drafting prompt tokens",
            f"vs {counts[0]:,} answers",
            "largest call",
            "all calls",
            "budget",
            "≤ 12,000",
        ],
        rows_tokens,
        caption="Drafting prompt = the reduce call; map calls summarise stakeholder groups once the answers no "
        "longer fit. Tokens counted by the client's on-disk tokenizer, JSON schema included.",
    )
    print_table(
        "Draft wall time (median), ratio to the offline drafter at the same answer count",
        ["draft", "time", "ratio", "note"],
        rows_time,
        caption="Engine analysis and learning are done once beforehand and excluded from every figure.",
    )
    load = os.getloadavg()[0]
    say(f"load average during the run: {load:.1f} on {os.cpu_count()} cores (shared machine)")


if __name__ == "__main__":
    main()
