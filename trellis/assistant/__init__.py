"""The AI customer manager (no Flask): recognise what a vendor or anchor clerk asks,
answer from their own records through the areas' services, or hand over to the RM.

- :mod:`.intents`   keyword rules for handover triggers, then a character/pinyin n-gram
  classifier blended with BM25 retrieval over labelled questions and the FAQ texts.
- :mod:`.slots`     dates and yuan amounts in a question.
- :mod:`.answers`   templates filled only from service calls on the asker's own firm.
- :mod:`.grounding` the figure check: no number in an answer that is not in its facts.
- :mod:`.llm`       optional bank-hosted model (OpenAI-compatible) that only rephrases.
- :mod:`.service`   conversations, messages and handover tickets.
"""
