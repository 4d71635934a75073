"""Optional bank-hosted language model that only rephrases a template answer.

``TRELLIS_ASSISTANT_URL`` (the base URL of an OpenAI-compatible server, e.g. a Qwen
deployment; ``/chat/completions`` is appended unless the URL already ends with it),
``TRELLIS_ASSISTANT_MODEL`` and ``TRELLIS_ASSISTANT_KEY`` (sent as a bearer token).

The model is given the question, the template answer and the facts, and asked to rephrase
only. Its text is shown only if it introduces no number outside the facts
(:func:`trellis.assistant.grounding.ungrounded`); otherwise, and on any transport error,
timeout or malformed reply, the template answer stands. Plain HTTP with urllib: no SDK.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from trellis.assistant.grounding import ungrounded

logger = logging.getLogger(__name__)

SYSTEM = ("You rephrase a bank assistant's answer to a small-business owner, in the same "
          "language as the answer, short and plain. Use only the facts given. Do not add, "
          "change or compute any number, date, rate or amount. Do not promise approval, "
          "pricing or limit changes.")
MAX_CHARS = 2000


@dataclass(frozen=True)
class Rephrased:
    text: str
    used_model: bool
    rejected: str = ""   # why the model's text was not used ("" when it was)


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else url + "/chat/completions"


def rephrase(*, url: str, model: str, key: str, question: str, answer: str, facts: dict,
             timeout: float = 5.0) -> Rephrased:
    """The model's rephrasing of *answer*, or *answer* itself when the model's text is
    unusable (``rejected`` says why)."""
    body = json.dumps({
        "model": model, "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": json.dumps(
                {"question": question, "answer": answer, "facts": facts}, ensure_ascii=False)},
        ]}).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(_endpoint(url), data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            reply = json.loads(response.read(1_000_000))
        text = str(reply["choices"][0]["message"]["content"]).strip()
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError,
            TypeError) as exc:
        logger.warning("assistant model unavailable, template answer used: %s", exc)
        return Rephrased(answer, False, "unavailable")
    if not text or len(text) > MAX_CHARS:
        return Rephrased(answer, False, "empty_or_long")
    extra = ungrounded(text, facts)
    if extra:
        logger.warning("assistant model introduced numbers %s; template answer used",
                       sorted(str(n) for n in extra))
        return Rephrased(answer, False, "ungrounded_number")
    return Rephrased(text, True)
