"""jieba's dictionary cache lives in the instance's assistant folder, private to its user
(jieba's default, ``/tmp/jieba.cache``, is one file shared by every user of the machine:
anyone could plant a cache that every process then loads)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from trellis.assistant import intents

ROOT = Path(__file__).resolve().parents[2]

SEGMENT = """
import json, jieba
from trellis.assistant import intents
{setup}
words = intents.words("我的额度是多少")
print(json.dumps({{"tmp_dir": jieba.dt.tmp_dir, "words": words}}))
"""


def _segment(instance: Path, setup: str = "") -> dict:
    env = dict(os.environ, TRELLIS_INSTANCE_PATH=str(instance), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SEGMENT.format(setup=setup)], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_cache_is_kept_in_the_instance_folder_with_private_permissions(tmp_path):
    instance = tmp_path / "instance"
    got = _segment(instance)
    folder = instance / "assistant" / intents.JIEBA_FOLDER
    assert Path(got["tmp_dir"]) == folder.resolve()
    assert (folder / "jieba.cache").is_file()  # written there, not in the shared /tmp
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "额度" in got["words"]
    # the next process reads the same cache
    assert _segment(instance)["words"] == got["words"]


def test_the_model_folder_given_is_used(tmp_path):
    folder = tmp_path / "models" / intents.JIEBA_FOLDER
    got = _segment(tmp_path / "instance",
                   f"intents.use_cache_folder({str(folder)!r})")
    assert Path(got["tmp_dir"]) == folder
    assert (folder / "jieba.cache").is_file()
    assert not (tmp_path / "instance" / "assistant").exists()


def test_a_loose_folder_is_tightened_and_a_link_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o777)
    os.chmod(loose, 0o777)
    assert intents.private_folder(loose) == loose
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    link = tmp_path / "link"
    link.symlink_to(loose, target_is_directory=True)
    assert intents.private_folder(link) is None
    plain = tmp_path / "file"
    plain.write_text("x")
    assert intents.private_folder(plain) is None


def test_an_unusable_folder_falls_back_to_a_private_temporary_one(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path, target_is_directory=True)
    intents.use_cache_folder(link)
    try:
        folder = intents.jieba_cache_folder()
    finally:
        intents._cache_folder = None
    assert folder != link and folder.is_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.rmdir()
