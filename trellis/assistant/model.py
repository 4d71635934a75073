"""The assistant's recogniser as a saved model: fitted once, loaded by every process.

Fitting the recogniser (:class:`trellis.assistant.intents.Recognizer`: BM25 over the
training questions and a logistic regression over their character, word and pinyin
n-grams) takes about 12 s of CPU; loading its arrays takes a few milliseconds. The fitted
arrays are saved as one ``.npz`` file (numpy arrays of numbers and strings only, written by
this process with ``np.savez`` and read back with ``allow_pickle=False``: no pickle, no
code runs on loading) in ``<instance>/assistant/``, named after :func:`fingerprint`, a hash
of the training data, this code and the versions of the libraries the fit depends on.
A file of another fingerprint is stale: it is never loaded, and it is removed when the
current one is saved. Fitting is deterministic (the same data, code and libraries give
the same arrays), so every process that loads a file answers as a fresh fit would.

Who fits it: ``trellis assistant build-model``; the task worker (``assistant_model``,
queued by ``trellis serve`` when the file is missing); ``wsgi.py`` before a production
worker serves; and, only if none of these has run yet, the first question itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from trellis.assistant import intents

logger = logging.getLogger(__name__)

#: The file layout's version: bump it when :meth:`Recognizer.state` changes its arrays.
FORMAT = 1
#: The folder of the instance that holds the saved model.
FOLDER = "assistant"
PREFIX = "recogniser-"
#: Libraries whose version changes what a fit gives (segmentation, pinyin, the solver).
LIBRARIES = ("numpy", "scipy", "scikit-learn", "jieba", "pypinyin", "rank-bm25")

_lock = threading.Lock()
_memory: dict[str, intents.Recognizer] = {}


def folder(instance_path: str | Path) -> Path:
    """Where the saved model of the instance at *instance_path* lives."""
    return Path(instance_path) / FOLDER


@lru_cache(maxsize=8)
def fingerprint(data: Path = intents.DATA) -> str:
    """A hash (20 hex digits) of what the fitted model depends on: the training and FAQ
    files in *data*, the source of the recogniser and of this module, the file format and
    the versions of :data:`LIBRARIES`. Computed once per process and data folder."""
    digest = hashlib.sha256(f"trellis assistant recogniser, format {FORMAT}\n".encode())
    for name in (*intents.TRAINING, intents.FAQ):
        body = (data / name).read_bytes()
        digest.update(f"data {name} {len(body)}\n".encode())
        digest.update(body)
    for source in (intents.__file__, __file__):
        body = Path(source).read_bytes()
        digest.update(f"code {Path(source).name} {len(body)}\n".encode())
        digest.update(body)
    for library in LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"library {library} {version}\n".encode())
    return digest.hexdigest()[:20]


def path(directory: str | Path, key: str) -> Path:
    """The file of the model with fingerprint *key* in *directory*."""
    return Path(directory) / f"{PREFIX}{key}.npz"


def fit(data: Path = intents.DATA) -> intents.Recognizer:
    """A recogniser fitted on the training and FAQ files in *data* (about 12 s of CPU)."""
    return intents.Recognizer(intents.documents(data))


def save(recogniser: intents.Recognizer, directory: str | Path, key: str) -> Path:
    """Write *recogniser*'s arrays as the model of fingerprint *key* in *directory*
    (atomically: a reader sees the whole file or none), remove the stale models beside it,
    and return the file's path."""
    import numpy as np

    target = path(directory, key)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = recogniser.state()
    state["fingerprint"] = np.array(key)
    handle, temporary = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".npz",
                                         dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **state)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    for old in target.parent.glob(f"{PREFIX}*.npz"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def load(file: str | Path, key: str) -> intents.Recognizer:
    """The recogniser saved in *file*, which must hold the model of fingerprint *key*.
    Raises OSError when the file cannot be read and ValueError when it is not such a model
    (another fingerprint, a missing or ill-fitting array, or anything that needs pickle)."""
    import numpy as np

    try:
        with np.load(file, allow_pickle=False) as arrays:
            if str(arrays["fingerprint"]) != key:
                raise ValueError(f"{file} holds another model than {key}")
            return intents.Recognizer.from_state({name: arrays[name] for name in arrays.files})
    except KeyError as exc:
        raise ValueError(f"{file} lacks {exc}") from None
    except (EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{file} is not a saved model: {exc}") from None


def ensure(directory: str | Path, data: Path = intents.DATA) -> tuple[intents.Recognizer, bool]:
    """The current model of *directory*: loaded when its file is there and sound, else
    fitted on *data* (or taken from this process's memory, where the same fingerprint
    means the same model) and saved. Returns the recogniser and whether it was saved now."""
    intents.use_cache_folder(Path(directory) / intents.JIEBA_FOLDER)
    key = fingerprint(data)
    file = path(directory, key)
    if file.exists():
        try:
            return load(file, key), False
        except (OSError, ValueError) as exc:
            logger.warning("assistant model %s unusable (%s): fitting it again", file, exc)
    recogniser = _memory.get(key) or fit(data)
    try:
        save(recogniser, directory, key)
    except OSError as exc:  # a read-only instance still answers, from this process's fit
        logger.warning("assistant model not saved in %s: %s", directory, exc)
    return recogniser, True


def recogniser(directory: str | Path | None = None,
               data: Path = intents.DATA) -> intents.Recognizer:
    """The recogniser of *data*, once per process: kept in memory by fingerprint, else
    loaded from or fitted into *directory* (:func:`ensure`), or fitted in memory alone when
    *directory* is None."""
    if directory is not None:
        intents.use_cache_folder(Path(directory) / intents.JIEBA_FOLDER)
    key = fingerprint(data)
    found = _memory.get(key)
    if found is not None:
        return found
    with _lock:
        found = _memory.get(key)
        if found is None:
            found = ensure(directory, data)[0] if directory is not None else fit(data)
            _memory[key] = found
    return found


def up_to_date(directory: str | Path, data: Path = intents.DATA) -> bool:
    """Whether *directory* holds the current model's file (not opened)."""
    return path(directory, fingerprint(data)).exists()
