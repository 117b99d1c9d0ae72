"""Lifecycle pieces shared by both resources (one planning/applying core, two resource shapes)."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional, TypeVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult
from pydantic import BaseModel, ValidationError

from provider._core import config, host
from provider._core.errors import ProviderError, VersionFailure
from provider._core.model import (
    CONNECTION_FIELDS,
    DISPOSE_SPEC_OPT_IN,
    DISPOSE_STACK_OPT_IN,
    IDENTITY_FIELDS,
    PackageArgs,
    RepositoryArgs,
    dispose_missing,
    validation_problems,
)

M = TypeVar("M", bound=RepositoryArgs)

DISPOSE_OPT_IN = (f"Disposed is irreversible (the assets are deleted for good): it needs allow_dispose=True on the "
                  f"resource and {DISPOSE_STACK_OPT_IN} on the stack")


def configure(req: ConfigureRequest) -> None:
    """Reads `codeartifact:*` stack config into this provider process. Raises ValueError naming the
    bad key; nothing is applied by a misconfigured provider."""
    host.widen_request_pool()  # first request of the process: let more than 4 requests in at once
    host.exit_when_engine_gone()  # and do not outlive a killed engine
    raw = {f"codeartifact:{k}": req.config.get(f"codeartifact:{k}") for k in config.CONFIG_KEYS}
    config.set_stack_config(config.StackConfig.from_pulumi(raw))


def refresh_error(args: PackageArgs, exc: ProviderError) -> ProviderError:
    """The same error, saying which target the refresh read and how to make it use the stack's
    current configuration: without `--run-program`, refresh runs the provider with the
    configuration stored in state, which is stale after `pulumi config set codeartifact:...`."""
    target = config.effective(args)
    where = ", ".join(f"{k}={target.get(k)}" for k in ("endpoint_url", "region", "profile", "role_arn")
                      if target.get(k)) or "the AWS defaults"
    hint = (f" [refresh read the target stored in this stack's state ({where}); if you changed codeartifact:* "
            f"config since the last update, refresh with the new one: PULUMI_RUN_PROGRAM=true or --run-program]")
    return type(exc)(exc.action, [VersionFailure(f.label, f.code, f.detail + hint) for f in exc.failures])


RECORDED = "recorded"  # input: the StatusLedger's `left` record of the resource's versions (stack program)


def parsed(props: Mapping[str, Any]) -> dict[str, Any]:
    """The props with ``recorded`` decoded: the stack program passes it as JSON text (the SDK
    wraps every element of a mapping an Output resolves to in an Output of its own: ~100 MB and
    a minute for a repository's 10,000 versions, against one string); state written before that
    holds a mapping, used as it is. Text that does not decode records nothing (every change is
    then refused as NOT_RECORDED: fail closed)."""
    raw = props.get(RECORDED)
    if not isinstance(raw, str):
        return dict(props)
    try:
        value = json.loads(raw)
    except ValueError:
        value = {}
    return {**props, RECORDED: value if isinstance(value, Mapping) else {}}


def strip(props: Mapping[str, Any], output_fields: Iterable[str]) -> dict[str, Any]:
    """The resource's arguments only: no `__provider`, no output-only fields, no ledger record."""
    drop = {*output_fields, RECORDED}
    return {k: v for k, v in props.items() if not k.startswith("__") and k not in drop}


def unrecorded(args: PackageArgs, props: Mapping[str, Any], changes: Iterable[Any],
               own_originals: Optional[Mapping[str, Any]] = None) -> None:
    """Raises (writing nothing) when the resource was given the ledger's record (``recorded``,
    which the stack program always passes) and a change is not in it: the StatusLedger must
    record a version's original and the state a write leaves it in before the write. It is not
    when the ledger was left out of the run (`pulumi up --target <resource>`): the engine then
    hands over the ledger as the last full run left it. A restore to the original that this
    resource's own state records (``own_originals``) needs no ledger entry: that state keeps it
    until the restore succeeds.

    Contract: on refusal nothing is written for this resource; state stays as it was."""
    raw = props.get(RECORDED)
    if not isinstance(raw, Mapping):
        return  # used directly, not through the stack program: there is no ledger

    def statuses(version: str) -> set[str]:
        entry = raw.get(version)
        states = entry.get("left") if isinstance(entry, Mapping) else None
        # Statuses ("Archived"), or [status, revision] pairs as state written before held them.
        return {str(sr[0]) if isinstance(sr, (list, tuple)) else str(sr) for sr in states or [] if sr}
    own = own_originals or {}
    missing = [c for c in changes if c.target not in statuses(c.version) and own.get(c.version) != c.target]
    if missing:
        raise ProviderError("updating", [VersionFailure(
            args.label(c.version), "NOT_RECORDED",
            f"the StatusLedger has not recorded this change ({c.current} -> {c.target}) and the version's original "
            f"before it is made, so it is not made: the ledger was probably left out of the run by `pulumi up "
            f"--target`; run a full `pulumi up`, or add the ledger's URN (`codeartifact-status-ledger`) to the "
            f"targets") for c in missing])


def failures_of(err: ValidationError) -> list[CheckFailure]:
    """One CheckFailure per bad property, with a reason a person can act on."""
    return [CheckFailure(".".join(str(p) for p in loc) or "(resource)", msg) for loc, msg in validation_problems(err)]


def validate(model: type[M], news: Mapping[str, Any],
             output_fields: Iterable[str]) -> tuple[Optional[M], list[CheckFailure]]:
    try:
        return model.model_validate(strip(news, output_fields)), []
    except ValidationError as e:
        return None, failures_of(e)


def dispose_refusal(args: PackageArgs) -> str:
    """Why disposing is refused here, naming the missing opt-in half (or both)."""
    missing = dispose_missing(args.allow_dispose, config.stack_config().allow_dispose,
                              f"allow_dispose=True on the resource ({DISPOSE_SPEC_OPT_IN})",
                              f"{DISPOSE_STACK_OPT_IN} on the stack")
    return f"{DISPOSE_OPT_IN}; missing: {missing}"


def dispose_allowed(args: PackageArgs) -> bool:
    """Both opt-ins: the resource's allow_dispose and the stack's codeartifact:allowDispose."""
    return bool(args.allow_dispose and config.stack_config().allow_dispose)


def recorded_original(props: Mapping[str, Any], version: str) -> Optional[str]:
    """The version's original as the StatusLedger records it (given as ``recorded``), if any: a
    resource records that, not what it finds (which may be an earlier write of ours)."""
    raw = props.get(RECORDED)
    entry = raw.get(version) if isinstance(raw, Mapping) else None
    original = entry.get("original") if isinstance(entry, Mapping) else None
    return str(original) if original else None


def check_result(args: Optional[BaseModel], news: Mapping[str, Any], failures: list[CheckFailure],
                 output_fields: Iterable[str]) -> CheckResult:
    inputs = args.model_dump() if args is not None and not failures else strip(news, output_fields)
    if RECORDED in news:  # passed through to create/update (unknown in a preview)
        inputs[RECORDED] = news[RECORDED]
    return CheckResult(inputs, failures)


def raise_problem(props: Mapping[str, Any]) -> None:
    """A package the stack program could not plan this run fails here, in create or update, not
    in check: the engine stops the whole deployment on a check failure, but with
    --continue-on-error goes on with every other resource after a failed create or update (whose
    state it keeps as it was)."""
    problem = props.get("problem")
    if problem:
        label = "/".join(str(props[k]) for k in ("domain", "repository", "format", "namespace", "package")
                         if props.get(k))
        raise ProviderError("planning", [VersionFailure(f"{label}@*", "SPEC_PROBLEM", str(problem))])


def diff(olds: Mapping[str, Any], news: Mapping[str, Any], compared: Iterable[str],
         identity: Iterable[str] = IDENTITY_FIELDS) -> DiffResult:
    """Identity fields force replacement; everything else in ``compared`` updates in place. A
    resource carrying a `problem` always differs, so that its update reports the problem."""
    if news.get("problem"):
        return DiffResult(changes=True, replaces=[], stables=[], delete_before_replace=False)
    def norm(v: Any) -> Any:
        return None if v in ("", None) else v

    replaces = [k for k in identity if norm(olds.get(k)) != norm(news.get(k))]
    changed = [k for k in (*identity, *compared, *CONNECTION_FIELDS, "allow_dispose", "restore_on_delete")
               if norm(olds.get(k)) != norm(news.get(k))]
    return DiffResult(changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False)


# Large per-version records (the ledger, repository resources' revisions/original/owned) are
# stored as one compact JSON text per package: the SDK converts every nested value of a resource's
# properties in Python on each step, so 10,000 versions as nested mappings cost seconds per run,
# and as text a package is one value. State written before holds nested mappings; both read alike.

def per_package_text(value: Any) -> str:
    """One package's record as stored: compact JSON, keys sorted (equal records, equal text)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def per_package_decoded(raw: Any) -> dict[str, Any]:
    """package -> record of a stored field (text or, from earlier state, the record itself); a
    text that is not JSON decodes to None, so the caller can name it instead of dropping it."""
    out: dict[str, Any] = {}
    for key, rec in (raw.items() if isinstance(raw, Mapping) else ()):
        if isinstance(rec, str):
            try:
                rec = json.loads(rec)
            except ValueError:
                rec = None
        out[str(key)] = rec
    return out

