from trellis.platform import create_app

app = create_app()

# The assistant's recogniser, before a worker serves: loaded from the instance's saved model
# (a few milliseconds, plus jieba's dictionary), or fitted and saved there once (about 12 s)
# when `trellis assistant build-model` or the task worker has not done so yet.
from trellis.assistant import intents, model  # noqa: E402

intents.default(model.folder(app.extensions["trellis.settings"].instance_path))
