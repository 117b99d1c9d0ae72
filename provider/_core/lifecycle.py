"""Lifecycle pieces shared by both resources (one planning/applying core, two resource shapes)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, TypeVar

from pulumi.dynamic import CheckFailure, CheckResult, ConfigureRequest, DiffResult
from pydantic import BaseModel, ValidationError

from provider._core import config, host
from provider._core.errors import ProviderError, VersionFailure
from provider._core.model import CONNECTION_FIELDS, IDENTITY_FIELDS, PackageArgs, validation_problems

M = TypeVar("M", bound=PackageArgs)

DISPOSE_OPT_IN = ("Disposed is irreversible (the assets are deleted for good): it needs allow_dispose=True on the "
                  "resource and `pulumi config set codeartifact:allowDispose true` on the stack")


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


def strip(props: Mapping[str, Any], output_fields: Iterable[str]) -> dict[str, Any]:
    """Inputs only: no `__provider`, no output-only fields."""
    drop = set(output_fields)
    return {k: v for k, v in props.items() if not k.startswith("__") and k not in drop}


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
    missing = [half for ok, half in ((args.allow_dispose, "allow_dispose=True on the resource (`allow_dispose: true` "
                                                          "in the spec)"),
                                     (config.stack_config().allow_dispose,
                                      "`pulumi config set codeartifact:allowDispose true` on the stack"))
               if not ok]
    return f"{DISPOSE_OPT_IN}; missing: {' and '.join(missing)}"


def dispose_allowed(args: PackageArgs) -> bool:
    """Both opt-ins: the resource's allow_dispose and the stack's codeartifact:allowDispose."""
    return bool(args.allow_dispose and config.stack_config().allow_dispose)


def check_result(args: Optional[BaseModel], news: Mapping[str, Any], failures: list[CheckFailure],
                 output_fields: Iterable[str]) -> CheckResult:
    inputs = args.model_dump() if args is not None and not failures else strip(news, output_fields)
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
