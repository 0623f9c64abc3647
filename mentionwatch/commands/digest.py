"""The weekly reputation digest: preview it as a web page, or mail it to the brand's managers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mentionwatch.context import app_state, fail

app = typer.Typer()
console = Console()


@app.command("digest")
def digest(
    ctx: typer.Context,
    brand: Annotated[str, typer.Option("--brand", "-b", help="The brand's name in the config.")],
    week: Annotated[
        str | None,
        typer.Option(help="ISO week, e.g. 2026-W47 (default: the last complete week in the brand's time zone)."),
    ] = None,
    preview: Annotated[
        Path | None,
        typer.Option(help="Write the email as an HTML file, with the chart images beside it.", dir_okay=False),
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Mail it to the brand's digest_recipients.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --send: send even if this week was sent.")] = False,
) -> None:
    """Build a brand's weekly reputation digest; preview it in a browser or mail it.

    Mailing is once per brand and week: a second --send does nothing unless --force.

    Example: mentionwatch digest --brand Acme --week 2026-W47 --preview digest.html
    """
    if preview is None and not send:
        fail("nothing to do: pass --preview FILE to write the digest as a web page, --send to mail it, or both")
    # matplotlib and Jinja: only when a digest is built.
    from alerts.digest import DigestError, IsoWeek, build_digest, send_digest, write_preview

    state = app_state(ctx)
    try:
        brand_config = state.config.brand(brand)
    except KeyError:
        fail(f"no brand {brand!r} in {state.config_path} (brands: {', '.join(b.name for b in state.config.brands)})")
    try:
        iso_week = IsoWeek.parse(week) if week else IsoWeek.last_complete(brand_config.tz)
    except ValueError as exc:
        fail(f"--week: {exc}")
    state.sync_config()
    try:
        if preview is not None:
            files = write_preview(build_digest(state.engine, brand_config, iso_week), preview)
            console.print(f"Wrote the {brand} digest for {iso_week} to {files[0]} ({len(files) - 1} images beside it)")
        if send:
            result = send_digest(state.engine, state.settings, brand_config, iso_week, force=force)
            if result.sent:
                console.print(f"Sent the {brand} digest for {iso_week} to {', '.join(result.recipients)}")
            else:
                console.print(
                    f"The {brand} digest for {iso_week} was already sent at {result.sent_at:%Y-%m-%d %H:%M} UTC; "
                    "pass --force to send it again"
                )
    except DigestError as exc:
        fail(str(exc))
