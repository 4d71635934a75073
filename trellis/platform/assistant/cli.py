"""Commands of the assistant area: ``trellis assistant build-model``."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from trellis.platform.web import settings


@click.group("assistant")
def assistant_group():
    """The AI customer manager: its recogniser's saved model."""


@assistant_group.command("build-model")
@click.option("--force", is_flag=True, help="Fit again even when the saved model is current.")
@with_appcontext
def build_model(force):
    """Fit the recogniser and save it in the instance (skipped when it is current)."""
    # Late: jieba, pypinyin and scikit-learn are heavy for the other commands.
    from trellis.assistant import model

    directory = model.folder(settings().instance_path)
    started = time.perf_counter()
    if force:
        file = model.save(model.fit(), directory, model.fingerprint())
        fitted = True
    else:
        fitted = model.ensure(directory)[1]
        file = model.path(directory, model.fingerprint())
    click.echo(f"{'fitted and saved' if fitted else 'already current'}: {file} "
               f"({time.perf_counter() - started:.1f} s)")


commands = [assistant_group]
