"""A queue-driven LangChain chat model for unit tests: scripted answers, every request recorded.

``QueueChatModel(responses=[...])`` answers each call with the next queued item: a ``str`` (text,
or JSON for a structured call), a ``dict`` or pydantic object (structured), ``None`` (an empty
structured result) or an ``Exception`` instance (raised, e.g. ``TimeoutError()`` or an
``openai.RateLimitError``). It behaves like ChatOpenAI's ``json_schema`` structured output: text
that is not valid JSON for the schema becomes a ``parsing_error``, not an exception. Each call's
messages are appended to ``.calls``; ``.requests`` adds the kind, schema and limits used.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field, PrivateAttr, ValidationError


class QueueExhausted(AssertionError):
    """A call arrived after every queued response was used: the test expected fewer calls."""


@dataclass(frozen=True)
class FakeRequest:
    """One recorded call: its messages and how it was asked."""

    messages: list[BaseMessage]
    kind: str
    schema: type[BaseModel] | None
    max_tokens: int | None
    temperature: float | None
    method: str | None = None


def _as_json(item: Any) -> str:
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    return item if isinstance(item, str) else json.dumps(item)


class QueueChatModel(BaseChatModel):
    """Answers calls from ``responses`` in order; see the module doc for what an item can be."""

    responses: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    requests: list[FakeRequest] = Field(default_factory=list)
    max_tokens: int | None = None
    temperature: float | None = None
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "queue-fake"

    @property
    def remaining(self) -> int:
        """Responses not used yet (assert 0 at the end of a test that scripted every call)."""
        return len(self.responses)

    def _next(
        self, messages: list[BaseMessage], kind: str, schema: type[BaseModel] | None, method: str | None
    ) -> Any:
        with self._lock:
            self.calls.append(list(messages))
            self.requests.append(
                FakeRequest(list(messages), kind, schema, self.max_tokens, self.temperature, method)
            )
            if not self.responses:
                raise QueueExhausted(f"QueueChatModel: no response queued for call {len(self.calls)}")
            item = self.responses.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        item = self._next(messages, "text", None, None)
        message = (
            item if isinstance(item, AIMessage) else AIMessage(content="" if item is None else _as_json(item))
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: str = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[Any, Any]:
        def answer(messages: Any) -> Any:
            listed = messages if isinstance(messages, list) else messages.to_messages()
            item = self._next(listed, "structured", schema, method)
            raw = AIMessage(content="" if item is None else _as_json(item))
            parsed: Any = None
            error: Exception | None = None
            if isinstance(item, schema):
                parsed = item
            elif item is not None:
                try:
                    data = json.loads(item) if isinstance(item, str) else item
                    if isinstance(data, BaseModel):
                        data = data.model_dump()
                    parsed = schema.model_validate(data)
                except (json.JSONDecodeError, ValidationError) as exc:
                    error = OutputParserException(f"invalid structured output: {type(exc).__name__}")
            if include_raw:
                return {"raw": raw, "parsed": parsed, "parsing_error": error}
            if error is not None:
                raise error
            return parsed

        return RunnableLambda(answer)
