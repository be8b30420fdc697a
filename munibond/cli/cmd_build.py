"""``munibond build``: compile the contracts, or check the committed artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.cli.options import state_of, verbose_option
from munibond.exceptions import BuildError

__all__ = ["build"]


@click.command("build")
@click.option("--force", is_flag=True, help="Compile even when the artifacts are up to date.")
@click.option("--check", "check_only", is_flag=True,
              help="Compile into a temporary folder and fail, listing the differences, unless "
                   "the committed artifacts are reproduced byte for byte (writes nothing).")
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="The source checkout [default: the one munibond runs from].")
@verbose_option
@click.pass_context
def build(ctx: click.Context, force: bool, check_only: bool, project: Path | None) -> None:
    """Compile contracts/ into munibond/artifacts/ (skipped when they are up to date)."""
    from munibond import build as builder

    state = state_of(ctx)
    root = builder.find_project_root(project)
    if check_only:
        if force:
            raise click.UsageError("--check always compiles afresh: --force adds nothing")
        state.note(f"compiling {root / 'contracts'} into a temporary folder to compare with "
                   f"{root / builder.ARTIFACTS_SUBDIR}")
        differences = builder.check(root)
        if differences:
            for line in differences:
                state.note(f"  {line}")
            raise BuildError(
                f"{len(differences)} artifact file(s) are not what the sources compile to (listed "
                f"above): run `munibond build` and commit munibond/artifacts/")
        state.say(f"{builder.ARTIFACTS_SUBDIR} reproduced byte for byte from the sources")
        return
    result = builder.build(root, force=force)
    for warning in result.warnings:
        state.note(f"warning: {warning}")
    for removed in result.removed:
        state.note(f"removed the stale artifact {removed}")
    state.say(result.message)
