"""``soleflip-analytics dashboards``: export the templates' payloads, push them into Metabase,
or preview them as a static HTML page drawn from the live views."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from soleflip_analytics.cli.common import Commands, connected, database_url_option
from soleflip_analytics.dashboards.client import MetabaseClient
from soleflip_analytics.dashboards.columns import DEFAULT_CURRENCY, CurrencyError, check_currency
from soleflip_analytics.dashboards.export import export
from soleflip_analytics.dashboards.payloads import METABASE_VERSION
from soleflip_analytics.dashboards.preview import CardsFailedError, write_preview
from soleflip_analytics.dashboards.push import COLLECTION_NAME, push
from soleflip_analytics.dashboards.templates import DASHBOARDS


@click.group("dashboards", cls=Commands)
def dashboards() -> None:
    """Metabase dashboard templates (Executive, Product Analytics, Platform Performance,
    Inventory Management) over the analytics views."""


def _currency(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    try:
        return check_currency(value)
    except CurrencyError as error:
        raise click.BadParameter(str(error)) from error


currency_option = click.option(
    "--currency",
    default=DEFAULT_CURRENCY,
    show_default=True,
    envvar="SOLEFLIP_CURRENCY",
    show_envvar=True,
    callback=_currency,
    help="The business currency money is shown in (ISO 4217 code).",
)


@dashboards.command("export")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("metabase-dashboards"),
    show_default=True,
    help="Directory to write the payloads into.",
)
@click.option(
    "--database-id",
    type=click.IntRange(min=1),
    help="Metabase id of the database holding the analytics views (else import.sh sets it).",
)
@currency_option
def export_command(out: Path, database_id: int | None, currency: str) -> None:
    """Write each dashboard's REST API payloads (cards, dashboard, placements) as JSON."""
    written = export(out, database_id, currency)
    click.echo(
        f"Wrote {len(written)} files for {len(DASHBOARDS)} dashboards to {out} "
        f"(Metabase {METABASE_VERSION} API)."
    )
    database = database_id or "DATABASE_ID"
    click.echo(f"Import them: MB_URL=... MB_API_KEY=... sh {out / 'import.sh'} {database}")


@dashboards.command("push")
@click.option("--metabase-url", required=True, envvar="METABASE_URL", show_envvar=True,
              help="Where Metabase answers, e.g. http://localhost:3000.")
@click.option("--api-key", envvar="METABASE_API_KEY", show_envvar=True,
              help="A Metabase API key (Admin settings -> Authentication -> API keys).")
@click.option(
    "--username", envvar="METABASE_USERNAME", show_envvar=True, help="Login (with --password)."
)
@click.option("--password", envvar="METABASE_PASSWORD", show_envvar=True,
              help="Password of --username.")
@click.option(
    "--database",
    help="Name of the Metabase database holding the analytics views "
    "(default: the only PostgreSQL database that is not a sample).",
)
@click.option(
    "--collection",
    default=COLLECTION_NAME,
    show_default=True,
    help="Top-level collection that holds the templates' cards and dashboards.",
)
@click.option(
    "--sync-timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds to wait for Metabase's schema sync to find the views and their columns.",
)
@currency_option
def push_command(
    metabase_url: str,
    api_key: str | None,
    username: str | None,
    password: str | None,
    database: str | None,
    collection: str,
    sync_timeout: float,
    currency: str,
) -> None:
    """Create or update the templates' collection, cards and dashboards in a Metabase,
    and the views' descriptions in its data model. Running it again changes nothing."""
    by_key = bool(api_key) and not (username or password)
    by_login = not api_key and bool(username and password)
    if not (by_key or by_login):
        raise click.UsageError("Give either --api-key, or --username and --password.")
    if api_key:
        connect = partial(MetabaseClient.with_api_key, metabase_url, api_key)
    else:
        connect = partial(MetabaseClient.login, metabase_url, username, password)
    result = push(connect, database, collection, sync_timeout, currency=currency)
    for action in result.actions:
        click.echo(action)
    described = result.data_model
    if described.skipped:
        click.echo(f"Warning: data model left alone: {described.skipped}", err=True)
    else:
        click.echo(
            f"Data model: wrote {len(described.written)} descriptions, kept "
            f"{len(described.kept)} already set."
        )
    if described.missing:
        click.echo(
            f"Warning: after {sync_timeout:g} s Metabase had not synced "
            f"{'; '.join(described.missing)}; their descriptions are not written. Push again "
            "later, or give --sync-timeout more seconds.",
            err=True,
        )
    click.echo(f"{result.changes} changes.")


@dashboards.command("preview")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dashboards-preview.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option(
    "--dashboard",
    "slugs",
    multiple=True,
    type=click.Choice([dashboard.slug for dashboard in DASHBOARDS], case_sensitive=False),
    help="Only this dashboard (repeatable; default: all four).",
)
@database_url_option
@currency_option
def preview_command(
    out: Path, slugs: tuple[str, ...], database_url: str | None, currency: str
) -> None:
    """Run every card against the live views (filters at their defaults) and write one
    self-contained HTML page of the dashboards, which opens offline, without Metabase.
    Exits 1 when any card failed (the page is written all the same)."""
    selected = [dashboard for dashboard in DASHBOARDS if dashboard.slug in slugs] or None
    with connected(database_url) as engine:
        try:
            written = write_preview(engine, out, selected, currency, strict=True)
        except CardsFailedError as error:
            raise click.ClickException(
                f"{error}. The page was written, drawing each error; check the role's "
                "privileges and `soleflip-analytics health`") from error
    click.echo(f"Wrote the dashboards preview to {written}")
