"""Reads a dashboard JSON file with Grafana's own dashboard model (the
Grafana Foundation SDK, grafana-foundation-sdk on PyPI) and prints what it
found, as JSON: {"panels": N, "targets": N, "variables": N, "problems": [...]}.

What counts as a problem:
- the model cannot read the file (an exception);
- a key of the file that the model does not keep when it writes the
  dashboard back (a field Grafana's schema does not have: a typo, or one put
  at the wrong level), apart from the import metadata `__inputs` and
  `__requires`, which live outside the dashboard model;
- a value the model writes back differently (a type it would coerce);
- a panel whose options or field config are not the typed ones of its panel
  plugin, or a query that is not a typed Prometheus query with an expression.
"""

import enum
import json
import sys
import typing

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus, timeseries

IMPORT_METADATA = {"__inputs", "__requires"}


def differences(original, written, path):
    if isinstance(original, dict):
        if not isinstance(written, dict):
            yield f"{path}: the model wrote {type(written).__name__}, not an object"
            return
        for key, value in original.items():
            if path == "" and key in IMPORT_METADATA:
                continue
            if key not in written:
                yield f"{path}/{key}: not in Grafana's dashboard model (dropped on write)"
            else:
                yield from differences(value, written[key], f"{path}/{key}")
    elif isinstance(original, list):
        if not isinstance(written, list) or len(written) != len(original):
            yield f"{path}: the model wrote a different list"
            return
        for index, (a, b) in enumerate(zip(original, written)):
            yield from differences(a, b, f"{path}/{index}")
    elif original != written:
        yield f"{path}: {original!r} written back as {written!r}"


def enum_classes(hint):
    """The enum classes a type hint allows (through Optional/Union/list)."""
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return [hint]
    found = []
    for argument in typing.get_args(hint):
        found.extend(enum_classes(argument))
    return found


def bad_enums(value, path, seen):
    """Fields typed as an enum in the model whose value is none of its members
    (the model reads them as plain values, so this is checked here)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from bad_enums(item, f"{path}/{index}", seen)
        return
    if not hasattr(value, "__dict__") or id(value) in seen or isinstance(value, enum.Enum):
        return
    seen.add(id(value))
    try:
        hints = typing.get_type_hints(type(value))
    except Exception:
        hints = {}
    for name, field in vars(value).items():
        allowed = enum_classes(hints.get(name))
        if allowed and field is not None and not isinstance(field, enum.Enum):
            members = [m.value for cls in allowed for m in cls]
            if field not in members:
                yield f"{path}/{name}: {field!r} is not one of {members}"
        yield from bad_enums(field, f"{path}/{name}", seen)


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        original = json.load(file)
    plugins.register_default_plugins()
    problems = []
    try:
        parsed = model.Dashboard.from_json(original)
    except Exception as error:  # the model refused the file
        print(json.dumps({"panels": 0, "targets": 0, "variables": 0,
                          "problems": [f"the model cannot read it: {error!r}"]}))
        return
    written = json.loads(json.dumps(parsed, cls=JSONEncoder))
    problems.extend(differences(original, written, ""))
    problems.extend(bad_enums(parsed, "", set()))

    targets = 0
    for panel in parsed.panels or []:
        where = f"panel {panel.id_val} `{panel.title}`"
        if panel.type_val == "timeseries":
            if not isinstance(panel.options, timeseries.Options):
                problems.append(f"{where}: options are not timeseries options")
            if panel.field_config is None or not isinstance(
                    panel.field_config.defaults.custom or timeseries.FieldConfig(),
                    timeseries.FieldConfig):
                problems.append(f"{where}: field config is not a timeseries field config")
        else:
            problems.append(f"{where}: panel type {panel.type_val!r} is not checked here")
        for target in panel.targets or []:
            targets += 1
            if not isinstance(target, prometheus.Dataquery):
                problems.append(f"{where}: a query that is not a Prometheus query: {target!r}")
            elif not target.expr or not target.ref_id:
                problems.append(f"{where}: a query without expr or refId")
    variables = parsed.templating.list_val if parsed.templating else []
    for variable in variables or []:
        if variable.type_val != "query":
            problems.append(f"variable {variable.name}: type {variable.type_val!r}")
    print(json.dumps({
        "panels": len(parsed.panels or []),
        "targets": targets,
        "variables": len(variables or []),
        "problems": problems,
    }))


main()
