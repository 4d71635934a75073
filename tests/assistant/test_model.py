"""The recogniser's saved model: loaded, it answers exactly as the fitted one; it is named by
a hash of the training data and the code, so other data makes it stale and it is fitted
again; it is numpy arrays read without pickle; the command and the worker's task make it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from flask.cli import ScriptInfo

from trellis.assistant import intents, model
from trellis.assistant.tasks import build_model_task
from trellis.config import Settings
from trellis.platform.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fitted():
    """The shipped data's recogniser fitted in this process (no directory: never loaded)."""
    found = model.recogniser()
    assert hasattr(found, "classifier"), "expected a fitted recogniser, not a loaded one"
    return found


@pytest.fixture
def small_data(tmp_path):
    """A small copy of the training files (fits in a fraction of a second)."""
    data = tmp_path / "data"
    data.mkdir()
    for name in (*intents.TRAINING, intents.FAQ):
        lines = (intents.DATA / name).read_text(encoding="utf-8").splitlines()
        (data / name).write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")
    return data


def test_loaded_model_answers_exactly_as_the_fitted_one(fitted, tmp_path):
    key = model.fingerprint()
    file = model.save(fitted, tmp_path, key)
    assert file.name == f"recogniser-{key}.npz"
    loaded = model.load(file, key)
    assert not hasattr(loaded, "classifier")      # nothing fitted: arrays only
    questions = [text for _, text in intents.documents()] + [
        "我的额渡是多少", "lilv duoshao", "my limt pls", "冷静期 提前还款 利息", "转人工"]
    assert len(questions) > 1000
    for text in questions:
        assert loaded.recognise(text) == fitted.recognise(text), text    # exact confidence
        assert loaded.probabilities(text) == fitted.probabilities(text), text
        assert loaded.correct(text) == fitted.correct(text), text


def test_classifier_probabilities_are_sklearns(fitted):
    r = fitted
    r_blend, r.blend = r.blend, 1.0
    try:
        for text in ("我的额度是多少", "lilv duoshao", "why was I declined"):
            row = r.vectoriser.transform([intents.features(intents.normalise(text), r.english)])
            want = dict(zip(r.classes, r.classifier.predict_proba(row)[0], strict=True))
            got = r.probabilities(text)
            assert got == pytest.approx(want)
    finally:
        r.blend = r_blend


def test_a_stale_model_is_fitted_again(small_data, tmp_path):
    folder = tmp_path / "instance" / "assistant"
    first, saved = model.ensure(folder, small_data)
    old = model.path(folder, model.fingerprint(small_data))
    assert saved and old.exists()
    again, saved = model.ensure(folder, small_data)
    assert not saved                                          # loaded, not fitted
    assert again.recognise("额度是多少") == first.recognise("额度是多少")

    changed = tmp_path / "changed"
    changed.mkdir()
    for name in (*intents.TRAINING, intents.FAQ):
        (changed / name).write_bytes((small_data / name).read_bytes())
    with (changed / "examples.tsv").open("a", encoding="utf-8") as out:
        out.write("grade\t我的信用等级查一下\n")
    assert model.fingerprint(changed) != model.fingerprint(small_data)
    refit, saved = model.ensure(folder, changed)
    assert saved
    assert len(refit.labels) == len(first.labels) + 1         # fitted on the new data
    assert model.path(folder, model.fingerprint(changed)).exists()
    assert not old.exists()                                   # the stale one is removed
    assert sorted(p.name for p in folder.iterdir()) == [
        f"recogniser-{model.fingerprint(changed)}.npz"]


def test_the_fingerprint_follows_the_code_and_libraries(small_data, monkeypatch):
    before = model.fingerprint(small_data)
    model.fingerprint.cache_clear()
    monkeypatch.setattr(model, "FORMAT", model.FORMAT + 1)
    assert model.fingerprint(small_data) != before
    model.fingerprint.cache_clear()
    monkeypatch.undo()
    monkeypatch.setattr(model.metadata, "version", lambda name: "0.0.0")
    assert model.fingerprint(small_data) != before
    model.fingerprint.cache_clear()


def test_an_unsound_file_is_fitted_again_never_unpickled(small_data, tmp_path):
    folder = tmp_path / "assistant"
    key = model.fingerprint(small_data)
    file = model.path(folder, key)
    folder.mkdir()
    # an object array can only be read with pickle: refused, and the model fitted again
    np.savez(file, fingerprint=np.array(key), labels=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        model.load(file, key)
    _, saved = model.ensure(folder, small_data)
    assert saved
    with np.load(file, allow_pickle=False) as arrays:           # every array without pickle
        assert {arrays[n].dtype.kind for n in arrays.files} <= {"U", "f", "i"}
    # another model's arrays under this name, and a cut file: fitted again too
    other = dict(np.load(file, allow_pickle=False))
    other["fingerprint"] = np.array("0" * 20)
    np.savez(file, **other)
    assert model.ensure(folder, small_data)[1]
    file.write_bytes(file.read_bytes()[:1000])
    assert model.ensure(folder, small_data)[1]
    assert model.load(file, key).labels


def test_loading_needs_neither_scikit_learn_nor_scipy(fitted, tmp_path):
    model.save(fitted, tmp_path, model.fingerprint())
    probe = ("import json, sys\n"
             "from trellis.assistant import model\n"
             f"r, saved = model.ensure({str(tmp_path)!r})\n"
             "print(json.dumps([saved, r.recognise('我的额度是多少').intent,"
             " sorted(m for m in ('sklearn', 'scipy', 'rank_bm25') if m in sys.modules)]))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == [False, "limit", []]


def test_the_command_and_the_task_save_it_once(fitted, tmp_path, app):
    settings = Settings.from_env({}, env="test", instance_path=str(tmp_path / "inst"))
    folder = model.folder(settings.instance_path)
    assert not model.up_to_date(folder)
    assert "fitted" in str(build_model_task(session_factory=None, settings=settings))
    assert model.up_to_date(folder)
    assert "already current" in str(build_model_task(session_factory=None, settings=settings))

    runner = app.test_cli_runner()
    result = runner.invoke(main, ["assistant", "build-model"],
                           obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert "fitted and saved" in result.output          # the app's own instance
    assert model.up_to_date(model.folder(app.extensions["trellis.settings"].instance_path))
    result = runner.invoke(main, ["assistant", "build-model"],
                           obj=ScriptInfo(create_app=lambda: app))
    assert "already current" in result.output
