from trellis.platform import create_app

app = create_app()

# The assistant's recogniser (jieba's dictionary, the BM25 index and the classifier) takes
# a few seconds to build; build it here, once per worker (once in all with gunicorn
# --preload), rather than in the first question's request.
from trellis.assistant import intents  # noqa: E402

intents.default()
