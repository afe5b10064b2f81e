"""``enlace up|down|status|demo|trace``: the whole bus on this machine, for newcomers and operators."""

from __future__ import annotations

import typer

from bus import load_settings
from ops.stack import Stack, require_stack, run_demo, stack_dir, status_tables, trace_report

__all__ = ["register_stack_commands"]


def _say(line: str) -> None:
    typer.echo(line, err=True)


def up() -> None:
    """Start Kafka, the registry, the schemas, the agencies' keys, the four agencies and Zipkin.

    Then prints `kafka: BOOTSTRAP`, `bridge: URL` (the HTTP bridge, mutual TLS) and, as the last three
    lines, the URLs: `portal: URL`, `registry: URL`, `dashboard: URL`. Each agency's Kafka client properties file:
    `enlace agency client-config URN`.
    """
    settings = load_settings()
    running = Stack.load()
    if running is not None and any(p.alive() for p in running.processes):
        _say("The bus is already running (stop it with: enlace down).")
    else:
        if running is not None:
            running.down(say=_say)  # a stale state file whose processes died
        stack = Stack()
        stack.up(settings, say=_say)
        running = stack
        _say(f"Up. Logs and data in {stack_dir()}. Try: enlace demo; stop with: enlace down")
    typer.echo(f"kafka: {running.bootstrap_servers}")
    if "bridge" in running.urls:
        typer.echo(f"bridge: {running.urls['bridge']}")
    for name in ("portal", "registry", "dashboard"):
        typer.echo(f"{name}: {running.urls[name]}")


def down() -> None:
    """Stop everything `enlace up` started (and only that)."""
    stack = Stack.load()
    if stack is None:
        _say("Nothing to stop: the bus is not running here.")
        return
    stack.down(say=_say)
    _say("Stopped.")


def status() -> None:
    """Topics and end offsets, agency group lag, dead-letter depth and each process's health."""
    typer.echo(status_tables(require_stack()))


def demo(
    people: int = typer.Option(30, "--people", min=1, max=40, help="How many citizens take part."),
    timeout: float = typer.Option(120.0, "--timeout", min=5, help="Seconds to wait for requests to settle."),
) -> None:
    """Drive a scripted scenario through the portal's API and print a summary; last line `trace: <id>`."""
    from ops.stack import bus_status

    stack = require_stack()
    result = run_demo(stack.urls["portal"], accounts=stack.dev_accounts(), people=people, timeout_s=timeout, say=_say)
    counts = result.counts()
    services = [v for v in result.final.values() if v["kind"] == "service"]
    infos = [v for v in result.final.values() if v["kind"] == "information"]
    dead = sum(bus_status(stack.client_config())["dead_letters"].values())
    typer.echo(f"requests: {result.submitted} sent, {len(result.accepted)} accepted, {len(result.refused)} refused")
    for curp, errors in result.refused:
        for error in errors:
            typer.echo(f"  refused {curp}: {error['field']}: {error['message']}")
    typer.echo(
        f"cases: {sum(1 for v in services if v['case_id'])} opened, {counts['resolved']} resolved, "
        f"{counts['waiting for you']} waiting for the citizen, {counts['case opened']} with a caseworker"
    )
    typer.echo(f"answers: {sum(1 for v in infos if v['status'] == 'answered')} of {len(infos)} information requests")
    if "bridge" in stack.urls:
        from ops.stack import BRIDGE_AGENCIES, archive_through_bridge, bridge_client_context

        answered = sum(1 for v in infos if v["status"] == "answered")
        context = bridge_client_context(stack.bridge_dir, BRIDGE_AGENCIES[0])
        archived = archive_through_bridge(stack.urls["bridge"], context, expected=answered, timeout_s=60, say=_say)
        typer.echo(f"archive (bridge only): {archived} answers received through the bridge, {answered} expected")
    typer.echo(f"dead letters: {dead}")
    if result.unsettled:
        typer.echo(f"unsettled after {timeout:.0f}s: {len(result.unsettled)} (see enlace status)")
    typer.echo(f"dashboard: {stack.urls['dashboard']}")
    typer.echo(f"trace: {result.trace_id or 'none (no resolved tax certificate request)'}")
    if result.unsettled or not result.trace_id:
        raise typer.Exit(1)


def trace(ce_id: str = typer.Argument(..., help="A record's ce_id (or a trace id).")) -> None:
    """The hops of one record across agencies: who sent, who received, when, outcome (from Zipkin)."""
    stack = require_stack()
    trace_id, found = trace_report(stack.urls["zipkin"], ce_id)
    if trace_id is None:
        typer.echo(f"no trace holds {ce_id} (is it a ce_id the agencies exchanged?)", err=True)
        raise typer.Exit(1)
    typer.echo(f"trace {trace_id}: {len(found)} hop(s), * = {ce_id}; open {stack.urls['dashboard']}traces/{trace_id}")
    for hop in found:
        typer.echo(hop.line(asked=ce_id))


def register_stack_commands(app: typer.Typer) -> None:
    """Add the stack's commands to the top level of ``enlace``."""
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command("demo")(demo)
    app.command("trace")(trace)
