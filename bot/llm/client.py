"""One way to call a chat model: budgeted, retried within a deadline, failing with a clear reason.

:class:`LlmClient` wraps any LangChain ``BaseChatModel`` (ChatOpenAI, ChatAnthropic or ChatOllama
from ``bot.llm.factory``, :class:`bot.llm.fake.QueueChatModel` in tests). Before a call it counts the
prompt with the on-disk tokenizer and refuses one over budget (:class:`PromptTooLarge`), so callers
split work (map-reduce) instead of silently truncating. A call is attempted until it yields a usable
answer, the retries run out or the per-call deadline passes; timeouts, 429 (honouring Retry-After),
5xx and invalid or empty structured output are retried with jittered exponential backoff, refusals
such as 401/400 are not (``bot.llm.failures`` classifies any provider's errors); a JSON object
wrapped in prose or code fences is salvaged (``bot.llm.repair``), but an answer cut off inside its
JSON (``finish_reason: length``, Anthropic's ``stop_reason: max_tokens``, or JSON that just stops)
is retried.
Then :class:`LlmUnavailable` says why in words a user can read. The deadline is enforced on the
wall clock (each attempt runs in a worker thread that is abandoned if it overruns), so with the
defaults a user gets an answer or a clear error well within 60 s. No message content and
no secret is ever logged; reasons are scrubbed of API keys.
"""

from __future__ import annotations

import contextvars
import json
import logging
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, ValidationError

from bot.llm.failures import Failure, classify
from bot.llm.repair import CutOffJson, invalid_json_input, salvage
from bot.llm.tokens import count_message_tokens, count_tokens, message_text
from bot.metrics import Metrics

__all__ = [
    "LlmCall",
    "LlmClient",
    "LlmUnavailable",
    "LlmUsage",
    "PromptTooLarge",
    "RetryPolicy",
    "count_tokens",
]

log = logging.getLogger(__name__)
SchemaT = TypeVar("SchemaT", bound=BaseModel)
AnswerT = TypeVar("AnswerT")
_KEY_PATTERN = re.compile(r"\b(sk|key|token)-[A-Za-z0-9_\-*]{6,}", re.IGNORECASE)


