"""The `advisor` command line: recommend, ask, rules, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import click

from advisor.atomic import write_text_atomic
from advisor.engine import recommend
from advisor.recommendation import Recommendation
from advisor.rules import load_rulebook
from advisor.schema import DescriptorError, descriptor_json_schema, load_descriptor


def _fail(message: str) -> None:
    """One clear line on stderr, exit code 2."""
    click.echo(f"advisor: error: {message}", err=True)
    sys.exit(2)


def _fmt(x: float) -> str:
    return f"{x:g}"


def summary(rec: Recommendation) -> str:
    """The readable answer: the pick, why, what would change it, risks, costs."""
    scores = " · ".join(f"{a} {_fmt(s)}" + (" (n/a)" if a in rec.excluded else "") for a, s in rec.scores.items())
    lines = [
        f"{rec.name}: {rec.approach.upper()} — {rec.architecture} → zoo model '{rec.model}' "
        f"(confidence {rec.confidence:.2f})",
        f"  scores: {scores}",
        f"  plan: {rec.plan.strategy}" + "".join(f"; {s.id}" for s in rec.plan.steps),
        "", "Why:",
        *[f"  - {w}" for w in rec.why],
    ]
    if rec.counterfactuals:
        lines += ["", "What would change the answer:", *[f"  - {c.text}" for c in rec.counterfactuals]]
    if rec.risks:
        lines += ["", "Risks:", *[f"  - {r.id}: {r.detail} Mitigation: {r.mitigation}" for r in rec.risks]]
    if rec.alternatives:
        lines += ["", "Alternatives:", *[f"  - {a.approach} ({_fmt(a.score)}): {a.architecture} → {a.model}"
                                         for a in rec.alternatives]]
    lines += ["", "Rough training cost on the declared hardware:"]
    lines += [f"  - {e.approach}: ~{e.train_minutes:g} min, ~{e.memory_gb:g} GB on {e.device} "
              f"({'; '.join(e.assumptions)})" for e in rec.estimates]
    lines += ["", f"{len(rec.trace)} rules fired; `advisor recommend --json` shows the full trace."]
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """ml-advisor: classical ML, deep learning, or both? Explained, rule by rule."""


@cli.command("recommend")
@click.argument("descriptor", metavar="FILE.yaml")
@click.option("--json", "as_json", is_flag=True, help="Print the full Recommendation as JSON.")
def recommend_cmd(descriptor: str, as_json: bool) -> None:
    """Recommend an approach for a YAML project descriptor."""
    try:
        rec = recommend(load_descriptor(descriptor))
    except DescriptorError as exc:
        _fail(str(exc))
    click.echo(rec.model_dump_json(indent=2) if as_json else summary(rec))


@cli.command("ask")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the descriptor to this YAML file.")
@click.option("--json", "as_json", is_flag=True, help="Print the Recommendation as JSON at the end.")
def ask_cmd(output: Optional[str], as_json: bool) -> None:
    """Answer a few questions; get a descriptor and a recommendation."""
    import yaml

    from advisor.questionnaire import ask_descriptor

    if output and not Path(output).resolve().parent.is_dir():
        _fail(f"{output}: folder {Path(output).parent} does not exist")
    try:
        desc = ask_descriptor()
    except click.Abort:
        _fail("questionnaire ended before all questions were answered (no input left)")
    except ValueError as exc:
        _fail(str(exc).splitlines()[0])
    text = yaml.safe_dump(desc.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
    if output:
        try:
            write_text_atomic(Path(output), text)
        except OSError as exc:
            _fail(f"{output}: cannot write ({exc.strerror or exc})")
        click.echo(f"\nwrote {output}", err=True)
    else:
        click.echo("\n# descriptor\n" + text)
    rec = recommend(desc)
    click.echo(rec.model_dump_json(indent=2) if as_json else "\n" + summary(rec))


@cli.command("rules")
@click.option("--json", "as_json", is_flag=True, help="Print the rulebook as JSON.")
def rules_cmd(as_json: bool) -> None:
    """List the rulebook: every rule's id, condition, effect, section and reason."""
    book = load_rulebook()
    if as_json:
        click.echo(book.model_dump_json(indent=2))
        return
    click.echo(f"rulebook {book.version}: {len(book.rules)} rules\n")
    for rule in book.rules:
        click.echo(f"{rule.id}  [{rule.factor}] ({rule.section})\n  when   {rule.when}\n  effect {rule.effect_text()}"
                   f"\n  why    {rule.reason}\n")


@cli.command("schema")
def schema_cmd() -> None:
    """Print the descriptor's JSON schema."""
    click.echo(json.dumps(descriptor_json_schema(), indent=2))


def main() -> None:
    """Console entry point; click's own usage errors also exit 2."""
    cli(prog_name="advisor")


if __name__ == "__main__":
    main()
