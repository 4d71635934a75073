"""The AI customer manager (no Flask): recognise what a vendor or anchor clerk asks,
answer from their own records through the areas' services, or hand over to the RM.

- :mod:`.intents`   jieba segmentation + BM25 retrieval over labelled examples and the
  product's FAQ texts, with keyword rules for handover triggers.
- :mod:`.slots`     dates and yuan amounts in a question.
- :mod:`.answers`   templates filled only from service calls on the asker's own firm.
- :mod:`.grounding` the figure check: no number in an answer that is not in its facts.
- :mod:`.llm`       optional bank-hosted model (OpenAI-compatible) that only rephrases.
- :mod:`.service`   conversations, messages and handover tickets.
"""