class LlmUnavailable(RuntimeError):
    """No usable answer within the retries and the deadline; ``reason`` is written for users."""

    def __init__(self, reason: str, *, attempts: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class PromptTooLarge(ValueError):
    """The prompt is over the per-call token budget: split the work, do not truncate silently."""

    def __init__(self, tokens: int, budget: int) -> None:
        super().__init__(f"prompt of {tokens} tokens is over the budget of {budget} tokens per call")
        self.tokens = tokens
        self.budget = budget


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries: attempts, per-attempt timeout, overall deadline and backoff."""

    max_retries: int = 2
    attempt_timeout_seconds: float = 20.0
    deadline_seconds: float = 45.0
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    #: An attempt is not started with less time left than this: it could not finish anyway.
    min_attempt_seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.attempt_timeout_seconds <= 0 or self.deadline_seconds <= 0:
            raise ValueError("max_retries must be >= 0 and the timeouts > 0")


@dataclass(frozen=True)
class LlmCall:
    """One client call as recorded in :class:`LlmUsage` (what benchmarks and tests read)."""

    kind: Literal["structured", "text"]
    prompt_tokens: int
    max_output_tokens: int
    attempts: int
    seconds: float
    ok: bool
    schema: str | None = None
    failure: str | None = None


@dataclass
class LlmUsage:
    """Calls made through one client, thread-safe; ``reset()`` between benchmark runs."""

    calls: list[LlmCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, call: LlmCall) -> None:
        with self._lock:
            self.calls.append(call)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens of every call (each counted once, however many attempts it took)."""
        return sum(call.prompt_tokens for call in self.calls)

    @property
    def attempts(self) -> int:
        return sum(call.attempts for call in self.calls)

    @property
    def max_prompt_tokens(self) -> int:
        return max((call.prompt_tokens for call in self.calls), default=0)


@dataclass(frozen=True)
class _LlmRequest(Generic[AnswerT]):
    """Everything one call carries through the retry loop, fixed before the first attempt.

    ``accept`` turns a raw result into the answer or raises :class:`_BadOutput`; ``recover``
    may salvage an answer from an exception (a JSON object wrapped in prose) or return None.
    """

    kind: Literal["structured", "text"]
    runnable: Runnable[Any, Any]
    messages: tuple[BaseMessage, ...]
    accept: Callable[[Any], AnswerT]
    prompt_tokens: int
    max_output_tokens: int
    deadline: float | None = None
    schema: str | None = None
    recover: Callable[[Exception], AnswerT | None] | None = None

    def usage(self, attempts: int, seconds: float, failure: str | None = None) -> LlmCall:
        """This call as :class:`LlmUsage` records it; a ``failure`` reason marks it failed."""
        return LlmCall(
            self.kind,
            self.prompt_tokens,
            self.max_output_tokens,
            attempts,
            seconds,
            failure is None,
            self.schema,
            failure,
        )


class _AttemptTimedOut(Exception):
    pass


class _BadOutput(Exception):
    pass


_CUT_OFF = "the answer was cut off in the middle of its JSON"
#: The field that caps an answer's length, by chat model class: the first one a model has is set.
OUTPUT_LIMIT_FIELDS = ("max_tokens", "num_predict", "max_output_tokens")
#: How providers say an answer stopped at the output limit (OpenAI, Anthropic, Ollama).
_AT_LIMIT = {"finish_reason": "length", "stop_reason": "max_tokens", "done_reason": "length"}


def _stopped_at_limit(message: AIMessage) -> bool:
    meta = message.response_metadata
    return any(meta.get(key) == value for key, value in _AT_LIMIT.items())


def _classify(exc: BaseException, attempt_timeout: float) -> Failure:
    """What went wrong, in words for users, and whether trying again can help (any provider)."""
    if isinstance(exc, _AttemptTimedOut):
        return Failure(f"no answer within {attempt_timeout:.0f}s", retry=True)
    if isinstance(exc, _BadOutput):
        return Failure(str(exc), retry=True)
    return classify(exc)


class LlmClient:
    """Budgeted, retried, deadline-bound calls to a LangChain chat model (see the module doc)."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        prompt_token_budget: int = 12_000,
        max_output_tokens: int = 4_000,
        retry: RetryPolicy | None = None,
        label: str | None = None,
        secrets: Sequence[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
        served_context: int | None = None,
    ) -> None:
        if prompt_token_budget < 1 or max_output_tokens < 1:
            raise ValueError("prompt_token_budget and max_output_tokens must be positive")
        self.model = model
        self.prompt_token_budget = prompt_token_budget
        self.max_output_tokens = max_output_tokens
        self.retry = retry or RetryPolicy()
        self.label = label or type(model).__name__
        self.usage = LlmUsage()
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()
        self._metrics = metrics
        #: The context size the server reported (llama.cpp), which the budgets were fitted to.
        self.served_context = served_context

    def __repr__(self) -> str:
        return f"LlmClient({self.label}, budget={self.prompt_token_budget} tokens)"

    # -- public calls -------------------------------------------------------------------------

    def count_prompt_tokens(
        self, messages: Sequence[BaseMessage], schema: type[BaseModel] | None = None
    ) -> int:
        """Tokens this call would send: the messages, plus the JSON schema for structured output."""
        tokens = count_message_tokens(messages)
        if schema is not None:
            tokens += count_tokens(json.dumps(schema.model_json_schema(), separators=(",", ":")))
        return tokens

    def deadline_in(self, seconds: float) -> float:
        """An absolute deadline ``seconds`` from now, to share across several calls (``deadline=``)."""
        return self._clock() + seconds

    def structured(
        self,
        schema: type[SchemaT],
        messages: Sequence[BaseMessage],
        *,
        max_output_tokens: int,
        deadline: float | None = None,
    ) -> SchemaT:
        """An instance of ``schema`` from the model (JSON-schema structured output, temperature 0).

        ``deadline`` (from :meth:`deadline_in`) caps this call further, so a multi-call job such as
        a map-reduce draft can keep one overall time limit.
        """
        tokens = self._check_budget(messages, schema, max_output_tokens)
        runnable = self._limited(max_output_tokens).with_structured_output(
            schema, method="json_schema", include_raw=True
        )

        def accept(result: Any) -> SchemaT:
            if not isinstance(result, dict):
                raise _BadOutput("the model returned no structured result")
            if result.get("parsing_error") is not None:
                raw = result.get("raw")
                if isinstance(raw, AIMessage) and _stopped_at_limit(raw):
                    raise _BadOutput(_CUT_OFF)
                try:
                    repaired = salvage(schema, raw.content if isinstance(raw, AIMessage) else None)
                except CutOffJson:
                    raise _BadOutput(_CUT_OFF) from None
                if repaired is not None:
                    return repaired
                error = result["parsing_error"]
                raise _BadOutput(f"the model returned invalid structured output ({type(error).__name__})")
            parsed = result.get("parsed")
            if parsed is None:
                raise _BadOutput("the model returned an empty structured result")
            if isinstance(parsed, schema):
                return parsed
            try:
                return schema.model_validate(parsed)
            except ValidationError:
                raise _BadOutput("the model's structured result does not match the schema") from None

        def recover(exc: Exception) -> SchemaT | None:
            try:
                return salvage(schema, invalid_json_input(exc))
            except CutOffJson:
                raise _BadOutput(_CUT_OFF) from None

        return self._call(
            _LlmRequest(
                kind="structured",
                runnable=runnable,
                messages=tuple(messages),
                accept=accept,
                prompt_tokens=tokens,
                max_output_tokens=max_output_tokens,
                deadline=deadline,
                schema=schema.__name__,
                recover=recover,
            )
        )

    def text(
        self, messages: Sequence[BaseMessage], *, max_output_tokens: int, deadline: float | None = None
    ) -> str:
        """The model's text answer (temperature 0); an empty answer counts as a failed attempt."""
        tokens = self._check_budget(messages, None, max_output_tokens)

        def accept(result: Any) -> str:
            text = message_text(result) if isinstance(result, AIMessage) else str(result or "")
            if not text.strip():
                raise _BadOutput("the model returned an empty answer")
            return text

        return self._call(
            _LlmRequest(
                kind="text",
                runnable=self._limited(max_output_tokens),
                messages=tuple(messages),
                accept=accept,
                prompt_tokens=tokens,
                max_output_tokens=max_output_tokens,
                deadline=deadline,
            )
        )

    # -- internals ----------------------------------------------------------------------------

    def _check_budget(
        self, messages: Sequence[BaseMessage], schema: type[BaseModel] | None, max_output_tokens: int
    ) -> int:
        if not 1 <= max_output_tokens <= self.max_output_tokens:
            raise ValueError(f"max_output_tokens must be between 1 and {self.max_output_tokens}")
        if not messages:
            raise ValueError("a call needs at least one message")
        tokens = self.count_prompt_tokens(messages, schema)
        if tokens > self.prompt_token_budget:
            raise PromptTooLarge(tokens, self.prompt_token_budget)
        return tokens

    def _limited(self, max_output_tokens: int) -> BaseChatModel:
        """The model with this call's output limit and temperature 0, in the field its class has
        (``max_tokens`` for OpenAI and Anthropic, ``num_predict`` for Ollama)."""
        fields = type(self.model).model_fields
        update: dict[str, Any] = {}
        limit = next((name for name in OUTPUT_LIMIT_FIELDS if name in fields), None)
        if limit is not None:
            update[limit] = max_output_tokens
        if "temperature" in fields:
            update["temperature"] = 0.0
        return self.model.model_copy(update=update) if update else self.model

    def _attempt(self, runnable: Runnable[Any, Any], messages: list[BaseMessage], timeout: float) -> Any:
        """Run one attempt in a worker thread; give up waiting (not the thread) after ``timeout``."""
        box: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        context = contextvars.copy_context()

        def run() -> None:
            try:
                box.put((True, context.run(runnable.invoke, messages)))
            except BaseException as exc:
                box.put((False, exc))

        threading.Thread(target=run, name="llm-call", daemon=True).start()
        try:
            ok, value = box.get(timeout=timeout)
        except queue.Empty:
            raise _AttemptTimedOut from None
        if not ok:
            raise value
        return value

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _KEY_PATTERN.sub(lambda m: f"{m.group(1)}-***", text)

    def _try_once(self, request: _LlmRequest[AnswerT], timeout: float) -> AnswerT:
        """One attempt's answer; raises what went wrong unless ``recover`` salvages an answer."""
        try:
            raw = self._attempt(request.runnable, list(request.messages), timeout)
            self._count_completion(raw)
            return request.accept(raw)
        except Exception as exc:
            if request.recover is None or (result := request.recover(exc)) is None:
                raise
            return result

    def _count_completion(self, raw: Any) -> None:
        """Completion tokens, when the model reported them (a plain message, or a raw one beside
        a parsed answer); structured answers without usage are not guessed."""
        message = raw.get("raw") if isinstance(raw, dict) else raw
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        if self._metrics is not None and usage:
            self._metrics.llm_tokens.labels("completion").inc(usage.get("output_tokens", 0))

    def _record(self, request: _LlmRequest[Any], call: LlmCall) -> None:
        """Keep ``call`` in the usage log and count it in the metrics (when there are any)."""
        self.usage.record(call)
        if self._metrics is not None:
            self._metrics.llm_calls.labels(call.kind, "ok" if call.ok else "failed").inc()
            self._metrics.llm_tokens.labels("prompt").inc(call.prompt_tokens)

    def _backoff(self, attempts: int, failure: Failure) -> float:
        """Jittered exponential wait before the next attempt, never shorter than Retry-After."""
        policy = self.retry
        wait = min(policy.max_backoff_seconds, policy.backoff_seconds * 2.0 ** (attempts - 1))
        wait *= self._random.uniform(0.5, 1.0)
        if failure.wait is not None:
            wait = max(wait, failure.wait)
        return wait

    def _call(self, request: _LlmRequest[AnswerT]) -> AnswerT:
        policy = self.retry
        started = self._clock()
        deadline = started + policy.deadline_seconds
        if request.deadline is not None:
            deadline = min(deadline, request.deadline)
        attempts = 0
        failure = Failure("no time left before the deadline", retry=False)
        while (remaining := deadline - self._clock()) >= policy.min_attempt_seconds:
            attempts += 1
            if attempts > 1 and self._metrics is not None:
                self._metrics.llm_retries.inc()
            timeout = min(policy.attempt_timeout_seconds, remaining)
            try:
                result = self._try_once(request, timeout)
            except AssertionError:
                raise  # a bug (or a test's fake running out of answers), not a model fault
            except Exception as exc:
                failure = _classify(exc, timeout)
                if self._metrics is not None:
                    self._metrics.llm_errors.inc()
                log.warning(
                    "LLM %s call (%s) attempt %d failed: %s",
                    request.kind,
                    self.label,
                    attempts,
                    self._scrub(failure.reason),
                )
            else:
                self._record(request, request.usage(attempts, self._clock() - started))
                return result
            if not failure.retry or attempts > policy.max_retries:
                break
            wait = self._backoff(attempts, failure)
            if self._clock() + wait + policy.min_attempt_seconds > deadline:
                failure = Failure(
                    f"{failure.reason}; another attempt after waiting {wait:.1f}s would pass the deadline",
                    False,
                )
                break
            self._sleep(wait)
        seconds = self._clock() - started
        reason = self._scrub(
            f"the language model gave no usable answer ({attempts} attempt(s), {seconds:.0f}s): {failure.reason}"
        )
        self._record(request, request.usage(attempts, seconds, failure.reason))
        raise LlmUnavailable(reason, attempts=attempts)
